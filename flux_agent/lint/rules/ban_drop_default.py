"""ALTER COLUMN ... DROP DEFAULT (tables, foreign tables, views, domains):
inserts that omit the column now write NULL or fail. Not where the schema shows
the column has no default to drop (then nothing changes)."""

from pglast import ast

from ...pg.locks import alter_cmds
from ._flux_common import changes_nothing
from ._rule import FLAGGED, Rule, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-default",
    severity="error",
    message="dropping a column default breaks inserts from running code that omit the column",
    hint=("move every insert to write the column first, then say so: "
          "-- squawk-ignore ban-drop-default -- <why>"),
    squawk="default",
    reads_schema=True,
    nodes=(ast.AlterTableStmt, ast.AlterDomainStmt),
    examples=[
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;"),
        flags("ALTER FOREIGN TABLE ft ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER VIEW v ALTER COLUMN c DROP DEFAULT;"),
        flags("ALTER DOMAIN d DROP DEFAULT;"),
        passes("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;"),
        passes("ALTER DOMAIN d SET DEFAULT 1;"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", schema_sql="CREATE TABLE t (c int DEFAULT 1);"),
        passes("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", schema_sql="CREATE TABLE t (c int);",
               squawk_agrees=False, why="the schema shows no default to drop"),
        flags("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
              schema_sql="CREATE TABLE t (c int);", why="the file set one first"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;",
              schema_sql="CREATE TABLE t (c int, d int DEFAULT 1);"),
    ],
)


def _drops(cmd) -> bool:
    return cmd.def_ is None


def check(stmt, ctx):
    n = stmt.node
    if not changes_column_or_domain(n, "T", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW),
                                    (AT.AT_ColumnDefault,), _drops):
        return None
    if isinstance(n, ast.AlterTableStmt):
        drops = [c for c in alter_cmds(n) if c.subtype == AT.AT_ColumnDefault and _drops(c)]
        if changes_nothing(ctx, stmt, drops, lambda column: column.default is None):
            return None
    return FLAGGED
