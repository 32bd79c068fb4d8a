"""Write a plan one deploy at a time.

Migration tools apply every pending file at once (`dbmate up`, `prisma migrate
deploy`, drizzle, TypeORM): if the contract step's file existed before the
application moved off the old column, the next deploy would drop it under
running code. So `--write` writes only the steps before the first code
deploy, and keeps the whole plan in `.flux/plans/<id>.json` (commit it with the
migrations); `flux continue` writes the next group once the code is deployed.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field

from ..plan import summary as render
from ..errors import FluxInputError
from ..project.config import load_settings
from ..project.lock import file_lock
from ..model.plan import Plan, Step
from .tools import get_writer
from .base import FileJob, commit, slug
from .code_changes import apply as apply_patch, read as read_file
from .formatter import format_jobs
from ..plan.changed import overlap

PLANS_DIR = ".flux/plans"


class PlanRecord(BaseModel):
    """What `flux continue` needs to write the rest of a plan."""

    id: str
    plan: Plan
    migrations_dir: str
    written: list[int] = Field(default_factory=list, description="step numbers already written")
    file_digests: dict[str, str] = Field(default_factory=dict, description=(
        "each written step file (relative to the project) -> the SHA-256 of what was written: a file "
        "changed since is verified as it is, or said to be (verify/pending.py)"))

    @property
    def complete(self) -> bool:
        return not next_group(self.plan, set(self.written))[1]


class WriteOutcome(BaseModel):
    files: list[str]
    written_steps: list[int]
    remaining_steps: list[int]
    next: str = Field(description="what to do next, in one sentence")
    record: Optional[str] = Field(None, description="the plan record, relative to the project")
    plan: Optional[Plan] = Field(None, description="the plan with the file names as written")
    formatted_with: list[str] = Field(default_factory=list, description="the project's formatters the "
                                      "migrations were run through before they were written")
    notes: list[str] = Field(default_factory=list, description="what writing met: a file the project's "
                             "formatter failed on")


_BLOCKING = frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"})


def _stop(step: Step, group: list[Step], writer) -> Optional[str]:
    """Why a group ends before `step` (None: it goes on):
    - "manual": a tool that applies every pending file in one transaction (drizzle) must not run
      its next migrations before a file run by hand;
    - "deploy": a tool that applies them in one transaction (Writer.one_transaction) must not hold
      an earlier step's blocking lock through this step's scan (VALIDATE after ADD CONSTRAINT NOT
      VALID would keep ACCESS EXCLUSIVE for the whole scan);
    - "watch": a contract step that loses data (the drop of a set-aside column) is written once
      the contract steps before it ran and nothing failed."""
    if not group:
        return None
    if getattr(writer, "stop_after_manual", False) and step.transactional and any(not s.transactional for s in group):
        return "manual"
    if writer.one_transaction and step.transactional and step.lock == "SHARE UPDATE EXCLUSIVE" \
            and any(s.lock in _BLOCKING for s in group):  # (a step outside a transaction is never in it)
        return "deploy"
    if step.phase == "contract" and step.data_loss_on_rollback and any(s.phase == "contract" for s in group):
        return "watch"
    return None


def next_group(plan: Plan, written: set[int]) -> tuple[Optional[Step], list[Step]]:
    """(the code step that must be deployed first, or None; the database steps up to the next
    code step, or up to where _stop ends the group)."""
    writer = get_writer(plan.tool)
    # a code step with a written step after it is deployed already
    pending = [s for s in plan.steps if s.number not in written and not (s.is_code and any(w > s.number
                                                                                         for w in written))]
    gate: Optional[Step] = None
    group: list[Step] = []
    for step in pending:
        if step.is_code:
            if group:
                break
            gate = step
            continue
        if _stop(step, group, writer):
            break
        group.append(step)
    return gate, group


def _remaining(plan: Plan, written: set[int]) -> list[int]:
    return [s.number for s in plan.steps if not s.is_code and s.number not in written]


def _next_text(plan: Plan, written: set[int]) -> str:
    gate, group = next_group(plan, written)
    if not group:
        return "every step of this plan is written"
    before = [s for s in plan.steps if s.number < group[0].number]
    last = []  # the written group just before: the database steps since the last code step
    for s in before:
        last = [] if s.is_code else last + [s]
    why = _stop(group[0], last, get_writer(plan.tool))
    nums = ", ".join(str(s.number) for s in group)
    done = ", ".join(str(s.number) for s in last)
    if gate:
        where = f"after step {gate.number} ({gate.title})"
    elif why == "manual":
        where = f"after running the by-hand file(s) of step(s) {', '.join(str(s.number) for s in last if not s.transactional)}"
    elif why == "deploy":
        where = f"once step(s) {done} are deployed (they must not share a transaction with step {group[0].number})"
    elif why == "watch":
        where = f"once step(s) {done} ran in production and nothing failed"
    else:
        where = "now"
    return f"{where}, {render.instruction('continue')} to write step(s) {nums}"


def file_digest(text: str) -> str:
    """A written step file's digest (PlanRecord.file_digests)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record_job(record: PlanRecord, replace: bool) -> FileJob:
    return FileJob(f"{PLANS_DIR}/{record.id}.json", record.model_dump_json(indent=2) + "\n", replace=replace)


