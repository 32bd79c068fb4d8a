"""Which table and columns the application traffic of `flux verify --load` uses.

Old code sees the schema before the plan, new code the schema after it.
rename_column: old code writes the old column, new code the new one.
change_column_type (shadow column): old code writes the column with
old-type values; new code writes the shadow column with new-type values
until the contract step, and the column itself from the contract step on.
Anything else: generic traffic on the table the plan touches, writing a
column the plan does not touch (not a key, unique, foreign-key or checked
column) — SELECT by key, UPDATE that column, INSERT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..model.plan import Plan
from ..model.schema import Schema, Table
from ..plan.ops._base import short_name
from ..pg.ddl import identity_column
from ..pg.quote import canonical_table, ident
from ..pg.parse import column_refs, parse_expr
from .values import py_value, split_type


@dataclass(frozen=True)
class View:
    """How one version of the application talks to the table."""

    table: str
    pk: tuple[str, ...]
    column: Optional[str]  # the column it writes
    col_type: Optional[str]
    inserts: tuple[tuple[str, str], ...] = ()  # other (column, type) an INSERT must give
    fks: tuple[tuple[str, str, str], ...] = ()  # (column, parent table, parent column)
    can_insert: bool = False


@dataclass
class Workload:
    kind: str  # rename, retype or generic
    old: Optional[View]
    new: Optional[View]
    pre: tuple[str, Optional[str], Optional[str]]  # (table, column, type) when the plan is not applied
    post: tuple[Optional[str], Optional[str], Optional[str]]  # ... when it is
    shadow: Optional[str] = None
    contract: Optional[int] = None
    using: Optional[str] = None
    first_code: Optional[int] = None
    notes: list[str] = field(default_factory=list)


def choose(plan: Plan, before: Schema, after: Schema) -> Optional[Workload]:
    codes = [s.number for s in plan.steps if s.is_code]
    first_code = codes[0] if codes else None
    op = next((o for o in plan.operations if o.op in ("rename_column", "change_column_type")), None)
    if op is not None and first_code is not None:
        key = canonical_table(op.table)
        old_col = before.table(key).column(op.column)
        if op.op == "rename_column":
            wl = Workload("rename", _view(before, key, op.column, old_col.type),
                          _view(after, key, op.new_name, old_col.type),
                          (key, op.column, old_col.type), (key, op.new_name, old_col.type))
            wl.first_code = first_code
            return wl
        shadow = short_name(op.column, suffix="flux")
        contract = next((s.number for s in plan.steps if s.phase == "contract"
                         and f"RENAME COLUMN {ident(shadow)}" in (s.up_sql or "")), None)
        new_type = after.table(key).column(op.column).type
        if contract is not None:
            return Workload("retype", _view(before, key, op.column, old_col.type),
                            _view(after, key, shadow, new_type, skip=(op.column,)),
                            (key, op.column, old_col.type), (key, op.column, new_type), shadow=shadow,
                            contract=contract, using=op.using, first_code=first_code)
    return _generic(plan, before, after, first_code)


def _generic(plan: Plan, before: Schema, after: Schema, first_code: Optional[int]) -> Optional[Workload]:
    key = _touched_table(plan, before)
    if key is None:
        return None
    post_key: Optional[str] = key
    for op in plan.operations:
        if op.op == "rename_table" and canonical_table(op.table) == post_key:
            post_key = canonical_table(op.new_name)
        elif op.op == "drop_table" and canonical_table(op.table) == post_key:
            post_key = None
    pre_t = before.table(key)
    post_t = after.table(post_key) if post_key else None
    touched = _touched_columns(plan)
    column = None
    for col in pre_t.columns:
        other = post_t.column(col.name) if post_t is not None else col
        if col.name in touched or other is None or other.type != col.type:
            continue
        if _writable(before, pre_t, col.name) and (post_t is None or _writable(after, post_t, col.name)):
            column = col
            break
    notes = [] if column else [f"no column of {key} is free to write: traffic there only reads and inserts"]
    name, typ = (column.name, column.type) if column else (None, None)
    old = _view(before, key, name, typ)
    new = _view(after, post_key, name, typ) if post_t is not None and first_code is not None else None
    return Workload("generic", old, new, (key, name, typ), (post_key, name, typ), first_code=first_code,
                    notes=notes)


def _touched_table(plan: Plan, schema: Schema) -> Optional[str]:
    for op in plan.operations:
        for name in (getattr(op, "table", None), getattr(op, "ref_table", None)):
            if name and schema.table(canonical_table(name)) is not None:
                return canonical_table(name)
        if op.op == "drop_index":
            bare = op.name.split(".")[-1]
            hit = next((t for t in schema.tables if any(i.name == bare for i in t.indexes)), None)
            if hit is not None:
                return hit.name
        if op.op == "add_enum_value":
            enum = canonical_table(op.enum)
            hit = next((t for t in schema.tables if any(c.type == enum for c in t.columns)), None)
            if hit is not None:
                return hit.name
    return None


def _touched_columns(plan: Plan) -> set[str]:
    out: set[str] = set()
    for op in plan.operations:
        d = op.model_dump()
        for k in ("column", "new_name"):
            if isinstance(d.get(k), str):
                out.add(d[k])
        for k in ("columns", "ref_columns"):
            out.update(c for c in d.get(k) or [] if isinstance(c, str))
        for k in ("expression", "where", "using", "value", "backfill", "default"):
            if isinstance(d.get(k), str):
                try:
                    out |= column_refs(parse_expr(d[k]))
                except Exception:  # an expression the planner accepted; no refs is the safe side
                    pass
    return out


def _writable(schema: Schema, table: Table, name: str) -> bool:
    if name in table.primary_key:
        return False
    for con in table.constraints:
        refs = set(con.columns)
        if con.expression:
            try:
                refs |= column_refs(parse_expr(con.expression))
            except Exception:
                refs.add(name)
        if con.kind in ("unique", "foreign_key", "check", "exclude", "primary_key") and name in refs:
            return False
    if any(i.unique and name in i.columns for i in table.indexes):
        return False
    base = split_type(table.column(name).type)[0]
    return base not in ("json", "xml", "point") and py_value(table.column(name).type, 1, "x", schema) is not None


def _view(schema: Schema, key: str, column: Optional[str], col_type: Optional[str],
          skip: tuple[str, ...] = ()) -> View:
    table = schema.table(key)
    identity = identity_column(table)
    fks = []
    for con in table.constraints:
        if con.kind == "foreign_key" and len(con.columns) == 1 and con.ref_table:
            parent = schema.table(con.ref_table)
            refs = con.ref_columns or (parent.primary_key if parent is not None else [])
            if len(refs) == 1:
                fks.append((con.columns[0], con.ref_table, refs[0]))
    fk_cols = {f[0] for f in fks}
    inserts = tuple((c.name, c.type) for c in table.columns
                    if not c.nullable and c.default is None and c.name != identity and c.name != column
                    and c.name not in skip)
    keyed = bool(table.primary_key) and all(c == identity or (table.column(c) and table.column(c).default)
                                            for c in table.primary_key)
    valued = all(n in fk_cols or py_value(t, 1, "x", schema) is not None for n, t in inserts)
    return View(table=key, pk=tuple(table.primary_key), column=column, col_type=col_type, inserts=inserts,
                fks=tuple(fks), can_insert=keyed and valued)
