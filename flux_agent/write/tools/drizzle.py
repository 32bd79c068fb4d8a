"""Drizzle migrations: `<out>/NNNN_<slug>.sql` (statements separated by
`--> statement-breakpoint` lines) plus an entry each in `<out>/meta/_journal.json`.

drizzle-kit migrate runs every pending journal entry inside one transaction,
so a step that must run outside a transaction (CONCURRENTLY, a batched
backfill that commits as it goes) cannot be a journal entry. It is written as
a plain SQL file outside the journal, `<out>/NNNN-KK_manual_<slug>.sql`, to run
by hand with psql; NNNN is the journal index it must come before, so the file
sorts between the two drizzle migrations it runs between (and flux, reading the
folder in name order, sees it there). Its step title starts with "by hand".

Every journal entry gets its snapshot, `<out>/meta/NNNN_snapshot.json`, in
drizzle-kit's own format (_drizzle_snapshot.py): the previous snapshot with what
the steps up to it change (their SQL replayed on it), so `drizzle-kit generate`
compares schema.ts with the database as Flux leaves it. A group of steps that
ends with a by-hand file gets one more entry after it, `NNNN_flux_check_<slug>`,
whose SQL only checks that the by-hand file ran (an index it builds exists and is
valid): the entry carries the snapshot that file's change belongs to. Projects
without snapshots (no `meta/*_snapshot.json`) get none.

code_changes() edits schema.ts (the file drizzle.config names) to match: the
`pgTable("name", { ... })` call is located by a small tokenizer that knows
strings, template literals, comments and brackets (no regex decides structure),
and only the column entry or the index list concerned is changed; what it cannot
edit safely is a note saying what to do by hand.

Drizzle has no down migrations: each step's down SQL goes beside its file as
`<name>.down.sql`, to run by hand; a journal entry's down file also deletes its
row from drizzle.__drizzle_migrations, so drizzle-kit migrate can run it again.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ...errors import FluxError, FluxInputError
from ...model.plan import CodeChange, Plan, Step
from ...pg.quote import literal, split_qualified
from ...plan.ops._base import short_name
from ...schema.readers.drizzle import latest_snapshot, schema_from_snapshot
from ...schema.replay.engine import replay_sql
from .._layout import lay_out
from ..base import (
    FileJob, Writer, clean_dir, db_steps, down_sql, guarded_up_sql, laid_files, one_line, slug, step_label, undo_note,
    up_sql,
)
from ..code_changes import cannot, change
from ._drizzle_snapshot import Unsupported, next_snapshot
from ._drizzle_schema_ts import TsError, TsSchema, match_close, str_value, tokenize_ts, ts_edit
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
    return BREAKPOINT.join(statements(guarded_up_sql(step))) + "\n"


def _title(step: Step) -> str:
    return one_line(step.title.removeprefix(MANUAL_PREFIX))


def render_migration(step: Step) -> str:
    return f"-- {step_label(step, _title(step))}\n-- Written by flux.\n" + _sql_body(step)


def render_manual(step: Step, after: str | None, before: str | None, path: str) -> str:
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


def render_down(step: Step, path: str, when: int | None) -> str:
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


def previous_snapshot(out: Path) -> dict | None:
    """The newest snapshot of the folder, or None when it keeps none (or one Flux cannot read)."""
    try:
        return json.loads(latest_snapshot(out).read_text(encoding="utf-8"))
    except (FluxError, OSError, ValueError):
        return None


class Snapshots:
    """The database as the steps leave it, told as drizzle snapshots: step() after each step,
    take() for a journal entry's snapshot."""

    def __init__(self, prev: dict | None):
        self.prev, self.notes = prev, []
        try:
            self.base = self.now = schema_from_snapshot(prev) if prev else None
        except (FluxError, KeyError, TypeError, AttributeError, ValueError):
            self.prev = self.base = self.now = None

    def step(self, step: Step) -> None:
        if self.now is not None:
            try:
                self.now = replay_sql(up_sql(step), self.now)
            except FluxError as exc:
                self.notes.append(f"step {step.number} could not be replayed for drizzle's snapshot ({exc}); "
                                  "the snapshots stop before it")
                self.now = None

    @property
    def pending(self) -> bool:
        return self.now is not None and self.now.model_dump() != self.base.model_dump()

    def take(self) -> dict | None:
        if self.now is None:
            return None
        snap, notes = next_snapshot(self.prev, self.base, self.now)
        self.notes += [n for n in notes if n not in self.notes]
        self.prev, self.base = snap, self.now
        return snap


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
    prev: str | None = entries[-1]["tag"] if entries else None
    jobs_out: list[FileJob] = []
    new_entries = []
    snaps = Snapshots(previous_snapshot(Path(project_dir) / out))
    for step in steps:
        stem = _stem(step)
        step_when = None
        snaps.step(step)
        if is_manual(step):
            later = next((_stem(t) for t in tags if t.number > step.number), None)
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
            jobs_out.append(FileJob(step.files[1], render_down(step, step.files[1], step_when)))
    if snaps.pending:  # the group ends with by-hand files: an entry records what they did
        base = snaps.base
        stem = f"{idx:04d}_flux_check_{slug(_title(steps[-1]), 'by_hand')}"[:60].rstrip("_")
        new_entries.append({"idx": idx, "version": version, "when": when, "tag": stem, "breakpoints": True})
        jobs_out.append(FileJob((out / "meta" / f"{idx:04d}_snapshot.json").as_posix(),
                                json.dumps(snaps.take(), indent=2, ensure_ascii=False)))
        jobs_out.append(FileJob((out / f"{stem}.sql").as_posix(), (
            "-- Written by flux: records in drizzle's journal and snapshot what the by-hand file(s) before it did\n"
            "-- (drizzle-kit generate compares schema.ts with the newest snapshot); fails if they have not run.\n"
            + _check_sql(base, snaps.base))))
        jobs_out.append(FileJob((out / f"{stem}.down.sql").as_posix(), (
            "-- Forget the check so drizzle-kit migrate runs it again (default migrations table):\n"
            f"DELETE FROM drizzle.__drizzle_migrations WHERE created_at = {when};\n")))
    if new_entries:
        journal = {**journal, "entries": entries + new_entries}
        jobs_out.append(FileJob((out / JOURNAL).as_posix(), json.dumps(journal, indent=2, ensure_ascii=False),
                                replace=True))
    return jobs_out


