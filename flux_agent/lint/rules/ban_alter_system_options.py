"""ALTER SYSTEM SET / RESET rewrites the server's configuration for every
database on it; it cannot even run inside a transaction block."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-system-options",
    severity="error",
    message="ALTER SYSTEM changes the server's configuration for every database and client on it",
    hint="change server settings through configuration management, not a migration",
    squawk="opt-in",  # Flux always reports it: server configuration never belongs in a schema migration
    nodes=(ast.AlterSystemStmt,),
    examples=[
        flags("ALTER SYSTEM SET work_mem = '1MB';"),
        flags("ALTER SYSTEM RESET ALL;"),
        passes("ALTER DATABASE d SET work_mem = '1MB';"),
        passes("SET work_mem = '1MB';"),
    ],
)


def check(stmt, ctx):
    return flag_if(isinstance(stmt.node, ast.AlterSystemStmt))
