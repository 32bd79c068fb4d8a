"""drizzle-kit's PostgreSQL snapshot JSON after a plan's operations: the previous snapshot copied, each operation applied the way drizzle-kit would serialise the same schema.ts, a new id and prevId = the previous id; plus the TypeScript column builder that serialises to each type, and Snapshots: the database as a plan's steps leave it, told as those snapshots."""

from __future__ import annotations

import copy
import json
import re
import uuid
from pathlib import Path

from ...errors import FluxError
from ...model.plan import Step
from ...pg.types import type_name
from ...schema.readers.drizzle import latest_snapshot, schema_from_snapshot
from ...schema.replay.engine import replay_sql
from ..base import up_sql


class Unsupported(Exception):
    """An operation Flux does not express in drizzle's files: the message says what to do."""


# canonical PostgreSQL type -> (pg-core builder, its options, drizzle's snapshot type)
_TYPES = {
    "integer": ("integer", "", "integer"), "smallint": ("smallint", "", "smallint"),
    "bigint": ("bigint", '{ mode: "number" }', "bigint"), "text": ("text", "", "text"),
    "boolean": ("boolean", "", "boolean"), "uuid": ("uuid", "", "uuid"), "jsonb": ("jsonb", "", "jsonb"),
    "json": ("json", "", "json"), "date": ("date", "", "date"), "real": ("real", "", "real"),
    "double precision": ("doublePrecision", "", "double precision"),
    "timestamp without time zone": ("timestamp", "", "timestamp"),
    "timestamp with time zone": ("timestamp", "{ withTimezone: true }", "timestamp with time zone"),
    "character varying": ("varchar", "", "varchar"), "numeric": ("numeric", "", "numeric"),
}  # fmt: skip
_SERIAL = {"serial": ("serial", ""), "bigserial": ("bigserial", '{ mode: "number" }'),
           "smallserial": ("smallserial", "")}


def builder(pg_type: str) -> tuple[str, str, str]:
    """(builder function, options object text or '', snapshot type) of a PostgreSQL type."""
    raw = pg_type.strip().lower()
    if raw in _SERIAL:
        fn, opts = _SERIAL[raw]
        return fn, opts, fn
    canon = type_name(pg_type)
    if canon in _TYPES:
        return _TYPES[canon]
    if m := re.fullmatch(r"character varying\((\d+)\)", canon):
        return "varchar", f"{{ length: {m.group(1)} }}", f"varchar({m.group(1)})"
    if m := re.fullmatch(r"numeric\((\d+),(\d+)\)", canon):
        return ("numeric", f"{{ precision: {m.group(1)}, scale: {m.group(2)} }}",
                f"numeric({m.group(1)}, {m.group(2)})")
    if m := re.fullmatch(r"timestamp\((\d)\) with(out)? time zone", canon):
        zone = "" if m.group(2) else "withTimezone: true, "
        return ("timestamp", f"{{ {zone}precision: {m.group(1)} }}",
                f"timestamp ({m.group(1)})" + ("" if m.group(2) else " with time zone"))
    raise Unsupported(f"type {canon} has no pg-core column builder Flux writes; declare it by hand "
                      "(customType, or the builder of your choice)")


def default_value(sql: str):
    """(snapshot default, TypeScript modifier) of a SQL default expression."""
    text = sql.strip()
    bare = re.sub(r"::[\w .\"\[\]()]+$", "", text).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", bare):
        return (float(bare) if "." in bare else int(bare)), f".default({bare})"
    if bare.lower() in ("true", "false"):
        return bare.lower() == "true", f".default({bare.lower()})"
    if re.fullmatch(r"'(?:[^']|'')*'", bare):
        return bare, f".default({json.dumps(bare[1:-1].replace(chr(39) * 2, chr(39)), ensure_ascii=False)})"
    if bare.lower() in ("now()", "current_timestamp"):
        return "now()", ".defaultNow()"
    if "`" in text or "${" in text or "\\" in text:
        raise Unsupported(f"default {text} cannot be written in a sql`` template: declare it by hand")
    return text, f".default(sql`{text}`)"  # drizzle-kit keeps a sql`` default as written


# --------------------------------------------------------------------------
# The snapshot: the database before and after a run of steps, told as drizzle would
# --------------------------------------------------------------------------

def _serial(c) -> str | None:
    """serial / bigserial / smallserial for a column with its own sequence's default."""
    if c.default and re.fullmatch(r"nextval\('[\w.\"]+_seq'::regclass\)", c.default):
        return {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}.get(c.type)
    return None


