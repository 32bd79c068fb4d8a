"""DROP NOT NULL on a column (or a domain): code that relies on the column
never being NULL starts reading NULLs. It only relaxes a constraint (no lock held
for long, no row rewritten, nothing lost), so it is a warning about those readers,
where squawk reports it as an error. Not where the schema shows the column
nullable already (then nothing changes)."""

from pglast import ast

from ...pg.locks import alter_cmds
from ...pg.quote import relation_name
from ._flux_common import changes_nothing
from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-not-null",
    severity="warning",  # squawk: error; a relaxed constraint breaks readers, not the migration
    message="dropping NOT NULL lets NULLs reach running code that assumes there are none",
    hint=("make every reader accept NULL first, then say so: "
          "-- squawk-ignore ban-drop-not-null -- <why>"),
    squawk="default",
    reads_schema=True,
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        flags("ALTER TABLE t ALTER COLUMN c DROP NOT NULL;"),
        flags("ALTER FOREIGN TABLE ft ALTER COLUMN c DROP NOT NULL;"),
        flags("ALTER DOMAIN d DROP NOT NULL;"),
        passes("ALTER TABLE t ALTER COLUMN c SET NOT NULL;"),
        passes("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER TABLE t ALTER COLUMN c DROP NOT NULL;", schema_sql="CREATE TABLE t (c int NOT NULL);"),
        passes("ALTER TABLE t ALTER COLUMN c DROP NOT NULL;", schema_sql="CREATE TABLE t (c int);",
               squawk_agrees=False, why="the schema shows the column nullable already"),
        flags("ALTER TABLE t ALTER COLUMN c SET NOT NULL;\nALTER TABLE t ALTER COLUMN c DROP NOT NULL;",
              schema_sql="CREATE TABLE t (c int);", why="the file made it NOT NULL first"),
    ],
)


def check(stmt, ctx):
    n = stmt.node
    if not changes_column_or_domain(n, "N", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE), (AT.AT_DropNotNull,)):
        return None
    if isinstance(n, ast.AlterTableStmt):
        drops = [c for c in alter_cmds(n) if c.subtype == AT.AT_DropNotNull]
        if changes_nothing(ctx, stmt, drops, lambda column: column.nullable):
            return None
        # Named: a migration dropping four columns' NOT NULL got four lines saying the same (Infisical's)
        table = relation_name(n.relation)
        named = ", ".join(f"{table}.{c.name}" for c in drops if c.name)
        if named:
            return Verdict(f"dropping NOT NULL on {named} lets NULLs reach running code that assumes there are none")
    return FLAGGED
