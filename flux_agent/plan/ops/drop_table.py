"""drop_table: the application stops using the table, then the table is set
aside under a new name (a rollback renames it back, nothing lost), and only
the last step drops it.
"""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import DropTable
from ...model.schema import Schema
from ...model.plan import Step
from ...pg.quote import ident, qname, split_qualified
from ._dependents import table_dependents
from ._partitions import recreate_table_sql
from ._base import Ctx, bare, code_step, require_table, short_name, tx_step


def aside_name(table: str) -> str:
    schema, name = split_qualified(table)
    aside = short_name("flux_dropped", name)
    return f"{schema}.{aside}" if schema else aside


def validate(op: DropTable, schema: Schema) -> None:
    table = require_table(schema, op.table)
    keys = [f"foreign key {con.name} on {other.name} (drop it first)" for other in schema.tables
            if other.name != table.name for con in other.constraints
            if con.kind == "foreign_key" and con.ref_table == table.name]
    views = [f"view {v.name} (drop or change it first)" for v in schema.views if table.name in v.depends_on]
    # PostgreSQL's own list of the views (when the schema came from it) names them once, with the rest.
    table_dependents(schema, table, "drop", extra=keys + ([] if schema.dependencies is not None else views))
    if schema.table(aside_name(table.name)):
        raise FluxInputError(f"table {aside_name(table.name)!r} already exists")


def plan(op: DropTable, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    name, aside = table.name, aside_name(table.name)
    return [
        code_step(f"deploy code that no longer uses table {name}"),
        tx_step(ctx, "contract", f"set table {name} aside as {aside}",
                ["-- squawk-ignore renaming-table -- the application no longer uses it; a rollback renames it back",
                 f"ALTER TABLE {qname(name)} RENAME TO {ident(bare(aside))}"],
                [f"ALTER TABLE {qname(aside)} RENAME TO {ident(bare(name))}"],
                risk="brief lock, catalog change only; anything still using the table fails now, "
                     "while its data is still there",
                rollback=f"rename {aside} back to {name}, data intact"),
        tx_step(ctx, "contract", f"drop the set-aside table {aside}",
                ["-- squawk-ignore ban-drop-table -- unused since the code step and set aside since the step before",
                 f"DROP TABLE {qname(aside)}"],
                recreate_table_sql(ctx.schema, table, aside),
                risk="brief lock on the set-aside table only; run it once nothing failed after the set-aside",
                rollback=f"re-create {aside} empty: its rows are lost; restore them from a backup",
                data_loss=True),
    ]


def apply(op: DropTable, schema: Schema) -> None:
    table = require_table(schema, op.table)
    schema.tables = [t for t in schema.tables if t.name != table.name]


def describe(op: DropTable) -> str:
    return f"drop table {op.table}"
