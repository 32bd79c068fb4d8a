"""The code change of a drizzle plan: the schema's files, as drizzle.config names them, edited to
match the database after the plan (each edit in the file declaring its table; index names made the
database's), with notes for what it cannot edit."""

from __future__ import annotations

from pathlib import Path

from ...errors import FluxError
from ...model.operations import AddColumn, AddIndex, DropNotNull, RenameColumn
from ...model.plan import CodeChange, Plan
from ...pg.quote import split_qualified
from ...plan.ops._base import short_name
from ..base import db_steps
from ..code_changes import cannot, change, lf, read
from ._drizzle_journal import step_file
from ._drizzle_schema_files import drop_reexport, schema_files
from ._drizzle_schema_ts import TsSchema, ts_edit
from ...project.ts_tokens import TsError, match_close, str_value
from ._drizzle_snapshot import Snapshots, Unsupported, previous_snapshot

__all__ = ["code_changes"]


# Operations that only add to the schema: the drizzle schema may declare what they make at once.
_ADDITIVE = frozenset({"create_table", "add_column", "add_index", "add_unique", "add_foreign_key", "add_check",
                       "add_enum_value", "backfill"})


def _gone(plan: Plan) -> str:
    """What a plan's contract step removes, in a word or two."""
    kinds = {op.op for op in plan.operations} - _ADDITIVE
    return "column" if kinds <= {"rename_column", "drop_column"} else "objects"


def _index_name(op) -> str:
    unique = op.op == "add_unique" or op.unique
    return op.name or short_name(split_qualified(op.table)[1], *op.columns, suffix="key" if unique else "idx")


def _after(plan: Plan, project_dir: Path, until: int | None = None) -> tuple[object | None, list[str]]:
    """(the database after the plan's steps (those before step `until`, where given), told from the
    newest snapshot; notes on what the snapshots Flux writes cannot hold)."""
    steps = db_steps(plan)
    if not steps or not steps[0].files:
        return None, []
    snaps = Snapshots(previous_snapshot(Path(project_dir) / step_file(steps[0]).parent))
    for step in (s for s in steps if until is None or s.number < until):
        snaps.step(step)
    snaps.take()
    return snaps.base, snaps.notes


def _windows(plan: Plan, project_dir: Path, before: dict[str, str]) -> tuple[list[tuple[int, dict[str, str]]], str]:
    """((the first step of a write, the schema files as the database stands after it) for each write
    but the last, which gives them their final form; why there are none, where a file cannot say one
    of them). As the snapshots tell it: a renamed or retyped column's copy declared beside it, with the
    indexes and foreign keys the migrations written so far gave it; a dropped column's NOT NULL gone,
    then its name set aside. Without them a `drizzle-kit generate` in between dropped the copy the sync
    trigger writes (Dokploy's deployment.createdAt_flux), and every insert failed."""
    from ..deploy_groups import next_group  # the writer's own groups, which import the writers

    ops = [op for op in plan.operations if op.op in ("rename_column", "change_column_type", "drop_column")]
    steps = db_steps(plan)
    if not ops or not steps or not steps[0].files:
        return [], ""
    base = Snapshots(previous_snapshot(Path(project_dir) / step_file(steps[0]).parent)).base
    out: list[tuple[int, dict[str, str]]] = []
    written: set[int] = set()
    while base is not None:
        group = next_group(plan, written)[1]
        written |= {s.number for s in group}
        if not group or len(written) == len(steps):
            break  # the last write gives the files their final form
        try:
            out.append((group[0].number, _window(plan, project_dir, before, ops, base, until=max(written) + 1)))
        except (Unsupported, TsError, FluxError, ValueError) as exc:
            return [], str(exc)  # all or none: the summary tells a schema file that follows every write
    return out, ""


def _window(plan: Plan, project_dir: Path, before: dict[str, str], ops: list, base, until: int) -> dict[str, str]:
    """The schema files (all of them, by path) declaring what the snapshots hold after the steps
    before `until` (_windows); Unsupported where a file cannot say it."""
    window, _ = _after(plan, project_dir, until=until)
    if window is None:
        raise Unsupported("the snapshots after the steps written so far could not be worked out")
    schemas = {rel: TsSchema(text) for rel, text in before.items()}
    for op in ops:
        table, old, rel = window.table(op.table), base.table(op.table), _home(schemas, op, plan.operations)
        if table is None or old is None or rel is None:
            raise Unsupported(f"table {op.table} is not found in the snapshots or the schema files")
        if op.op == "drop_column":
            _dropping(schemas[rel], op, old, table)
            continue
        new_keys = [c for c in table.constraints if c.kind == "foreign_key"
                    and c.name not in {o.name for o in old.constraints}]
        for col in (c for c in table.columns if old.column(c.name) is None):
            ts_edit(schemas[rel], AddColumn(table=op.table, column=col.name, type=col.type,
                                           nullable=col.nullable, default=col.default), _index_name)
            for key in (k for k in new_keys if col.name in k.columns):
                _references(schemas[rel], op.table, col.name, key, op.column)
            for idx in (i for i in table.indexes if old.index(i.name) is None and col.name in i.columns):
                ts_edit(schemas[rel], AddIndex(table=op.table, columns=idx.columns, name=idx.name,
                                               unique=idx.unique, where=idx.where), _index_name)
    return {rel: ts.text for rel, ts in schemas.items()}


