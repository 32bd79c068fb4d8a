"""Read a Prisma schema (`schema.prisma`, or a folder of `.prisma` files) into the Schema model.

The Prisma schema language is not SQL, so it gets a small tokenizer and parser
of its own. The mapping follows what `prisma migrate` creates in PostgreSQL:
models -> tables (@@map), fields -> columns (@map), Prisma's constraint names
(`<table>_pkey`, `<table>_<cols>_key|_idx|_fkey`, from database names, cut to 63
bytes as prisma-engines does), scalar lists as nullable arrays, and no foreign
keys when `relationMode = "prisma"`.
"""

from __future__ import annotations

import json
import os
import re
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ...errors import FluxInputError
from ...model.schema import Column, Constraint, EnumType, Index, Schema, Table, View
from ...pg.types import type_name
from ...pg.quote import ident, literal
from ..normal import default_text, normalise_schema

__all__ = ["read_prisma", "read_prisma_project", "parse_prisma", "pg_object_name", "normalized_default"]

# --------------------------------------------------------------------------
# Tokens and syntax tree
# --------------------------------------------------------------------------

# One token of the Prisma schema language per match; `//` and `///` comments run to the line end.
_TOKEN = re.compile(
    r"""(?P<nl>\n)|(?P<ws>[ \t\r\f\ufeff]+)|(?P<comment>//[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<atat>@@)|(?P<at>@)|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<ident>[A-Za-z_]\w*)"""
    r"""|(?P<punct>[{}()\[\],:=?!.])"""
)


# Values in attribute arguments: strings are str, lists are list, the rest one of these.
Ident = namedtuple("Ident", "name")  # Cascade, USER, true
Num = namedtuple("Num", "text")  # 255, -1.5
Call = namedtuple("Call", "name args")  # now(), dbgenerated("..."), email(ops: raw("..."))
Attr = namedtuple("Attr", "name args")  # @db.VarChar(255) -> ("db.VarChar", [(None, Num("255"))])


@dataclass
class Field:
    name: str
    type: str
    line: int
    type_args: list = field(default_factory=list)
    is_list: bool = False
    optional: bool = False
    attrs: list = field(default_factory=list)


@dataclass
class Block:
    kind: str  # model view type enum datasource generator
    name: str
    file: str
    line: int
    fields: list = field(default_factory=list)
    attrs: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def _unquote(text: str) -> str:
    try:
        return json.loads(text)
    except ValueError:  # an escape JSON does not know: keep the character after the backslash
        return re.sub(r"\\(.)", r"\1", text[1:-1])


def _tokenize(text: str, where: str) -> list[tuple[str, Any, int]]:
    out, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = "unterminated string" if text[pos] == '"' else f"unexpected character {text[pos]!r}"
            raise FluxInputError(f"{where}:{line}: {bad}")
        kind, value = m.lastgroup, m.group()
        if kind not in ("ws", "comment"):
            out.append((kind, _unquote(value) if kind == "string" else value, line))
        line += kind == "nl"
        pos = m.end()
    return out + [("eof", "", line)]