def _snap_column(c, primary: bool = False) -> dict:
    serial = _serial(c)
    col = {"name": c.name, "type": serial or builder(c.type)[2], "primaryKey": primary, "notNull": not c.nullable}
    if c.default is not None and not serial:
        col["default"] = default_value(c.default)[0]
    return col


def _snap_index(i) -> dict:
    if i.where or i.method != "btree" or any(i.opclasses) or any(not re.fullmatch(r"\w+", c) for c in i.columns) \
            or i.include or any(i.collations) or i.nulls_not_distinct:
        raise Unsupported(f"index {i.name} (partial, expression, operator class, COLLATE, INCLUDE, NULLS NOT "
                          "DISTINCT or not btree) is not written into drizzle's snapshot by Flux: declare it in "
                          "schema.ts by hand")
    orders = i.orders + [""] * (len(i.columns) - len(i.orders))
    return {"name": i.name, "columns": [{"expression": c, "isExpression": False, "asc": not o.startswith("DESC"),
                                         "nulls": "first" if o in ("DESC", "NULLS FIRST") else "last"}
                                        for c, o in zip(i.columns, orders)],
            "isUnique": i.unique, "concurrently": False, "method": "btree", "with": {}}


def _shape(i, columns: bool = True) -> tuple:
    return (tuple(i.columns) if columns else len(i.columns), i.unique, i.where, i.method, tuple(i.opclasses),
            tuple(i.orders), tuple(i.include), tuple(i.collations), i.nulls_not_distinct)


def _index_entry(kept: dict | None, was, now) -> dict:
    """The snapshot's entry for index `now`: the one kept where the index of that name was the same, its
    columns renamed where only they changed (a column set aside, a rename's copy given the original's
    name: the entry named the old column, and generate rebuilt the index), else a new one."""
    if kept is not None and was is not None and _shape(was) == _shape(now):
        return kept
    if kept is not None and was is not None and _shape(was, False) == _shape(now, False) and not kept.get("where"):
        renamed = dict(zip(was.columns, now.columns))
        return {**kept, "columns": [{**c, "expression": renamed.get(c.get("expression"), c.get("expression"))}
                                    if not c.get("isExpression") else c for c in kept.get("columns", [])]}
    return _snap_index(now)


def _same(a, b) -> bool:
    return (a.type, a.nullable, a.default) == (b.type, b.nullable, b.default)


def _table_changes(t: dict, old, new, notes: list[str]) -> None:
    """The snapshot table `t` made to say what `new` says where it differs from `old`."""
    cols = {}
    for c in new.columns:
        before = old.column(c.name)
        if before is not None and _same(before, c):
            cols[c.name] = t["columns"][c.name]
            continue
        kept = t["columns"].get(c.name, {})
        try:
            if before is not None and before.type == c.type and "type" in kept:  # serial and enums stay as written
                made = {"name": c.name, "type": kept["type"], "primaryKey": False, "notNull": not c.nullable}
                if c.default is not None and before.default == c.default and "default" in kept:
                    made["default"] = kept["default"]
                elif c.default is not None and not _serial(c):
                    made["default"] = default_value(c.default)[0]
            else:
                made = _snap_column(c)
        except Unsupported as exc:
            notes.append(f"column {new.name}.{c.name}: {exc}")
            if c.name in t["columns"]:
                cols[c.name] = t["columns"][c.name]
            continue
        kept = {k: v for k, v in kept.items() if k != "default"}
        cols[c.name] = {**kept, **made, "primaryKey": kept.get("primaryKey", False)}
    t["columns"] = cols
    listed, indexes = t.get("indexes", {}), {}
    for i in new.indexes:
        if i.primary or any(c.name == i.name for c in new.constraints):
            continue  # a constraint's index is not listed
        was = old.index(i.name)
        if i.name not in listed and was is not None:
            continue  # an index drizzle does not list (a unique constraint's): left as it was
        try:
            indexes[i.name] = _index_entry(listed.get(i.name), was, i)
        except Unsupported as exc:
            notes.append(str(exc))
    t["indexes"] = indexes
    _foreign_keys(t, new)
    uniques = {c.name: c for c in new.constraints if c.kind == "unique"}
    t["uniqueConstraints"] = {k: v for k, v in t.get("uniqueConstraints", {}).items() if k in uniques}
    for name, c in uniques.items():
        t["uniqueConstraints"].setdefault(name, {"name": name, "nullsNotDistinct": False, "columns": list(c.columns)})
    if _checks(old) != _checks(new):
        notes.append(f"check constraints of {new.name} changed: Flux does not write them into drizzle's snapshot; "
                     "declare them with check() in schema.ts, and in the snapshot, by hand")


