"""ALTER COLUMN TYPE rewrites the table and rebuilds its indexes under ACCESS
EXCLUSIVE, except for binary-coercible changes (varchar(n) -> text, a wider
varchar or numeric precision), which only touch the catalog."""

from pglast import ast
from pglast.enums import AlterTableType as AT

from ...pg.types import binary_coercible, canonical_type, plain_using
from ._flux_common import names_table_of
from ._rule import Rule, Verdict, flags, passes
from ._squawk_compat import existing_table_alter

_SCHEMA = "CREATE TABLE orders (id bigint NOT NULL, note varchar(10), total integer);"

RULE = Rule(
    id="changing-column-type",
    severity="error",
    message=("ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE, blocking reads and writes, "
             "and may break clients that read the column"),
    hint=("add a new column of the new type, keep both in sync with a trigger, backfill in batches, then switch "
          "readers"),
    squawk="default",
    reads_schema=True,
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE products ALTER COLUMN stock TYPE bigint;"),
        flags("ALTER TABLE orders ALTER COLUMN total TYPE bigint;", schema_sql=_SCHEMA),
        flags("ALTER TABLE orders ALTER COLUMN note TYPE text;", why="the old type is unknown"),
        passes("ALTER TABLE orders ALTER COLUMN note TYPE text;", schema_sql=_SCHEMA, squawk_agrees=False,
               why="varchar(10) -> text is binary-coercible; squawk does not know the old type"),
        passes("ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);", schema_sql=_SCHEMA, squawk_agrees=False,
               why="widening a varchar is binary-coercible; squawk does not know the old type"),
        passes('ALTER TABLE orders ALTER COLUMN note TYPE text USING "note"::text;', schema_sql=_SCHEMA,
               squawk_agrees=False, why="Django's USING names the column cast to the new type: no rewrite still"),
        flags("ALTER TABLE orders ALTER COLUMN note TYPE text USING lower(note);", schema_sql=_SCHEMA,
              why="an expression computes every value again"),
        passes("CREATE TABLE t (id bigint, c int);\nALTER TABLE t ALTER COLUMN c TYPE bigint;", squawk_agrees=False,
               why="a table created in this migration is empty; squawk does not follow it"),
    ],
)


def check(stmt, ctx):
    table, cmds = existing_table_alter(stmt, ctx)  # a table created in this migration is empty: instant rewrite
    # A type change first: the schema may be made on reading (lint/context.py), and most ALTERs need none.
    # Types as the replay names them (canonical_type, as `new` below): no normalised snapshot needed.
    changes_type = any(c.subtype == AT.AT_AlterColumnType for c in cmds)
    known = names_table_of(ctx, stmt, table) if changes_type else None
    for cmd in cmds:
        if cmd.subtype != AT.AT_AlterColumnType or not isinstance(cmd.def_, ast.ColumnDef):
            continue
        old = known.column(cmd.name) if known else None
        new = canonical_type(cmd.def_.typeName)
        if old is not None and plain_using(cmd) and binary_coercible(old.type, new):
            continue  # catalog-only change: no rewrite, no scan
        if old is None:
            return Verdict(f"ALTER COLUMN {cmd.name} TYPE {new}: the current type is unknown, so this may rewrite "
                           "the table under ACCESS EXCLUSIVE (only binary-coercible changes such as varchar(n) -> text "
                           "do not)")
        return Verdict(f"ALTER COLUMN {cmd.name} TYPE {old.type} -> {new} rewrites the table and its indexes under "
                       "ACCESS EXCLUSIVE, blocking reads and writes")
    return None
