"""Prisma schema blocks mapped to the Schema model as `prisma migrate` creates them in
PostgreSQL: tables, columns and their types and defaults, keys, indexes and foreign keys, with
Prisma's constraint names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ...errors import FluxInputError
from ...model.schema import Column, Constraint, EnumType, Index, Schema, Table, View
from ...pg.quote import ident, literal
from ...pg.types import type_name
from ..normal import default_text
from ._prisma_parse import Attr, Block, Call, Field, Ident, Num

__all__ = ["NATIVE", "SCALARS", "build_schema", "cut_name", "field_names", "find_arg", "normalized_default",
           "pg_object_name", "str_attr"]

SCALARS = {
    "String": "text", "Int": "integer", "BigInt": "bigint", "Float": "double precision",
    "Decimal": "numeric(65,30)", "Boolean": "boolean", "DateTime": "timestamp(3) without time zone",
    "Json": "jsonb", "Bytes": "bytea",
}  # fmt: skip
NATIVE = {
    "Text": "text", "Uuid": "uuid", "Xml": "xml", "Inet": "inet", "Citext": "citext", "Boolean": "boolean",
    "Integer": "integer", "SmallInt": "smallint", "Oid": "oid", "BigInt": "bigint", "Real": "real",
    "DoublePrecision": "double precision", "Money": "money", "Date": "date", "Json": "json",
    "JsonB": "jsonb", "ByteA": "bytea",
    # with modifiers: @db.VarChar(255), @db.Timestamptz(6), @db.Decimal(10, 2)
    "VarChar": "character varying", "Char": "character", "Bit": "bit", "VarBit": "bit varying",
    "Decimal": "numeric", "Timestamp": "timestamp without time zone",
    "Timestamptz": "timestamp with time zone", "Time": "time without time zone", "Timetz": "time with time zone",
}  # fmt: skip
_ACTIONS = {
    "Cascade": "CASCADE", "Restrict": "RESTRICT", "SetNull": "SET NULL", "SetDefault": "SET DEFAULT", "NoAction": None,
}  # fmt: skip
_METHODS = {"BTree": "btree", "Hash": "hash", "Gin": "gin", "Gist": "gist", "SpGist": "spgist", "Brin": "brin"}
_LIMIT = 63  # PostgreSQL identifier length, which prisma-engines cuts default names to


def find_arg(args: list, key: str, pos: Optional[int] = None) -> Any:
    for k, v in args:
        if k == key:
            return v
    positional = [v for k, v in args if k is None]
    return positional[pos] if pos is not None and pos < len(positional) else None


def _attr(attrs: list, name: str) -> Optional[Attr]:
    return next((a for a in attrs if a.name == name), None)


def str_attr(attrs: list, name: str) -> Optional[str]:
    a = _attr(attrs, name)
    v = find_arg(a.args, "name", 0) if a else None
    return v if isinstance(v, str) else None


def field_names(value: Any) -> list[str]:
    """Field names of `[a, b(sort: Desc), c(ops: raw("..."))]`."""
    return [v.name for v in (value if isinstance(value, list) else [value]) if isinstance(v, (Ident, Call))]


def _opclasses(value: Any) -> list[str]:
    """Operator classes of `[a, b(ops: JsonbPathOps), c(ops: raw("gin_trgm_ops"))]`, '' for none."""
    out = []
    for v in value if isinstance(value, list) else [value]:
        ops = find_arg(v.args, "ops") if isinstance(v, Call) else None
        if isinstance(ops, Call) and ops.name == "raw" and ops.args and isinstance(ops.args[0][1], str):
            out.append(ops.args[0][1])
        elif isinstance(ops, Ident):  # JsonbPathOps -> jsonb_path_ops
            out.append("".join(f"_{c.lower()}" if c.isupper() else c for c in ops.name).lstrip("_"))
        elif isinstance(v, (Ident, Call)):
            out.append("")
    return out if any(out) else []


def _sort_orders(value: Any) -> list[str]:
    """Sort orders of `[a, b(sort: Desc)]` as the catalogs print them (Index.orders), '' for ascending."""
    out = []
    for v in value if isinstance(value, list) else [value]:
        sort = find_arg(v.args, "sort") if isinstance(v, Call) else None
        if isinstance(v, (Ident, Call)):
            out.append("DESC" if isinstance(sort, Ident) and sort.name == "Desc" else "")
    return out if any(out) else []


def cut_name(base: str, suffix: str) -> str:
    """prisma-engines ConstraintNames: cut the name before the suffix to fit 63 bytes."""
    room = _LIMIT - len(suffix)
    return (base[:room] if len(base) >= room else base) + suffix


def pg_object_name(name1: str, name2: Optional[str], label: str) -> str:
    """PostgreSQL's makeObjectName: name1_name2_label, shortening the longer part to fit 63 bytes."""
    n1, n2 = len(name1), len(name2 or "")
    while n1 + n2 > _LIMIT - len(label) - 1 - (1 if name2 else 0):
        n1, n2 = (n1 - 1, n2) if n1 > n2 else (n1, n2 - 1)
    return "_".join(filter(None, (name1[:n1], (name2 or "")[:n2], label)))


