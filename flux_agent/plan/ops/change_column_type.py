"""change_column_type: one catalog-only step when the cast is binary-coercible;
otherwise a shadow column of the new type, kept in sync by a trigger, that
takes the old column's name in one brief contract step.

The application keeps using the same column name throughout; it must accept
the new type from the contract step on.
"""

from __future__ import annotations

from typing import Optional

from ...errors import FluxInputError
from ...model.operations import ChangeColumnType
from ...model.schema import Schema
from ...model.plan import Finding, Step
from ...pg.ddl import collated
from ...pg.types import BUILTIN_TYPES, binary_coercible, collatable, narrowing, parsed, rounding, type_parts
from ...pg.quote import ident, qname
from ._dependents import column_dependents, retype_warnings
from ._base import (Ctx, RowsCount, checked_expr, checked_type, code_step, one, require_column, require_table,
                    short_name, tx_step)
from . import _key_family as key_family
from ._shadow import create_views_sql, deferred_key_warnings, drop_views_sql, expand_steps, prepare
from ._shadow_swap import swap_sql


def _target(op: ChangeColumnType, schema: Schema):
    table = require_table(schema, op.table)
    col = require_column(table, op.column)
    new_type = checked_type(schema, op.type)
    if new_type == col.type:
        raise FluxInputError(f"column {op.table}.{op.column} is already {new_type}")
    if op.using is not None:
        checked_expr(op.using, table, "using")
    return table, col, new_type


def _widens_key(op: ChangeColumnType, table, col, new_type: str) -> bool:
    """A primary-key column PostgreSQL cannot retype in place: the key family plan (or its refusal)."""
    return key_family.is_key_widening(table, op.column) and not (op.using is None
                                                                  and binary_coercible(col.type, new_type))


def validate(op: ChangeColumnType, schema: Schema) -> None:
    table, col, new_type = _target(op, schema)
    if _widens_key(op, table, col, new_type):
        key_family.family(schema, table, col, new_type, op.using)
    elif not (op.using is None and binary_coercible(col.type, new_type)):
        prepare(schema, table, col, short_name(op.column, suffix="flux"), new_type, op.using, rename=False)
    else:
        column_dependents(schema, table, op.column, "retype")


