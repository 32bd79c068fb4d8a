"""drop_column: the application stops using the column first; then the column
is set aside under a new name (a rollback renames it back, nothing lost);
only the last step drops it, and only that step loses data on rollback.
"""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import DropColumn
from ...model.schema import Column, Index, Schema, Table
from ...pg.ddl import collated, comment_sql, index_sql, sequence_of, unique_using_index_sql
from ...pg.parse import operand
from ...pg.types import is_volatile
from ...pg.repoint import exclusion_copy
from ._partitions import restore_index_sql
from ...model.plan import Step
from ...pg.quote import dollar_quote, ident, literal, qname
from ._dependents import column_dependents, referencing_keys
from ._base import Ctx, code_step, require_column, require_table, short_name, tx_step


def aside_name(column: str) -> str:
    return short_name("flux_dropped", column)


def _restore_not_null(t: str, c: str, label: str) -> str:
    # After the final drop is rolled back the column comes back empty; NOT NULL
    # cannot hold then, and a rollback that fails half-way helps nobody.
    return "DO " + dollar_quote(
        "\nBEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM {t} WHERE {c} IS NULL) THEN\n"
        f"    RAISE WARNING 'flux: % holds NULLs; NOT NULL not restored', {literal(label)};\n"
        "  ELSE\n"
        f"    ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
        "  END IF;\nEND\n"
    )


def _restore_indexes(schema: Schema, table: Table, column: str, empty: bool) -> list[str]:
    """The indexes PostgreSQL dropped with the column, back on the re-added (set-aside) column
    (`empty`: without its values) under their own names, a unique constraint's made its constraint
    again: the rollback of the set-aside renames the column and they follow."""
    aside = aside_name(column)
    deps = [d for d in schema.dependencies.on(table.name, column) if d.kind == "index"] \
        if schema.dependencies is not None else []
    exact = {d.name: d.definition for d in deps}
    exclusions = {d.name: d.exclusion for d in deps if d.exclusion}
    out = []
    skipped = {i.name for i in _unrestorable(table, column)} if empty else set()
    for idx in table.indexes:
        if idx.primary or (idx.name not in exact and not idx.uses(column)) or idx.name in skipped:
            continue
        if idx.name in exclusions:  # the constraint, which makes its index (a bare index would not exclude)
            out.append(exclusion_copy(exclusions[idx.name], table.name, idx.name, column, aside))
        elif idx.name in exact:
            out += restore_index_sql(schema, table, idx.name, exact[idx.name], column, aside)
        else:
            copy = table.model_copy(update={"columns": table.columns + [Column(name=aside, type="text")]})
            out.append(index_sql(copy, idx.model_copy(update={
                "columns": [aside if c == column else c for c in idx.columns],
                "include": [aside if c == column else c for c in idx.include]})))
        con = next((c for c in table.constraints if c.kind == "unique" and c.name == idx.name), None)
        if con is not None:  # a constraint's: one again
            out.append(unique_using_index_sql(table.name, idx.name, idx.name, con))
    return out


def _unrestorable(table: Table, column: str) -> list[Index]:
    """The unique NULLS NOT DISTINCT indexes keyed on the column: the rollback re-adds it empty, and
    two rows' NULLs are one value twice to them (making one again would fail the rollback)."""
    return [i for i in table.indexes if i.unique and i.nulls_not_distinct and column in i.columns]


def validate(op: DropColumn, schema: Schema) -> None:
    table = require_table(schema, op.table)
    require_column(table, op.column)
    if op.column in table.primary_key:
        raise FluxInputError(f"{op.table}.{op.column} is part of the primary key; drop the key first")
    if any(i.primary and op.column in i.include for i in table.indexes):  # PostgreSQL would drop the key with it
        raise FluxInputError(f"{op.table}.{op.column} is in the primary key's INCLUDE; make the key again "
                             "without it first")
    column_dependents(schema, table, op.column, "drop", extra=referencing_keys(schema, table, op.column))
    if table.column(aside_name(op.column)):
        raise FluxInputError(f"column {aside_name(op.column)!r} already exists on {op.table}")


