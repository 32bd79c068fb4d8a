"""What renaming, retyping or dropping a column or table would break, read from
Schema.dependencies (PostgreSQL's catalogs): the objects a plan carries across
(views re-pointed or re-created, indexes copied by their exact definition,
policies re-pointed, owned sequences moved) and the ones it refuses, all named
in one message with what to do. Function bodies are searched, never edited.

Without dependencies (a schema read without PostgreSQL) nothing is known and
nothing is refused here; verify on the dev database catches what breaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from ...errors import FluxInputError
from ...model.schema import Dependent, Function, Schema, Sequence, Table
from ...pg.split import SqlSyntaxError, tokens
from ...pg.repoint import CannotRepoint, view_query
from ._function_columns import column_lines

Action = Literal["rename", "retype", "drop"]

# Kinds whose definition Flux never rewrites: a trigger's column list and WHEN, a rule, a
# generation expression (changing one rewrites the table before PostgreSQL 17), a partition key.
_NEVER = {"rule", "trigger", "generated_column", "partition_key"}
_VIEWS = {"view", "materialized_view"}

_ADVICE = {
    "rename": "change or drop them by hand first (their own migration), then plan the rename again",
    "retype": "change or drop them by hand first (their own migration), then plan the type change again",
    "drop": "change or drop them first (their own migration), then plan the drop again",
}


_GENERATED_ADVICE = {
    "rename": "rename it by hand with the code that reads it (ALTER TABLE ... RENAME COLUMN: a brief lock, "
              "no rewrite; code reading the old name fails until the new code runs)",
    "retype": "change it by hand, at a quiet time: a generated column's new type rewrites the table under an "
              "ACCESS EXCLUSIVE lock",
}


@dataclass
class Carried:
    """What a column change carries across, by kind."""

    views: list[Dependent] = field(default_factory=list)  # in the order to re-create them
    policies: list[Dependent] = field(default_factory=list)
    indexes: dict[str, str] = field(default_factory=dict)  # index name -> pg_get_indexdef
    sequences: list[str] = field(default_factory=list)  # owned by the column
    identities: list[Sequence] = field(default_factory=list)  # the column's identity, moved at the swap


def referencing_keys(schema: Schema, table: Table, column: str) -> list[str]:
    """Foreign keys of other tables that reference the column (from the model: known without PostgreSQL)."""
    return [f"foreign key {con.name} on {other.name} (move it to another column first)"
            for other in schema.tables for con in other.constraints
            if con.kind == "foreign_key" and con.ref_table == table.name and column in con.ref_columns]


def column_dependents(schema: Schema, table: Table, column: str, action: Action, new: Optional[str] = None,
                      extra: Optional[list[str]] = None, carry_identity: bool = False) -> Carried:
    """Refuse (one message naming every blocker, `extra` first) or say what the plan must carry.
    `carry_identity`: a retype that can move the column's identity to its copy (a key widening)."""
    own = table.column(column)
    if own is not None and own.generated is not None and action != "drop":
        # The copy a rename or retype writes through a trigger cannot be written: PostgreSQL computes it.
        raise FluxInputError(
            f"cannot {action_verb(action)} {table.name}.{column}: it is a generated column (computed as "
            f"{_short(own.generated)}), which no trigger can copy into a new column; {_GENERATED_ADVICE[action]}")
    deps = schema.dependencies
    if deps is None:
        _refuse(f"{action_verb(action)} {table.name}.{column}", list(extra or []), action)
        return Carried()
    users = deps.on(table.name, column)
    blockers = list(extra or []) + [f"{d.label} ({_short(d.definition)})" for d in users if d.kind in _NEVER]
    identities = [s for s in deps.sequences if s.identity and s.owned_by == f"{table.name}.{column}"]
    if not (carry_identity and action == "retype"):
        blockers += [f"identity sequence {s.name}" for s in identities]
    carried = Carried(indexes={d.name: d.definition for d in users if d.kind == "index"},
                      sequences=[s.name for s in deps.sequences if not s.identity
                                 and s.owned_by == f"{table.name}.{column}"],
                      identities=identities if carry_identity and action == "retype" else [])
    views = [d for d in users if d.kind in _VIEWS]
    if action == "drop":
        blockers += [f"{d.label} (reads {column})" for d in views]
        blockers += [f"{d.label} ({_short(d.definition)})" for d in users if d.kind == "policy"]
    elif action == "rename":
        carried.policies = [d for d in users if d.kind == "policy"]
        for d in views:
            if d.kind == "materialized_view":
                blockers.append(f"{d.label} (re-creating it runs its query under lock: do it by hand)")
                continue
            try:
                view_query(d.definition, table.name, column, new or column)
            except CannotRepoint as exc:
                blockers.append(f"{d.label} (its query {exc}: rewrite it by hand)")
                continue
            carried.views.append(d)
    else:
        carried.policies = [d for d in users if d.kind == "policy"]
        closure = _view_closure(deps.dependents, views)
        blockers += [f"{d.label} (depends on {column}; re-creating it runs its query under lock)"
                     for d in closure if d.kind == "materialized_view"]
        carried.views = closure
    blockers += [f"{where}" for where in functions_naming(deps.functions, table, column)
                 if action != "retype"]
    _refuse(f"{action_verb(action)} {table.name}.{column}", blockers, action)
    return carried