def _dropping(ts: TsSchema, op, old, table) -> None:
    """A dropped column as the database holds it on the way: its NOT NULL gone, then set aside under
    another name (the application no longer uses it), then gone."""
    had, col = old.column(op.column), table.column(op.column)
    if col is None:
        aside = [c for c in table.columns if old.column(c.name) is None]
        if len(aside) != 1:
            ts_edit(ts, op, _index_name)
            return
        ts_edit(ts, RenameColumn(table=op.table, column=op.column, new_name=aside[0].name), _index_name)
        col, op = aside[0], op.model_copy(update={"column": aside[0].name})
    if had is not None and col.nullable and not had.nullable:
        ts_edit(ts, DropNotNull(table=op.table, column=op.column), _index_name)


def _references(ts: TsSchema, table: str, column: str, key, original: str) -> None:
    """`.references(() => t.col)` on the copy `column` of `original`, as drizzle declares a one-column
    foreign key (and names it, as the snapshots Flux writes name a new key): the original's own call
    where it has one (its table is in scope there, imported from another file or not: Dokploy's
    `user`), else one to a table of the same file."""
    toks, p = ts.column(table, original)
    calls = [ts.text[toks[first].start:toks[last].end] for first, last, method in ts.chain(toks, p)
             if method == "references"]
    if len(calls) == 1 and len(key.columns) == 1:
        text = calls[0]
    else:
        ref = split_qualified(key.ref_table or "")[1]
        const = ts.const_of(ref)
        if len(key.columns) != 1 or len(key.ref_columns) != 1 or const is None:
            raise Unsupported(f"the foreign key {key.name} of {table}.{column}: declare it by hand")
        ref_key = ts.column(ref, key.ref_columns[0])[1].key
        if not ref_key.isidentifier():
            raise Unsupported(f"the foreign key {key.name} of {table}.{column}: declare it by hand")
        actions = {k: v.lower() for k, v in (("onDelete", key.on_delete), ("onUpdate", key.on_update))
                   if v and v != "NO ACTION"}
        opts = ", { " + ", ".join(f'{k}: "{v}"' for k, v in actions.items()) + " }" if actions else ""
        text = f".references(() => {const}.{ref_key}{opts})"
    toks, p = ts.column(table, column)
    ts.splice(toks[p.last].end, toks[p.last].end, text)


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


def _home(schemas: dict[str, TsSchema], op, ops: list) -> str | None:
    """The schema file an operation edits: the one declaring its table (or index). A new table goes
    beside the first table its foreign keys in the plan reference (its `.references(() => t.id)`
    needs `t` in scope, and related tables live together), else to the first file the config names."""
    files = list(schemas)
    if op.op == "create_table":
        new = split_qualified(op.table)[1]
        refs = [split_qualified(o.ref_table)[1] for o in ops
                if o.op == "add_foreign_key" and split_qualified(o.table)[1] == new]
        return next((f for ref in refs for f in files if schemas[f].has_table(ref)), files[0])
    if op.op == "drop_index":
        name = split_qualified(op.name)[1]
        return next((f for f in files if schemas[f].has_index(name)), None)
    table = split_qualified(getattr(op, "table", "") or "")[1]
    if not table:
        return files[0]
    return next((f for f in files if schemas[f].has_table(table)), None)


def _named(ts: TsSchema, name: str) -> bool:
    return any(t.kind == "ident" and t.text == name for t in ts.toks)


def _edit(schemas: dict[str, TsSchema], project: Path, rel: str, op) -> list[str]:
    """`op` applied to file `rel` (Unsupported, TsError or FluxError where it cannot be, nothing
    changed); the files changed. A dropped table's re-exports go with it."""
    trial, others = TsSchema(schemas[rel].text), {}
    const = trial.const_of(split_qualified(op.table)[1]) if op.op == "drop_table" else None
    for f, ts in schemas.items():
        if const and f != rel and _named(ts, const):
            other = TsSchema(drop_reexport(ts.text, project / f, const, project / rel, project))
            if _named(other, const):
                raise Unsupported(f"{const} (table {op.table}) is used in {f} too (relations, references): "
                                  "remove it there and the table by hand")
            others[f] = other
    ts_edit(trial, op, _index_name)
    schemas[rel] = trial
    schemas.update(others)
    return [rel, *others]


