"""Edit a schema.prisma text so it describes the database after each of a plan's operations, locating models, fields and attributes with the Prisma reader's own tokenizer and parser (line-level edits; the rest of the file is kept byte for byte)."""

from __future__ import annotations

import json
import re

from ...errors import FluxInputError
from ...pg.quote import split_qualified
from ...pg.types import type_name
from ...plan.ops._base import short_name
from ...schema.normal import normalise_schema
from ...schema.readers._prisma_map import NATIVE, build_schema, cut_name, field_names, find_arg, str_attr
from ...schema.readers._prisma_parse import TOKEN, Attr, Call, Field, Ident, Num, parse_prisma, tokenize


class Cannot(Exception):
    """An operation the schema cannot express: the message says what to do by hand."""


_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NATIVE_OF = {v: k for k, v in NATIVE.items()}
_SCALAR_OF = {"text": "String", "integer": "Int", "bigint": "BigInt", "double precision": "Float",
              "numeric(65,30)": "Decimal", "boolean": "Boolean", "timestamp(3) without time zone": "DateTime",
              "jsonb": "Json", "bytea": "Bytes"}
_BASE = {"String": ("character varying", "character", "text", "uuid", "xml", "inet", "citext", "bit", "bit varying"),
         "Int": ("integer", "smallint", "oid"), "BigInt": ("bigint",), "Float": ("double precision", "real"),
         "Decimal": ("numeric", "money"), "Boolean": ("boolean",), "Json": ("json", "jsonb"), "Bytes": ("bytea",),
         "DateTime": ("timestamp without time zone", "timestamp with time zone", "date", "time without time zone",
                      "time with time zone")}
_SERIAL = {"serial": "Int", "serial4": "Int", "bigserial": "BigInt", "serial8": "BigInt"}
_ACTION = {None: "NoAction", "NO ACTION": "NoAction", "CASCADE": "Cascade", "RESTRICT": "Restrict",
           "SET NULL": "SetNull", "SET DEFAULT": "SetDefault"}


# --------------------------------------------------------------------------
# Rendering parsed values back to schema text
# --------------------------------------------------------------------------

def value_text(v) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Num):
        return v.text
    if isinstance(v, Ident):
        return v.name
    if isinstance(v, Call):
        return f"{v.name}({args_text(v.args)})"
    return "[" + ", ".join(value_text(x) for x in v) + "]"


def args_text(args: list) -> str:
    return ", ".join(f"{k}: {value_text(v)}" if k else value_text(v) for k, v in args)


def attr_text(a: Attr, at: str = "@") -> str:
    return f"{at}{a.name}({args_text(a.args)})" if a.args or a.name in ("default",) else f"{at}{a.name}"


def _set_arg(args: list, key: str, value) -> list:
    """args with `key:` set (None removes it)."""
    out = [(k, v) for k, v in args if k != key]
    return out + [(key, value)] if value is not None else out


# --------------------------------------------------------------------------
# Locating blocks and lines
# --------------------------------------------------------------------------

def _split_comment(line: str) -> tuple[str, str]:
    """(code, trailing comment) of one line, strings respected."""
    pos = 0
    while pos < len(line):
        m = TOKEN.match(line, pos)
        if m is None:
            break
        if m.lastgroup == "comment":
            return line[:m.start()].rstrip(), " " + line[m.start():]
        pos = m.end()
    return line.rstrip(), ""