def first_group(plan: Plan) -> list[Step]:
    """The steps `flux plan --write` writes: those before the first code deploy (or other stop)."""
    first = plan.steps[0] if plan.steps else None
    gate, group = next_group(plan, set())
    if gate is not None and first is not None and first.is_code:
        return []  # the plan starts with a deploy: nothing may be written before it
    return group


def write_first(plan: Plan, project: Path, migrations_dir: str) -> WriteOutcome:
    """Write the steps before the first code deploy, and the plan record: refused where a plan with
    steps left to write changes what this one changes (plan/changed.py)."""
    group = first_group(plan)
    with project_lock(project):
        for other in unfinished_records(project):
            both = overlap(plan.operations, other.plan.operations)
            if both:
                raise FluxInputError(
                    f"plan {other.id} ({other.plan.description}) has steps left to write and changes "
                    f"{', '.join(both)} too: their steps would interleave and one's contract break the other's; "
                    f"finish it first (flux continue --plan {other.id}), or give it up (roll back what of it ran, "
                    f"then delete its files and {PLANS_DIR}/{other.id}.json)")
        base = f"{_stamp()}_{slug(plan.description, 'plan')}"
        taken = {p.stem for p in (project / PLANS_DIR).glob(f"{base}*.json")}
        record_id = next(i for i in [base] + [f"{base}_{n}" for n in range(2, len(taken) + 3)] if i not in taken)
        record = PlanRecord(id=record_id, plan=plan, migrations_dir=migrations_dir)
        return _write_group(record, _relayout(record, group, project), project, new_record=True)


def continue_plan(project: Path, plan_id: Optional[str] = None, now: Optional[datetime] = None) -> WriteOutcome:
    with project_lock(project):
        record = _load(project, plan_id)
        gate, group = next_group(record.plan, set(record.written))
        if not group:
            raise FluxInputError(f"plan {record.id} is already written completely")
        outcome = _write_group(record, _relayout(record, group, project, now), project, new_record=False)
        return outcome.model_copy(update={"notes": _unmade(record.plan, group, project) + outcome.notes})


def _unmade(plan: Plan, group: list[Step], project: Path) -> list[str]:
    """The application's changes (the user's to make, with the code deploy) that its files show not
    made, said as a contract that removes what they map is written: its patch still applies to the
    file as it is (polar: the contract dropped customers.locale, the model still mapped it, and every
    query of the table would have named a column gone)."""
    if not any(s.phase == "contract" for s in group):
        return []
    out = []
    for c in (c for c in plan.code_changes if c.patch and not c.applied_by_flux):
        try:
            apply_patch(read_file(project / c.path), c.patch)
        except (ValueError, OSError):
            continue  # made (or made otherwise): the file is no longer as the plan found it
        out.append(f"{c.path} is as it was when the plan was made: its change ({c.why}) is not made, and the "
                   "contract written now removes what it maps; make it and deploy it before running the contract")
    return out


def _relayout(record: PlanRecord, group: list[Step], project: Path, now: Optional[datetime] = None) -> list[Step]:
    """Name the files now, under the lock: after every file already there, even
    ones another flux run wrote since this plan was made."""
    if not group:
        return group
    writer = get_writer(record.plan.tool)
    sub = record.plan.model_copy(update={"steps": group, "findings": []})
    return writer.layout(sub, project, record.migrations_dir, now or datetime.now(timezone.utc)).steps


def project_lock(project: Path):
    """One flux write per project at a time (a lock file outside the project)."""
    name = hashlib.sha1(str(project.resolve()).encode()).hexdigest()[:16]
    return file_lock(Path(tempfile.gettempdir()) / f"flux-write-{name}.lock")


