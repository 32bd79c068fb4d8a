"""Typed operations + schema -> a Plan of ordered steps.

Operations are planned one after another against a working copy of the
schema, so a later operation sees what an earlier one made. Steps keep each
operation's own order (an operation's code step may sit between its
backfill and its contract); adjacent code deploys are merged into one.
"""

from __future__ import annotations

from typing import Sequence

from .errors import FluxInputError
from .models import Operation, Plan, Schema, Settings, Step
from .ops import OPS
from .ops.base import Ctx
from .sql import canonical_table


def describe(op: Operation) -> str:
    d = op.model_dump()
    name = op.op
    if name == "add_column":
        return f"add {'nullable' if op.nullable else 'NOT NULL'} column {op.table}.{op.column} {op.type}"
    if name == "rename_column":
        return f"rename column {op.table}.{op.column} to {op.new_name}"
    if name == "rename_table":
        return f"rename table {op.table} to {op.new_name}"
    if name == "change_column_type":
        return f"change {op.table}.{op.column} to {op.type}"
    if name == "add_index":
        return f"add {'unique ' if op.unique else ''}index on {op.table} ({', '.join(op.columns)})"
    if "column" in d and "table" in d:
        return f"{name.replace('_', ' ')} {d['table']}.{d['column']}"
    if "table" in d:
        return f"{name.replace('_', ' ')} {d['table']}"
    return name.replace("_", " ")


def _merge_code_steps(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        if out and step.phase == "code" and out[-1].phase == "code":
            out[-1] = out[-1].model_copy(update={"title": f"{out[-1].title}; {step.title}"})
        else:
            out.append(step)
    return out


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
    steps = [s.model_copy(update={"number": i}) for i, s in enumerate(steps, start=1)]
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
