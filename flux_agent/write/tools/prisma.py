"""Prisma migrations: `<dir>/YYYYMMDDHHMMSS_<slug>/migration.sql`, one folder
per database step (stamps after the existing folders), plus `down.sql`
beside it: Prisma has no down migrations, so its header says how to run it.

Prisma sends a migration.sql as one multi-statement query, one implicit
transaction: a non-transactional step's file holds exactly its one statement.

code_changes() gives the edits of schema.prisma that make it describe the
database after the plan (every operation, see _prisma_schema.py), applied by
--write: schema.prisma only describes the database. For renames and drops
code_note() also says, model by model, what changes for the application at the
plan's code step; layout() appends it to the code step's title.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from ...errors import FluxError, FluxInputError
from ...model.plan import CodeChange, Plan, Step
from ...model.schema import Schema
from ...pg.quote import split_qualified
from ...schema.normal import normalise_schema
from ...schema.readers._prisma_map import build_schema, field_names, find_arg, str_attr
from ...schema.readers._prisma_parse import Ident, parse_prisma
from ...schema.replay.steps import schemas_before_each
from .._layout import first_stamp, lay_out, step_slug
from ..base import (
    FileJob, Writer, clean_dir, db_steps, down_or_note, down_sql, laid_files, single_statement, sql_header, unguarded,
    up_sql,
)
from ..code_changes import cannot, diff
from ._prisma_schema import (
    _ACTION, _IDENT, Attr, Cannot, Doc, _field_for, _table, attr_text, default_index_name,
    field_name, flux_name, pin_to_database, prisma_default, prisma_type,
)

# schema.prisma lines (not SQL).
_BLOCK = re.compile(r"^\s*(model|view)\s+(\w+)\s*\{")
_MAP = re.compile(r"""@map\(\s*(?:name:\s*)?"([^"]*)"\s*\)""")
_TABLE_MAP = re.compile(r"""^\s*@@map\(\s*(?:name:\s*)?"([^"]*)"\s*\)""")
_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\]|\?)?(.*)$")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class Model:
    def __init__(self, kind: str, name: str, lines: list[str]):
        self.kind, self.name, self.lines = kind, name, lines
        mapped = [m.group(1) for line in lines if (m := _TABLE_MAP.match(line))]
        self.table = mapped[0] if mapped else name
        self.mapped = bool(mapped)

    def fields(self):
        """(name, type, modifier, attributes, column, line) of each field."""
        for line in self.lines:
            m = _FIELD.match(line)
            if m and not line.lstrip().startswith(("@@", "//")):
                attrs = m.group(4).split("//")[0].strip()
                col = _MAP.search(attrs)
                yield m.group(1), m.group(2), m.group(3) or "", attrs, col.group(1) if col else m.group(1), line.strip()


def models(text: str) -> list[Model]:
    out, block, lines = [], None, []
    for line in text.splitlines():
        if block is None:
            if m := _BLOCK.match(line):
                block, lines = m, []
        elif line.strip() == "}":
            out.append(Model(block.group(1), block.group(2), lines))
            block = None
        else:
            lines.append(line)
    return out


def _names(field: str, key: str, line: str) -> bool:
    """Does `key[...]` on this line list `field`? (key: "@@index(", "fields:", ...)"""
    at = line.find(key)
    while at >= 0:
        start = line.find("[", at)
        stop = line.find("]", start)
        if start >= 0 and stop > start and field in re.findall(r"\w+", line[start:stop]):
            return True
        at = line.find(key, at + 1)
    return False


def _mentions(found: list[Model], m: Model, field: str) -> list[str]:
    """Lines naming `field` of model `m`: its block attributes and relation `fields:`,
    and `references:` of relation fields (in any model) pointing at `m`."""
    out = [line.strip() for line in m.lines
           if (line.lstrip().startswith("@@") and "[" in line and _names(field, "(", line))
           or (not line.lstrip().startswith("@@") and _names(field, "fields:", line))]
    for o in found:
        for _, typ, _, attrs, _, line in o.fields():
            if typ == m.name and _names(field, "references:", attrs):
                out.append(line if o is m else f"model {o.name}: {line}")
    return list(dict.fromkeys(out))