class Doc:
    """One schema.prisma text as lines, re-parsed after every edit."""

    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)
        self.parse()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def parse(self) -> None:
        text = self.text
        self.blocks = parse_prisma(text)
        ends, depth = [], 0
        for kind, value, line in tokenize(text, "schema.prisma"):
            if kind == "punct" and value == "{":
                depth += 1
            elif kind == "punct" and value == "}":
                depth -= 1
                if depth == 0:
                    ends.append(line)
        self.ends = dict(zip((id(b) for b in self.blocks), ends))

    def end(self, block) -> int:
        return self.ends[id(block)]

    def model(self, table: str):
        schema, name = split_qualified(table)
        for b in self.blocks:
            if b.kind == "model" and (str_attr(b.attrs, "map") or b.name) == name and \
                    (str_attr(b.attrs, "schema") or "public") == (schema or "public"):
                return b
        raise Cannot(f"no model in the Prisma schema maps table {name}")

    def enum(self, pg_type: str):
        name = split_qualified(pg_type)[1].strip('"')
        return next((b for b in self.blocks if b.kind == "enum" and (str_attr(b.attrs, "map") or b.name) == name),
                    None)

    @staticmethod
    def columns(block) -> dict[str, str]:
        return {f.name: str_attr(f.attrs, "map") or f.name for f in block.fields}

    def field(self, block, column: str) -> Field:
        f = next((f for f in block.fields if (str_attr(f.attrs, "map") or f.name) == column), None)
        if f is None:
            raise Cannot(f"model {block.name} has no field for column {column}")
        return f

    def line(self, n: int) -> str:
        return self.lines[n - 1]

    def replace(self, n: int, text: str | None) -> None:
        """Line n (1-based) replaced by `text` (its own lines), or deleted when None."""
        self.lines[n - 1:n] = [] if text is None else [text.rstrip("\n") + "\n"]
        self.parse()

    def insert(self, before: int, text: str) -> None:
        self.lines[before - 1:before - 1] = [text.rstrip("\n") + "\n"]
        self.parse()

    def block_attr_lines(self, block) -> list[tuple[int, Attr]]:
        """(line, attribute) of each one-line `@@` attribute of the block."""
        out = []
        for n in range(block.line + 1, self.end(block)):
            code = _split_comment(self.line(n))[0].strip()
            if code.startswith("@@"):
                try:
                    parsed = parse_prisma(f"model X {{\n{code}\n}}")[0].attrs
                except FluxInputError:
                    continue
                out += [(n, a) for a in parsed]
        return out

    def indent(self, block) -> str:
        f = block.fields[0] if block.fields else None
        return re.match(r"\s*", self.line(f.line)).group() if f else "  "

    def add_member(self, block, text: str, attribute: bool = False) -> None:
        """A field after the last field (an `@@` attribute before the closing brace)."""
        at = self.end(block) if attribute or not block.fields else max(f.line for f in block.fields) + 1
        self.insert(at, self.indent(block) + text)

    # Field lines ----------------------------------------------------------

    def field_text(self, f: Field, old_line: str) -> str:
        code, comment = _split_comment(old_line)
        indent = re.match(r"\s*", code).group()
        m = re.match(r"\s*\S+(\s+)", code)
        width = len(m.group()) - len(indent) if m else len(f.name) + 1
        typ = f.type + (f"({args_text(f.type_args)})" if f.type_args else "") + ("[]" if f.is_list else "") + \
            ("?" if f.optional else "")
        head = f.name.ljust(max(width - 1, len(f.name))) + " " + typ
        tail = " ".join(attr_text(a) for a in f.attrs)
        typ_m = re.match(r"\s*\S+\s+\S+(\s+)", code)
        gap = typ_m.group(1) if typ_m and len(f.attrs) else " "
        return indent + head + (gap + tail if tail else "") + comment

    def set_field(self, f: Field) -> None:
        self.replace(f.line, self.field_text(f, self.line(f.line)))


# --------------------------------------------------------------------------
# Types, defaults, names
# --------------------------------------------------------------------------

def prisma_type(doc: Doc, pg: str) -> tuple[str, list[Attr], bool]:
    """(Prisma type, its @db attribute if any, is_list) of a PostgreSQL type."""
    raw = pg.strip()
    if raw.lower() in _SERIAL:
        return _SERIAL[raw.lower()], [], False
    canon = type_name(raw)
    is_list = canon.endswith("[]")
    canon = canon[:-2] if is_list else canon
    enum = doc.enum(canon)
    if enum is not None:
        return enum.name, [], is_list
    if canon in _SCALAR_OF:
        return _SCALAR_OF[canon], [], is_list
    m = re.match(r"^(time(?:stamp)?)(?:\((\d+)\))?( with(?:out)? time zone)$", canon)
    base, mods = (m.group(1) + m.group(3), [m.group(2) or "6"]) if m else (canon, [])
    if not m and (p := re.match(r"^([a-z ]+)\(([\d, ]+)\)$", canon)):
        base, mods = p.group(1), [x.strip() for x in p.group(2).split(",")]
    native = _NATIVE_OF.get(base)
    scalar = next((s for s, bases in _BASE.items() if base in bases), None)
    if native is None or scalar is None:
        return f'Unsupported("{canon}")', [], is_list
    # `numeric` alone is `@db.Decimal` without arguments (Prisma's own introspection of it; the
    # client reads it as a Decimal), not Decimal's default, numeric(65,30)
    return scalar, [Attr(f"db.{native}", [(None, Num(x)) for x in mods])], is_list


def prisma_default(sql: str, scalar: str, enum=None):
    """The @default value for a SQL default expression."""
    text = sql.strip()
    bare = re.sub(r"::[\w .\"\[\]()]+$", "", text).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", bare):
        return Num(bare)
    if bare.lower() in ("true", "false"):
        return Ident(bare.lower())
    if re.fullmatch(r"'(?:[^']|'')*'", bare):
        value = bare[1:-1].replace("''", "'")
        if enum is not None:
            return Ident(next((f.name for f in enum.fields if (str_attr(f.attrs, "map") or f.name) == value), value))
        if scalar in ("String",):
            return value
    if scalar == "DateTime" and bare.lower() in ("now()", "current_timestamp", "current_timestamp(3)"):
        return Call("now", [])
    return Call("dbgenerated", [(None, text)])


