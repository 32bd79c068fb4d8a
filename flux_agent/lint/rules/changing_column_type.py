"""ALTER COLUMN TYPE rewrites the table and rebuilds its indexes under ACCESS
EXCLUSIVE, except for binary-coercible changes (varchar(n) -> text, a wider
varchar or numeric precision), which only touch the catalog."""
# squawk default: yes

from pglast import ast
from pglast.enums import AlterTableType as AT

from ...pg.locks import alter_cmds
from ...pg.quote import relation_name
from ...pg.types import binary_coercible, canonical_type

ID = "changing-column-type"
SEVERITY = "error"
MESSAGE = ("ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE, blocking reads and writes, "
           "and may break clients that read the column")
HINT = "add a new column of the new type, keep both in sync with a trigger, backfill in batches, then switch readers"


def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.AlterTableStmt):
        return None
    table = relation_name(n.relation)
    if ctx.table_is_new(table):
        return None  # a table created in this migration is empty: the rewrite is instant
    known = ctx.schema.table(table) if ctx.schema else None
    for cmd in alter_cmds(n):
        if cmd.subtype != AT.AT_AlterColumnType or not isinstance(cmd.def_, ast.ColumnDef):
            continue
        old = known.column(cmd.name) if known else None
        new = canonical_type(cmd.def_.typeName)
        if old is not None and cmd.def_.raw_default is None and binary_coercible(old.type, new):
            continue  # catalog-only change: no rewrite, no scan
        if old is None:
            return (f"ALTER COLUMN {cmd.name} TYPE {new}: the current type is unknown, so this may rewrite the table "
                    "under ACCESS EXCLUSIVE (only binary-coercible changes such as varchar(n) -> text do not)")
        return (f"ALTER COLUMN {cmd.name} TYPE {old.type} -> {new} rewrites the table and its indexes under "
                "ACCESS EXCLUSIVE, blocking reads and writes")
    return None