def _line(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _rename_column(found: list[Model], m: Model, column: str, new: str) -> str:
    field = next((f for f in m.fields() if f[4] == column), None)
    if field is None:
        return f"model {m.name} has no field for column {column}; nothing to change there"
    name, typ, mod, attrs, _, _ = field
    rest = re.sub(r"\s*" + _MAP.pattern, "", attrs).strip()
    # Keep the schema's naming: a field named as its column, or its camelCase, follows
    # the rename; a field with a name of its own keeps it and only maps the new column.
    if name == column:
        new_name, new_line = new, _line(new, typ + mod, rest)
    else:
        new_name = camel(new) if name == camel(column) else name
        new_line = _line(new_name, typ + mod, rest, f'@map("{new}")')
    text = f"in model {m.name}, change field {name} to: {new_line}"
    if new_name != name:
        refs = _mentions(found, m, name)
        if refs:
            text += f", and rename {name} to {new_name} in: " + "; ".join(refs)
        kept = _line(name, typ + mod, rest, f'@map("{new}")')
        text += f" (or keep the field name, so application code needs no change: {kept})"
    return text


def _drop_column(found: list[Model], m: Model, column: str) -> str:
    field = next((f for f in m.fields() if f[4] == column), None)
    if field is None:
        return f"model {m.name} has no field for column {column}; nothing to change there"
    refs = _mentions(found, m, field[0])
    more = f", and the lines that name it: {'; '.join(refs)}" if refs else ""
    return f"in model {m.name}, delete the field line: {field[5]}{more}"


def _drop_table(all_models: list[Model], m: Model) -> str:
    refs = [f"model {o.name}: {name} {typ}{mod}" for o in all_models if o is not m
            for name, typ, mod, *_ in o.fields() if typ == m.name]
    more = f", and the relation fields pointing to it: {'; '.join(refs)}" if refs else ""
    return f"delete {m.kind} {m.name}{more}"


def _rename_table(m: Model, new: str) -> str:
    if m.mapped:
        return f'in model {m.name}, change @@map("{m.table}") to @@map("{new}")'
    return f'in model {m.name}, add the line @@map("{new}")'


def code_note(plan: Plan, schema_prisma_text: str) -> str | None:
    """What to change in schema.prisma at the code step, or None when nothing."""
    found = models(schema_prisma_text)
    notes = []
    for op in plan.operations:
        if op.op not in ("rename_column", "rename_table", "drop_column", "drop_table"):
            continue
        table = split_qualified(op.table)[1]
        m = next((m for m in found if m.table == table), None)
        if m is None:
            notes.append(f"no model in schema.prisma maps table {table}; check it by hand")
        elif op.op == "rename_column":
            notes.append(_rename_column(found, m, op.column, op.new_name))
        elif op.op == "drop_column":
            notes.append(_drop_column(found, m, op.column))
        elif op.op == "rename_table":
            notes.append(_rename_table(m, split_qualified(op.new_name)[1]))
        else:
            notes.append(_drop_table(found, m))
    return "; ".join(notes) if notes else None


def annotate(plan: Plan, schema_prisma_text: str) -> Plan:
    """A copy of `plan` whose first code step also says what to change in schema.prisma."""
    note = code_note(plan, schema_prisma_text)
    out = plan.model_copy(deep=True)
    code = next((s for s in out.steps if s.is_code), None)
    if note and code is not None and note not in code.title:
        code.title = f"{code.title}; in schema.prisma: {note}"
    return out


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


# --------------------------------------------------------------------------
# schema.prisma edits, one per operation (the text machinery is in _prisma_schema.py)
# --------------------------------------------------------------------------

def _edit_index(doc: Doc, op, unique: bool, suffix: str) -> None:
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


def _edit_drop_column(doc: Doc, op) -> None:
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
        _edit_drop_column(doc, op)
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


def _describe(op) -> str:
    return op.op.replace("_", " ") + " " + (getattr(op, "table", None) or getattr(op, "name", None)
                                            or getattr(op, "enum", None) or "")


def _after(plan: Plan, texts: dict) -> Schema | None:
    """The database after the plan: its SQL replayed on the schema the Prisma files describe."""
    try:
        before = normalise_schema(build_schema([b for f, t in texts.items() for b in parse_prisma(t, str(f))]),
                                  in_place=True)
        return schemas_before_each([s.up_sql for s in plan.steps if not s.is_code], before)[-1]
    except FluxError:
        return None


def schema_changes(plan: Plan, project_dir: Path, prisma_dir: PurePosixPath) -> list[CodeChange]:
    """Edits of the schema files making them describe the database after every operation of the plan."""
    files = schema_files(project_dir, prisma_dir)
    if not files:
        return [cannot((prisma_dir / "schema.prisma").as_posix(),
                       "no schema.prisma beside the migrations folder: update the Prisma schema by hand")]
    texts = {f: (Path(project_dir) / f).read_text(encoding="utf-8") for f in files}
    try:
        docs = {f: Doc(t) for f, t in texts.items()}
    except FluxInputError as exc:
        return [cannot(files[0].as_posix(), f"cannot read the Prisma schema ({exc}): update it by hand")]
    main = next((f for f in files if any(b.kind == "datasource" for b in docs[f].blocks)), files[0])
    notes, done = [], {f: [] for f in files}
    for op in plan.operations:
        # The file holding the op's model first, then the main one (a new model goes there).
        order = [main] + [f for f in files if f != main]
        first: Cannot | None = None
        for f in order:
            trial = Doc(docs[f].text)
            try:
                edit(trial, op)
            except Cannot as exc:
                first = first or exc
                if not str(exc).startswith("no model"):
                    break
                continue
            docs[f] = trial
            done[f].append(_describe(op))
            first = None
            break
        if first is not None:
            notes.append(f"{_describe(op)}: {first}")
    after = _after(plan, texts)
    out = []
    for f in files:
        if docs[f].text != texts[f] and after is not None:
            try:
                pin_to_database(docs[f], after)
            except (Cannot, FluxError):
                pass  # names as Prisma's defaults; the edit itself stands
        if docs[f].text != texts[f]:
            out.append(CodeChange(path=f.as_posix(), patch=diff(f.as_posix(), texts[f], docs[f].text),
                                  why="schema.prisma describes the database after the plan: "
                                      + "; ".join(done[f]) + " (run `npx prisma generate` for the client)",
                                  applied_on_write=True))
    out += [cannot(main.as_posix(), f"not changed in schema.prisma, do it by hand: {n}") for n in notes]
    return out


class PrismaWriter(Writer):
    tool = "prisma"
    default_dir = "prisma/migrations"

    def code_note(self, plan: Plan, schema_prisma_text: str) -> str | None:
        return code_note(plan, schema_prisma_text)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        stamp = first_stamp(Path(project_dir) / folder, now)
        text = schema_text(project_dir, folder.parent)

        def files(step: Step, i: int) -> list[str]:
            name = folder / f"{stamp + timedelta(seconds=i):%Y%m%d%H%M%S}_{step_slug(step)}"
            return [(name / "migration.sql").as_posix(), (name / "down.sql").as_posix()]

        return unguarded(lay_out(annotate(plan, text) if text else plan, files), self.tool)

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        steps = db_steps(plan)
        if not steps or not steps[0].files:
            return []
        prisma_dir = PurePosixPath(steps[0].files[0]).parent.parent.parent
        return schema_changes(plan, Path(project_dir), prisma_dir)

    def render_up(self, step: Step) -> str:
        return sql_header(step) + single_statement(step, self.tool, up_sql(step)) + "\n"

    def render_down(self, step: Step, folder: PurePosixPath) -> str:
        if down_sql(step):
            single_statement(step, self.tool, down_sql(step))
        schema = (folder.parent.parent / "schema.prisma").as_posix()
        run = f"npx prisma db execute --schema {schema}"
        # `migrate resolve --rolled-back` only accepts a failed migration (P3012 otherwise):
        # an applied one is forgotten by deleting its row, so deploy would run it again.
        return (
            f"-- Rollback of {folder.name}: Prisma has no down migrations. To undo it, run\n"
            f"--   {run} --file {(folder / 'down.sql').as_posix()}\n"
            f"-- then, if the migration had failed:\n"
            f"--   npx prisma migrate resolve --rolled-back {folder.name}\n"
            f"-- or, if it had been applied (Prisma marks only failed migrations rolled back):\n"
            f"--   echo \"DELETE FROM _prisma_migrations WHERE migration_name = '{folder.name}';\" | {run} --stdin\n"
            + sql_header(step)
            + down_or_note(step)
            + "\n"
        )

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        for step in db_steps(plan):
            up, down = laid_files(step, 2, "migration.sql and down.sql", lambda f: f[0].endswith("/migration.sql"))
            out.append(FileJob(up, self.render_up(step)))
            out.append(FileJob(down, self.render_down(step, PurePosixPath(up).parent)))
        return out


WRITER = PrismaWriter()
