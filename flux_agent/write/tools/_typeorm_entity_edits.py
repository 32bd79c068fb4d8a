"""The edits a plan's operations make to a TypeORM entity file so that the entity describes the
database after the plan: column options set or removed, properties added or removed, @Index and
@Unique decorators added or removed, the table renamed. What it cannot say in the entity raises
NotEditable, its reason the plan's note."""

from __future__ import annotations

import json
from collections import Counter
from typing import Callable, Optional

from ...model.operations import Operation
from ...pg.parse import ast, is_one_name, parse_expr, render
from ...pg.quote import split_qualified
from ...pg.types import BUILTIN_TYPES, type_name, type_parts
from ...plan.naming import index_name, renamed_default_name
from ...plan.ops.add_check import check_name
from ...plan.ops._base import short_name
from ...project.ts_tokens import str_value, tokenize_ts
from ..base import camel
from ._typeorm_entity_file import EntityFile
from ._typeorm_property_types import type_says_null, type_says_what_typeorm_gives
from ._typeorm_entity_ts import (COLUMN_DECORATORS, EntityClass, NotEditable, column_decorators, entity_classes,
                                is_column_decorator, property_columns, snake_case)

_NUMBER = {"smallint", "integer", "real", "double precision"}
_DATE = {"timestamp without time zone", "timestamp with time zone", "timestamp", "timestamptz"}
_LENGTH = {"character varying", "character", "varchar", "char", "bit", "bit varying"}
_PRECISION = {"numeric", "decimal"}
_TIME_PRECISION = {"timestamp without time zone", "timestamp with time zone", "time without time zone",
                   "time with time zone", "interval"}
_SIZE_OPTIONS = ("length", "precision", "scale")
# What a new property may not be called (a class's own words, and JavaScript's reserved ones)
_RESERVED = frozenset({"constructor", "prototype", "__proto__", "class", "function", "new", "delete", "typeof",
                       "void", "this", "super", "default", "import", "export", "return", "var", "let", "const"})
# TypeORM's own serialised types (`simple-array`: text holding a list): not PostgreSQL's, changed by hand
_SERIALISED = frozenset({"simple-array", "simple-json", "simple-enum"})
# Their default is TypeORM's (now()): it writes it and expects it
_DATED = frozenset({"CreateDateColumn", "UpdateDateColumn", "DeleteDateColumn"})


# -- types and defaults ------------------------------------------------------------------------


def column_type(type_text: str) -> tuple[list[tuple[str, str]], str]:
    """(the options saying a column's type, in TypeORM's words; the property's TypeScript type)."""
    canonical = type_name(type_text)
    base, mods, array = type_parts(canonical)
    if base not in BUILTIN_TYPES:
        raise NotEditable(f"type {canonical} is the project's own (an enum, a domain): declare it in the entity")
    options = [("type", json.dumps(base))]
    if base in _LENGTH and mods:
        options.append(("length", str(mods[0])))
    elif base in _PRECISION and mods:
        options += [("precision", str(mods[0]))] + ([("scale", str(mods[1]))] if len(mods) > 1 else [])
    elif base in _TIME_PRECISION and mods:
        options.append(("precision", str(mods[0])))
    if array:
        options.append(("array", "true"))
    ts = "number" if base in _NUMBER else "boolean" if base == "boolean" else "Date" if base in _DATE else \
        "unknown" if base in ("json", "jsonb") else "Buffer" if base == "bytea" else "string"
    return options, ts + ("[]" if array else "")


