"""DROP INDEX: queries that relied on it slow down; a unique index's guarantee goes."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT, dropped

RULE = Rule(
    id="ban-drop-index",
    severity="error",
    message="dropping an index can slow running queries or remove a uniqueness guarantee",
    hint="check no query or constraint needs the index, then say so: -- squawk-ignore ban-drop-index -- <why>",
    squawk="opt-in",
    nodes=(ast.DropStmt,),
    opt_in=True,
    examples=[
        flags("DROP INDEX i;"),
        flags("DROP INDEX CONCURRENTLY IF EXISTS i;"),
        passes("CREATE INDEX CONCURRENTLY i ON t (c);"),
        passes("DROP TABLE t;"),
    ],
)


def check(stmt, ctx):
    return flag_if(dropped(stmt.node, OT.OBJECT_INDEX))
