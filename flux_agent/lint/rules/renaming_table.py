"""ALTER TABLE ... RENAME TO: running code still uses the old name."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import OT

ID = "renaming-table"
SEVERITY = "error"
MESSAGE = "renaming a table breaks running code that still uses the old name"
HINT = ("keep the old name working (a view) while the application moves, as flux plan does; then say so: "
        "-- squawk-ignore renaming-table -- <why>")


def check(stmt, ctx):
    n = stmt.node
    return isinstance(n, ast.RenameStmt) and n.renameType == OT.OBJECT_TABLE
