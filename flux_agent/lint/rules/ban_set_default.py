"""ALTER COLUMN ... SET DEFAULT (tables, foreign tables, views, domains):
inserts from running code that omit the column silently get the new value."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-set-default",
    severity="warning",
    message="setting a column default silently changes values written by running code",
    hint="check inserts that omit the column, then say so: -- squawk-ignore ban-set-default -- <why>",
    squawk="opt-in",
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    opt_in=True,
    examples=[
        flags("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;"),
        flags("ALTER FOREIGN TABLE ft ALTER COLUMN c SET DEFAULT 1;"),
        flags("ALTER VIEW v ALTER COLUMN c SET DEFAULT 1;"),
        flags("ALTER DOMAIN d SET DEFAULT 1;"),
        passes("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
        passes("ALTER DOMAIN d DROP DEFAULT;"),
    ],
)


def check(stmt, ctx):
    return flag_if(changes_column_or_domain(stmt.node, "T", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW),
                                            (AT.AT_ColumnDefault,), lambda n: n.def_ is not None))
