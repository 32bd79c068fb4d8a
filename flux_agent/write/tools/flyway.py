"""Flyway files: `<dir>/V<version>__<desc>.sql` per database step, its undo
`U<version>__<desc>.sql`, and for a step that must run outside a transaction
a sibling `V<version>__<desc>.sql.conf` with `executeInTransaction=false`.

Versions continue the folder: timestamp versions (14 digits) go on as
timestamps after the newest; numeric ones (`V1`, `V2_1`, `V003`) go on from
the highest major version + 1, at the folder's zero-padding. An empty folder
starts at `V1`. Flyway parses PostgreSQL itself (dollar quotes included), so
the SQL goes in as is.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import Plan, Step
from ..base import FileJob, Writer, clean_dir, db_steps, down_or_note, nothing_to_undo, one_line, slug
from .golang_migrate import existing_versions, next_versions

# Versioned and baseline migrations; the major version is what we continue.
_VERSION = re.compile(r"[VB](\d+)(?:[._]\d+)*__.*\.sql$")  # file names, not SQL


def header(step: Step) -> str:
    return f"-- Step {step.number} ({step.phase}): {one_line(step.title)}\n"


class FlywayWriter(Writer):
    tool = "flyway"
    default_dir = "db/migration"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        out = plan.model_copy(deep=True)
        found = existing_versions(Path(project_dir) / folder, _VERSION)
        versions = iter(next_versions(found, len(db_steps(out)), now, width=0))
        for step in out.steps:
            step.files = []
            if step.phase == "code":
                continue
            version = next(versions)
            desc = slug(step.title, f"step_{step.number}")
            up = folder / f"V{version}__{desc}.sql"
            step.files = [up.as_posix(), (folder / f"U{version}__{desc}.sql").as_posix()]
            if not step.transactional:
                step.files.append(f"{up.as_posix()}.conf")
        return out

    def render_up(self, step: Step) -> str:
        if not (step.up_sql or "").strip():
            raise FluxInputError(f"step {step.number} has no SQL to write")
        return header(step) + step.up_sql.strip() + "\n"

    def render_undo(self, step: Step) -> str:
        return header(step) + (down_or_note(step) or f"-- nothing to undo: {nothing_to_undo(step)}") + "\n"

    def render_conf(self, step: Step) -> str:
        return "executeInTransaction=false\n"

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        for step in db_steps(plan):
            want = 2 if step.transactional else 3
            if len(step.files) != want or not Path(step.files[0]).name.startswith("V"):
                raise FluxInputError(f"step {step.number} needs its V/U files; lay the plan out first")
            out.append(FileJob(step.files[0], self.render_up(step)))
            out.append(FileJob(step.files[1], self.render_undo(step)))
            if not step.transactional:
                out.append(FileJob(step.files[2], self.render_conf(step)))
        return out


WRITER = FlywayWriter()
