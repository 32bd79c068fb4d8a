"""ALTER COLUMN ... DROP DEFAULT (tables, foreign tables, views, domains):
inserts that omit the column now write NULL or fail."""
# squawk default: yes

from pglast import ast

from ._squawk_compat import AT, OT, has_cmd

ID = "ban-drop-default"
SEVERITY = "error"
MESSAGE = "dropping a column default breaks inserts from running code that omit the column"
HINT = ("move every insert to write the column first, then say so: "
        "-- squawk-ignore ban-drop-default -- <why>")


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.AlterDomainStmt):
        return n.subtype == "T" and n.def_ is None
    return has_cmd(n, (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW), (AT.AT_ColumnDefault,),
                   lambda c: c.def_ is None)
