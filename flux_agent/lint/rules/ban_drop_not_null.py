"""DROP NOT NULL on a column (or a domain): code that relies on the column
never being NULL starts reading NULLs. It only relaxes a constraint (no lock held
for long, no row rewritten, nothing lost), so it is a warning about those readers,
where squawk reports it as an error."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-not-null",
    severity="warning",  # squawk: error; a relaxed constraint breaks readers, not the migration
    message="dropping NOT NULL lets NULLs reach running code that assumes there are none",
    hint=("make every reader accept NULL first, then say so: "
          "-- squawk-ignore ban-drop-not-null -- <why>"),
    squawk="default",
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        flags("ALTER TABLE t ALTER COLUMN c DROP NOT NULL;"),
        flags("ALTER FOREIGN TABLE ft ALTER COLUMN c DROP NOT NULL;"),
        flags("ALTER DOMAIN d DROP NOT NULL;"),
        passes("ALTER TABLE t ALTER COLUMN c SET NOT NULL;"),
        passes("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
    ],
)


def check(stmt, ctx):
    return flag_if(changes_column_or_domain(stmt.node, "N", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE),
                                            (AT.AT_DropNotNull,)))
