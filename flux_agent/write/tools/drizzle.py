"""Drizzle migrations: `<out>/NNNN_<slug>.sql` (statements separated by
`--> statement-breakpoint` lines) plus an entry each in `<out>/meta/_journal.json`.

drizzle-kit migrate runs every pending journal entry inside one transaction,
so a step that must run outside a transaction (CONCURRENTLY, a batched
backfill that commits as it goes) cannot be a journal entry. It is written as
a plain SQL file outside the journal, `<out>/NNNN-KK_manual_<slug>.sql`, to run
by hand with psql; NNNN is the journal index it must come before, so the file
sorts between the two drizzle migrations it runs between (and flux, reading the
folder in name order, sees it there). Its step title starts with "by hand".

Drizzle has no down migrations: each step's down SQL goes beside its file as
`<name>.down.sql`, to run by hand; a journal entry's down file also deletes its
row from drizzle.__drizzle_migrations, so drizzle-kit migrate can run it again.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Optional

from ...errors import FluxInputError
from ...model.plan import Plan, Step
from .._layout import lay_out
from ..base import (
    FileJob, Writer, clean_dir, db_steps, down_sql, laid_files, one_line, slug, step_label, undo_note, up_sql,
)
from ._js import ms, statements

JOURNAL = "meta/_journal.json"
BREAKPOINT = "\n--> statement-breakpoint\n"
MANUAL_PREFIX = "by hand with psql, outside drizzle: "
_MANUAL = re.compile(r"^(\d{4})-(\d{2})_manual_")
_TAG = re.compile(r"^(\d+)_")


def read_journal(out: Path) -> dict:
    path = out / JOURNAL
    if not path.is_file():
        return {"version": "7", "dialect": "postgresql", "entries": []}
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FluxInputError(f"cannot read drizzle journal {path}: {exc}") from None
    if not isinstance(journal, dict) or not isinstance(journal.get("entries"), list):
        raise FluxInputError(f"drizzle journal {path} has no entries list")
    return journal


def _next_idx(journal: dict) -> int:
    entries = journal["entries"]
    return int(entries[-1]["idx"]) + 1 if entries else 0


def _manual_taken(out: Path) -> dict[int, int]:
    """journal index -> highest KK of the manual files already sorted before it."""
    taken: dict[int, int] = {}
    if out.is_dir():
        for name in (p.name for p in out.iterdir()):
            if m := _MANUAL.match(name):
                taken[int(m.group(1))] = max(taken.get(int(m.group(1)), 0), int(m.group(2)))
    return taken


def is_manual(step: Step) -> bool:
    return not step.transactional


def layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
    folder = clean_dir(migrations_dir)
    out_dir = Path(project_dir) / folder
    idx = _next_idx(read_journal(out_dir))
    taken = _manual_taken(out_dir)

    def files(step: Step, i: int) -> list[str]:
        nonlocal idx
        name = slug(_title(step), f"step_{step.number}")
        if is_manual(step):
            taken[idx] = taken.get(idx, 0) + 1
            base = f"{idx:04d}-{taken[idx]:02d}_manual_{name}"
            step.title = MANUAL_PREFIX + step.title.removeprefix(MANUAL_PREFIX)  # laid out again by `flux continue`
        else:
            base = f"{idx:04d}_{name}"
            idx += 1
        down = [(folder / f"{base}.down.sql").as_posix()]
        # A journal entry's down file also forgets its row, so it has one even with nothing to undo.
        return [(folder / f"{base}.sql").as_posix()] + (down if down_sql(step) or not is_manual(step) else [])

    return lay_out(plan, files)


def _file(step: Step) -> PurePosixPath:
    return PurePosixPath(laid_files(step, None, "a drizzle .sql file", lambda f: f[0].endswith(".sql"))[0])


def _stem(step: Step) -> str:
    return _file(step).name[: -len(".sql")]


def _sql_body(step: Step) -> str:
    return BREAKPOINT.join(statements(up_sql(step))) + "\n"


def _title(step: Step) -> str:
    return one_line(step.title.removeprefix(MANUAL_PREFIX))


def render_migration(step: Step) -> str:
    return f"-- {step_label(step, _title(step))}\n-- Written by flux.\n" + _sql_body(step)


def render_manual(step: Step, after: Optional[str], before: Optional[str], path: str) -> str:
    where = (f"after drizzle migration {after} is applied" if after else "before any drizzle migration")
    where += f" and before {before} is" if before else " and before the next drizzle migration is"
    return (
        f"-- {step_label(step, _title(step))}\n"
        "-- Written by flux. NOT a drizzle migration: it must run outside a transaction, and\n"
        "-- drizzle-kit migrate runs every pending migration inside one transaction.\n"
        f"-- Run it by hand, {where}:\n"
        f'--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f {path}\n'
        + (f"-- drizzle-kit migrate applies all pending journal entries at once: deploy the journal up to\n"
           f"-- {after or 'this point'} without {before}, run this file, then migrate the rest.\n"
           if before else "")
        + _sql_body(step)
    )


def render_down(step: Step, path: str, when: Optional[int]) -> str:
    down = "\n".join(statements(down_sql(step) or "")) or f"-- {undo_note(step)}"
    once = "-1 " if step.transactional else ""
    forget = ("\n-- Forget the migration so drizzle-kit migrate runs it again (default migrations table):\n"
              f"DELETE FROM drizzle.__drizzle_migrations WHERE created_at = {when};\n" if when is not None else "")
    return (
        f"-- Rollback of step {step.number}: {_title(step)}\n"
        "-- Drizzle has no down migrations; run by hand, newest step first:\n"
        f'--   psql "$DATABASE_URL" {once}-v ON_ERROR_STOP=1 -f {path}\n'
        + down + "\n" + forget
    )


def jobs(plan: Plan, project_dir: Path, now: Optional[datetime] = None) -> list[FileJob]:
    steps = db_steps(plan)
    if not steps:
        return []
    out = _file(steps[0]).parent
    if any(_file(s).parent != out for s in steps):
        raise FluxInputError("drizzle steps need files in one folder; lay the plan out first")
    journal = read_journal(Path(project_dir) / out)
    entries = journal["entries"]
    fallback = str(journal.get("version", "7"))
    version = str(entries[-1].get("version", fallback)) if entries else fallback  # as drizzle-kit's own entries
    idx = _next_idx(journal)
    when = max([ms(now or datetime.now(timezone.utc))] + [int(e.get("when", 0)) + 1 for e in entries])
    tags = [s for s in steps if not is_manual(s)]
    prev: Optional[str] = entries[-1]["tag"] if entries else None
    jobs_out: list[FileJob] = []
    new_entries = []
    for step in steps:
        stem = _stem(step)
        step_when = None
        if is_manual(step):
            later = next((_stem(t) for t in tags if t.number > step.number), None)
            text = render_manual(step, prev, later, step.files[0])
        else:
            m = _TAG.match(stem)
            if not m or int(m.group(1)) != idx:
                raise FluxInputError(f"drizzle journal changed since {stem} was laid out; plan again")
            new_entries.append({"idx": idx, "version": version, "when": when, "tag": stem, "breakpoints": True})
            text, step_when, prev = render_migration(step), when, stem
            idx, when = idx + 1, when + 1
        jobs_out.append(FileJob(step.files[0], text))
        if len(step.files) > 1:
            jobs_out.append(FileJob(step.files[1], render_down(step, step.files[1], step_when)))
    if new_entries:
        journal = {**journal, "entries": entries + new_entries}
        jobs_out.append(FileJob((out / JOURNAL).as_posix(), json.dumps(journal, indent=2, ensure_ascii=False),
                                replace=True))
    return jobs_out


class DrizzleWriter(Writer):
    tool = "drizzle"
    default_dir = "drizzle"
    # A journal entry after a by-hand file must not be deployed before that file has run
    # (drizzle-kit migrate would apply it together with the entries before the file).
    stop_after_manual = True

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        return layout(plan, project_dir, migrations_dir, now)

    def render_file(self, step: Step) -> str:
        return render_migration(step)

    def jobs(self, plan: Plan, project_dir: Path, now: Optional[datetime] = None) -> list[FileJob]:
        return jobs(plan, Path(project_dir), now)


WRITER = DrizzleWriter()
