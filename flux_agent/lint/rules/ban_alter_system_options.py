"""ALTER SYSTEM SET / RESET rewrites the server's configuration for every
database on it; it cannot even run inside a transaction block."""
# squawk default: no (opt-in). Flux always reports it: server configuration never
# belongs in a schema migration.

from pglast import ast

ID = "ban-alter-system-options"
SEVERITY = "error"
OPT_IN = False
MESSAGE = "ALTER SYSTEM changes the server's configuration for every database and client on it"
HINT = "change server settings through configuration management, not a migration"


def check(stmt, ctx):
    return isinstance(stmt.node, ast.AlterSystemStmt)
