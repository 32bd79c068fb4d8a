"""ALTER DATABASE ... SET / RESET / WITH <option>: behaviour changes for every
session of running clients."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-alter-database-options",
    severity="warning",
    message="changing database options or settings changes behaviour for running clients",
    hint=("check every client against the new setting, then say so: -- squawk-ignore ban-alter-database-options -- "
          "<why>"),
    squawk="opt-in",
    nodes=(ast.AlterDatabaseSetStmt, ast.AlterDatabaseStmt),
    opt_in=True,
    examples=[
        flags("ALTER DATABASE d SET work_mem = '1MB';"),
        flags("ALTER DATABASE d RESET ALL;"),
        flags("ALTER DATABASE d WITH CONNECTION LIMIT 5;"),
        passes("ALTER DATABASE d OWNER TO r;"),
        passes("ALTER DATABASE d SET TABLESPACE ts;"),
        passes("ALTER DATABASE d RENAME TO e;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.AlterDatabaseSetStmt) or (
        isinstance(n, ast.AlterDatabaseStmt) and any(d.defname != "tablespace" for d in n.options or ())))
