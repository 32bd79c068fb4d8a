"""ALTER ROLE / USER with options (LOGIN, PASSWORD, ...) or SET / RESET of a
setting: access or behaviour changes for clients using the role."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-role-options",
    severity="warning",
    message="changing role options or settings changes access or behaviour for running clients",
    hint="check every client using the role, then say so: -- squawk-ignore ban-alter-role-options -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterRoleSetStmt, ast.AlterRoleStmt),
    opt_in=True,
    examples=[
        flags("ALTER ROLE r NOLOGIN;"),
        flags("ALTER USER u WITH PASSWORD 'x';"),
        flags("ALTER ROLE r SET work_mem = '1MB';"),
        flags("ALTER ROLE ALL SET work_mem = '1MB';"),
        flags("ALTER USER u RESET ALL;"),
        passes("ALTER GROUP g ADD USER u;"),
        passes("ALTER ROLE r RENAME TO s;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    # ALTER GROUP ... ADD / DROP USER only changes membership.
    return flag_if(isinstance(n, ast.AlterRoleSetStmt) or (
        isinstance(n, ast.AlterRoleStmt) and any(d.defname != "rolemembers" for d in n.options or ())))