def code_changes(plan: Plan, project_dir: Path) -> list[CodeChange]:
    steps = db_steps(plan)
    files, why = schema_files(project_dir, step_file(steps[0]).parent if steps and steps[0].files else None)
    if not files:
        return [cannot("drizzle.config.ts", f"{why}: update the drizzle schema (pgTable) by hand to match the plan")]
    before = {rel: lf(read(Path(project_dir) / rel)) for rel in files}
    schemas = {rel: TsSchema(text) for rel, text in before.items()}
    done: dict[str, list[str]] = {}
    notes = []
    for op in plan.operations:
        what = op.op.replace("_", " ") + " " + str(getattr(op, "table", "") or getattr(op, "name", ""))
        rel = _home(schemas, op, plan.operations)
        if rel is None:
            if op.op != "backfill":
                notes.append((files[0], f"{what}: no pgTable or index of it in {', '.join(files)}"))
            continue
        try:
            changed = _edit(schemas, Path(project_dir), rel, op)
        except (Unsupported, TsError, FluxError) as exc:
            notes.append((rel, f"{what}: {exc}"))
            continue
        for f in changed if op.op != "backfill" else ():
            done.setdefault(f, []).append(what)
    after, snap_notes = _after(plan, project_dir)
    renames = []
    for op in (o for o in plan.operations if o.op == "rename_table" and after is not None):
        new = split_qualified(op.new_name)[1]
        keys = [c.name for t in after.tables for c in t.constraints if c.kind == "foreign_key"
                and new in (t.name, (c.ref_table or "").split(".")[-1])]
        if keys:
            renames.append(f"rename table {op.table}: drizzle names a .references() key after its tables, so "
                           f"`drizzle-kit generate` will propose renaming {', '.join(keys)}; accept that migration, "
                           "or declare those keys with foreignKey({ name: ... }) in the table's third argument")
    for rel in done if after is not None else ():  # the files edited: a rename's indexes are built again
        try:
            _index_names(schemas[rel], after)
        except (TsError, Unsupported):
            pass
    # A plan that only adds: the schema is edited with its files, as its snapshots are, so the next
    # `drizzle-kit generate` finds nothing (left to the user, the snapshot Flux wrote had generate undo
    # the plan: ai-chatbot's added column dropped again). One that renames or drops keeps the old column
    # until its contract step, which the edit (made for after it) does not declare: said so.
    adds = all(op.op in _ADDITIVE for op in plan.operations)
    when = ("applied with the plan's files: `drizzle-kit generate` finds nothing to do" if adds else
            f"`flux continue` applies it as it writes the step that drops the old {_gone(plan)}: until then "
            "the snapshots Flux wrote still hold it; do not run `drizzle-kit generate` in between (against this "
            "schema it would drop what the plan's sync trigger still reads, and every insert fails), and for the "
            "code step declare the new column beside the old one by hand")
    windows, unkept = ([], "") if adds else _windows(plan, Path(project_dir), before)
    if windows:
        when = ("`flux continue` applies it as it writes the step that drops the old "
                f"{_gone(plan)}: until then each write declares what its migrations leave")
    out, now = [], dict(before)  # each window's edit, on the one before it
    for step, window in windows:
        out += [change(project_dir, rel, text, "the drizzle schema matches the database the migrations written so "
                       f"far leave (applied with step {step}'s write)", applied_at_step=step, before=now[rel])
                for rel, text in window.items() if text != now[rel]]
        now.update(window)
    # the final edit applies after the windows', where there are any
    out += [change(project_dir, rel, ts.text, "the drizzle schema matches the database after the plan: "
                   + "; ".join(done.get(rel) or ["index names"]) + f" ({when})", applied_on_write=adds,
                   applied_when_written=not adds, before=now[rel] if now[rel] != before[rel] else None)
            for rel, ts in schemas.items() if ts.text != before[rel]]
    # a plan that renames or drops: by hand once its last step is written (sooner, generate drops at once)
    after_last = "" if adds else (" once `flux continue` has written the plan's last step (before, the database "
                                  "still holds the old shape: a generate would change it at once, unsafely)")
    out += [cannot(rel, f"not changed in {rel}, do it by hand{after_last}: {n}") for rel, n in notes]
    if unkept:
        out.append(cannot(files[0], f"the drizzle schema is not kept to each write ({unkept}): run no "
                                    "`drizzle-kit generate` between the plan's first write and its last"))
    out += [cannot(files[0], n) for n in renames]
    if snap_notes:
        meta = (step_file(db_steps(plan)[0]).parent / "meta").as_posix()
        out += [cannot(meta, f"drizzle's snapshot: {n}") for n in snap_notes]
    return out