def _checks(table) -> set:
    return {(c.name, c.expression) for c in table.constraints if c.kind in ("check", "exclude")}


def _fk_key(fk: dict) -> tuple:
    return tuple(fk.get("columnsFrom", [])), fk.get("tableTo"), tuple(fk.get("columnsTo", []))


def _foreign_keys(t: dict, new) -> None:
    """The table's foreign keys as `new` has them: kept entries where unchanged, others named as
    drizzle names a `.references()` key (`<table>_<cols>_<ref>_<refcols>_fk`), as schema.ts declares them."""
    wanted = {(tuple(c.columns), c.ref_table.split(".")[-1], tuple(c.ref_columns)): c
              for c in new.constraints if c.kind == "foreign_key" and c.ref_table}
    kept = {k: v for k, v in t.get("foreignKeys", {}).items() if _fk_key(v) in wanted}
    have = {_fk_key(v) for v in kept.values()}
    for (cols, ref, refcols), c in wanted.items():
        if (cols, ref, refcols) in have:
            continue
        name = f"{t['name']}_{'_'.join(cols)}_{ref}_{'_'.join(refcols)}_fk"
        kept[name] = {"name": name, "tableFrom": t["name"], "tableTo": ref, "columnsFrom": list(cols),
                      "columnsTo": list(refcols), "onDelete": (c.on_delete or "no action").lower(),
                      "onUpdate": (c.on_update or "no action").lower()}
    t["foreignKeys"] = kept


def _new_table(t) -> dict:
    if "." in t.name:
        raise Unsupported("outside the public schema: declare it with pgSchema(...).table by hand")
    if len(t.primary_key) > 1 or any(c.kind not in ("primary_key",) for c in t.constraints):
        raise Unsupported("a composite key or constraints: Flux writes only columns and a one-column primary key "
                          "into drizzle's snapshot; declare the rest by hand")
    cols = {c.name: _snap_column(c, c.name in t.primary_key) for c in t.columns}
    indexes = {i.name: _snap_index(i) for i in t.indexes if not i.primary}
    return {"name": t.name, "schema": "", "columns": cols, "indexes": indexes, "foreignKeys": {},
            "compositePrimaryKeys": {}, "uniqueConstraints": {}, "policies": {}, "checkConstraints": {},
            "isRLSEnabled": False}


def _renamed(old, before, after):
    """The table `old` became, when it was renamed: a new table with the same columns."""
    shape = [(c.name, c.type) for c in old.columns]
    found = [t for t in after.tables if before.table(t.name) is None and "." not in t.name
             and [(c.name, c.type) for c in t.columns] == shape]
    return found[0] if len(found) == 1 else None


def next_snapshot(prev: dict, before, after) -> tuple[dict, list[str]]:
    """(prev copied with the tables and columns `after` differs from `before` in, new id and prevId,
    notes on what it could not take). before/after: Schema models of the database."""
    snap, notes = copy.deepcopy(prev), []
    tables = snap.setdefault("tables", {})
    for key in list(tables):
        name = key.removeprefix("public.")
        old, new = before.table(name), after.table(name)
        if old is None:
            continue
        if new is None:
            renamed = _renamed(old, before, after)
            if renamed is None:
                del tables[key]
                continue
            t = tables.pop(key)
            t["name"], new = renamed.name, renamed
            tables[f"public.{renamed.name}"] = t
            for other in tables.values():
                for fk in other.get("foreignKeys", {}).values():
                    fk.update({k: renamed.name for k in ("tableFrom", "tableTo") if fk.get(k) == name})
            key = f"public.{renamed.name}"
        _table_changes(tables[key], old, new, notes)
    for t in after.tables:
        if before.table(t.name) is None and f"public.{t.name}" not in tables and t.name not in tables:
            try:
                tables[t.name if "." in t.name else f"public.{t.name}"] = _new_table(t)
            except Unsupported as exc:
                notes.append(f"table {t.name}: {exc}")
    snap["prevId"], snap["id"] = snap.get("id", "00000000-0000-0000-0000-000000000000"), str(uuid.uuid4())
    return snap, notes


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