def schema_file(project_dir: Path) -> tuple[str | None, str]:
    """(schema.ts relative to the project, or None; why not) as drizzle.config names it."""
    for name in ("drizzle.config.ts", "drizzle.config.mts", "drizzle.config.js", "drizzle.config.mjs"):
        cfg = Path(project_dir) / name
        if not cfg.is_file():
            continue
        try:
            toks = tokenize_ts(cfg.read_text(encoding="utf-8"))
        except (TsError, OSError) as exc:
            return None, f"cannot read {name}: {exc}"
        for i, t in enumerate(toks[:-2]):
            if t.text == "schema" and toks[i + 1].text == ":":
                value = str_value(toks[i + 2])
                if value is None or any(ch in value for ch in "*?{"):
                    return None, f"{name} names its schema by a list, glob or expression; edit the pgTable by hand"
                path = (Path(project_dir) / value).resolve()
                if path.is_dir():
                    found = sorted(path.glob("*.ts"))
                    if len(found) != 1:
                        return None, f"{name}'s schema folder {value} holds several files; edit the pgTable by hand"
                    path = found[0]
                if not path.is_file():
                    return None, f"{name} names schema {value}, which does not exist"
                return path.relative_to(Path(project_dir).resolve()).as_posix(), ""
        return None, f"{name} names no schema file"
    return None, "no drizzle.config.ts in the project"


def _index_name(op) -> str:
    unique = op.op == "add_unique" or op.unique
    return op.name or short_name(split_qualified(op.table)[1], *op.columns, suffix="key" if unique else "idx")


def _after(plan: Plan, project_dir: Path) -> tuple[object | None, list[str]]:
    """(the database after the plan's steps, told from the newest snapshot; notes on what the
    snapshots Flux writes cannot hold)."""
    steps = db_steps(plan)
    if not steps or not steps[0].files:
        return None, []
    snaps = Snapshots(previous_snapshot(Path(project_dir) / _file(steps[0]).parent))
    for step in steps:
        snaps.step(step)
    snaps.take()
    return snaps.base, snaps.notes


