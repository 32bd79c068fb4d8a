"""DROP TYPE, and as in squawk DROP CAST / OPERATOR / OPERATOR CLASS / FAMILY:
code and columns using them break."""
# squawk default: yes

from ._squawk_compat import OT, dropped

ID = "ban-drop-type"
SEVERITY = "error"
MESSAGE = "dropping a type (or cast, operator) breaks running code that uses it"
HINT = "stop using the type first, then say so: -- squawk-ignore ban-drop-type -- <why>"


def check(stmt, ctx):
    n = stmt.node
    if dropped(n, OT.OBJECT_TYPE):
        return True
    if dropped(n, OT.OBJECT_CAST, OT.OBJECT_OPERATOR, OT.OBJECT_OPCLASS, OT.OBJECT_OPFAMILY):
        return "dropping a cast or operator breaks running code that uses it"
    return None
