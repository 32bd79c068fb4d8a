"""ALTER TABLE ... RENAME TO: running code still uses the old name."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="renaming-table",
    severity="error",
    message="renaming a table breaks running code that still uses the old name",
    hint=("keep the old name working (a view) while the application moves, as flux plan does; then say so: "
          "-- squawk-ignore renaming-table -- <why>"),
    squawk="default",
    nodes=(ast.RenameStmt,),
    examples=[
        flags("ALTER TABLE t RENAME TO u;"),
        flags("ALTER TABLE IF EXISTS ONLY t RENAME TO u;"),
        passes("ALTER VIEW v RENAME TO w;"),
        passes("ALTER TABLE t RENAME COLUMN a TO b;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.RenameStmt) and n.renameType == OT.OBJECT_TABLE)