def default_value(sql: str, quote: Callable[[str], str]) -> str:
    """A column default as TypeORM's `default` option: a constant as the value, else the SQL as a
    function (`() => "now()"`), which TypeORM writes and compares as it is."""
    node = parse_expr(sql, "default")
    while isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.A_Const):
        node = node.arg  # 'anon'::text: TypeORM compares the constant without its cast
    if isinstance(node, ast.A_Const) and not node.isnull:
        val = node.val
        if isinstance(val, ast.String):
            return quote(val.sval)
        if isinstance(val, ast.Boolean):
            return "true" if val.boolval else "false"
        if isinstance(val, (ast.Integer, ast.Float)):
            return str(val.ival if isinstance(val, ast.Integer) else val.fval)
    if isinstance(node, ast.FuncCall) and node.funcname[-1].sval in ("gen_random_uuid", "uuid_generate_v4"):
        # TypeORM reads either default as its own generated uuid, and compares it with its uuidExtension's
        raise NotEditable(f"TypeORM reads a {node.funcname[-1].sval}() default as a generated uuid: declare the "
                          "property with @Generated(\"uuid\") (and the DataSource's uuidExtension: \"pgcrypto\" "
                          "for gen_random_uuid)")
    if isinstance(node, ast.SQLValueFunction) or (isinstance(node, ast.FuncCall) and not node.args):
        return f"() => {quote(render(node))}"  # now(), CURRENT_TIMESTAMP: PostgreSQL prints them as written
    # Any other expression TypeORM compares as PostgreSQL prints it, its casts cut off by TypeORM's
    # own pattern: a text Flux cannot know without the database.
    raise NotEditable(f"TypeORM compares the default {sql} as PostgreSQL prints it: write default: () => \"...\" "
                      "with the text `\\d table` shows (without its ::type casts)")


# -- the operations ----------------------------------------------------------------------------


def _each(ef: EntityFile, table: str, column: str, edits: list[Callable]) -> None:
    """Each of `edits` (one splice each: `edit(toks, decorator)`) on each @Column decorator mapping the
    column, the text read again before each (the column keeps its name: the decorators are found again)."""
    _, _, found = ef.mapped(table, column)
    for k in range(len(column_decorators(found))):
        for edit in edits:
            toks, _, found = ef.mapped(table, column)
            edit(toks, column_decorators(found)[k][1])


def rename_column(ef: EntityFile, table: str, column: str, new: str) -> None:
    """Each decorator naming the column (@Column, @JoinColumn) names the new one: the property keeps
    its name, so the application's code reads the same property. An entity that maps the new
    name and not the old one (edited ahead of the database: `flux fix`) is left as it is."""
    if _maps(ef, table, new) and not _maps(ef, table, column):
        return
    toks, cls, found = ef.mapped(table, column)
    props = {m.name for m, d in found if d.name != "JoinColumn"}
    edits = [(d.at, lambda d=d: ef.set_option(toks, d, "name", ef.quote(new))) for _, d in found]
    # A named index or key on it takes the name Flux's rename gives its copy (plan/naming.py's
    # renamed_default_name: TypeORM's hash of the renamed columns; a name chosen otherwise is kept).
    placed = [(d, set(_listed(toks, d))) for d in cls.decorators] + [(d, {m.name}) for m in cls.members for d in m.decorators]
    for d, listed in placed:
        a, b = d.args[0] if d.args else (0, -1)
        named = str_value(toks[a]) if d.name in ("Index", "Unique") and a == b and toks[a].kind == "str" else None
        if named is None or not props & listed:
            continue
        mapping = property_columns(cls, toks, ef.naming)
        columns = [mapping.get(p, p) for p in _listed(toks, d)] or [column]
        renamed = renamed_default_name(named, table, columns, column, new)
        if renamed != named:
            edits.append((d.at, lambda tok=toks[a], renamed=renamed: ef.splice(tok.start, tok.end, ef.quote(renamed))))
    for _, edit in sorted(edits, key=lambda e: -e[0]):  # the last first: the earlier ones' places hold
        edit()


def _maps(ef: EntityFile, table: str, column: str) -> bool:
    try:
        ef.mapped(table, column)
    except NotEditable:
        return False
    return True