def plan(op: ChangeColumnType, ctx: Ctx) -> list[Step]:
    table, col, new_type = _target(op, ctx.schema)
    t, c = qname(table.name), ident(op.column)
    if _widens_key(op, table, col, new_type):
        return key_family.plan(ctx, key_family.family(ctx.schema, table, col, new_type, op.using,
                                                      ctx.settings.pg_version))
    # A character column keeps its collation (ALTER ... TYPE alone would give the new type's own,
    # changing how it sorts and compares and rebuilding its indexes): it is said, not dropped.
    kept_collation = col.collation if collatable(new_type) else None
    if op.using is None and binary_coercible(col.type, new_type):
        # PostgreSQL alters no column a view or policy uses: they are re-created around it.
        kept = column_dependents(ctx.schema, table, op.column, "retype")
        before = drop_views_sql(kept) + [f"DROP POLICY {ident(p.name)} ON {t}" for p in kept.policies]
        after = [p.definition for p in kept.policies] + create_views_sql(kept)
        return [tx_step(
            ctx, "migrate", f"change {table.name}.{op.column} to {new_type} (binary-coercible)",
            before + [f"-- squawk-ignore changing-column-type, prefer-text-field -- {col.type} to {new_type} is "
                      "binary-coercible: no rewrite, brief lock",
                      f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {collated(new_type, kept_collation)}"] + after,
            before + [f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {collated(col.type, col.collation)}"] + after,
            risk="brief lock, catalog change only (no rewrite, no index rebuild)",
            down_statement_timeout="0",
            rollback=f"back to {col.type}: rewrites the table, fails if longer or wider values were written")]

    tmp = short_name(op.column, suffix="flux")
    sh = prepare(ctx.schema, table, col, tmp, new_type, op.using, rename=False,
                 pg_version=ctx.settings.pg_version)
    steps = expand_steps(ctx, sh, f"cast to {new_type}")
    steps.append(code_step(
        f"deploy code that accepts {table.name}.{op.column} as {new_type} (it changes at the next step)",
        risk="application deploy; code keeps the column name"))
    up, undo = swap_sql(sh)
    # Text cast to another type keeps the value, not its spelling: the way back prints it ('007' comes
    # back '7', a time in the session's DateStyle, not as it was written).
    spelled = op.using is None and collatable(col.type) and not collatable(new_type) \
        and type_parts(new_type)[0] in BUILTIN_TYPES  # an enum's labels come back as written
    steps.append(tx_step(
        ctx, "contract", f"swap {table.name}.{op.column} to the {new_type} copy and drop the old column",
        up, undo, risk="brief lock, catalog change only", down_statement_timeout="0",
        rollback=f"re-create {op.column} as {col.type} from the copy (rewrites the table under lock)"
                 + ("; values come back by a plain cast, not by inverting the using expression"
                    if op.using is not None else "")
                 + (f"; the text comes back as PostgreSQL prints the {new_type}, not as it was written ('007' as "
                    "'7')" if spelled else "")
                 # maybe-finance's integer -> text: once a non-numeric value is written the way back fails
                 + (f"; fails if a value written since does not fit {col.type}"
                    if not binary_coercible(new_type, col.type) else ""),
        data_loss=op.using is not None or spelled))
    return steps


def apply(op: ChangeColumnType, schema: Schema) -> None:
    table, col, new_type = _target(op, schema)
    if _widens_key(op, table, col, new_type):
        key_family.apply(key_family.family(schema, table, col, new_type, op.using), new_type)
    col.type, col.collation = new_type, col.collation if collatable(new_type) else None


def warnings(op: ChangeColumnType, schema: Schema) -> list[Finding]:
    table, col, new_type = _target(op, schema)
    family = key_family.warnings(schema, table, col) if _widens_key(op, table, col, new_type) else []
    out = [Finding(rule="dependent-function", severity="warning", message=m)
           for m in family + retype_warnings(schema, table, op.column)]
    # The copy (and the sync trigger) fail on a value too big, as ALTER COLUMN TYPE would, rather than
    # cut it: the plan stops at its backfill until none is left; one rounded is held rounded. Saying
    # it now, with the query that finds them, saves finding out there.
    for condition, what in (
            (narrowing, "holds less: a value where {where} makes the backfill fail, and writes of one fail from "
                        "the first step on"),
            (rounding, "rounds values to its scale (4.25 is 4.3 in numeric(3,1)): the copy holds them rounded, "
                       "and after the swap so does the column"),
            (parsed, "parses each value as the new type: one that does not parse makes the backfill fail, and "
                     "old code's writes of one fail from the first step on (the sync trigger casts them)")):
        found = condition(col.type, new_type) if op.using is None else None
        if found is not None:
            where = found.format(col=ident(op.column))
            since = " (PostgreSQL 16+)" if condition is parsed else ""
            # The rows hold what was written; the default says what will be (polar's short_id: a function
            # giving bigint ids, and every insert relying on it failed in the sync trigger from step 1).
            default = (f". Its default ({col.default}) must give values that fit too: an insert relying on it fails "
                       "from the first step on when one does not") if col.default and condition is not rounding else ""
            out.append(Finding(rule="narrowing-type", severity="warning", message=(
                f"{table.name}.{op.column} {col.type} -> {new_type} {what.format(where=where)}; find them before "
                f"deploying{since}: SELECT count(*) FROM {qname(table.name)} WHERE {where}{default}")))
    copied = not _widens_key(op, table, col, new_type) and not (op.using is None and binary_coercible(col.type, new_type))
    return out + (deferred_key_warnings(table, op.column) if copied else [])


def refusing_rows(op: ChangeColumnType, schema: Schema) -> Optional[RowsCount]:
    """The values the new type refuses (too long, too big, not parsing as it: PostgreSQL 16's
    pg_input_is_valid, where the server has it): the backfill of the copy fails on them."""
    table, col, new_type = _target(op, schema)
    if op.using is not None:
        return None
    where = narrowing(col.type, new_type)
    if where is None and schema.server is not None and schema.server.version_num >= 160000:
        where = parsed(col.type, new_type)
    if where is None:
        return None
    where = where.format(col=ident(op.column))
    return RowsCount(table=table.name, sql=f"SELECT count(*) FROM {qname(table.name)} WHERE {where}",
                     found=f"{table.name}: {{0}} with a {op.column} that {new_type} refuses",
                     fails="the copy's backfill fails on them: change those values first, or give `using` an "
                           "expression that maps them, then plan again")


def describe(op: ChangeColumnType) -> str:
    return f"change type of {op.table}.{op.column} to {one(op.type)}"
