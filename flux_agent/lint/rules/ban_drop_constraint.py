"""ALTER TABLE / ALTER DOMAIN ... DROP CONSTRAINT: a guarantee running code
relies on (uniqueness, a foreign key, a CHECK) is gone."""

from pglast import ast

from ._rule import Rule, flag_if, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-constraint",
    severity="error",
    message="dropping a constraint removes a guarantee that running code may rely on",
    hint=("make sure no code relies on the constraint, then say so: "
          "-- squawk-ignore ban-drop-constraint -- <why>"),
    squawk="default",
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        flags("ALTER TABLE t DROP CONSTRAINT k;"),
        flags("ALTER TABLE t DROP CONSTRAINT IF EXISTS k CASCADE;"),
        flags("ALTER DOMAIN d DROP CONSTRAINT k;"),
        passes("ALTER TABLE t ADD CONSTRAINT k CHECK (c > 0) NOT VALID;"),
        passes("ALTER TABLE t DROP COLUMN c;"),
    ],
)


def check(stmt, ctx):
    return flag_if(changes_column_or_domain(stmt.node, "X", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE),
                                            (AT.AT_DropConstraint,)))
