"""DETACH PARTITION / NO INHERIT on an existing table: rows vanish from what
clients read and write through the parent."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, has_cmd, is_new_table

RULE = Rule(
    id="ban-detach-inheritance",
    severity="warning",
    message="detaching a partition or child changes which rows running clients see through the parent",
    hint="move readers of those rows first, then say so: -- squawk-ignore ban-detach-inheritance -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterTableStmt,),
    opt_in=True,
    examples=[
        flags("ALTER TABLE p DETACH PARTITION c CONCURRENTLY;"),
        flags("ALTER TABLE p DETACH PARTITION c FINALIZE;"),
        flags("ALTER TABLE c NO INHERIT p;"),
        flags("CREATE TABLE IF NOT EXISTS c (id bigint); ALTER TABLE c NO INHERIT p;"),
        passes("CREATE TABLE c (id bigint); ALTER TABLE c NO INHERIT p;"),
        passes("ALTER TABLE c INHERIT p;"),
    ],
)

_CMDS = (AT.AT_DetachPartition, AT.AT_DetachPartitionFinalize, AT.AT_DropInherit)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(has_cmd(n, (OT.OBJECT_TABLE,), _CMDS) and not is_new_table(ctx, stmt, n.relation))
