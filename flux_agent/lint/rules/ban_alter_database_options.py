"""ALTER DATABASE ... SET / RESET / WITH <option>: behaviour changes for every
session of running clients."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-alter-database-options"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing database options or settings changes behaviour for running clients"
HINT = "check every client against the new setting, then say so: -- squawk-ignore ban-alter-database-options -- <why>"


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, ast.AlterDatabaseSetStmt):
        return True
    return isinstance(n, ast.AlterDatabaseStmt) and any(d.defname != "tablespace" for d in n.options or ())
