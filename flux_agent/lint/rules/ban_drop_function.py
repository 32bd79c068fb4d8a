"""DROP FUNCTION / PROCEDURE / ROUTINE / AGGREGATE: callers fail."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-function"
SEVERITY = "error"
MESSAGE = "dropping a function breaks running code, triggers and views that call it"
HINT = "remove every caller first, then say so: -- squawk-ignore ban-drop-function -- <why>"


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE, OT.OBJECT_AGGREGATE)
