"""add_enum_value: ALTER TYPE ... ADD VALUE. Before PostgreSQL 12 it cannot run
inside a transaction block, so it gets a step of its own outside one."""

from __future__ import annotations

from ...errors import FluxInputError
from ...model.operations import AddEnumValue
from ...model.schema import EnumType, Schema
from ...model.plan import Step
from ...pg.types import concurrent_enum_needed
from ...pg.quote import canonical_table, literal, qname
from ._base import Ctx, solo_step, tx_step


def _enum(schema: Schema, name: str) -> EnumType:
    key = canonical_table(name)
    found = next((e for e in schema.enums if e.name in (key, name)), None)
    if found is None:
        known = ", ".join(e.name for e in schema.enums) or "none"
        raise FluxInputError(f"unknown enum type {name!r} (known: {known})")
    return found


def validate(op: AddEnumValue, schema: Schema) -> None:
    enum = _enum(schema, op.enum)
    if not op.value or len(op.value.encode()) > 63:
        raise FluxInputError("enum values must be 1 to 63 bytes")
    if "\x00" in op.value:
        raise FluxInputError(f"enum value {op.value!r} contains a NUL byte")
    if op.value in enum.values:
        raise FluxInputError(f"enum {enum.name} already has the value {op.value!r}")
    if op.before and op.after:
        raise FluxInputError("give before or after, not both")
    for anchor in (op.before, op.after):
        if anchor is not None and anchor not in enum.values:
            raise FluxInputError(f"enum {enum.name} has no value {anchor!r}")


def plan(op: AddEnumValue, ctx: Ctx) -> list[Step]:
    enum = _enum(ctx.schema, op.enum)
    where = f" BEFORE {literal(op.before)}" if op.before else f" AFTER {literal(op.after)}" if op.after else ""
    sql = f"ALTER TYPE {qname(enum.name)} ADD VALUE IF NOT EXISTS {literal(op.value)}{where}"
    title = f"add value {op.value!r} to enum {enum.name}"
    # Asked for with no place, it sorts last: what was asked, said so squawk and Flux's own rule know
    said = [] if where else ["-- squawk-ignore require-enum-value-ordering -- sorts after the last value, as asked"]
    rollback = "nothing to undo: PostgreSQL cannot remove an enum value; it stays unused"
    if concurrent_enum_needed(ctx.settings.pg_version):
        return [solo_step("migrate", title, "\n".join([*said, sql + ";"]), None, lock="none", lock_note="no table lock; a brief lock on the type",
                          risk="cannot run in a transaction before PostgreSQL 12", rollback=rollback,
                          squawk_reason="one statement per non-transactional file; the lock is brief")]
    return [tx_step(ctx, "migrate", title, [*said, sql], None, lock="none", lock_note="no table lock; a brief lock on the type",
                    risk="catalog change only; the value is usable after the step commits", rollback=rollback)]


def apply(op: AddEnumValue, schema: Schema) -> None:
    enum = _enum(schema, op.enum)
    if op.before:
        enum.values.insert(enum.values.index(op.before), op.value)
    elif op.after:
        enum.values.insert(enum.values.index(op.after) + 1, op.value)
    else:
        enum.values.append(op.value)


def describe(op: AddEnumValue) -> str:
    return f"add value {op.value!r} to enum {op.enum}"
