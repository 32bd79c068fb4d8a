"""DROP SCHEMA: everything in it goes (with CASCADE), or the statement fails."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-schema",
    severity="error",
    message="dropping a schema breaks running code that uses anything in it",
    hint="stop using the schema first, then say so: -- squawk-ignore ban-drop-schema -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP SCHEMA s;"),
        flags("DROP SCHEMA IF EXISTS s CASCADE;"),
        passes("CREATE SCHEMA s;"),
        passes("DROP TABLE s.t;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_SCHEMA))
