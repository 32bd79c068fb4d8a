"""Typed operations + schema -> a Plan of ordered steps.

Operations are planned one after another against a working copy of the
schema, so a later operation sees what an earlier one made. Steps keep each
operation's own order (an operation's code step may sit between its
backfill and its contract); adjacent code deploys are merged into one.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..errors import FluxInputError
from ..model.operations import AddColumn, ChangeColumnType, CreateTable, Operation
from ..model.plan import Finding, Plan, Step
from ..model.schema import Schema
from ..model.settings import Settings
from .naming import tool_named
from .naming_convention import convention_named
from .triggers import trigger_findings
from .ops import OPS
from .ops._base import Ctx, spelled_type
from ..schema.partitions import follow_partitions, partition_parents
from ..pg.quote import canonical_table
from ..lint.markers import phase_marker


def describe(op: Operation) -> str:
    """The plan's title for one operation, read as a sentence (each op module words its own)."""
    return OPS[op.op].describe(op)


def _merge_code_steps(steps: list[Step]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        if out and step.is_code and out[-1].is_code:
            out[-1] = out[-1].model_copy(update={"title": f"{out[-1].title}; {step.title}"})
        else:
            out.append(step)
    return out


# Why a step of these phases may do what the validator refuses elsewhere, written into its file
# so that `flux validate` judges the file as the plan did.
_PHASE_REASONS = {
    "contract": "written by flux to run after the code deploy before it; what it removes is no longer used, "
                "what it forbids no longer written",
    "backfill": "written by flux to rewrite these rows on purpose, in batches",
}
# A contract step no code deploy of the plan comes before (SET NOT NULL's CHECK and VALIDATE): it
# forbids, and the application is taken to write conforming rows already (ever-gauzy's NOT NULL
# plan's first file claimed a deploy before it and something removed).
_NO_DEPLOY_CONTRACT = "written by flux: what it forbids, the application no longer writes"


def _mark_phase(step: Step, after_deploy: bool = True) -> Step:
    reason = _PHASE_REASONS.get(step.phase)
    if step.phase == "contract" and not after_deploy:
        reason = _NO_DEPLOY_CONTRACT
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


def build_plan(operations: Sequence[Operation], schema: Schema, settings: Settings, tool: str = "sql",
               convention: Optional[dict[str, str]] = None) -> Plan:
    """`convention`: the project's SQLAlchemy naming_convention (an Alembic project's), which names
    an index, a unique constraint or a foreign key asked for without a name."""
    if not operations:
        raise FluxInputError("no operations to plan")
    operations = [tool_named(op, tool) for op in operations]  # an index or key the tool names, named so
    work = schema.model_copy(deep=True)
    steps: list[Step] = []
    findings: list[Finding] = []
    new_tables: set[str] = set()
    for k, op in enumerate(operations):
        module = OPS.get(op.op)
        if module is None:
            raise FluxInputError(f"operation {op.op!r} is not supported by the planner yet")
        op = operations[k] = _spelled(op, work)
        op = operations[k] = _convention_named(op, module, work, convention)
        if hasattr(module, "named"):  # a name Flux chooses, free in the schema as it stands here
            op = operations[k] = module.named(op, work)
        module.validate(op, work)
        # What the plan carries but a person must look at (a function body naming a retyped column,
        # partitions read from the migrations rather than production): each operation's own findings.
        findings += getattr(module, "warnings", lambda op, schema: [])(op, work)
        steps.extend(module.plan(op, Ctx(work, settings, new_tables, tool)))
        _apply(op, work, tool)
        if op.op == "create_table":
            new_tables.add(canonical_table(op.table))
    steps = _merge_code_steps(steps)
    steps = [_mark_phase(s, any(p.is_code for p in steps[:i - 1])).model_copy(update={"number": i})
             for i, s in enumerate(steps, start=1)]
    findings += trigger_findings(steps, schema)
    return Plan(
        description="; ".join(describe(op) for op in operations),
        type=plan_type(steps),
        tool=tool,
        operations=list(operations),
        steps=steps,
        findings=findings,
    )


def _spelled(op: Operation, work: Schema) -> Operation:
    """`op` with each type it gives spelled as the schema's own (a type named in other letter case,
    quoted), so every step, file and probe after it writes the type PostgreSQL has."""
    if isinstance(op, (AddColumn, ChangeColumnType)):
        spelled = spelled_type(work, op.type)
        return op if spelled == op.type else op.model_copy(update={"type": spelled})
    if isinstance(op, CreateTable):
        columns = [c.model_copy(update={"type": spelled_type(work, c.type)}) for c in op.columns]
        return op if [c.type for c in columns] == [c.type for c in op.columns] else \
            op.model_copy(update={"columns": columns})
    return op


def _convention_named(op: Operation, module, work: Schema, convention: Optional[dict[str, str]]) -> Operation:
    """`op` named by the project's naming_convention, checked as asked first (without a name, an index
    the table has is the answer); where the convention's name is taken, Flux's own free one instead."""
    named = convention_named(op, convention)
    if named is op:
        return op
    module.validate(module.named(op, work) if hasattr(module, "named") else op, work)
    try:
        module.validate(named, work)
    except FluxInputError:  # what differs is the name alone: taken (checked as asked just above)
        return op
    return named


def _apply(op: Operation, work: Schema, tool: str) -> None:
    """`op` made in the schema model: its module's apply, then what the project's tool names after
    what it changed (an operation's apply_named: TypeORM's sequences of a renamed table)."""
    module = OPS[op.op]
    parents = partition_parents(work)
    module.apply(op, work)
    if hasattr(module, "apply_named"):
        module.apply_named(op, work, tool)
    follow_partitions(work, parents)


def planned_schema(operations: Sequence[Operation], schema: Schema, tool: str = "sql") -> Schema:
    """The schema after every operation: what a full forward run should produce."""
    work = schema.model_copy(deep=True)
    for op in operations:
        OPS[op.op].validate(op, work)
        _apply(op, work, tool)
    return work
