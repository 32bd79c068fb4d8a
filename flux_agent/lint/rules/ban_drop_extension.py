"""DROP EXTENSION: the functions, types and operators it provided disappear."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-extension",
    severity="error",
    message="dropping an extension removes functions and types that running code may use",
    hint="stop using the extension's objects first, then say so: -- squawk-ignore ban-drop-extension -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP EXTENSION e;"),
        flags("DROP EXTENSION IF EXISTS e;"),
        passes("CREATE EXTENSION IF NOT EXISTS e;"),
        passes("DROP SCHEMA s;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_EXTENSION))
