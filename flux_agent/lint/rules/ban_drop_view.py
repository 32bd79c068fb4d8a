"""DROP VIEW / DROP MATERIALIZED VIEW: queries against the view fail."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-view",
    severity="error",
    message="dropping a view breaks running code that queries it",
    hint="move every reader off the view first, then say so: -- squawk-ignore ban-drop-view -- <why>",
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP VIEW v;"),
        flags("DROP VIEW IF EXISTS v CASCADE;"),
        flags("DROP MATERIALIZED VIEW mv;"),
        passes("DROP TABLE t;"),
        passes("CREATE VIEW v AS SELECT 1;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW))