def field_name(column: str) -> tuple[str, str | None]:
    """(field name, @map value or None) for a column name."""
    if _IDENT.match(column):
        return column, None
    name = re.sub(r"\W", "_", column).lstrip("_0123456789") or "field"
    return name, column


def default_index_name(table: str, columns: list[str], suffix: str) -> str:
    """Prisma's name for an index or constraint of a model (prisma-engines ConstraintNames)."""
    return cut_name(f"{table}_{'_'.join(columns)}", f"_{suffix}")


def flux_name(table: str, columns: list[str], suffix: str) -> str:
    """The name Flux's planner gives the same object when the request names none."""
    return short_name(split_qualified(table)[1], *columns, suffix=suffix)


def _table(block) -> str:
    return str_attr(block.attrs, "map") or block.name


def _field_for(doc: Doc, block, column: str, pg_type: str, nullable: bool, default: str | None,
               primary: bool = False) -> str:
    name, mapped = field_name(column)
    if name in {f.name for f in block.fields} if block is not None else False:
        raise Cannot(f"model {block.name} already has a field named {name}")
    scalar, native, is_list = prisma_type(doc, pg_type)
    attrs = ([Attr("id", [])] if primary else []) + native
    enum = doc.enum(type_name(pg_type)) if pg_type.strip().lower() not in _SERIAL else None
    if pg_type.strip().lower() in _SERIAL:
        attrs.append(Attr("default", [(None, Call("autoincrement", []))]))
    elif default is not None:
        attrs.append(Attr("default", [(None, prisma_default(default, scalar, enum))]))
    if mapped:
        attrs.append(Attr("map", [(None, mapped)]))
    f = Field(name, scalar, 0, [], is_list, nullable and not primary and not is_list, attrs)
    return doc.field_text(f, f"{name} {scalar}")


def _set_map(doc: Doc, block, kind: str, columns: list[str], name: str, now: str | None = None) -> bool:
    """Set `map:` of the key, unique, index or relation of `block` on exactly `columns`: of the
    @@index or @@unique among several on them whose map is `now` (its name now), else of one with no map."""
    cols = Doc.columns(block)
    for f in block.fields:
        for i, a in enumerate(f.attrs):
            on = [cols[f.name]] if a.name in ("id", "unique") else \
                [cols.get(n, n) for n in field_names(find_arg(a.args, "fields"))] if a.name == "relation" else None
            if on == columns and a.name == {"primary": "id", "unique": "unique", "fkey": "relation"}.get(kind):
                f.attrs[i] = Attr(a.name, _set_arg(a.args, "map", name))
                doc.set_field(f)
                return True
    lines = [(n, a) for n, a in doc.block_attr_lines(block)
             if [cols.get(x, x) for x in field_names(find_arg(a.args, "fields", 0))] == columns
             and a.name == {"primary": "id", "unique": "unique", "index": "index"}.get(kind)]
    lines.sort(key=lambda line: (find_arg(line[1].args, "map") != now, find_arg(line[1].args, "map") is not None))
    for n, a in lines[:1]:
        code, comment = _split_comment(doc.line(n))
        args = _set_arg(a.args, "name", None) if a.name == "index" else a.args  # legacy db name on @@index
        doc.replace(n, re.match(r"\s*", code).group() + attr_text(Attr(a.name, _set_arg(args, "map", name)),
                                                                   "@@") + comment)
        return True
    return False


def pin_to_database(doc: Doc, after) -> None:
    """Where the names Prisma would give (the edited schema read by Flux's Prisma reader, Prisma's
    naming rules) differ from the database's after the plan (`after`, the plan's SQL replayed),
    name the database's in `map:`, so `prisma migrate diff` finds nothing to rename."""
    mine = normalise_schema(build_schema(doc.blocks), in_place=True)
    for t in mine.tables:
        db = after.table(t.name)
        if db is None:
            continue
        block = doc.model(t.name)
        for i in t.indexes:
            kind = "primary" if i.primary else "unique" if i.unique else "index"
            same = [d for d in db.indexes if d.columns == i.columns and d.primary == i.primary
                    and d.unique == i.unique and d.name != i.name and not d.where]
            same.sort(key=lambda d: (d.method != i.method, d.opclasses != i.opclasses))  # a GIN one's copy first
            # a name the database gives an index on other columns is no match: a renamed column's old
            # index, still there until the contract, while the field's copy has a name of its own
            if same and not any(d.name == i.name and d.columns == i.columns for d in db.indexes):
                _set_map(doc, block, kind, i.columns, same[0].name, i.name)
                block = doc.model(t.name)
        for c in (c for c in t.constraints if c.kind == "foreign_key"):
            same = [d for d in db.constraints if d.kind == "foreign_key" and d.columns == c.columns
                    and d.ref_table == c.ref_table and d.name != c.name]
            if same and not any(d.name == c.name and d.columns == c.columns for d in db.constraints):
                _set_map(doc, block, "fkey", c.columns, same[0].name)
                block = doc.model(t.name)
