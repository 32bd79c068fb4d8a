"""DROP TABLE / DROP FOREIGN TABLE: running code that still uses the table fails."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-table",
    severity="error",
    message="dropping a table breaks running code that still uses it",
    hint=("stop using the table in the application first; in the contract step that drops it, "
          "say so: -- squawk-ignore ban-drop-table -- <why>"),
    squawk="default",
    nodes=(ast.DropStmt,),
    examples=[
        flags("DROP TABLE t;"),
        flags("DROP TABLE IF EXISTS t, u CASCADE;"),
        flags("DROP FOREIGN TABLE ft;"),
        passes("DROP VIEW v;"),
        passes("TRUNCATE t;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE))