def _index_names(ts: TsSchema, after) -> None:
    """Index names in the tables' third argument made the database's after the plan (Flux's rename
    of a column builds its indexes again under the new column's names)."""
    for table in after.tables:
        try:
            toks, open_, close, call_close = ts.table(table.name)
        except Unsupported:
            continue
        keys = {}
        for p in ts.props(toks, open_, close):
            named = str_value(toks[p.value + 2]) if toks[p.value + 1].text == "(" else None
            keys[p.key] = named if named is not None else p.key
        db = {i.name: i for i in table.indexes}
        used = set()
        found = []
        for i in range(close, call_close - 2):
            if toks[i].text in ("index", "uniqueIndex") and toks[i + 1].text == "(" and toks[i + 3].text == ")" \
                    and str_value(toks[i + 2]) is not None and toks[i + 4].text == "." and toks[i + 5].text == "on":
                end = match_close(toks, i + 6)
                cols = [keys.get(t.text) for j, t in enumerate(toks[i + 7:end]) if toks[i + 6 + j].text == "."]
                found.append((toks[i + 2], cols, toks[i].text == "uniqueIndex"))
                used.add(str_value(toks[i + 2]))
        for tok, cols, unique in reversed(found):
            name = str_value(tok)
            if name in db:
                continue
            same = [i.name for i in table.indexes if i.columns == cols and i.unique == unique and i.name not in used]
            if same:
                ts.splice(tok.start, tok.end, tok.text[0] + same[0] + tok.text[0])


def code_changes(plan: Plan, project_dir: Path) -> list[CodeChange]:
    rel, why = schema_file(project_dir)
    if rel is None:
        return [cannot("drizzle.config.ts", f"{why}: update the drizzle schema (pgTable) by hand to match the plan")]
    text = (Path(project_dir) / rel).read_text(encoding="utf-8")
    ts, done, notes = TsSchema(text), [], []
    for op in plan.operations:
        trial = TsSchema(ts.text)
        what = op.op.replace("_", " ") + " " + str(getattr(op, "table", "") or getattr(op, "name", ""))
        try:
            ts_edit(trial, op, _index_name)
        except (Unsupported, TsError, FluxError) as exc:
            notes.append(f"{what}: {exc}")
            continue
        ts = trial
        if op.op != "backfill":
            done.append(what)
    after, snap_notes = _after(plan, project_dir)
    renames = []
    for op in (o for o in plan.operations if o.op == "rename_table" and after is not None):
        new = split_qualified(op.new_name)[1]
        keys = [c.name for t in after.tables for c in t.constraints if c.kind == "foreign_key"
                and new in (t.name, (c.ref_table or "").split(".")[-1])]
        if keys:
            renames.append(f"rename table {op.table}: drizzle names a .references() key after its tables, so "
                         f"`drizzle-kit generate` will propose renaming {', '.join(keys)}; accept that migration, or "
                         "declare those keys with foreignKey({ name: ... }) in the table's third argument")
    if after is not None:
        try:
            _index_names(ts, after)
        except TsError:
            pass
    out = []
    if ts.text != text:
        out.append(change(project_dir, rel, ts.text, "the drizzle schema matches the database after the plan: "
                          + "; ".join(done) + " (apply with the code step; then `drizzle-kit generate` finds "
                          "nothing to do)"))
    out += [cannot(rel, f"not changed in {rel}, do it by hand: {n}") for n in notes]
    out += [cannot(rel, n) for n in renames]
    if snap_notes:
        meta = (_file(db_steps(plan)[0]).parent / "meta").as_posix()
        out += [cannot(meta, f"drizzle's snapshot: {n}") for n in snap_notes]
    return out


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

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        return code_changes(plan, Path(project_dir))

    def jobs(self, plan: Plan, project_dir: Path, now: datetime | None = None) -> list[FileJob]:
        return jobs(plan, Path(project_dir), now)


WRITER = DrizzleWriter()