class _Parser:
    def __init__(self, text: str, where: str):
        self.where, self.toks, self.pos = where, _tokenize(text, where), 0

    def peek(self, kind: str, text: Optional[str] = None) -> bool:
        k, v, _ = self.toks[self.pos]
        return k == kind and (text is None or v == text)

    def take(self, kind: str, text: Optional[str] = None) -> Any:
        k, v, line = self.toks[self.pos]
        if not self.peek(kind, text):
            found = {"nl": "end of line", "eof": "end of file"}.get(k, repr(v))
            raise FluxInputError(f"{self.where}:{line}: expected {text or kind}, found {found}")
        self.pos += 1
        return v

    def maybe(self, kind: str, text: Optional[str] = None) -> bool:
        found = self.peek(kind, text)
        self.pos += found
        return found

    def skip_nl(self) -> None:
        while self.maybe("nl"):
            pass

    def blocks(self) -> list[Block]:
        out = []
        while self.skip_nl() or not self.peek("eof"):
            line = self.toks[self.pos][2]
            kw = self.take("ident")
            if kw not in ("model", "view", "type", "enum", "datasource", "generator"):
                raise FluxInputError(f"{self.where}:{line}: unknown block {kw!r}")
            block = Block(kw, self.take("ident"), self.where, line)
            self.take("punct", "{")
            while self.skip_nl() or not self.maybe("punct", "}"):
                self.member(block)
            out.append(block)
        return out

    def member(self, block: Block) -> None:
        if self.maybe("atat"):
            block.attrs.append(self.attr())
            return
        line = self.toks[self.pos][2]
        name = self.take("ident")
        if block.kind in ("datasource", "generator"):
            self.take("punct", "=")
            block.settings[name] = self.value()
            return
        f = Field(name, "" if block.kind == "enum" else self.take("ident"), line)
        if f.type:
            f.type_args = self.args() if self.peek("punct", "(") else []  # Unsupported("tsvector")
            f.is_list = self.maybe("punct", "[") and bool(self.take("punct", "]"))
            f.optional = self.maybe("punct", "?")
            self.maybe("punct", "!")  # the old required marker
        while self.maybe("at"):
            f.attrs.append(self.attr())
        if not (self.peek("nl") or self.peek("punct", "}")):
            raise FluxInputError(f"{self.where}:{line}: unexpected {self.toks[self.pos][1]!r} after {f.name}")
        block.fields.append(f)

    def dotted(self) -> str:
        name = self.take("ident")
        while self.maybe("punct", "."):
            name += "." + self.take("ident")
        return name

    def attr(self) -> Attr:
        name = self.dotted()
        return Attr(name, self.args() if self.peek("punct", "(") else [])

    def args(self) -> list:
        self.take("punct", "(")
        return self.items(")", self.arg)

    def arg(self) -> tuple:
        key = None
        if self.peek("ident") and self.toks[self.pos + 1][:2] == ("punct", ":"):
            key, self.pos = self.take("ident"), self.pos + 1
        return key, self.value()

    def items(self, close: str, item) -> list:
        """Comma-separated items up to `close`; newlines and a trailing comma are allowed."""
        out = []
        while self.skip_nl() or not self.maybe("punct", close):
            out.append(item())
            self.skip_nl()
            if not self.peek("punct", close):
                self.take("punct", ",")
        return out

    def value(self) -> Any:
        self.skip_nl()
        if self.peek("string"):
            return self.take("string")
        if self.peek("number"):
            return Num(self.take("number"))
        if self.maybe("punct", "["):
            return self.items("]", self.value)
        name = self.dotted()
        return Call(name, self.args()) if self.peek("punct", "(") else Ident(name)


def parse_prisma(text: str, where: str = "schema.prisma") -> list[Block]:
    """The blocks of one Prisma schema file."""
    return _Parser(text, where).blocks()


# --------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------


def _prisma_files(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "migrations") and not d.startswith("."))
        found += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".prisma")]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _incomplete(blocks: list[Block]) -> bool:
    """True when a main schema file has no models, or uses types it does not define."""
    defined = {b.name for b in blocks} | set(_SCALARS) | {"Unsupported"}
    models = [b for b in blocks if b.kind in ("model", "view", "type")]
    return not models or any(f.type not in defined for b in models for f in b.fields)


def _read_blocks(file: Path) -> list[Block]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"{file}: cannot read: {exc}") from None
    return parse_prisma(text, str(file))


def read_prisma(path: Path) -> Schema:
    """The schema a Prisma schema file, or a folder of `.prisma` files, describes."""
    path = Path(path)
    if path.is_dir():
        files = _prisma_files(path)
        if not files:
            raise FluxInputError(f"no .prisma files in {path}")
        blocks = [b for f in files for b in _read_blocks(f)]
    elif path.is_file():
        blocks = _read_blocks(path)
        if any(b.kind == "datasource" for b in blocks) and _incomplete(blocks):
            # Multi-file schema named by its main file (prisma/schema.prisma + prisma/models/*.prisma):
            # the other files beside or below it that hold no datasource of their own belong to it.
            for other in _prisma_files(path.parent):
                if other.resolve() != path.resolve():
                    more = _read_blocks(other)
                    if not any(b.kind == "datasource" for b in more):
                        blocks += more
    else:
        raise FluxInputError(f"Prisma schema {path} does not exist")
    return normalise_schema(_build(blocks), in_place=True)


def read_prisma_project(project_dir: Path) -> Schema:
    """Find a project's Prisma schema the way the Prisma CLI does, and read it."""
    root = Path(project_dir)
    candidates = []
    pkg = root / "package.json"
    if pkg.is_file():
        try:
            conf = json.loads(pkg.read_text(encoding="utf-8")).get("prisma")
        except (OSError, ValueError, AttributeError):
            conf = None
        if isinstance(conf, dict) and isinstance(conf.get("schema"), str):
            candidates.append(root / conf["schema"])
    for name in ("prisma.config.ts", "prisma.config.mts", "prisma.config.js", "prisma.config.mjs"):
        cfg = root / name
        if cfg.is_file():  # `schema: "prisma/"` in defineConfig({...})
            text = cfg.read_text(encoding="utf-8", errors="replace")
            found = re.search(r"""\bschema\s*:\s*["'`]([^"'`]+)["'`]""", text)
            if found:
                candidates.append(root / found.group(1))
    candidates += [root / "prisma" / "schema", root / "prisma" / "schema.prisma", root / "schema.prisma"]
    for c in candidates:
        if c.is_file() or (c.is_dir() and _prisma_files(c)):
            return read_prisma(c)
    raise FluxInputError(
        f"no Prisma schema found in {root} (looked for package.json prisma.schema, prisma/schema, prisma/schema.prisma)"
    )


