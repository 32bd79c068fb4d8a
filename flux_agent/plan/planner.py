"""Typed operations + schema -> a Plan of ordered steps.

Operations are planned one after another against a working copy of the
schema, so a later operation sees what an earlier one made. Steps keep each
operation's own order (an operation's code step may sit between its
backfill and its contract); adjacent code deploys are merged into one.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from ..errors import FluxInputError
from ..model.operations import Operation
from ..model.plan import Plan, Step
from ..model.schema import Schema
from ..model.settings import Settings
from .ops import OPS
from .ops._base import Ctx
from ..pg.quote import canonical_table
from ..lint.markers import phase_marker


def _one(text: Optional[str]) -> str:
    return " ".join(str(text).split())


def _cols(table: str, columns: list[str]) -> str:
    """`orders.user_id` for one column, `orders (a, b)` for several."""
    return f"{table}.{columns[0]}" if len(columns) == 1 else f"{table} ({', '.join(columns)})"


def _where(where: Optional[str]) -> str:
    return f" where {_one(where)}" if where else ""


# One description per operation type: the plan's title, read as a sentence.
_DESCRIBE: dict[str, Callable[..., str]] = {
    "add_column": lambda o: f"add column {o.table}.{o.column} {_one(o.type)}{'' if o.nullable else ' NOT NULL'}",
    "drop_column": lambda o: f"drop column {o.table}.{o.column}",
    "rename_column": lambda o: f"rename column {o.table}.{o.column} to {o.new_name}",
    "change_column_type": lambda o: f"change type of {o.table}.{o.column} to {_one(o.type)}",
    "set_not_null": lambda o: f"set {o.table}.{o.column} NOT NULL",
    "drop_not_null": lambda o: f"allow NULL in {o.table}.{o.column}",
    "set_default": lambda o: f"set default of {o.table}.{o.column} to {_one(o.default)}",
    "drop_default": lambda o: f"drop default of {o.table}.{o.column}",
    "add_index": lambda o: f"add {'unique ' if o.unique else ''}index on {o.table} ({', '.join(o.columns)})"
                           f"{_where(o.where)}",
    "drop_index": lambda o: f"drop index {o.name}",
    "add_foreign_key": lambda o: f"add foreign key {_cols(o.table, o.columns)} -> "
                                 f"{_cols(o.ref_table, o.ref_columns)}"
                                 f"{f' on delete {_one(o.on_delete).lower()}' if o.on_delete else ''}",
    "add_check": lambda o: f"add check on {o.table} ({_one(o.expression)})",
    "add_unique": lambda o: f"add unique constraint on {_cols(o.table, o.columns)}",
    "create_table": lambda o: f"create table {o.table}",
    "rename_table": lambda o: f"rename table {o.table} to {o.new_name}",
    "drop_table": lambda o: f"drop table {o.table}",
    "backfill": lambda o: f"backfill {o.table}.{o.column} with {_one(o.value)}{_where(o.where)}",
    "add_enum_value": lambda o: f"add value {o.value!r} to enum {o.enum}",
    "raw_sql": lambda o: f"run raw SQL ({o.phase} step)",
}


def describe(op: Operation) -> str:
    return _DESCRIBE[op.op](op)


def _merge_code_steps(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        if out and step.phase == "code" and out[-1].phase == "code":
            out[-1] = out[-1].model_copy(update={"title": f"{out[-1].title}; {step.title}"})
        else:
            out.append(step)
    return out


# Why a step of these phases may do what the validator refuses elsewhere, written into its file
# so that `flux validate` judges the file as the plan did.
_PHASE_REASONS = {
    "contract": "written by flux to run after the code deploy before it; what it removes is no longer used",
    "backfill": "written by flux to rewrite these rows on purpose, in batches",
}


def _mark_phase(step: Step) -> Step:
    reason = _PHASE_REASONS.get(step.phase)
    if reason is None or not step.up_sql:
        return step
    return step.model_copy(update={"up_sql": f"{phase_marker(step.phase, reason)}\n{step.up_sql}"})


def plan_type(steps: list[Step]) -> str:
    phases = {s.phase for s in steps}
    if phases <= {"migrate"}:
        return "safe"
    if phases <= {"migrate", "backfill"}:
        return "backfill"
    return "expand-contract"


def build_plan(operations: Sequence[Operation], schema: Schema, settings: Settings, tool: str = "sql") -> Plan:
    if not operations:
        raise FluxInputError("no operations to plan")
    work = schema.model_copy(deep=True)
    steps: list[Step] = []
    new_tables: set[str] = set()
    for op in operations:
        module = OPS.get(op.op)
        if module is None:
            raise FluxInputError(f"operation {op.op!r} is not supported by the planner yet")
        module.validate(op, work)
        steps.extend(module.plan(op, Ctx(work, settings, new_tables)))
        module.apply(op, work)
        if op.op == "create_table":
            new_tables.add(canonical_table(op.table))
    steps = _merge_code_steps(steps)
    steps = [_mark_phase(s).model_copy(update={"number": i}) for i, s in enumerate(steps, start=1)]
    return Plan(
        description="; ".join(describe(op) for op in operations),
        type=plan_type(steps),
        tool=tool,
        operations=list(operations),
        steps=steps,
    )


def planned_schema(operations: Sequence[Operation], schema: Schema) -> Schema:
    """The schema after every operation: what a full forward run should produce."""
    work = schema.model_copy(deep=True)
    for op in operations:
        OPS[op.op].validate(op, work)
        OPS[op.op].apply(op, work)
    return work