def _write_group(record: PlanRecord, group: list[Step], project: Path, new_record: bool) -> WriteOutcome:
    writer = get_writer(record.plan.tool)
    sub = record.plan.model_copy(update={"steps": group})
    jobs = writer.jobs(sub, project) if group else writer.deploy_jobs(record.plan, project) if new_record else []
    written = set(record.written) | {s.number for s in group}
    # Step file names are fixed when written; keep them in the record.
    names = {s.number: s.files for s in group}
    steps = [s.model_copy(update={"files": names.get(s.number, s.files)}) for s in record.plan.steps]
    updated = record.model_copy(update={"written": sorted(written),
                                        "plan": record.plan.model_copy(update={"steps": steps})})
    if new_record:  # files that only describe the database follow it from the first write
        jobs += [FileJob(c.path, apply_patch(read_file(project / c.path), c.patch), replace=True)
                 for c in record.plan.code_changes if c.applied_on_write and c.patch]
    windows, window_notes = _patched(project, [c for c in record.plan.code_changes
                                              if c.applied_at_step in {s.number for s in group}])
    late, late_notes = _applied_when_written(record.plan, project, written)
    jobs += windows + late
    # In the project's format, as its own tools would leave them (the record too: it is committed).
    enabled = load_settings(project).format_files
    jobs, formatted_with, notes = format_jobs(jobs, project, record.plan.tool, enabled)
    notes = [*notes, *window_notes, *late_notes]
    mine = {f for s in group for f in s.files}
    updated.file_digests = {**record.file_digests, **{j.rel: file_digest(j.content) for j in jobs if j.rel in mine}}
    # Every plan is kept, finished or not: `flux status` reads what a database applied against it.
    kept, _, _ = format_jobs([_record_job(updated, replace=not new_record)], project, record.plan.tool, enabled)
    paths = commit(record.plan, project, jobs + kept)
    files = [p.relative_to(project).as_posix() if p.is_absolute() else str(p) for p in paths]
    return WriteOutcome(
        files=[f for f in files if not f.startswith(PLANS_DIR)],
        written_steps=sorted(s.number for s in group),
        remaining_steps=_remaining(record.plan, written),
        next=_next_text(record.plan, written),
        record=f"{PLANS_DIR}/{record.id}.json",
        plan=updated.plan,
        formatted_with=formatted_with,
        notes=notes,
    )


def _applied_when_written(plan: Plan, project: Path, written: set[int]) -> tuple[list[FileJob], list[str]]:
    """The code changes a plan's last write applies (CodeChange.applied_when_written), once every step
    is written; a file changed since the plan (or changed so already) gets a note instead."""
    if _remaining(plan, written):
        return [], []
    return _patched(project, [c for c in plan.code_changes if c.applied_when_written])


def _patched(project: Path, changes: list) -> tuple[list[FileJob], list[str]]:
    """The files `changes` edit, patched, in order (a file's later patch on its earlier one); a file
    changed since the plan (or changed so already) gets a note instead."""
    jobs: dict[str, FileJob] = {}
    notes = []
    for c in (c for c in changes if c.patch):
        try:
            text = jobs[c.path].content if c.path in jobs else read_file(project / c.path)
            jobs[c.path] = FileJob(c.path, apply_patch(text, c.patch), replace=True)
        except (ValueError, OSError) as exc:
            notes.append(f"{c.path} was not changed ({exc}: edited since the plan was made): apply the plan's "
                         f"change to it by hand ({c.why})")
    return list(jobs.values()), notes


def plan_records(project: Path) -> list[PlanRecord]:
    """The plan records in the project, in name (time) order."""
    folder = project / PLANS_DIR
    records = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            records.append(PlanRecord.model_validate(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, OSError) as exc:
            raise FluxInputError(f"cannot read plan record {path.name}: {str(exc).splitlines()[0]}") from None
    return records


def unfinished_records(project: Path) -> list[PlanRecord]:
    """The plan records in the project with steps left to write, in name (time) order, but a plan
    given up: one whose written files are all gone (deleted by hand, `git clean`), or taken by a
    later plan's (Flux never writes over a file, so a later plan wrote there after they were gone:
    Django's numbers and a stamp of the same second come again)."""
    records = plan_records(project)
    later: set[str] = set()
    kept = []
    for record in reversed(records):
        files = _written_files(record)
        if not record.complete and not (files and all(f in later or not (project / f).exists() for f in files)):
            kept.append(record)
        later.update(files)
    return kept[::-1]


def _written_files(record: PlanRecord) -> list[str]:
    return [f for s in record.plan.steps if s.number in record.written for f in s.files]


def next_text(plan: Plan, written: set[int]) -> str:
    """What to do next about a plan's files, in one sentence."""
    return _next_text(plan, written)


def _load(project: Path, plan_id: Optional[str]) -> PlanRecord:
    records = [r for r in unfinished_records(project) if plan_id in (None, r.id)]
    if not records:
        what = f"plan {plan_id!r}" if plan_id else "no plan with steps left to write"
        raise FluxInputError(f"{what} in {PLANS_DIR}/")
    if len(records) > 1:
        raise FluxInputError(f"several plans have steps left ({', '.join(r.id for r in records)}); name one with --plan")
    return records[0]


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