# --------------------------------------------------------------------------
# Mapping to PostgreSQL
# --------------------------------------------------------------------------

_SCALARS = {
    "String": "text", "Int": "integer", "BigInt": "bigint", "Float": "double precision",
    "Decimal": "numeric(65,30)", "Boolean": "boolean", "DateTime": "timestamp(3) without time zone",
    "Json": "jsonb", "Bytes": "bytea",
}  # fmt: skip
_NATIVE = {
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


def _arg(args: list, key: str, pos: Optional[int] = None) -> Any:
    for k, v in args:
        if k == key:
            return v
    positional = [v for k, v in args if k is None]
    return positional[pos] if pos is not None and pos < len(positional) else None


def _attr(attrs: list, name: str) -> Optional[Attr]:
    return next((a for a in attrs if a.name == name), None)


def _str_attr(attrs: list, name: str) -> Optional[str]:
    a = _attr(attrs, name)
    v = _arg(a.args, "name", 0) if a else None
    return v if isinstance(v, str) else None


def _names(value: Any) -> list[str]:
    """Field names of `[a, b(sort: Desc), c(ops: raw("..."))]`."""
    return [v.name for v in (value if isinstance(value, list) else [value]) if isinstance(v, (Ident, Call))]


def _opclasses(value: Any) -> list[str]:
    """Operator classes of `[a, b(ops: JsonbPathOps), c(ops: raw("gin_trgm_ops"))]`, '' for none."""
    out = []
    for v in value if isinstance(value, list) else [value]:
        ops = _arg(v.args, "ops") if isinstance(v, Call) else None
        if isinstance(ops, Call) and ops.name == "raw" and ops.args and isinstance(ops.args[0][1], str):
            out.append(ops.args[0][1])
        elif isinstance(ops, Ident):  # JsonbPathOps -> jsonb_path_ops
            out.append("".join(f"_{c.lower()}" if c.isupper() else c for c in ops.name).lstrip("_"))
        elif isinstance(v, (Ident, Call)):
            out.append("")
    return out if any(out) else []


def _cut(base: str, suffix: str) -> str:
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


def _build(blocks: list[Block]) -> Schema:
    ds = next((b for b in blocks if b.kind == "datasource"), None)
    settings = ds.settings if ds else {}
    provider = settings.get("provider")
    if isinstance(provider, str) and provider not in ("postgresql", "postgres", "cockroachdb"):
        raise FluxInputError(f"{ds.file}:{ds.line}: datasource provider {provider!r} is not PostgreSQL")
    # relationMode = "prisma" (formerly referentialIntegrity) keeps relations out of the database.
    db_fks = settings.get("relationMode", settings.get("referentialIntegrity")) != "prisma"
    enums: dict[str, _Enum] = {}
    for b in (b for b in blocks if b.kind == "enum"):
        schema, name = _str_attr(b.attrs, "schema"), _str_attr(b.attrs, "map") or b.name
        values = {f.name: _str_attr(f.attrs, "map") or f.name for f in b.fields}
        enums[b.name] = _Enum(_qualified(schema, name, False), _qualified(schema, name, True), values)
    models: dict[str, _Model] = {}
    for b in (b for b in blocks if b.kind in ("model", "view")):
        cols = {f.name: _str_attr(f.attrs, "map") or f.name for f in b.fields}
        models[b.name] = _Model(b, _str_attr(b.attrs, "schema"), _str_attr(b.attrs, "map") or b.name, cols)
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
        raw = _arg(f.type_args, "", 0) or ""
        try:
            base = type_name(raw)
        except FluxInputError:
            base = raw
    elif f.type in enums:
        base = enums[f.type].type_text
    elif native is not None:
        kind = native.name[3:]
        if kind not in _NATIVE:
            raise FluxInputError(f"{m.block.file}:{f.line}: unknown native type @{native.name}")
        base, mods = _NATIVE[kind], [v.text for _, v in native.args if isinstance(v, Num)]
        mods = mods or (["1"] if kind in ("Char", "Bit") else [])
        if mods and base.startswith("tim"):  # timestamp(6) with time zone
            head, _, tail = base.partition(" ")
            base = f"{head}({','.join(mods)}) {tail}"
        elif mods:
            base = f"{base}({','.join(mods)})"
    elif f.type in _SCALARS:
        base = _SCALARS[f.type]
    else:
        raise FluxInputError(f"{m.block.file}:{f.line}: unknown type {f.type!r} of field {f.name}")
    return base + ("[]" if f.is_list else "")


def _default(f: Field, m: _Model, col: str, col_type: str, enum: Optional[_Enum]) -> Optional[str]:
    a = _attr(f.attrs, "default")
    v = _arg(a.args, "value", 0) if a else None

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
        sql = _arg(v.args, "", 0) if v.name == "dbgenerated" else None
        # uuid(), cuid(), nanoid(), ulid() are filled in by Prisma Client, not by the database.
        return normalized_default(sql, col_type) if isinstance(sql, str) and sql.strip() else None
    if isinstance(v, list):
        return normalized_default(f"ARRAY[{', '.join(filter(None, map(lit, v)))}]::{col_type}", col_type)
    sql = lit(v)
    return normalized_default(sql, col_type) if sql else None


def _keys(t: Table, m: _Model) -> None:
    """Primary key, unique indexes (Prisma Migrate makes no unique constraints) and indexes."""
    cols = lambda value: [m.columns.get(n, n) for n in _names(value)]  # noqa: E731
    pk, pk_name = [], None
    for f in m.block.fields:
        a = _attr(f.attrs, "id")
        if a is not None:
            pk, pk_name = [m.columns[f.name]], _arg(a.args, "map")
    a = _attr(m.block.attrs, "id")
    if a is not None:
        pk, pk_name = cols(_arg(a.args, "fields", 0)), _arg(a.args, "map")
    if pk:
        pk_name = pk_name or _cut(m.table, "_pkey")
        t.primary_key = pk
        t.indexes.append(Index(name=pk_name, columns=pk, unique=True, primary=True))
        t.constraints.append(Constraint(name=pk_name, kind="primary_key", columns=pk))
        for c in t.columns:
            c.nullable = c.nullable and c.name not in pk
    for f in m.block.fields:
        a = _attr(f.attrs, "unique")
        if a is not None and t.column(m.columns[f.name]) is not None:
            col = m.columns[f.name]
            name = _arg(a.args, "map") or _cut(f"{m.table}_{col}", "_key")
            t.indexes.append(Index(name=name, columns=[col], unique=True))
    for a in m.block.attrs:
        if a.name in ("unique", "index"):
            columns, method = cols(_arg(a.args, "fields", 0)), _arg(a.args, "type")
            # `name:` is the client name on @@unique, but the (legacy) database name on @@index.
            name = _arg(a.args, "map") or (_arg(a.args, "name") if a.name == "index" else None)
            suffix = "_key" if a.name == "unique" else "_idx"
            t.indexes.append(
                Index(
                    name=name or _cut(f"{m.table}_{'_'.join(columns)}", suffix),
                    columns=columns,
                    unique=a.name == "unique",
                    method=_METHODS.get(method.name, method.name.lower()) if isinstance(method, Ident) else "btree",
                    opclasses=_opclasses(_arg(a.args, "fields", 0)),
                )
            )


def _foreign_keys(t: Table, m: _Model, models: dict[str, _Model]) -> None:
    by_name = {f.name: f for f in m.block.fields}
    for f in m.block.fields:
        rel, target = _attr(f.attrs, "relation"), models.get(f.type)
        fields = _names(_arg(rel.args, "fields")) if rel else []
        refs = _names(_arg(rel.args, "references")) if rel else []
        if not fields or not refs or target is None or target.block.kind != "model":
            continue  # the back side of a relation, or one to a view
        columns = [m.columns.get(n, n) for n in fields]
        action = _arg(rel.args, "onDelete")
        if isinstance(action, Ident):
            on_delete = _ACTIONS.get(action.name, action.name.upper())
        else:  # Prisma's default: SetNull when the relation is optional, else Restrict
            on_delete = "SET NULL" if any(by_name[n].optional for n in fields if n in by_name) else "RESTRICT"
        t.constraints.append(
            Constraint(
                name=_arg(rel.args, "map") or _cut(f"{m.table}_{'_'.join(columns)}", "_fkey"),
                kind="foreign_key",
                columns=columns,
                ref_table=target.key,
                ref_columns=[target.columns.get(n, n) for n in refs],
                on_delete=on_delete,
            )
        )
