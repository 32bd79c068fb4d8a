"""Which plan `flux verify` runs, and the schema as it was before that plan.

The pending plan is the newest record in `.flux/plans/` with steps left to
write. Some of its steps may already be written as migration files; the
schema before the plan is the replay of the migrations without those files, or,
for migrations in program code, the dev database the project's own tool builds
without them. Given operations instead, the plan is made now against the current
schema (for program code, a copy of the dev database its tool built).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from ..entry import actions as tools
from ..plan import summary as render
from ..write.deploy_groups import PLANS_DIR, PlanRecord, file_digest, plan_records, unfinished_records
from ..schema.migration_files import is_down_file, read_sections
from ..errors import FluxInputError
from ..model.plan import Plan
from ..model.schema import Schema
from ..devdb.before_file import built_without
from ..devdb.build import Built, Script
from ..schema.replay.engine import replay_folder
from ..devdb.sources import project_scripts
from ..project.config import load_settings
from ..project.detect import detect


@dataclass
class Before:
    """The plan to verify and where it starts: the schema (Flux's model of it) and, where the
    dev database can build it from the project's own files, those files."""

    plan: Plan
    schema: Schema
    source: str
    scripts: Optional[list[Script]] = None
    tool: str = "sql"
    built: Optional[Built] = None  # the dev database already built for it (a program-code project's history)
    notes: list[str] = field(default_factory=list)  # written files changed since: how they were verified


def resolve_plan(project: Path, operations: Optional[Sequence[Any]]) -> Before:
    settings = load_settings(project)
    if operations:
        ops = tools.parse_operations([o.model_dump() if hasattr(o, "model_dump") else o for o in operations])
        plan = tools.plan_migration(ops, str(project))
        found = detect(project, plan.tool, settings)
        scripts = project_scripts(project, found)
        # program code: a copy of the database its tool built, the one the plan was made against
        built = built_without(project, found, settings, []) if scripts is None else None
        return Before(plan, built.schema if built else tools.read_schema(str(project)), "the given operations",
                      scripts, found.tool, built=built)
    record, whole = pending_record(project), False
    if record is None:
        done = plan_records(project)
        if not done:
            raise FluxInputError(f"nothing to verify: no pending plan in {PLANS_DIR}/ (write one with "
                                 f"{render.action('write')}) and no operations given ({render.action('verify a change')})")
        # The newest plan, written whole (a one-step plan is, by `plan --write`: jellyseerr's index was
        # refused as "nothing to verify" right after it was written); the history without its files.
        record, whole = done[-1], True
    found = detect(project, record.plan.tool, settings)
    scripts = project_scripts(project, found)
    plan, notes = as_written(project, record, sql_files=scripts is not None)
    source = f"the {'newest plan, written whole,' if whole else 'pending plan'} {PLANS_DIR}/{record.id}.json"
    others = sorted(r.id for r in unfinished_records(project) if r.id != record.id)
    if others:  # kutt: two plans written, the newest verified without a word of the other
        source += (f", the newest of {len(others) + 1} with steps left to write (also {', '.join(others)}: the files "
                   f"{'it' if len(others) == 1 else 'they'} wrote stand in the schema it starts from; "
                   f"{'its' if len(others) == 1 else 'their'} steps left are not run here)")
    if scripts is not None:  # the project's files without the ones this plan wrote
        written = _written(project, record)
        scripts = [s for s in scripts if not _by_this_plan(project / s.name, written)]
    else:  # program code, which no replay reads: the project's own tool runs it
        written = [f for f in _written(project, record) if f.suffix != ".json"]  # not the plan's record
        built = built_without(project, found, settings, written)
        if built is not None:
            return Before(plan, built.schema, source, None, found.tool, built=built, notes=notes)
    return Before(plan, schema_before(project, record), source, scripts, found.tool, notes=notes)


def as_written(project: Path, record: PlanRecord, sql_files: bool) -> tuple[Plan, list[str]]:
    """The plan as its written files now say, and a note for each file changed since Flux wrote it
    (PlanRecord.file_digests): a step written as one SQL file (its down beside it) runs that file's
    up and down parts, so what deploys is what is verified (an edit with a typo passed as "OK"
    before); a program-code file is said to be verified as planned, not as edited."""
    steps, notes = [], []
    for step in record.plan.steps:
        changed = [f for f in step.files if f in record.file_digests and _changed(project / f, record.file_digests[f])]
        ups = [f for f in step.files if not is_down_file(project / f)]
        if changed and sql_files and len(ups) == 1 and ups[0].endswith(".sql") and (project / ups[0]).is_file():
            sec = read_sections(project / ups[0], (project / ups[0]).read_text(encoding="utf-8"))
            step = step.model_copy(update={"up_sql": sec.up, "down_sql": sec.down or ""})
            notes.append(f"step {step.number}: {', '.join(changed)} changed since Flux wrote it: verified as the "
                         "file is now")
        elif changed:
            notes.append(f"step {step.number}: {', '.join(changed)} changed since Flux wrote it: verified as planned, "
                         f"not as edited; judge the file as it is with `flux validate {changed[0]}`")
        steps.append(step)
    return record.plan.model_copy(update={"steps": steps}), notes


def _changed(path: Path, digest: str) -> bool:
    try:
        return file_digest(path.read_text(encoding="utf-8")) != digest
    except (OSError, UnicodeDecodeError):
        return True  # gone or unreadable: not what was written


def _written(project: Path, record: PlanRecord) -> set[Path]:
    return {(project / f).resolve() for s in record.plan.steps if s.number in record.written for f in s.files}


def _by_this_plan(file: Path, written: set[Path]) -> bool:
    path = file.resolve()
    return path in written or any(p in written for p in path.parents)


def pending_record(project: Path) -> Optional[PlanRecord]:
    """The newest plan record that still has steps to write."""
    found = unfinished_records(project)
    return max(found, key=lambda r: r.id) if found else None


def schema_before(project: Path, record: PlanRecord) -> Schema:
    """Replay the migrations without the files the record's written steps added. A broken
    migration is an error naming it: verify must start from the schema the plan was made for."""
    written = _written(project, record)
    return replay_folder(project / record.migrations_dir, record.plan.tool,
                         leave_out=lambda file: _by_this_plan(file, written))
