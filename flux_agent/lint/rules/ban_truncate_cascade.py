"""TRUNCATE ... CASCADE also empties every table that references the named
ones, and the tables referencing those, recursively."""

from pglast import ast
from pglast.enums import DropBehavior

from ._rule import Rule, flag_if, flags, passes

RULE = Rule(
    id="ban-truncate-cascade",
    severity="error",
    message="TRUNCATE ... CASCADE also empties every table that references these, recursively",
    hint="drop CASCADE and name exactly the tables to empty",
    squawk="default",
    nodes=(ast.TruncateStmt,),
    examples=[
        flags("TRUNCATE t CASCADE;"),
        flags("TRUNCATE TABLE a, b RESTART IDENTITY CASCADE;"),
        passes("TRUNCATE t;"),
        passes("TRUNCATE t RESTRICT;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.TruncateStmt) and n.behavior == DropBehavior.DROP_CASCADE)