def add_column(ef: EntityFile, table: str, column: str, type_text: str, nullable: bool, default: Optional[str]) -> None:
    if _maps(ef, table, column):
        return  # the entity has it already (edited ahead of the database: `flux fix`)
    toks, cls = ef.entity(table)
    options, ts = column_type(type_text)
    prop = camel(column)
    if not prop.isidentifier() or prop in _RESERVED:
        raise NotEditable(f"column {column} makes no property name ({prop}): declare it by hand")
    if any(m.name == prop for m in cls.members):
        raise NotEditable(f"entity {cls.name} already has a property {prop}")
    if ef.naming(prop) != column:  # the naming strategy's name for the property is not the column's
        options.insert(0, ("name", ef.quote(column)))
    options = [(k, ef.quote(json.loads(v)) if k == "type" else v) for k, v in options]
    if nullable:
        options.append(("nullable", "true"))
    if default is not None:
        options.append(("default", default_value(default, ef.quote)))
    props = [m for m in cls.members if not m.method]
    anchor = props[-1] if props else None
    # `!`, `?` or neither after the name, as most of the class's properties write it (strict classes need one)
    marks, indent, end = ef.member_style(toks, props)
    bang = marks.most_common(1)[0][0] if marks else ""
    body = ", ".join(f"{k}: {v}" for k, v in options)
    # The class's own column decorator: a project's wrapper of @Column (ever-gauzy's @MultiORMColumn)
    # where its columns use one, already imported there.
    used = Counter(d.name for m in props for d in m.decorators if is_column_decorator(d.name)
                   and d.name not in COLUMN_DECORATORS - {"Column"})
    decorator = used.most_common(1)[0][0] if used else "Column"
    member = f"{indent}@{decorator}({{ {body} }})\n{indent}{ef.modifiers(toks, props)}{prop}{bang}: {ts}{' | null' if nullable else ''}{end}\n"
    open_, close = cls.body
    if anchor is not None:
        at = ef.text.find("\n", toks[anchor.last].end) + 1
        ef.splice(at, at, "\n" + member)
    elif "\n" in ef.text[toks[open_].end: toks[close].start]:
        at = ef.text.find("\n", toks[open_].end) + 1
        ef.splice(at, at, member)
    else:  # `class T {}` on one line: the body opened onto lines of its own
        ef.splice(toks[open_].end, toks[close].start,
                  "\n" + member + ef.indent_at(toks[cls.start].start))
    if decorator == "Column":
        ef.ensure_import("Column")


def drop_column(ef: EntityFile, table: str, column: str) -> None:
    toks, cls, found = ef.mapped(table, column)
    members = {id(m): m for m, _ in found}
    if any(d.name == "JoinColumn" for _, d in found) or any(
            d.name in ("ManyToOne", "OneToOne") for m in members.values() for d in m.decorators):
        raise NotEditable("the column is a relation's: remove the relation (and its inverse side) by hand")
    props = {m.name for m in members.values()}
    for d in reversed(cls.decorators):  # a class-level index or key on it goes with it, as PostgreSQL drops it
        if d.name in ("Index", "Unique") and props & set(_listed(toks, d)):
            ef.splice(ef.line_start(toks[d.at].start), ef.text.find("\n", toks[d.close].end) + 1, "")
    toks, cls, found = ef.mapped(table, column)
    for m in sorted({id(m): m for m, _ in found}.values(), key=lambda m: -m.first):
        ef.remove_member(toks, m)


def _listed(toks, d) -> list[str]:
    """The property names a class decorator lists: `@Index("n", ["a", "b"])`, or
    `@Index((t: T) => [t.a, t.b])`."""
    for a, b in d.args:
        if toks[a].text == "[":
            return [str_value(t) for t in toks[a + 1: b] if t.kind == "str"]
        if any(t.text == "=>" for t in toks[a: b + 1]):
            return [toks[k + 1].text for k in range(a, b) if toks[k].text == "." and toks[k + 1].kind == "ident"]
    return []


def set_nullable(ef: EntityFile, table: str, column: str, nullable: bool) -> None:
    if nullable:
        _each(ef, table, column, [lambda toks, d: ef.set_option(toks, d, "nullable", "true")])
    else:  # TypeORM's columns are NOT NULL unless they say otherwise: `nullable: true` goes (a false one stays)
        def edit(toks, d):
            entry = d.options(toks).get("nullable")
            if entry is not None and entry[1] == entry[2] and toks[entry[1]].text == "true":
                ef.remove_option(toks, d, "nullable")
        _each(ef, table, column, [edit])
    type_says_null(ef, table, column, nullable)


def _refuse_dated(ef: EntityFile, table: str, column: str) -> None:
    _, _, found = ef.mapped(table, column)
    dated = [d.name for _, d in found if d.name in _DATED]
    if dated:
        raise NotEditable(f"@{dated[0]} has TypeORM's own default (now()): declare the column with @Column instead")


