"""REINDEX without CONCURRENTLY locks the table against writes and the index
against reads (ACCESS EXCLUSIVE on the index) for the whole rebuild."""

from pglast import ast
from pglast.enums import ReindexObjectType as RO

from ...pg.quote import relation_name
from ._rule import FLAGGED, Rule, Verdict, flags, passes

RULE = Rule(
    id="require-concurrent-reindex",
    severity="error",
    message="REINDEX without CONCURRENTLY blocks reads and writes while the index is rebuilt",
    hint="use REINDEX ... CONCURRENTLY (PostgreSQL 12+), alone in a migration that runs outside a transaction",
    squawk="default",
    nodes=(ast.ReindexStmt,),
    examples=[
        flags("REINDEX TABLE users;"),
        flags("REINDEX (CONCURRENTLY false) INDEX users_email_idx;",
              squawk_agrees=False,
              why="squawk 2.70 takes the CONCURRENTLY option as given, whatever its value"),
        passes("REINDEX INDEX CONCURRENTLY users_email_idx;", transactional=False),
        passes("REINDEX SYSTEM shop;", transactional=False),
    ],
)


def _concurrent(n: ast.ReindexStmt) -> bool:
    for p in n.params or ():
        if getattr(p, "defname", "") == "concurrently":
            arg = getattr(p, "arg", None)
            value = getattr(arg, "sval", None) or getattr(arg, "ival", None) or getattr(arg, "boolval", None)
            return arg is None or str(value).lower() in ("true", "on", "1", "yes")
    return False


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.ReindexStmt) or _concurrent(n) or n.kind == RO.REINDEX_OBJECT_SYSTEM:
        return None  # system catalogs cannot be reindexed concurrently
    if n.kind == RO.REINDEX_OBJECT_TABLE and ctx.table_is_new(relation_name(n.relation)):
        return None  # a table created in this migration is empty
    if ctx.pg_version < 12:
        return Verdict("REINDEX blocks reads and writes while the index is rebuilt; REINDEX CONCURRENTLY needs "
                       "PostgreSQL 12+")
    return FLAGGED
