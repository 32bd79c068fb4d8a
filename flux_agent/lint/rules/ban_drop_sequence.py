"""DROP SEQUENCE: defaults and code calling nextval() on it fail."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-sequence",
    severity="error",
    message="dropping a sequence breaks defaults and running code that draw from it",
    hint="stop using the sequence first, then say so: -- squawk-ignore ban-drop-sequence -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP SEQUENCE s;"),
        flags("DROP SEQUENCE IF EXISTS s;"),
        passes("CREATE SEQUENCE s;"),
        passes("ALTER SEQUENCE s OWNED BY t.c;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_SEQUENCE))