def plan(op: DropColumn, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    col = require_column(table, op.column)
    t, c, a = qname(table.name), ident(op.column), ident(aside_name(op.column))
    steps: list[Step] = []
    if not col.nullable and col.default is None and col.generated is None:  # nothing writes a generated one
        # Code that no longer writes the column must still be able to insert.
        steps.append(tx_step(
            ctx, "expand", f"allow NULL in {table.name}.{op.column} so new code can omit it",
            ["-- squawk-ignore ban-drop-not-null -- the column is about to be dropped",
             f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL"],
            [_restore_not_null(t, c, f"{table.name}.{op.column}")], down_statement_timeout="0",
            risk="brief lock, catalog change only",
            rollback=f"{op.column} NOT NULL again unless NULLs were written meanwhile (then a warning)"))
    steps.append(code_step(f"deploy code that no longer reads or writes {table.name}.{op.column}"))
    steps.append(tx_step(
        ctx, "contract", f"set {table.name}.{op.column} aside as {aside_name(op.column)}",
        ["-- squawk-ignore renaming-column -- the application no longer uses it; a rollback renames it back",
         f"ALTER TABLE {t} RENAME COLUMN {c} TO {a}"],
        [f"ALTER TABLE {t} RENAME COLUMN {a} TO {c}"],
        risk="brief lock, catalog change only; anything still using the column fails now, "
             "while its data is still there",
        rollback=f"rename {aside_name(op.column)} back to {op.column}, data intact"))
    rewrite = False  # the rollback's re-added column rewrites the table
    if col.generated is not None:
        # PostgreSQL computes every row's value again as it adds the column back: nothing is lost, but
        # the table is rewritten under its lock (the rollback of a drop only; planned changes never do).
        readd = ["-- squawk-ignore adding-field-with-default -- the rollback recomputes the dropped generated column",
                 f"ALTER TABLE {t} ADD COLUMN {a} {collated(col.type, col.collation)} "
                 f"GENERATED ALWAYS AS ({col.generated}) STORED"]
        back = (f"re-add {op.column} as the generated column it was: PostgreSQL recomputes its values, rewriting "
                f"{table.name} under an ACCESS EXCLUSIVE lock")
    else:
        # Its DEFAULT (and so its NOT NULL) comes back with it, each row given the default, as an
        # application inserting without the column expects; a nextval default's sequence went with
        # the column. A volatile default is computed per row: the table is rewritten under its lock.
        default = col.default if col.default is not None and sequence_of(col.default) is None else None
        rewrite = default is not None and is_volatile(default)
        readd = [f"ALTER TABLE {t} ADD COLUMN {a} {collated(col.type, col.collation)}"
                 + (f" DEFAULT {operand(default)}" if default is not None else "")
                 + (" NOT NULL" if default is not None and not col.nullable else "")]
        if rewrite:
            readd.insert(0, "-- squawk-ignore adding-field-with-default -- the rollback gives every row the "
                            "dropped column's volatile default")
        back = (f"re-add {op.column} {'empty' if default is None else 'with its default in every row'}: its values "
                "are lost; restore them from a backup")
        back += f" (its volatile default rewrites {table.name} under an ACCESS EXCLUSIVE lock)" if rewrite else ""
        lost = [i.name for i in _unrestorable(table, op.column)]
        back += (f"; {', '.join(lost)} (unique, NULLS NOT DISTINCT) cannot hold its NULLs and is not made again: "
                 "make it once the values are back") if lost else ""
    readd += comment_sql(table.name, aside_name(op.column), col.comment)
    steps.append(tx_step(
        ctx, "contract", f"drop the set-aside column {aside_name(op.column)} from {table.name}",
        ["-- squawk-ignore ban-drop-column -- unused since the code step and set aside since the step before",
         f"ALTER TABLE {t} DROP COLUMN {a}"],
        readd + _restore_indexes(ctx.schema, table, op.column, empty=col.generated is None),
        risk="brief lock, catalog change only; run it once nothing failed after the set-aside",
        rollback=back, data_loss=col.generated is None,
        down_statement_timeout="0" if col.generated is not None or rewrite else None))
    return steps


def apply(op: DropColumn, schema: Schema) -> None:
    table = require_table(schema, op.table)
    table.columns = [c for c in table.columns if c.name != op.column]
    table.indexes = [i for i in table.indexes if not i.uses(op.column)]
    table.constraints = [k for k in table.constraints if op.column not in k.columns]


def describe(op: DropColumn) -> str:
    return f"drop column {op.table}.{op.column}"
