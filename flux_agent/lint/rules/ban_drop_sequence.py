"""DROP SEQUENCE: defaults and code calling nextval() on it fail."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-sequence"
SEVERITY = "error"
MESSAGE = "dropping a sequence breaks defaults and running code that draw from it"
HINT = "stop using the sequence first, then say so: -- squawk-ignore ban-drop-sequence -- <why>"


def check(stmt, ctx):
    return dropped(stmt.node, OT.OBJECT_SEQUENCE)
