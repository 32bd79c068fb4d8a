"""The Prisma schema files beside the migrations folder, and their edits, one per operation,
that make them describe the database after a plan (the text machinery is in _prisma_schema.py;
the code change made of them, _prisma_changes.py)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ...pg.parse import is_one_name
from ...pg.quote import split_qualified
from ...schema.readers._prisma_map import field_names, find_arg, str_attr
from ...schema.readers._prisma_parse import Ident
from ._prisma_schema import (
    _ACTION, _IDENT, Attr, Cannot, Doc, _field_for, _table, attr_text, default_index_name,
    field_name, flux_name, prisma_default, prisma_type,
)

__all__ = ["edit", "edit_drop_column", "schema_files", "schema_text"]


def schema_text(project_dir: Path, prisma_dir: PurePosixPath) -> str | None:
    """schema.prisma beside the migrations folder, with a multi-file schema's parts
    (`prisma/schema.prisma` plus `prisma/models/*.prisma`, or `prisma/schema/*.prisma`)."""
    base = Path(project_dir) / prisma_dir
    files = sorted(base.glob("*.prisma")) + sorted(
        p for p in base.glob("*/*.prisma") if p.parent.name not in ("migrations", "node_modules"))
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files) if files else None


def schema_files(project_dir: Path, prisma_dir: PurePosixPath) -> list[PurePosixPath]:
    """The .prisma files schema_text() reads, relative to the project."""
    base = Path(project_dir) / prisma_dir
    files = sorted(base.glob("*.prisma")) + sorted(
        p for p in base.glob("*/*.prisma") if p.parent.name not in ("migrations", "node_modules"))
    return [PurePosixPath(p.relative_to(project_dir).as_posix()) for p in files]


def _edit_index(doc: Doc, op, unique: bool, suffix: str) -> None:
    block = doc.model(op.table)
    if getattr(op, "where", None):
        raise Cannot(f"Prisma cannot describe the partial index on {op.table} (WHERE {op.where}); "
                     "leave it out of schema.prisma and expect `prisma migrate diff` to list it")
    exprs = [c for c in op.columns if not is_one_name(c)]
    if exprs:
        raise Cannot(f"Prisma cannot describe an index on an expression ({exprs[0]}); leave it out of schema.prisma "
                     "and expect `prisma migrate diff` to list it")
    cols = {c: f for f, c in Doc.columns(block).items()}
    missing = [c for c in op.columns if c not in cols]
    if missing:
        raise Cannot(f"model {block.name} has no field for column {missing[0]}")
    fields = "[" + ", ".join(cols[c] for c in op.columns) + "]"
    name = op.name or flux_name(op.table, op.columns, suffix)
    mapped = "" if name == default_index_name(_table(block), op.columns, suffix) else f', map: "{name}"'
    doc.add_member(block, f"@@{'unique' if unique else 'index'}({fields}{mapped})", attribute=True)


def _edit_drop_index(doc: Doc, name: str) -> None:
    bare = split_qualified(name)[1]
    for b in [b for b in doc.blocks if b.kind == "model"]:
        table, cols = _table(b), Doc.columns(b)
        for n, a in doc.block_attr_lines(b):
            if a.name in ("unique", "index"):
                fields = [cols.get(x, x) for x in field_names(find_arg(a.args, "fields", 0))]
                own = find_arg(a.args, "map") or (find_arg(a.args, "name") if a.name == "index" else None)
                if (own or default_index_name(table, fields, "key" if a.name == "unique" else "idx")) == bare:
                    doc.replace(n, None)
                    return
        for f in b.fields:
            for i, a in enumerate(f.attrs):
                if a.name == "unique" and (find_arg(a.args, "map") or default_index_name(
                        table, [cols[f.name]], "key")) == bare:
                    del f.attrs[i]
                    doc.set_field(f)
                    return
    raise Cannot(f"no @@index or @@unique in the Prisma schema names index {bare}")


def _edit_relations(doc: Doc, a, b) -> bool:
    return any(f.type == b.name for f in a.fields) or any(f.type == a.name for f in b.fields)


def _edit_foreign_key(doc: Doc, op) -> None:
    block, ref = doc.model(op.table), doc.model(op.ref_table)
    if _edit_relations(doc, block, ref) or block is ref:
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


def _edit_create_table(doc: Doc, op) -> None:
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


def _edit_drop_table(doc: Doc, table: str) -> None:
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


def edit_drop_column(doc: Doc, op) -> None:
    block = doc.model(op.table)
    f = doc.field(block, op.column)
    uses = [x.name for x in block.fields if any(a.name == "relation" and f.name in field_names(find_arg(a.args, "fields"))
                                                 for a in x.attrs)]
    if uses:
        raise Cannot(f"field {f.name} of model {block.name} is part of relation {uses[0]}: delete the relation "
                     "field, its back-relation and the field by hand")
    for n, a in reversed(doc.block_attr_lines(block)):  # PostgreSQL drops the indexes on the column with it
        if f.name in field_names(find_arg(a.args, "fields", 0)):
            doc.replace(n, None)
    doc.replace(doc.field(doc.model(op.table), op.column).line, None)


def edit(doc: Doc, op) -> None:
    """Apply one operation to the schema text; Cannot when it cannot be described."""
    kind = op.op
    if kind == "add_column":
        block = doc.model(op.table)
        doc.add_member(block, _field_for(doc, block, op.column, op.type, op.nullable, op.default).strip())
    elif kind == "drop_column":
        edit_drop_column(doc, op)
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
        _edit_drop_table(doc, op.table)
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
        _edit_index(doc, op, kind == "add_unique" or op.unique, "key" if kind == "add_unique" or op.unique else "idx")
    elif kind == "drop_index":
        _edit_drop_index(doc, op.name)
    elif kind == "add_foreign_key":
        _edit_foreign_key(doc, op)
    elif kind == "create_table":
        _edit_create_table(doc, op)
    elif kind == "add_enum_value":
        enum = doc.enum(op.enum)
        if enum is None:
            raise Cannot(f"no enum in the Prisma schema maps type {op.enum}")
        name, mapped = field_name(op.value)
        ref = op.before or op.after
        at = next((f for f in enum.fields if (str_attr(f.attrs, "map") or f.name) == ref), None) if ref else None
        line = doc.indent(enum) + name + (f' @map("{mapped}")' if mapped else "")
        if at is not None:
            doc.insert(at.line + (0 if op.before else 1), line)
        else:
            doc.insert(doc.end(enum), line)
    elif kind == "raw_sql":
        raise Cannot("raw SQL: Flux cannot tell what it changes; update schema.prisma by hand "
                     "(`npx prisma db pull` shows the database's view)")
    # add_check and backfill: schema.prisma has no check constraints and no data; nothing to change.
