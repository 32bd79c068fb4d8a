"""REVOKE (privileges, role membership, default privileges): clients that
used the privilege start failing."""
# squawk default: no (opt-in)

from pglast import ast

from ._squawk_compat import opt_in

ID = "ban-revoke"
SEVERITY = "error"
OPT_IN = True
MESSAGE = "revoking privileges breaks running clients that still use them"
HINT = "check no client needs the privilege, then say so: -- squawk-ignore ban-revoke -- <why>"


def check(stmt, ctx):
    n = stmt.node
    if not opt_in(ctx, ID):
        return None
    if isinstance(n, (ast.GrantStmt, ast.GrantRoleStmt)):
        return not n.is_grant
    return isinstance(n, ast.AlterDefaultPrivilegesStmt) and n.action is not None and not n.action.is_grant
