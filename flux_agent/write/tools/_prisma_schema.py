"""Edit a schema.prisma text so it describes the database after each of a plan's operations, locating models, fields and attributes with the Prisma reader's own tokenizer and parser (line-level edits; the rest of the file is kept byte for byte)."""

from __future__ import annotations

import json
import re
from typing import Optional

from ...errors import FluxInputError
from ...pg.quote import split_qualified
from ...pg.types import type_name
from ...plan.ops._base import short_name
from ...schema.normal import normalise_schema
from ...schema.readers.prisma import (
    _NATIVE, _TOKEN, Attr, Call, Field, Ident, Num, _arg, _build, _cut, _names, _str_attr, _tokenize, parse_prisma,
)


class Cannot(Exception):
    """An operation the schema cannot express: the message says what to do by hand."""


_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NATIVE_OF = {v: k for k, v in _NATIVE.items()}
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
        m = _TOKEN.match(line, pos)
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
        for kind, value, line in _tokenize(text, "schema.prisma"):
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
            if b.kind == "model" and (_str_attr(b.attrs, "map") or b.name) == name and \
                    (_str_attr(b.attrs, "schema") or "public") == (schema or "public"):
                return b
        raise Cannot(f"no model in the Prisma schema maps table {name}")

    def enum(self, pg_type: str):
        name = split_qualified(pg_type)[1].strip('"')
        return next((b for b in self.blocks if b.kind == "enum" and (_str_attr(b.attrs, "map") or b.name) == name),
                    None)

    @staticmethod
    def columns(block) -> dict[str, str]:
        return {f.name: _str_attr(f.attrs, "map") or f.name for f in block.fields}

    def field(self, block, column: str) -> Field:
        f = next((f for f in block.fields if (_str_attr(f.attrs, "map") or f.name) == column), None)
        if f is None:
            raise Cannot(f"model {block.name} has no field for column {column}")
        return f

    def line(self, n: int) -> str:
        return self.lines[n - 1]

    def replace(self, n: int, text: Optional[str]) -> None:
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
    if native is None or scalar is None or (base == "numeric" and not mods):
        return f'Unsupported("{canon}")', [], is_list
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
            return Ident(next((f.name for f in enum.fields if (_str_attr(f.attrs, "map") or f.name) == value), value))
        if scalar in ("String",):
            return value
    if scalar == "DateTime" and bare.lower() in ("now()", "current_timestamp", "current_timestamp(3)"):
        return Call("now", [])
    return Call("dbgenerated", [(None, text)])


def field_name(column: str) -> tuple[str, Optional[str]]:
    """(field name, @map value or None) for a column name."""
    if _IDENT.match(column):
        return column, None
    name = re.sub(r"\W", "_", column).lstrip("_0123456789") or "field"
    return name, column


def default_index_name(table: str, columns: list[str], suffix: str) -> str:
    """Prisma's name for an index or constraint of a model (prisma-engines ConstraintNames)."""
    return _cut(f"{table}_{'_'.join(columns)}", f"_{suffix}")


def flux_name(table: str, columns: list[str], suffix: str) -> str:
    """The name Flux's planner gives the same object when the request names none."""
    return short_name(split_qualified(table)[1], *columns, suffix=suffix)


def _table(block) -> str:
    return _str_attr(block.attrs, "map") or block.name


