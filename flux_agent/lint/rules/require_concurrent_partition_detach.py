"""DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent table."""
# squawk default: yes

from pglast import ast
from pglast.enums import AlterTableType as AT

from ...pg.locks import alter_cmds
from ...pg.quote import relation_name

ID = "require-concurrent-partition-detach"
SEVERITY = "error"
MESSAGE = "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent table, blocking reads and writes"
HINT = "use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), alone in a migration that runs outside a transaction"


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt) or ctx.table_is_new(relation_name(n.relation)):
        return None
    for cmd in alter_cmds(n):
        if cmd.subtype == AT.AT_DetachPartition and not getattr(cmd.def_, "concurrent", False):
            if ctx.pg_version < 14:
                return MESSAGE + "; DETACH PARTITION CONCURRENTLY needs PostgreSQL 14+"
            return True
    return None