def set_default(ef: EntityFile, table: str, column: str, default: Optional[str]) -> None:
    _refuse_dated(ef, table, column)
    if default is not None and default.strip().upper() == "NULL":
        default = None  # DEFAULT NULL is no default
    if default is None:
        _each(ef, table, column, [lambda toks, d: ef.remove_option(toks, d, "default")])
    else:
        value = default_value(default, ef.quote)
        _each(ef, table, column, [lambda toks, d: ef.set_option(toks, d, "default", value)])


def change_type(ef: EntityFile, table: str, column: str, type_text: str) -> None:
    """The type given where the decorator gives it (its first argument, or its `type` option), the
    size options made the new type's."""
    options, _ = column_type(type_text)
    (_, type_value), sizes = options[0], options[1:]
    new_type = ef.quote(json.loads(type_value))
    toks, _, found = ef.mapped(table, column)
    for _, d in found:
        given = [str_value(toks[a]) for a, b in d.args[:1] if a == b] + [d.string_option(toks, "type")]
        serialised = sorted(_SERIALISED & set(given))
        if serialised:
            raise NotEditable(f"the column is TypeORM's {serialised[0]} (a list or JSON kept "
                              "in text): change its type in the entity by hand")

    def set_type(toks, d):
        a, b = d.args[0] if d.args else (0, -1)
        # @Column("integer", { ... }) gives the type first; @PrimaryGeneratedColumn("uuid") its strategy
        if a == b and toks[a].kind == "str" and d.name != "PrimaryGeneratedColumn":
            ef.splice(toks[a].start, toks[a].end, new_type)
        else:
            ef.set_option(toks, d, "type", new_type)
    # the options of the type it had (an enum's values and name; sizes) go
    edits = [lambda toks, d, key=key: ef.remove_option(toks, d, key)
             for key in _SIZE_OPTIONS + ("array", "enum", "enumName")]
    edits.append(set_type)
    edits += [lambda toks, d, key=key, value=value: ef.set_option(toks, d, key, value) for key, value in sizes]
    _each(ef, table, column, edits)
    type_says_what_typeorm_gives(ef, table, column, column_type(type_text)[1])


def add_index(ef: EntityFile, table: str, columns: list[str], name: str, unique: bool) -> None:
    """`@Index([...])` on the class, the index's name given unless it is the one TypeORM gives it;
    none where an @Index of the entity already makes it (`flux fix` of an entity edited ahead)."""
    if any(named == name for named, _, _ in index_decorators(ef)):
        return
    toks, cls = ef.entity(table)
    props = [_property(toks, cls, ef, c) for c in columns]
    args = [] if name == index_name("typeorm", table, columns) else [ef.quote(name)]
    args.append("[" + ", ".join(ef.quote(p) for p in props) + "]")
    if unique:
        args.append("{ unique: true }")
    ef.add_class_decorator(toks, cls, f"@Index({', '.join(args)})")
    ef.ensure_import("Index")


def _property(toks, cls: EntityClass, ef: EntityFile, column: str) -> str:
    """The property an index lists for `column`: its @Column's, or its relation's (`@Index(["user"])`)."""
    found = [p for p, col in property_columns(cls, toks, ef.naming).items() if col == column]
    if not found:
        raise NotEditable(f"no property of entity {cls.name} maps to column {column}")
    return found[0]


def add_unique(ef: EntityFile, table: str, columns: list[str], name: str) -> None:
    if any(named == name for named, _, _ in index_decorators(ef)):
        return
    toks, cls = ef.entity(table)
    props = [_property(toks, cls, ef, c) for c in columns]
    ef.add_class_decorator(toks, cls, f"@Unique({ef.quote(name)}, [{', '.join(ef.quote(p) for p in props)}])")
    ef.ensure_import("Unique")


