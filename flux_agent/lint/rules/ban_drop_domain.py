"""DROP DOMAIN: columns and code typed with the domain break."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-domain",
    severity="error",
    message="dropping a domain breaks running code that uses it",
    hint="stop using the domain first, then say so: -- squawk-ignore ban-drop-domain -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP DOMAIN d;"),
        flags("DROP DOMAIN IF EXISTS d CASCADE;"),
        passes("DROP TYPE ty;"),
        passes("CREATE DOMAIN d AS text;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_DOMAIN))
