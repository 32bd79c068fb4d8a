"""Read drizzle-kit's latest PostgreSQL snapshot (`meta/NNNN_snapshot.json`) into the Schema model.

drizzle-kit stores the whole schema after each migration as JSON (snapshot
versions 5, 6 and 7), so no SQL is replayed here: tables, columns, indexes,
primary / unique / foreign-key / check constraints, enums and views map
straight across. Types are canonicalised with `flux_agent.pg.types.type_name`
and defaults printed as the SQL replay reader prints them, so a snapshot and
a replay of the same migrations compare equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from ...errors import FluxInputError
from ...model.schema import Column, Constraint, EnumType, Index, Schema, Table, View, sort_order
from ...pg.types import type_name
from ...pg.parse import column_refs, parse_expr
from ...pg.quote import ident, literal
from ..normal import normalise_schema
from ._prisma_map import normalized_default, pg_object_name

__all__ = ["read_drizzle_snapshot", "latest_snapshot", "schema_from_snapshot"]

_SERIALS = {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint",
            "serial4": "integer", "serial8": "bigint", "serial2": "smallint"}  # fmt: skip
_NO_ACTION = {None, "", "no action"}


def latest_snapshot(out_dir: Path) -> Path:
    """The newest snapshot of a drizzle-kit `out` folder (or of its `meta` folder)."""
    out_dir = Path(out_dir)
    meta = out_dir / "meta" if (out_dir / "meta").is_dir() else out_dir
    if not meta.is_dir():
        raise FluxInputError(f"drizzle folder {out_dir} does not exist")
    journal = meta / "_journal.json"
    if journal.is_file():
        try:
            entries = json.loads(journal.read_text(encoding="utf-8")).get("entries") or []
        except (OSError, ValueError, AttributeError) as exc:
            raise FluxInputError(f"{journal}: cannot read: {exc}") from None
        if entries:
            last = entries[-1]
            number = last.get("idx") if isinstance(last.get("idx"), int) else str(last.get("tag", "")).split("_")[0]
            candidate = meta / f"{int(number):04d}_snapshot.json" if str(number).isdigit() else None
            if candidate is not None and candidate.is_file():
                return candidate
    numbered = [p for p in meta.glob("*_snapshot.json") if p.name.split("_")[0].isdigit()]
    if not numbered:
        raise FluxInputError(f"no NNNN_snapshot.json in {meta}")
    return max(numbered, key=lambda p: (int(p.name.split("_")[0]), p.name))


def read_drizzle_snapshot(out_dir: Path) -> Schema:
    """The schema in the newest drizzle-kit snapshot under `out_dir` (or a snapshot file itself)."""
    path = Path(out_dir)
    file = path if path.is_file() else latest_snapshot(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FluxInputError(f"{file}: cannot read: {exc}") from None
    try:
        return schema_from_snapshot(data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise FluxInputError(f"{file}: not a drizzle-kit PostgreSQL snapshot ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------


def _key(schema: Optional[str], name: str) -> str:
    return name if schema in (None, "", "public") else f"{schema}.{name}"


def _type_text(schema: Optional[str], name: str) -> str:
    return ident(name) if schema in (None, "", "public") else f"{ident(schema)}.{ident(name)}"


def _canonical(text: str) -> str:
    try:
        return type_name(text)
    except FluxInputError:
        return text  # a type pglast cannot read stays as drizzle wrote it


def _sql_default(value: Any) -> Optional[str]:
    """drizzle keeps booleans and numbers as JSON values, everything else as SQL text."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    return normalized_default(str(value))


def _name(name: str) -> str:
    """PostgreSQL keeps 63 bytes of a longer name; drizzle's snapshot keeps it whole."""
    return name.encode()[:63].decode(errors="ignore")


def _values(cols: Any) -> list:
    return list(cols.values()) if isinstance(cols, dict) else list(cols or [])


def schema_from_snapshot(data: dict) -> Schema:
    dialect = data.get("dialect")
    if dialect not in ("pg", "postgresql", None):
        raise FluxInputError(f"drizzle snapshot dialect {dialect!r} is not PostgreSQL")
    out = Schema()
    enum_types: dict[tuple[str, str], str] = {}  # (schema, name) -> type text
    for e in _values(data.get("enums")):
        schema = e.get("schema") or "public"
        values = e.get("values")
        # version 5 keeps values as {"a": "a"}, later versions as a list
        out.enums.append(EnumType(name=_key(schema, e["name"]), values=_values(values)))
        enum_types[(schema, e["name"])] = _type_text(schema, e["name"])
    for t in _values(data.get("tables")):
        out.tables.append(_table(t, enum_types))
    for v in _values(data.get("views")):
        if not v.get("isExisting"):
            out.views.append(View(name=_key(v.get("schema"), v["name"]), definition=v.get("definition"),
                                  materialized=bool(v.get("materialized")), populated=not v.get("withNoData")))
    return normalise_schema(out, in_place=True)