def action_verb(action: Action) -> str:
    return {"rename": "rename", "retype": "change the type of", "drop": "drop"}[action]


def _refuse(what: str, blockers: list[str], action: str) -> None:
    if blockers:
        raise FluxInputError(f"cannot {what}, used by: {'; '.join(blockers)}. Flux carries views, indexes and "
                             f"policies across but does not edit these: {_ADVICE[action]}")


def retype_warnings(schema: Schema, table: Table, column: str) -> list[str]:
    """Function bodies naming a column whose type changes: they usually keep working; say where."""
    deps = schema.dependencies
    return [] if deps is None else [f"{w} (its type changes: check it)" for w in
                                     functions_naming(deps.functions, table, column)]


def table_dependents(schema: Schema, table: Table, action: Literal["rename", "drop"],
                     extra: Optional[list[str]] = None) -> None:
    """Refuse a table rename or drop that views, rules or function bodies would not survive
    (one message naming every blocker, `extra` first)."""
    deps = schema.dependencies
    blockers = list(extra or [])
    if deps is None:
        _refuse(f"{action} table {table.name}", blockers, action)
        return
    if action == "drop":
        blockers += [f"{d.label} (reads {table.name})" for d in deps.on(table.name) if d.kind in _VIEWS | {"rule"}]
    blockers += functions_naming(deps.functions, table, None)
    _refuse(f"{action} table {table.name}", blockers, action)


def _view_closure(dependents: list[Dependent], start: list[Dependent]) -> list[Dependent]:
    """`start` and every view reading one of them, each once, readers after what they read."""
    order: list[Dependent] = []
    seen: set[str] = set()

    def visit(view: Dependent) -> None:
        if view.name in seen:
            return
        seen.add(view.name)
        order.append(view)
        for reader in dependents:
            if reader.kind in _VIEWS and reader.table == view.name:
                visit(reader)

    for v in start:
        visit(v)
    # A reader found before another of the views it reads must still come after it.
    names = [v.name for v in order]
    after = {v.name: {d.table for d in dependents if d.kind in _VIEWS and d.name == v.name and d.table in names}
             for v in order}
    out: list[Dependent] = []
    while order:
        ready = next(v for v in order if after[v.name] <= {o.name for o in out})
        out.append(ready)
        order.remove(ready)
    return out


def functions_naming(functions: list[Function], table: Table, column: Optional[str]) -> list[str]:
    """Where a function body names the column (resolved to its statements' tables where the body
    parses: _function_columns.py; else from its words, a trigger function on the table by the
    column's name alone, any other by the table's and the column's) or, without a column, the table."""
    bare = table.name.rpartition(".")[2]
    out = []
    for fn in functions:
        on_table = any(t.endswith(f" on {table.name}") for t in fn.triggers)
        words = _words(fn.body)
        if words is None:
            if (column or bare) in fn.body:
                out.append(f"function {fn.name} (its body could not be scanned; it mentions {column or bare})")
            continue
        if column is None:
            hits = [(line, w) for line, w in words if w == bare]
            if hits and fn.triggers and all(t.endswith(f" on {table.name}") for t in fn.triggers):
                continue  # dropped or renamed with the table's own triggers
        else:
            lines = column_lines(fn, table.name, column)  # its statements' own tables, where it parses
            if lines is not None:
                hits = [(line, column) for line in lines]
            else:
                hits = [(line, w) for line, w in words if w == column]
                if not on_table and not any(w == bare for _, w in words):
                    hits = []
        if hits:
            calls = f" (called by trigger {', '.join(fn.triggers)})" if fn.triggers else ""
            lines = ", ".join(str(line) for line in sorted({line for line, _ in hits}))
            out.append(f"function {fn.name}{calls} names {column or bare} at line {lines} of its body")
    return out


def _words(body: str) -> Optional[list[tuple[int, str]]]:
    """(line, name) of each name in a function body, as PostgreSQL's scanner cuts it; None when
    it cannot (a body in a language other than SQL or PL/pgSQL may not scan)."""
    try:
        found = tokens(body)
    except SqlSyntaxError:
        return None
    out = []
    for t in found:
        text = body[t.start:t.end]
        if t.kind == "word":
            name = text.lower()
        elif text.startswith('"') and text.endswith('"') and len(text) > 1:
            name = text[1:-1].replace('""', '"')
        else:
            continue
        out.append((body.count("\n", 0, t.start) + 1, name))
    return out


def _short(text: str, limit: int = 120) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
