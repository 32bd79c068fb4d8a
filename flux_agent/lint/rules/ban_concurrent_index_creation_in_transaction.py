"""CONCURRENTLY cannot run inside a transaction block; the migration fails."""

from pglast import ast

ID = "ban-concurrent-index-creation-in-transaction"
SEVERITY = "error"
MESSAGE = "CREATE INDEX CONCURRENTLY cannot run inside a transaction block, so this migration will fail"
HINT = "put the statement alone in a migration with the tool's transaction switched off"


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.IndexStmt) and n.concurrent and ctx.in_transaction():
        if ctx.transactional or ctx.explicit_transaction:
            return True
        return ("CREATE INDEX CONCURRENTLY shares its file with other statements; the tool sends the file as "
                "one query, which PostgreSQL runs as one transaction, so it fails")
    return None
