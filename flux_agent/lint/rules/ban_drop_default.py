"""ALTER COLUMN ... DROP DEFAULT (tables, foreign tables, views, domains):
inserts that omit the column now write NULL or fail."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-default",
    severity="error",
    message="dropping a column default breaks inserts from running code that omit the column",
    hint=("move every insert to write the column first, then say so: "
          "-- squawk-ignore ban-drop-default -- <why>"),
    squawk="default",
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;"),
        flags("ALTER FOREIGN TABLE ft ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER VIEW v ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER DOMAIN d DROP DEFAULT;"),
        passes("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;"),
        passes("ALTER DOMAIN d SET DEFAULT 1;"),
    ],
)


def check(stmt, ctx):
    return flag_if(changes_column_or_domain(stmt.node, "T", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW),
                                            (AT.AT_ColumnDefault,), lambda n: n.def_ is None))
