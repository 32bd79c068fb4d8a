"""The code change of a drizzle plan: schema.ts, as drizzle.config names it, edited to match the
database after the plan (index names made the database's), with notes for what it cannot edit."""

from __future__ import annotations

from pathlib import Path

from ...errors import FluxError
from ...model.plan import CodeChange, Plan
from ...pg.quote import split_qualified
from ...plan.ops._base import short_name
from ..base import db_steps
from ..code_changes import cannot, change
from ._drizzle_journal import step_file
from ._drizzle_schema_ts import TsError, TsSchema, match_close, str_value, tokenize_ts, ts_edit
from ._drizzle_snapshot import Snapshots, Unsupported, previous_snapshot

__all__ = ["code_changes", "schema_file"]


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
    snaps = Snapshots(previous_snapshot(Path(project_dir) / step_file(steps[0]).parent))
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
        meta = (step_file(db_steps(plan)[0]).parent / "meta").as_posix()
        out += [cannot(meta, f"drizzle's snapshot: {n}") for n in snap_notes]
    return out
