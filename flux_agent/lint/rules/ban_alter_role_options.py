"""ALTER ROLE / USER with options (LOGIN, PASSWORD, ...) or SET / RESET of a
setting: access or behaviour changes for clients using the role."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-alter-role-options"
SEVERITY = "warning"
OPT_IN = True
MESSAGE = "changing role options or settings changes access or behaviour for running clients"
HINT = "check every client using the role, then say so: -- squawk-ignore ban-alter-role-options -- <why>"


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, ast.AlterRoleSetStmt):
        return True
    # ALTER GROUP ... ADD / DROP USER only changes membership.
    return isinstance(n, ast.AlterRoleStmt) and any(d.defname != "rolemembers" for d in n.options or ())
