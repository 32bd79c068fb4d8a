"""DROP DATABASE has no place in a schema migration."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-drop-database",
    severity="error",
    message="dropping a database destroys every table in it",
    hint="do not drop databases from a migration; do it by hand if it is really meant",
    squawk="default",
    nodes=(ast.DropdbStmt,),
    examples=[
        flags("DROP DATABASE d;"),
        flags("DROP DATABASE IF EXISTS d WITH (FORCE);"),
        passes("CREATE DATABASE d;"),
        passes("DROP SCHEMA s;"),
    ],
)


def check(stmt, ctx):
    return flag_if(isinstance(stmt.node, ast.DropdbStmt))
