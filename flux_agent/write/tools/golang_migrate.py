"""golang-migrate files: `<dir>/NNNNNN_<slug>.up.sql` and `.down.sql`, one pair
per database step.

Versions continue the folder's style: 14-digit timestamps (as pocket-id uses)
go on as timestamps after the newest one; otherwise zero-padded integers go
on from the highest, at the folder's width (6 digits, `migrate create -seq`'s
default, for an empty folder).

golang-migrate's postgres driver sends a whole file as one Exec (unless the
project opts into x-multi-statement). PostgreSQL runs such a multi-statement
query string as one implicit transaction: a transactional step's SQL is
already atomic, and its `SET LOCAL lock_timeout` holds for the rest of the
file, so it goes in as is (an explicit BEGIN/COMMIT would add nothing). That
same implicit transaction is why a non-transactional step (CREATE INDEX
CONCURRENTLY, a DO block that COMMITs between batches) must be the only
statement in its file: a file that is one statement runs outside any block.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ...pg.parse import split_statements
from ...errors import FluxInputError
from ...model.plan import Plan, Step
from ..base import FileJob, Writer, clean_dir, db_steps, down_or_note, nothing_to_undo, one_line, slug, utc

_VERSION = re.compile(r"(\d+)_.*\.(?:up|down)\.sql$")  # file names, not SQL


def _after_stamp(top: str) -> datetime:
    try:
        return datetime.strptime(top, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc) + timedelta(seconds=1)
    except ValueError:  # not a real date, but it sorts by its digits: next year sorts after it
        return datetime(int(top[:4]) + 1, 1, 1, tzinfo=timezone.utc)


def next_versions(existing: list[str], count: int, now: datetime, *, width: int = 6, stamps: bool = False) -> list[str]:
    """`count` version strings after every one in `existing` (digit strings).

    Any 14-digit version means the folder uses timestamps: continue after the
    newest, never before `now`. Otherwise integers from the highest + 1,
    zero-padded to the folder's width when the folder pads. An empty folder
    gets timestamps when `stamps`, else integers padded to `width`."""
    tops = [v for v in existing if len(v) == 14]
    if tops or (stamps and not existing):
        start = utc(now).replace(microsecond=0)
        if tops:
            start = max(start, _after_stamp(max(tops)))
        return [f"{start + timedelta(seconds=i):%Y%m%d%H%M%S}" for i in range(count)]
    if existing:
        padded = [v for v in existing if len(v) > 1 and v.startswith("0")]
        width = max(len(v) for v in padded) if padded else 0
    top = max((int(v) for v in existing), default=0)
    return [f"{top + i:0{width}d}" for i in range(1, count + 1)]


def existing_versions(folder: Path, pattern: re.Pattern = _VERSION) -> list[str]:
    if not folder.is_dir():
        return []
    return [m.group(1) for name in os.listdir(folder) if (m := pattern.match(name))]


def single_statement(step: Step, tool: str, sql: str | None = None) -> None:
    """Refuse a non-transactional step whose SQL (up by default) is not exactly one statement."""
    sql = step.up_sql if sql is None else sql
    if not step.transactional and len(split_statements(sql or "")) != 1:
        raise FluxInputError(
            f"step {step.number} must run outside a transaction but holds several statements; "
            f"{tool} runs a file as one implicit transaction, so it needs one statement per file"
        )


def header(step: Step) -> str:
    return f"-- Step {step.number} ({step.phase}): {one_line(step.title)}\n"


class GolangMigrateWriter(Writer):
    tool = "golang-migrate"
    default_dir = "migrations"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        out = plan.model_copy(deep=True)
        versions = iter(next_versions(existing_versions(Path(project_dir) / folder), len(db_steps(out)), now))
        for step in out.steps:
            step.files = []
            if step.phase == "code":
                continue
            base = f"{next(versions)}_{slug(step.title, f'step_{step.number}')}"
            step.files = [(folder / f"{base}.up.sql").as_posix(), (folder / f"{base}.down.sql").as_posix()]
        return out

    def render_up(self, step: Step) -> str:
        if not (step.up_sql or "").strip():
            raise FluxInputError(f"step {step.number} has no SQL to write")
        single_statement(step, self.tool)
        return header(step) + step.up_sql.strip() + "\n"

    def render_down(self, step: Step) -> str:
        if down_or_note(step):
            single_statement(step, self.tool, step.down_sql)
        return header(step) + (down_or_note(step) or f"-- nothing to undo: {nothing_to_undo(step)}") + "\n"

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        for step in db_steps(plan):
            if len(step.files) != 2 or not step.files[0].endswith(".up.sql"):
                raise FluxInputError(f"step {step.number} needs its .up.sql/.down.sql pair; lay the plan out first")
            out.append(FileJob(step.files[0], self.render_up(step)))
            out.append(FileJob(step.files[1], self.render_down(step)))
        return out


WRITER = GolangMigrateWriter()