def _qualified(schema: Optional[str], name: str, quote: bool) -> str:
    """Schema model key (quote=False) or SQL text (quote=True) of an object, bare when in public."""
    q = ident if quote else (lambda s: s)
    return q(name) if schema in (None, "public") else f"{q(schema)}.{q(name)}"


def normalized_default(sql: str, column_type: Optional[str] = None) -> str:
    """An expression in the normal form every reader gives (flux_agent.schema.normal); a
    default is read as assigned to `column_type`. Text that does not parse is kept."""
    try:
        return default_text(sql, column_type)
    except FluxInputError:
        return sql


@dataclass
class _Model:
    block: Block
    schema: Optional[str]
    table: str  # database name, unqualified
    columns: dict  # field name -> column name

    @property
    def key(self) -> str:
        return _qualified(self.schema, self.table, False)


@dataclass
class _Enum:
    key: str
    type_text: str
    values: dict  # Prisma value -> database value


def _extensions(value: Any) -> list[str]:
    """The datasource's `extensions = [citext, pg_trgm, uuidOssp(map: "uuid-ossp")]`: the names
    PostgreSQL knows them by."""
    names = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, Call):
            mapped = next((a for a in item.args if isinstance(a, tuple) and len(a) == 2 and a[0] == "map"), None)
            names.append(str(mapped[1]) if mapped else item.name)
        elif isinstance(item, Ident):
            names.append(item.name)
    return sorted(set(names))


def build_schema(blocks: list[Block]) -> Schema:
    ds = next((b for b in blocks if b.kind == "datasource"), None)
    settings = ds.settings if ds else {}
    provider = settings.get("provider")
    if isinstance(provider, str) and provider not in ("postgresql", "postgres", "cockroachdb"):
        raise FluxInputError(f"{ds.file}:{ds.line}: datasource provider {provider!r} is not PostgreSQL")
    # relationMode = "prisma" (formerly referentialIntegrity) keeps relations out of the database.
    db_fks = settings.get("relationMode", settings.get("referentialIntegrity")) != "prisma"
    enums: dict[str, _Enum] = {}
    for b in (b for b in blocks if b.kind == "enum"):
        schema, name = str_attr(b.attrs, "schema"), str_attr(b.attrs, "map") or b.name
        values = {f.name: str_attr(f.attrs, "map") or f.name for f in b.fields}
        enums[b.name] = _Enum(_qualified(schema, name, False), _qualified(schema, name, True), values)
    models: dict[str, _Model] = {}
    for b in (b for b in blocks if b.kind in ("model", "view")):
        cols = {f.name: str_attr(f.attrs, "map") or f.name for f in b.fields}
        models[b.name] = _Model(b, str_attr(b.attrs, "schema"), str_attr(b.attrs, "map") or b.name, cols)
    skip = set(models) | {b.name for b in blocks if b.kind == "type"}  # relations, MongoDB composites
    out = Schema(enums=[EnumType(name=e.key, values=list(e.values.values())) for e in enums.values()],
                 extensions=_extensions(settings.get("extensions")))
    for m in models.values():
        if m.block.kind == "view":
            out.views.append(View(name=m.key))
            continue
        t = Table(name=m.key)
        for f in m.block.fields:
            if f.type not in skip:
                col, ctype = m.columns[f.name], _column_type(f, m, enums)
                # Scalar lists are created without NOT NULL by Prisma Migrate.
                default = _default(f, m, col, ctype, enums.get(f.type))
                t.columns.append(Column(name=col, type=ctype, nullable=f.optional or f.is_list, default=default))
        _keys(t, m)
        if db_fks:
            _foreign_keys(t, m, models)
        out.tables.append(t)
    return out


def _column_type(f: Field, m: _Model, enums: dict[str, _Enum]) -> str:
    native = next((a for a in f.attrs if a.name.startswith("db.")), None)
    if f.type == "Unsupported":
        raw = find_arg(f.type_args, "", 0) or ""
        try:
            base = type_name(raw)
        except FluxInputError:
            base = raw
    elif f.type in enums:
        base = enums[f.type].type_text
    elif native is not None:
        kind = native.name[3:]
        if kind not in NATIVE:
            raise FluxInputError(f"{m.block.file}:{f.line}: unknown native type @{native.name}")
        base, mods = NATIVE[kind], [v.text for _, v in native.args if isinstance(v, Num)]
        mods = mods or (["1"] if kind in ("Char", "Bit") else [])
        if mods and base.startswith("tim"):  # timestamp(6) with time zone
            head, _, tail = base.partition(" ")
            base = f"{head}({','.join(mods)}) {tail}"
        elif mods:
            base = f"{base}({','.join(mods)})"
    elif f.type in SCALARS:
        base = SCALARS[f.type]
    else:
        raise FluxInputError(f"{m.block.file}:{f.line}: unknown type {f.type!r} of field {f.name}")
    return base + ("[]" if f.is_list else "")


