"""ALTER SEQUENCE ... RESTART / INCREMENT / MINVALUE / ..., and the same on an
identity column: the values existing code receives change (or repeat)."""
# squawk default: no (opt-in)

from pglast import ast

from ...pg.quote import relation_name
from ._squawk_compat import AT, OT, alter_cmds_of, created_earlier, is_new_table, opt_in

ID = "ban-alter-sequence-values"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing a sequence's values can change or repeat the ids running code receives"
HINT = "check the new range against existing rows, then say so: -- squawk-ignore ban-alter-sequence-values -- <why>"

_NOT_VALUES = {"owned_by", "sequence_name", "generated"}


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, ast.AlterSeqStmt):
        return (any(d.defname not in _NOT_VALUES for d in n.options or ())
                and relation_name(n.sequence) not in created_earlier(ctx, stmt)["sequence"])
    for cmd in alter_cmds_of(n, OT.OBJECT_TABLE):
        if cmd.subtype == AT.AT_SetIdentity and any(d.defname not in _NOT_VALUES for d in cmd.def_ or ()):
            return not is_new_table(ctx, stmt, n.relation)
    return None
