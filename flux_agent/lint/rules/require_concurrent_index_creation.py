"""CREATE INDEX without CONCURRENTLY holds SHARE on the table: writes wait for the whole build."""

from pglast import ast

ID = "require-concurrent-index-creation"
SEVERITY = "error"
MESSAGE = "CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds"
HINT = "use CREATE INDEX CONCURRENTLY, alone in a migration that runs outside a transaction"


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.IndexStmt) or n.concurrent:
        return None
    from ...pg.quote import relation_name

    # A table created earlier in this same migration is empty and unseen by the application.
    return not ctx.table_is_new(relation_name(n.relation))