def index_decorators(ef: EntityFile) -> list[tuple[str, object, object]]:
    """(the index or unique constraint's name in the database, its decorator, its class) of each
    @Index and @Unique of the file: the name given, else the one TypeORM gives it."""
    toks = tokenize_ts(ef.text)
    out = []
    for cls in entity_classes(ef.text):
        if cls.table is None:
            continue
        columns = property_columns(cls, toks, ef.naming)
        placed = [(d, None) for d in cls.decorators] + [(d, m) for m in cls.members for d in m.decorators]
        for d, member in placed:
            if d.name not in ("Index", "Unique"):
                continue
            a, b = d.args[0] if d.args else (0, -1)
            named = str_value(toks[a]) if a == b and toks[a].kind == "str" else None
            if named is None:
                listed = [columns.get(p) for p in _listed(toks, d)] if member is None else [columns.get(member.name)]
                if None in listed or not listed or d.name == "Unique":
                    continue
                named = index_name("typeorm", cls.table, listed)
            out.append((named, d, cls))
    return out


def drop_index(ef: EntityFile, name: str) -> None:
    found = [d for named, d, _ in index_decorators(ef) if named == name]
    if not found:
        raise NotEditable(f"no @Index or @Unique named {name}")
    ef.remove_decorator(tokenize_ts(ef.text), found[0])


def rename_table(ef: EntityFile, table: str, new: str) -> None:
    toks, cls = ef.entity(table)
    d = next(d for d in cls.decorators if d.name.endswith("Entity"))
    if d.open is None:
        raise NotEditable(f"@{d.name} is not called: name the table in it")
    if d.args and d.args[0][0] == d.args[0][1] and toks[d.args[0][0]].kind == "str":
        first = toks[d.args[0][0]]
        ef.splice(first.start, first.end, ef.quote(new))
    elif d.option_object(toks) is not None:
        ef.set_option(toks, d, "name", ef.quote(new))
    else:
        ef.splice(toks[d.open].end, toks[d.open].end, ef.quote(new) + (", " if d.args else ""))


def naming_for(snake: bool) -> Callable[[str], str]:
    """The column a property maps to without a `name`: TypeORM's DefaultNamingStrategy keeps the
    property's name; a project's SnakeNamingStrategy (typeorm-naming-strategies) snake-cases it."""
    return snake_case if snake else (lambda prop: prop)


def apply(ef: EntityFile, op: Operation) -> None:
    """`op` made in the entity file (NotEditable where it cannot be)."""
    table = split_qualified(getattr(op, "table", None) or "")[1]
    kind = op.op
    if kind == "rename_column":
        rename_column(ef, table, op.column, op.new_name)
    elif kind == "add_column":
        add_column(ef, table, op.column, op.type, op.nullable, op.default)
    elif kind == "drop_column":
        drop_column(ef, table, op.column)
    elif kind in ("set_not_null", "drop_not_null"):
        set_nullable(ef, table, op.column, kind == "drop_not_null")
    elif kind in ("set_default", "drop_default"):
        set_default(ef, table, op.column, getattr(op, "default", None))
    elif kind == "change_column_type":
        change_type(ef, table, op.column, op.type)
    elif kind == "add_index":
        if not all(is_one_name(c) for c in op.columns):
            raise NotEditable("an index on an expression: TypeORM's @Index lists columns; declare it by hand, or "
                              "leave it to the migrations (synchronize off)")
        if op.where:
            raise NotEditable("a partial index: TypeORM compares its WHERE as PostgreSQL prints it; declare it "
                              "with @Index(..., { where }) by hand")
        add_index(ef, table, list(op.columns), op.name or short_name(table, *op.columns,
                                                                     suffix="key" if op.unique else "idx"), op.unique)
    elif kind == "add_unique":
        add_unique(ef, table, list(op.columns), op.name or short_name(table, *op.columns, suffix="key"))
    elif kind == "add_check":  # TypeORM tells checks apart by name: the database's, the expression as given
        toks, cls = ef.entity(table)
        name = check_name(op, table)
        ef.add_class_decorator(toks, cls, f"@Check({ef.quote(name)}, {ef.quote(op.expression)})")
        ef.ensure_import("Check")
    elif kind == "drop_index":
        drop_index(ef, split_qualified(op.name)[1])
    elif kind == "rename_table":
        rename_table(ef, table, split_qualified(op.new_name)[1])
    elif kind != "backfill":
        raise NotEditable(f"Flux does not write {kind.replace('_', ' ')} into entities")
