"""RENAME COLUMN (tables, views, foreign tables) and RENAME ATTRIBUTE of a
composite type: running code still uses the old name."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import OT

RULE = Rule(
    id="renaming-column",
    severity="error",
    message="renaming a column breaks running code that still uses the old name",
    hint=("add the new column and move the application over (flux plan does this); if nothing uses the "
          "old name any more, say so: -- squawk-ignore renaming-column -- <why>"),
    squawk="default",
    nodes=(ast.RenameStmt,),
    examples=[
        flags("ALTER TABLE t RENAME COLUMN a TO b;"),
        flags("ALTER TABLE t RENAME a TO b;"),
        flags("ALTER VIEW v RENAME COLUMN a TO b;"),
        flags("ALTER MATERIALIZED VIEW mv RENAME COLUMN a TO b;"),
        flags("ALTER TYPE ty RENAME ATTRIBUTE a TO b;"),
        passes("ALTER TABLE t RENAME TO u;"),
        passes("ALTER TABLE t ADD COLUMN b text;"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    return flag_if(isinstance(n, ast.RenameStmt) and n.renameType in (OT.OBJECT_COLUMN, OT.OBJECT_ATTRIBUTE))
