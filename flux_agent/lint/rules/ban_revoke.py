"""REVOKE (privileges, role membership, default privileges): clients that
used the privilege start failing."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-revoke",
    severity="error",
    message="revoking privileges breaks running clients that still use them",
    hint="check no client needs the privilege, then say so: -- squawk-ignore ban-revoke -- <why>",
    squawk="opt-in",
    nodes=(ast.GrantStmt, ast.GrantRoleStmt, ast.AlterDefaultPrivilegesStmt),
    opt_in=True,
    examples=[
        flags("REVOKE SELECT ON t FROM r;"),
        flags("REVOKE GRANT OPTION FOR SELECT ON t FROM r;"),
        flags("REVOKE r FROM u;"),
        flags("ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM r;"),
        passes("GRANT SELECT ON t TO r;"),
        passes("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, (ast.GrantStmt, ast.GrantRoleStmt)):
        return flag_if(not n.is_grant)
    return flag_if(isinstance(n, ast.AlterDefaultPrivilegesStmt) and n.action is not None and not n.action.is_grant)
