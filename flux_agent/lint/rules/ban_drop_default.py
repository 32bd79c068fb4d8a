"""ALTER COLUMN ... DROP DEFAULT (tables, foreign tables, views, domains):
inserts that omit the column now write NULL or fail. Not where the schema shows
the column has no default to drop (then nothing changes); where it shows every
such column nullable, a warning: those inserts go on, writing NULL where they
wrote the default (Rails' change_column_default to nil on nullable columns)."""

from pglast import ast
from pglast.enums import ConstrType

from ...pg.locks import alter_cmds
from ...pg.quote import relation_name
from ._flux_common import added_column, changes_nothing, names_table_of, set_not_null_earlier
from ._rule import FLAGGED, Rule, Verdict, flags, passes
from ._squawk_compat import AT, OT, changes_column_or_domain

RULE = Rule(
    id="ban-drop-default",
    severity="error",
    message=("dropping a column default breaks inserts from running code that omit the column (NOT NULL), or "
             "makes them write NULL"),
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
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", schema_sql="CREATE TABLE t (c int NOT NULL DEFAULT 1);"),
        passes("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", schema_sql="CREATE TABLE t (c int);",
               squawk_agrees=False, why="the schema shows no default to drop"),
        flags("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
              schema_sql="CREATE TABLE t (c int NOT NULL);", why="the file set one first"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;",
              schema_sql="CREATE TABLE t (c int, d int NOT NULL DEFAULT 1);"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;",
              schema_sql="CREATE TABLE t (c int DEFAULT 2, d int DEFAULT 1);", severity="warning"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT;", schema_sql="CREATE TABLE t (c int DEFAULT 1);",
              severity="warning", why="a nullable column: inserts omitting it write NULL, none fails"),
        passes("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now() NULL;\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
               squawk_agrees=False, why="Django's AddField(null=True, default=...): a column this migration added, "
                                        "whose default no running code wrote (netbox's)"),
        flags("ALTER TABLE t ADD COLUMN c text DEFAULT 'x' NOT NULL;\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
              why="NOT NULL: inserts from code that does not know the column fail once the default goes"),
        flags("ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN c DROP NOT NULL;", severity="warning",
              why="made nullable by the same statement, the schema unknown (Rails' change_column null: true, "
                  "default: nil)"),
    ],
)


def _drops(cmd) -> bool:
    return cmd.def_ is None


def _added_nullable(ctx, stmt, table: str, column: str) -> bool:
    """Did an earlier statement of this file add `column` to `table` without NOT NULL (nor make it so
    since)? Django's AddField with a default adds the column with it, then drops it at once."""
    made = added_column(ctx, stmt, table, column)
    if made is None or made.is_not_null or any(c.contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY)
                                               for c in made.constraints or ()):
        return False
    return not set_not_null_earlier(ctx, stmt, table, column)


def check(stmt, ctx):
    n = stmt.node
    if not changes_column_or_domain(n, "T", (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE, OT.OBJECT_VIEW),
                                    (AT.AT_ColumnDefault,), _drops):
        return None
    if isinstance(n, ast.AlterTableStmt):
        drops = [c for c in alter_cmds(n) if c.subtype == AT.AT_ColumnDefault and _drops(c)]
        if drops and all(_added_nullable(ctx, stmt, relation_name(n.relation), c.name) for c in drops):
            return None  # no running code knew the column, nor wrote its default: theirs write NULL as before
        if changes_nothing(ctx, stmt, drops, lambda column: column.default is None):
            return None
        table = names_table_of(ctx, stmt, relation_name(n.relation)) if drops else None
        columns = [table.column(c.name) for c in drops] if table is not None else []
        # A column the same statement makes nullable takes NULL too, the schema known or not (Rails'
        # change_column ..., null: true, default: nil: mastodon's)
        freed = {c.name for c in alter_cmds(n) if c.subtype == AT.AT_DropNotNull}
        if drops and all(c.name in freed or (k is not None and k.nullable)
                         for c, k in zip(drops, columns or [None] * len(drops))):
            names = ", ".join(c.name for c in drops)
            return Verdict(f"dropping the default of {relation_name(n.relation)}.{names} makes inserts from running "
                           "code that omit it write NULL where they wrote the default (the column takes NULL: none "
                           "fails)", severity="warning")
    return FLAGGED
