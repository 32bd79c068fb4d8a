"""CONCURRENTLY cannot run inside a transaction block; the migration fails."""

from pglast import ast

from ._rule import FLAGGED, Rule, Verdict, flags, passes

RULE = Rule(
    id="ban-concurrent-index-creation-in-transaction",
    severity="error",
    message="CREATE INDEX CONCURRENTLY cannot run inside a transaction block, so this migration will fail",
    hint="put the statement alone in a migration with the tool's transaction switched off",
    squawk="default",
    nodes=(ast.IndexStmt,),
    examples=[
        flags("BEGIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);\nCOMMIT;", transactional=False),
        flags("SELECT 1;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);"),
        flags("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);", squawk_agrees=False,
              why="squawk 2.70 passes a lone statement under --assume-in-transaction; the tool still wraps it"),
        flags("SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);", transactional=False,
              one_query=True, squawk_agrees=False, why="squawk does not know the tool sends the file as one query"),
        passes("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);", transactional=False),
        passes("SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);", transactional=False),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.IndexStmt) and n.concurrent and ctx.in_transaction():
        if ctx.transactional or ctx.explicit_transaction:
            return FLAGGED
        return Verdict("CREATE INDEX CONCURRENTLY shares its file with other statements; the tool sends the file as "
                       "one query, which PostgreSQL runs as one transaction, so it fails")
    return None
