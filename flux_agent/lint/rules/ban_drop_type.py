"""DROP TYPE, and as in squawk DROP CAST / OPERATOR / OPERATOR CLASS / FAMILY:
code and columns using them break."""

from pglast import ast

from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-type",
    severity="error",
    message="dropping a type (or cast, operator) breaks running code that uses it",
    hint="stop using the type first, then say so: -- squawk-ignore ban-drop-type -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP TYPE ty;"),
        flags("DROP TYPE IF EXISTS ty CASCADE;"),
        flags("DROP CAST (int AS text);"),
        flags("DROP OPERATOR + (int, int);"),
        flags("DROP OPERATOR CLASS oc USING btree;"),
        passes("DROP DOMAIN d;"),
        passes("DROP COLLATION c;"),
        passes("CREATE TYPE ty AS ENUM ('a');"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    if dropped(n, OT.OBJECT_TYPE):
        return FLAGGED
    if dropped(n, OT.OBJECT_CAST, OT.OBJECT_OPERATOR, OT.OBJECT_OPCLASS, OT.OBJECT_OPFAMILY):
        return Verdict("dropping a cast or operator breaks running code that uses it")
    return None
