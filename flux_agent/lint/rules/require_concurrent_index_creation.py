"""CREATE INDEX without CONCURRENTLY holds SHARE on the table: writes wait for the whole build."""

from pglast import ast

from ...pg.quote import relation_name
from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="require-concurrent-index-creation",
    severity="error",
    message="CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds",
    hint="use CREATE INDEX CONCURRENTLY, alone in a migration that runs outside a transaction",
    squawk="default",
    nodes=(ast.IndexStmt,),
    examples=[
        flags("CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status);"),
        flags("CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email);"),
        passes("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);", transactional=False),
        passes("CREATE TABLE t (id bigint);\nCREATE INDEX IF NOT EXISTS t_id_idx ON t (id);"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.IndexStmt) or n.concurrent:
        return None
    # A table created earlier in this same migration is empty and unseen by the application.
    return flag_if(not ctx.table_is_new(relation_name(n.relation)))
