"""The schema as `flux schema` prints it without --json: each table with its columns (type, NOT NULL,
default), then its keys, checks and indexes, one a line, as a person reads a table before asking for a
change; then enums, views, what depends on the columns, functions and extensions."""

from __future__ import annotations

from ..model.schema import Constraint, Index, Schema, Table


def _column_list(names: list[str]) -> str:
    return ", ".join(names)


def _constraint(c: Constraint) -> str:
    pending = "" if c.validated else " NOT VALID"
    if c.kind == "primary_key":
        return f"primary key {c.name} ({_column_list(c.columns)})"
    if c.kind == "unique":
        return f"unique {c.name} ({_column_list(c.columns)})"
    if c.kind == "foreign_key":
        action = f" ON DELETE {c.on_delete}" if c.on_delete else ""
        return (f"foreign key {c.name} ({_column_list(c.columns)}) -> {c.ref_table}({_column_list(c.ref_columns)})"
                f"{action}{pending}")
    if c.kind == "check":
        return f"check {c.name} ({c.expression or ''}){pending}"
    return f"{c.kind.replace('_', ' ')} {c.name} ({_column_list(c.columns)})"


def _index(i: Index) -> str:
    kind = "unique index" if i.unique else "index"
    method = f" using {i.method}" if i.method != "btree" else ""
    where = f" where {i.where}" if i.where else ""
    orders = i.orders + [""] * (len(i.columns) - len(i.orders))  # (stacks' balance DESC was shown ascending)
    collations = [f"collate {c}" if c else "" for c in i.collations] + [""] * (len(i.columns) - len(i.collations))
    keys = _column_list([" ".join(filter(None, t)) for t in zip(i.columns, collations, orders)])
    include = f" include ({_column_list(i.include)})" if i.include else ""
    nulls = " nulls not distinct" if i.nulls_not_distinct else ""
    return f"{kind} {i.name}{method} ({keys}){include}{nulls}{where}"


def table_lines(t: Table) -> list[str]:
    """A table's line of columns, then a line for each key, check and index (an index backing a key
    is the key's: not said twice)."""
    cols = ", ".join(f"{c.name} {c.type}{f' COLLATE {c.collation}' if c.collation else ''}"
                     f"{'' if c.nullable else ' NOT NULL'}"
                     f"{f' DEFAULT {c.default}' if c.default else ''}"
                     f"{f' GENERATED ALWAYS AS ({c.generated}) STORED' if c.generated else ''}" for c in t.columns)
    lines = [f"{t.name}({cols})"]
    named = {c.name for c in t.constraints}
    if t.primary_key and not any(c.kind == "primary_key" for c in t.constraints):
        lines.append(f"  primary key ({_column_list(t.primary_key)})")
    lines += [f"  {_constraint(c)}" for c in t.constraints]
    lines += [f"  {_index(i)}" for i in t.indexes if i.name not in named and not i.primary]
    return lines


def schema_lines(schema: Schema) -> list[str]:
    out = [line for t in schema.tables for line in table_lines(t)]
    out += [f"enum {e.name}: {', '.join(e.values)}" for e in schema.enums]
    for v in schema.views:
        kind = "materialized view" if v.materialized else "view"
        out.append(f"{kind} {v.name}{'' if v.populated else ' (WITH NO DATA: holds no rows until a REFRESH)'}")
        out += [f"  {_index(i)}" for i in v.indexes]
    deps = schema.dependencies  # what PostgreSQL says would break if these columns changed
    out += [f"{d.label} uses {d.table}({', '.join(d.columns) or '*'})"
            for d in (deps.dependents if deps else []) if d.kind != "index"]
    out += [f"function {fn.name} ({fn.language}){' for trigger ' + ', '.join(fn.triggers) if fn.triggers else ''}"
            for fn in (deps.functions if deps else [])]
    out += [f"extension {ext}" for ext in schema.extensions]
    return out
