"""DROP SCHEMA: everything in it goes (with CASCADE), or the statement fails."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-schema"
SEVERITY = "error"
MESSAGE = "dropping a schema breaks running code that uses anything in it"
HINT = "stop using the schema first, then say so: -- squawk-ignore ban-drop-schema -- <why>"


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_SCHEMA)
