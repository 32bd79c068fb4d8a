"""Drizzle migrations: `<out>/NNNN_<slug>.sql` (statements separated by
`--> statement-breakpoint` lines) plus an entry each in `<out>/meta/_journal.json`.

drizzle-kit migrate runs every pending journal entry inside one transaction,
so a step that must run outside a transaction (CONCURRENTLY, a batched
backfill that commits as it goes) cannot be a journal entry. It is written as
a plain SQL file outside the journal, `<out>/NNNN-KK_manual_<slug>.sql`, to run
by hand with psql; NNNN is the journal index it must come before, so the file
sorts between the two drizzle migrations it runs between (and flux, reading the
folder in name order, sees it there). Its step title starts with "by hand". The
folder's journal and file names are _drizzle_journal.py.

Every journal entry gets its snapshot, `<out>/meta/NNNN_snapshot.json`, in
drizzle-kit's own format (_drizzle_snapshot.py): the previous snapshot with what
the steps up to it change (their SQL replayed on it), so `drizzle-kit generate`
compares schema.ts with the database as Flux leaves it. A group of steps that
ends with a by-hand file gets one more entry after it, `NNNN_flux_check_<slug>`,
whose SQL only checks that the by-hand file ran (an index it builds exists and is
valid): the entry carries the snapshot that file's change belongs to. Projects
without snapshots (no `meta/*_snapshot.json`) get none.

code_changes() (_drizzle_code_changes.py) edits the schema's files (those
drizzle.config names and the files they re-export from, _drizzle_schema_files.py)
to match, each edit in the file declaring its table: the `pgTable("name", { ... })` call is located
by a small tokenizer that knows strings, template literals, comments and
brackets (no regex decides structure), and only the column entry or the index
list concerned is changed; what it cannot edit safely is a note saying what to
do by hand.

Drizzle has no down migrations: each step's down SQL goes beside its file as
`<name>.down.sql`, to run by hand; a journal entry's down file also deletes its
row from the migrations table (drizzle.__drizzle_migrations, or the one drizzle.config
names), so drizzle-kit migrate can run it again.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import CodeChange, Plan, Step
from ...pg.quote import ident, literal
from ...project.drizzle_config import DEFAULT_TABLE, migrations_table
from ..base import FileJob, Writer, db_steps, down_sql, guarded_up_sql, slug, step_label, undo_note
from ._drizzle_code_changes import code_changes
from ._drizzle_journal import JOURNAL, is_manual, layout, next_idx, read_journal, step_file, step_stem, step_title
from ._drizzle_snapshot import Snapshots, previous_snapshot
from ._js import ms, statements

BREAKPOINT = "\n--> statement-breakpoint\n"
_TAG = re.compile(r"^(\d+)_")


def _sql_body(step: Step) -> str:
    return BREAKPOINT.join(statements(guarded_up_sql(step))) + "\n"


def render_migration(step: Step) -> str:
    return f"-- {step_label(step, step_title(step))}\n-- Written by flux.\n" + _sql_body(step)


def render_manual(step: Step, after: str | None, before: str | None, path: str) -> str:
    where = (f"after drizzle migration {after} is applied" if after else "before any drizzle migration")
    where += f" and before {before} is" if before else " and before the next drizzle migration is"
    return (
        f"-- {step_label(step, step_title(step))}\n"
        "-- Written by flux. NOT a drizzle migration: it must run outside a transaction, and\n"
        "-- drizzle-kit migrate runs every pending migration inside one transaction.\n"
        f"-- Run it by hand, {where}:\n"
        f'--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f {path}\n'
        + (f"-- drizzle-kit migrate applies all pending journal entries at once: deploy the journal up to\n"
           f"-- {after or 'this point'} without {before}, run this file, then migrate the rest.\n"
           if before else "")
        + _sql_body(step)
    )


def _runs_table(table: tuple[str, str]) -> str:
    return f"{ident(table[0])}.{ident(table[1])}"


def render_down(step: Step, path: str, when: int | None, table: tuple[str, str] = DEFAULT_TABLE) -> str:
    down = "\n".join(statements(down_sql(step) or "")) or f"-- {undo_note(step)}"
    once = "-1 " if step.transactional else ""
    forget = ("\n-- Forget the migration so drizzle-kit migrate runs it again (the migrations table drizzle.config\n"
              f"-- names, drizzle's own by default):\nDELETE FROM {_runs_table(table)} WHERE created_at = {when};\n"
              if when is not None else "")
    return (
        f"-- Rollback of step {step.number}: {step_title(step)}\n"
        "-- Drizzle has no down migrations; run by hand, newest step first:\n"
        f'--   psql "$DATABASE_URL" {once}-v ON_ERROR_STOP=1 -f {path}\n'
        + down + "\n" + forget
    )


def _check_sql(before, after) -> str:
    """SQL that fails unless the by-hand steps between `before` and `after` ran: indexes they build
    exist and are valid, indexes they drop are gone."""
    def names(schema):
        return {i.name for t in schema.tables for i in t.indexes}
    out = []
    for name in sorted(names(after) - names(before)):
        out.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   f"WHERE c.relname = {literal(name)} AND i.indisvalid) THEN RAISE EXCEPTION "
                   f"{literal(f'index {name} is missing or invalid: run the by-hand file before it first')}; "
                   "END IF; END $$;")
    for name in sorted(names(before) - names(after)):
        out.append(f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_class WHERE relname = {literal(name)} AND relkind = 'i') "
                   f"THEN RAISE EXCEPTION {literal(f'index {name} still exists: run the by-hand file first')}; "
                   "END IF; END $$;")
    return BREAKPOINT.join(out or ["SELECT 1;"]) + "\n"


def jobs(plan: Plan, project_dir: Path, now: datetime | None = None) -> list[FileJob]:
    steps = db_steps(plan)
    if not steps:
        return []
    out = step_file(steps[0]).parent
    if any(step_file(s).parent != out for s in steps):
        raise FluxInputError("drizzle steps need files in one folder; lay the plan out first")
    journal = read_journal(Path(project_dir) / out)
    table = migrations_table(Path(project_dir), out)
    entries = journal["entries"]
    fallback = str(journal.get("version", "7"))
    version = str(entries[-1].get("version", fallback)) if entries else fallback  # as drizzle-kit's own entries
    idx = next_idx(journal)
    when = max([ms(now or datetime.now(timezone.utc))] + [int(e.get("when", 0)) + 1 for e in entries])
    tags = [s for s in steps if not is_manual(s)]
    prev: str | None = entries[-1]["tag"] if entries else None
    jobs_out: list[FileJob] = []
    new_entries = []
    snaps = Snapshots(previous_snapshot(Path(project_dir) / out))
    for step in steps:
        stem = step_stem(step)
        step_when = None
        snaps.step(step)
        if is_manual(step):
            later = next((step_stem(t) for t in tags if t.number > step.number), None)
            text = render_manual(step, prev, later, step.files[0])
        else:
            m = _TAG.match(stem)
            if not m or int(m.group(1)) != idx:
                raise FluxInputError(f"drizzle journal changed since {stem} was laid out; plan again")
            new_entries.append({"idx": idx, "version": version, "when": when, "tag": stem, "breakpoints": True})
            text, step_when, prev = render_migration(step), when, stem
            if (snap := snaps.take()) is not None:
                jobs_out.append(FileJob((out / "meta" / f"{idx:04d}_snapshot.json").as_posix(),
                                        json.dumps(snap, indent=2, ensure_ascii=False)))
            idx, when = idx + 1, when + 1
        jobs_out.append(FileJob(step.files[0], text))
        if len(step.files) > 1:
            jobs_out.append(FileJob(step.files[1], render_down(step, step.files[1], step_when, table)))
    if snaps.pending:  # the group ends with by-hand files: an entry records what they did
        base = snaps.base
        stem = f"{idx:04d}_flux_check_{slug(step_title(steps[-1]), 'by_hand')}"[:60].rstrip("_")
        new_entries.append({"idx": idx, "version": version, "when": when, "tag": stem, "breakpoints": True})
        jobs_out.append(FileJob((out / "meta" / f"{idx:04d}_snapshot.json").as_posix(),
                                json.dumps(snaps.take(), indent=2, ensure_ascii=False)))
        jobs_out.append(FileJob((out / f"{stem}.sql").as_posix(), (
            "-- Written by flux: records in drizzle's journal and snapshot what the by-hand file(s) before it did\n"
            "-- (drizzle-kit generate compares schema.ts with the newest snapshot); fails if they have not run.\n"
            + _check_sql(base, snaps.base))))
        jobs_out.append(FileJob((out / f"{stem}.down.sql").as_posix(), (
            "-- Forget the check so drizzle-kit migrate runs it again:\n"
            f"DELETE FROM {_runs_table(table)} WHERE created_at = {when};\n")))
    if new_entries:
        journal = {**journal, "entries": entries + new_entries}
        # Ending as the file did (drizzle-kit writes none; a formatter the project runs adds one)
        kept = Path(project_dir) / out / JOURNAL
        was = kept.read_text(encoding="utf-8") if kept.is_file() else ""
        jobs_out.append(FileJob((out / JOURNAL).as_posix(), json.dumps(journal, indent=2, ensure_ascii=False)
                                + ("\n" if was.endswith("\n") else ""), replace=True))
    return jobs_out


class DrizzleWriter(Writer):
    tool = "drizzle"
    default_dir = "drizzle"
    # A journal entry after a by-hand file must not be deployed before that file has run
    # (drizzle-kit migrate would apply it together with the entries before the file).
    stop_after_manual = True
    one_transaction = True

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        return layout(plan, project_dir, migrations_dir, now)

    def render_file(self, step: Step) -> str:
        return render_migration(step)

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        return code_changes(plan, Path(project_dir))

    def jobs(self, plan: Plan, project_dir: Path, now: datetime | None = None) -> list[FileJob]:
        return jobs(plan, Path(project_dir), now)


WRITER = DrizzleWriter()
