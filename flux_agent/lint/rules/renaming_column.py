"""RENAME COLUMN (tables, views, foreign tables) and RENAME ATTRIBUTE of a
composite type: running code still uses the old name."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import OT

ID = "renaming-column"
SEVERITY = "error"
MESSAGE = "renaming a column breaks running code that still uses the old name"
HINT = ("add the new column and move the application over (flux plan does this); if nothing uses the "
        "old name any more, say so: -- squawk-ignore renaming-column -- <why>")


def check(stmt, ctx):
    n = stmt.node
    return isinstance(n, ast.RenameStmt) and n.renameType in (OT.OBJECT_COLUMN, OT.OBJECT_ATTRIBUTE)