def _default(f: Field, m: _Model, col: str, col_type: str, enum: Optional[_Enum]) -> Optional[str]:
    a = _attr(f.attrs, "default")
    v = find_arg(a.args, "value", 0) if a else None

    def lit(x: Any) -> Optional[str]:
        if isinstance(x, Num):
            return x.text
        if isinstance(x, Ident):
            if x.name in ("true", "false"):
                return x.name
            return literal(enum.values.get(x.name, x.name) if enum else x.name)  # an enum value
        return literal(x) if isinstance(x, str) else None

    if isinstance(v, Call):
        if v.name == "autoincrement":  # SERIAL
            seq = _qualified(m.schema, pg_object_name(m.table, col, "seq"), True)
            return f"nextval({literal(seq)}::regclass)"
        if v.name == "now":
            return "CURRENT_TIMESTAMP"
        sql = find_arg(v.args, "", 0) if v.name == "dbgenerated" else None
        # uuid(), cuid(), nanoid(), ulid() are filled in by Prisma Client, not by the database.
        return normalized_default(sql, col_type) if isinstance(sql, str) and sql.strip() else None
    if isinstance(v, list):
        return normalized_default(f"ARRAY[{', '.join(filter(None, map(lit, v)))}]::{col_type}", col_type)
    sql = lit(v)
    return normalized_default(sql, col_type) if sql else None


def _keys(t: Table, m: _Model) -> None:
    """Primary key, unique indexes (Prisma Migrate makes no unique constraints) and indexes."""
    cols = lambda value: [m.columns.get(n, n) for n in field_names(value)]  # noqa: E731
    pk, pk_name = [], None
    for f in m.block.fields:
        a = _attr(f.attrs, "id")
        if a is not None:
            pk, pk_name = [m.columns[f.name]], find_arg(a.args, "map")
    a = _attr(m.block.attrs, "id")
    if a is not None:
        pk, pk_name = cols(find_arg(a.args, "fields", 0)), find_arg(a.args, "map")
    if pk:
        pk_name = pk_name or cut_name(m.table, "_pkey")
        t.primary_key = pk
        t.indexes.append(Index(name=pk_name, columns=pk, unique=True, primary=True))
        t.constraints.append(Constraint(name=pk_name, kind="primary_key", columns=pk))
        for c in t.columns:
            c.nullable = c.nullable and c.name not in pk
    for f in m.block.fields:
        a = _attr(f.attrs, "unique")
        if a is not None and t.column(m.columns[f.name]) is not None:
            col = m.columns[f.name]
            name = find_arg(a.args, "map") or cut_name(f"{m.table}_{col}", "_key")
            t.indexes.append(Index(name=name, columns=[col], unique=True))
    for a in m.block.attrs:
        if a.name in ("unique", "index"):
            columns, method = cols(find_arg(a.args, "fields", 0)), find_arg(a.args, "type")
            # `name:` is the client name on @@unique, but the (legacy) database name on @@index.
            name = find_arg(a.args, "map") or (find_arg(a.args, "name") if a.name == "index" else None)
            suffix = "_key" if a.name == "unique" else "_idx"
            t.indexes.append(
                Index(
                    name=name or cut_name(f"{m.table}_{'_'.join(columns)}", suffix),
                    columns=columns,
                    unique=a.name == "unique",
                    method=_METHODS.get(method.name, method.name.lower()) if isinstance(method, Ident) else "btree",
                    opclasses=_opclasses(find_arg(a.args, "fields", 0)),
                    orders=_sort_orders(find_arg(a.args, "fields", 0)),
                )
            )


def _foreign_keys(t: Table, m: _Model, models: dict[str, _Model]) -> None:
    by_name = {f.name: f for f in m.block.fields}
    for f in m.block.fields:
        rel, target = _attr(f.attrs, "relation"), models.get(f.type)
        fields = field_names(find_arg(rel.args, "fields")) if rel else []
        refs = field_names(find_arg(rel.args, "references")) if rel else []
        if not fields or not refs or target is None or target.block.kind != "model":
            continue  # the back side of a relation, or one to a view
        columns = [m.columns.get(n, n) for n in fields]
        action = find_arg(rel.args, "onDelete")
        if isinstance(action, Ident):
            on_delete = _ACTIONS.get(action.name, action.name.upper())
        else:  # Prisma's default: SetNull when the relation is optional, else Restrict
            on_delete = "SET NULL" if any(by_name[n].optional for n in fields if n in by_name) else "RESTRICT"
        update = find_arg(rel.args, "onUpdate")  # Prisma's default: Cascade
        on_update = _ACTIONS.get(update.name, update.name.upper()) if isinstance(update, Ident) else "CASCADE"
        t.constraints.append(
            Constraint(
                name=find_arg(rel.args, "map") or cut_name(f"{m.table}_{'_'.join(columns)}", "_fkey"),
                kind="foreign_key",
                columns=columns,
                ref_table=target.key,
                ref_columns=[target.columns.get(n, n) for n in refs],
                on_delete=on_delete,
                on_update=None if on_update == "NO ACTION" else on_update,
            )
        )