def _column(tname: str, schema: str, c: dict, enum_types: dict) -> Column:
    raw = str(c["type"]).strip()
    base, dims = raw, ""
    while base.endswith("[]"):
        base, dims = base[:-2].rstrip(), dims + "[]"
    enum_schema = c.get("typeSchema") or "public"
    nullable = not c.get("notNull", False) and not c.get("primaryKey", False)
    default = _sql_default(c.get("default"))
    if (enum_schema, base) in enum_types:
        ctype = enum_types[(enum_schema, base)] + dims
    elif base.lower() in _SERIALS and not dims:
        ctype, nullable = _SERIALS[base.lower()], False
        seq = pg_object_name(tname, c["name"], "seq")
        seq_text = ident(seq) if schema in ("", "public") else f"{ident(schema)}.{ident(seq)}"
        default = f"nextval({literal(seq_text)}::regclass)"
    else:
        ctype = _canonical(raw)
    if c.get("identity") or c.get("generated"):
        default = None  # identity: a sequence, no pg_attrdef entry; generated: not a default
        nullable = nullable and not c.get("identity")
    generated = c.get("generated")  # {"as": "<expression>", "type": "stored"}
    generated = normalized_default(generated["as"]) if isinstance(generated, dict) and generated.get("as") else None
    return Column(name=c["name"], type=ctype, nullable=nullable, default=default, generated=generated)


def _orders(columns: list) -> list[str]:
    """Each snapshot index column's `asc` and `nulls` as the catalogs print its order (Index.orders)."""
    out = []
    for c in columns:
        asc = not isinstance(c, dict) or c.get("asc", True) is not False
        first = isinstance(c, dict) and c.get("nulls") == "first"
        out.append(sort_order(not asc, first))
    return out if any(out) else []


def _index_column(col: Any) -> str:
    if isinstance(col, str):  # version 5: plain column names
        return col
    expr = col.get("expression", "")
    return normalized_default(expr) if col.get("isExpression") else expr


def _check_columns(expression: str, table: Table) -> list[str]:
    try:
        refs = column_refs(parse_expr(expression, "check"))
    except FluxInputError:
        return []
    return [c.name for c in table.columns if c.name in refs]


def _table(t: dict, enum_types: dict) -> Table:
    schema, tname = t.get("schema") or "", t["name"]
    table = Table(name=_key(schema, tname))
    for c in _values(t.get("columns")):
        table.columns.append(_column(tname, schema, c, enum_types))

    pk_cols = [c["name"] for c in _values(t.get("columns")) if c.get("primaryKey")]
    pk_name = pg_object_name(tname, None, "pkey")
    for pk in _values(t.get("compositePrimaryKeys")):
        if isinstance(pk, str):  # squashed "col1,col2;name"
            cols, _, name = pk.partition(";")
            pk = {"columns": cols.split(","), "name": name}
        pk_cols, pk_name = list(pk["columns"]), _name(pk.get("name") or pk_name)
    if pk_cols:
        table.primary_key = pk_cols
        table.indexes.append(Index(name=pk_name, columns=pk_cols, unique=True, primary=True))
        table.constraints.append(Constraint(name=pk_name, kind="primary_key", columns=pk_cols))
        for col in table.columns:
            col.nullable = col.nullable and col.name not in pk_cols

    uniques = [
        {"name": c.get("uniqueName") or f"{tname}_{c['name']}_unique", "columns": [c["name"]]}
        for c in _values(t.get("columns"))
        if c.get("isUnique")
    ] + _values(t.get("uniqueConstraints"))
    for u in uniques:
        table.indexes.append(Index(name=_name(u["name"]), columns=list(u["columns"]), unique=True))
        table.constraints.append(Constraint(name=_name(u["name"]), kind="unique", columns=list(u["columns"])))

    for i in _values(t.get("indexes")):
        where = i.get("where")
        table.indexes.append(
            Index(
                name=_name(i["name"]),
                columns=[_index_column(c) for c in i.get("columns", [])],
                unique=bool(i.get("isUnique")),
                method=i.get("method") or "btree",
                where=normalized_default(where) if where else None,
                orders=_orders(i.get("columns", [])),
            )
        )

    for fk in _values(t.get("foreignKeys")):
        on_delete = (fk.get("onDelete") or "").lower()
        on_update = (fk.get("onUpdate") or "").lower()
        table.constraints.append(
            Constraint(
                name=_name(fk["name"]),
                kind="foreign_key",
                columns=list(fk["columnsFrom"]),
                ref_table=_key(fk.get("schemaTo"), fk["tableTo"]),
                ref_columns=list(fk["columnsTo"]),
                on_delete=None if on_delete in _NO_ACTION else on_delete.upper(),
                on_update=None if on_update in _NO_ACTION else on_update.upper(),
            )
        )

    for ck in _values(t.get("checkConstraints")):
        expression, columns = normalized_default(ck["value"]), _check_columns(ck["value"], table)
        check = Constraint(name=_name(ck["name"]), kind="check", columns=columns, expression=expression)
        table.constraints.append(check)
    return table