def _field_for(doc: Doc, block, column: str, pg_type: str, nullable: bool, default: Optional[str],
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


def _set_map(doc: Doc, block, kind: str, columns: list[str], name: str) -> bool:
    """Set `map:` of the key, unique, index or relation of `block` on exactly `columns`."""
    cols = Doc.columns(block)
    for f in block.fields:
        for i, a in enumerate(f.attrs):
            on = [cols[f.name]] if a.name in ("id", "unique") else \
                [cols.get(n, n) for n in _names(_arg(a.args, "fields"))] if a.name == "relation" else None
            if on == columns and a.name == {"primary": "id", "unique": "unique", "fkey": "relation"}.get(kind):
                f.attrs[i] = Attr(a.name, _set_arg(a.args, "map", name))
                doc.set_field(f)
                return True
    for n, a in doc.block_attr_lines(block):
        on = [cols.get(x, x) for x in _names(_arg(a.args, "fields", 0))]
        if on == columns and a.name == {"primary": "id", "unique": "unique", "index": "index"}.get(kind):
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
    mine = normalise_schema(_build(doc.blocks), in_place=True)
    for t in mine.tables:
        db = after.table(t.name)
        if db is None:
            continue
        block = doc.model(t.name)
        for i in t.indexes:
            kind = "primary" if i.primary else "unique" if i.unique else "index"
            same = [d for d in db.indexes if d.columns == i.columns and d.primary == i.primary
                    and d.unique == i.unique and d.name != i.name and not d.where]
            if same and not any(d.name == i.name for d in db.indexes):
                _set_map(doc, block, kind, i.columns, same[0].name)
                block = doc.model(t.name)
        for c in (c for c in t.constraints if c.kind == "foreign_key"):
            same = [d for d in db.constraints if d.kind == "foreign_key" and d.columns == c.columns
                    and d.ref_table == c.ref_table and d.name != c.name]
            if same and not any(d.name == c.name for d in db.constraints):
                _set_map(doc, block, "fkey", c.columns, same[0].name)
                block = doc.model(t.name)


def _index(doc: Doc, op, unique: bool, suffix: str) -> None:
    block = doc.model(op.table)
    if getattr(op, "where", None):
        raise Cannot(f"Prisma cannot describe the partial index on {op.table} (WHERE {op.where}); "
                     "leave it out of schema.prisma and expect `prisma migrate diff` to list it")
    cols = {c: f for f, c in Doc.columns(block).items()}
    missing = [c for c in op.columns if c not in cols]
    if missing:
        raise Cannot(f"model {block.name} has no field for column {missing[0]}")
    fields = "[" + ", ".join(cols[c] for c in op.columns) + "]"
    name = op.name or flux_name(op.table, op.columns, suffix)
    mapped = "" if name == default_index_name(_table(block), op.columns, suffix) else f', map: "{name}"'
    doc.add_member(block, f"@@{'unique' if unique else 'index'}({fields}{mapped})", attribute=True)


def _drop_index(doc: Doc, name: str) -> None:
    bare = split_qualified(name)[1]
    for b in [b for b in doc.blocks if b.kind == "model"]:
        table, cols = _table(b), Doc.columns(b)
        for n, a in doc.block_attr_lines(b):
            if a.name in ("unique", "index"):
                fields = [cols.get(x, x) for x in _names(_arg(a.args, "fields", 0))]
                own = _arg(a.args, "map") or (_arg(a.args, "name") if a.name == "index" else None)
                if (own or default_index_name(table, fields, "key" if a.name == "unique" else "idx")) == bare:
                    doc.replace(n, None)
                    return
        for f in b.fields:
            for i, a in enumerate(f.attrs):
                if a.name == "unique" and (_arg(a.args, "map") or default_index_name(
                        table, [cols[f.name]], "key")) == bare:
                    del f.attrs[i]
                    doc.set_field(f)
                    return
    raise Cannot(f"no @@index or @@unique in the Prisma schema names index {bare}")


def _relations(doc: Doc, a, b) -> bool:
    return any(f.type == b.name for f in a.fields) or any(f.type == a.name for f in b.fields)


def _foreign_key(doc: Doc, op) -> None:
    block, ref = doc.model(op.table), doc.model(op.ref_table)
    if _relations(doc, block, ref) or block is ref:
        raise Cannot(f"models {block.name} and {ref.name} already have a relation (or it is to itself): a second "
                     f"one needs relation names; add the relation on {', '.join(op.columns)} by hand")
    mine = [doc.field(block, c) for c in op.columns]
    refs = [doc.field(ref, c) for c in op.ref_columns]
    name = op.name or flux_name(op.table, op.columns, "fkey")
    args = [("fields", [Ident(f.name) for f in mine]), ("references", [Ident(f.name) for f in refs]),
            ("onDelete", Ident(_ACTION[op.on_delete and " ".join(op.on_delete.upper().split())])),
            ("onUpdate", Ident("NoAction"))]
    if name != default_index_name(_table(block), op.columns, "fkey"):
        args.append(("map", name))
    taken = {f.name for f in block.fields}
    rel = next(n for n in (ref.name[:1].lower() + ref.name[1:], ref.name + "Rel", ref.name + "Ref") if n not in taken)
    optional = any(f.optional for f in mine)
    doc.add_member(block, f"{rel} {ref.name}{'?' if optional else ''} {attr_text(Attr('relation', args))}")
    ref = doc.model(op.ref_table)
    one = any(a.name == "unique" and not a.args for f in mine for a in f.attrs) and len(mine) == 1
    taken = {f.name for f in ref.fields}
    back = block.name[:1].lower() + block.name[1:] + ("" if one else "s")
    back = next(n for n in (back, back + "Rel", back + "Ref") if n not in taken)
    doc.add_member(ref, f"{back} {block.name}{'?' if one else '[]'}")


def _create_table(doc: Doc, op) -> None:
    schema, table = split_qualified(op.table)
    if schema not in (None, "public"):
        raise Cannot(f"table {op.table} is outside the public schema: add its model with @@schema by hand")
    name = table if _IDENT.match(table) and table not in {b.name for b in doc.blocks} else None
    if name is None:
        raise Cannot(f"table {table} has no valid unused model name: add model X {{ ... @@map(\"{table}\") }} by hand")
    pk = [c for c in op.columns if c.primary_key]
    lines = [_field_for(doc, None, c.name, c.type, c.nullable, c.default, primary=len(pk) == 1 and c.primary_key)
             for c in op.columns]
    if len(pk) > 1:
        lines.append("@@id([" + ", ".join(field_name(c.name)[0] for c in pk) + "])")
    body = "".join(f"  {line.strip()}\n" for line in lines)
    gap = "" if doc.text.endswith("\n\n") or not doc.text else ("\n" if doc.text.endswith("\n") else "\n\n")
    doc.lines.append(f"{gap}model {name} {{\n{body}}}\n")
    doc.lines = doc.text.splitlines(keepends=True)
    doc.parse()


def _drop_table(doc: Doc, table: str) -> None:
    block = doc.model(table)
    for other in [b for b in doc.blocks if b.kind == "model" and b is not block]:
        for f in sorted((f for f in other.fields if f.type == block.name), key=lambda f: -f.line):
            doc.replace(f.line, None)
    block = doc.model(table)
    start, end = block.line, doc.end(block)
    while start > 1 and doc.line(start - 1).lstrip().startswith("///"):
        start -= 1
    if start > 1 and not doc.line(start - 1).strip() and (end >= len(doc.lines) or not doc.line(end + 1).strip()):
        start -= 1  # keep one blank line between the neighbours
    doc.lines[start - 1:end] = []
    doc.parse()


def _drop_column(doc: Doc, op) -> None:
    block = doc.model(op.table)
    f = doc.field(block, op.column)
    uses = [x.name for x in block.fields if any(a.name == "relation" and f.name in _names(_arg(a.args, "fields"))
                                                 for a in x.attrs)]
    if uses:
        raise Cannot(f"field {f.name} of model {block.name} is part of relation {uses[0]}: delete the relation "
                     "field, its back-relation and the field by hand")
    for n, a in reversed(doc.block_attr_lines(block)):  # PostgreSQL drops the indexes on the column with it
        if f.name in _names(_arg(a.args, "fields", 0)):
            doc.replace(n, None)
    doc.replace(doc.field(doc.model(op.table), op.column).line, None)


def edit(doc: Doc, op) -> None:
    """Apply one operation to the schema text; Cannot when it cannot be described."""
    kind = op.op
    if kind == "add_column":
        block = doc.model(op.table)
        doc.add_member(block, _field_for(doc, block, op.column, op.type, op.nullable, op.default).strip())
    elif kind == "drop_column":
        _drop_column(doc, op)
    elif kind == "rename_column":
        # Flux's rename copies the column's indexes under the names of the new column, Prisma's own
        # defaults; pin_to_database() maps any that differ.
        f = doc.field(doc.model(op.table), op.column)
        f.attrs = [a for a in f.attrs if a.name != "map"] + ([] if f.name == op.new_name else
                                                             [Attr("map", [(None, op.new_name)])])
        doc.set_field(f)
    elif kind == "rename_table":
        block = doc.model(op.table)
        new = split_qualified(op.new_name)[1]  # its keys keep their names: pin_to_database() maps them
        lines = [n for n, a in doc.block_attr_lines(block) if a.name == "map"]
        if lines:
            doc.replace(lines[0], None if new == block.name else f'{doc.indent(block)}@@map("{new}")')
        elif new != block.name:
            doc.add_member(block, f'@@map("{new}")', attribute=True)
    elif kind == "drop_table":
        _drop_table(doc, op.table)
    elif kind in ("change_column_type", "set_not_null", "drop_not_null", "set_default", "drop_default"):
        f = doc.field(doc.model(op.table), op.column)
        if kind == "change_column_type":
            f.type, native, f.is_list = prisma_type(doc, op.type)
            f.attrs = [a for a in f.attrs if not a.name.startswith("db.")]
            at = next((i for i, a in enumerate(f.attrs) if a.name == "map"), len(f.attrs))
            f.attrs[at:at] = native
            if f.is_list:
                f.optional = False
        elif kind in ("set_not_null", "drop_not_null"):
            f.optional = kind == "drop_not_null"
        else:
            f.attrs = [a for a in f.attrs if a.name != "default"]
            if kind == "set_default":
                enum = next((b for b in doc.blocks if b.kind == "enum" and b.name == f.type), None)
                at = next((i for i, a in enumerate(f.attrs) if a.name == "map"), len(f.attrs))
                f.attrs.insert(at, Attr("default", [(None, prisma_default(op.default, f.type, enum))]))
        doc.set_field(f)
    elif kind in ("add_index", "add_unique"):
        _index(doc, op, kind == "add_unique" or op.unique, "key" if kind == "add_unique" or op.unique else "idx")
    elif kind == "drop_index":
        _drop_index(doc, op.name)
    elif kind == "add_foreign_key":
        _foreign_key(doc, op)
    elif kind == "create_table":
        _create_table(doc, op)
    elif kind == "add_enum_value":
        enum = doc.enum(op.enum)
        if enum is None:
            raise Cannot(f"no enum in the Prisma schema maps type {op.enum}")
        name, mapped = field_name(op.value)
        ref = op.before or op.after
        at = next((f for f in enum.fields if (_str_attr(f.attrs, "map") or f.name) == ref), None) if ref else None
        line = doc.indent(enum) + name + (f' @map("{mapped}")' if mapped else "")
        if at is not None:
            doc.insert(at.line + (0 if op.before else 1), line)
        else:
            doc.insert(doc.end(enum), line)
    elif kind == "raw_sql":
        raise Cannot("raw SQL: Flux cannot tell what it changes; update schema.prisma by hand "
                     "(`npx prisma db pull` shows the database's view)")
    # add_check and backfill: schema.prisma has no check constraints and no data; nothing to change.
