"""ALTER TYPE ... ADD ATTRIBUTE on an existing composite type: values running
clients receive change shape."""
# squawk default: no (opt-in)

from ...pg.quote import relation_name
from ._squawk_compat import AT, OT, created_earlier, has_cmd, opt_in

ID = "ban-add-composite-attribute"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "adding an attribute changes the shape of composite values running clients receive"
HINT = "check every reader of the type, then say so: -- squawk-ignore ban-add-composite-attribute -- <why>"


def check(stmt, ctx):
    n = stmt.node
    return (opt_in(ctx, ID) and has_cmd(n, (OT.OBJECT_TYPE,), (AT.AT_AddColumn,))
            and relation_name(n.relation) not in created_earlier(ctx, stmt)["type"])
