"""Requests that add something: a column, a table, an enum value; `add` also
routes indexes, constraints, defaults and NOT NULL to their grammars."""

from __future__ import annotations

from typing import Optional

from ..errors import FluxInputError
from ..model.operations import AddColumn, AddEnumValue, AddForeignKey, AddUnique, ColumnSpec, CreateTable
from .alter import not_null_tail
from .keys import check, check_refs, foreign_key, index, key_target, on_delete_action, unique
from .phrases import BACKFILL, COLUMN_WORDS, DEFAULT, NOT_NULL, NULLABLE, Parser, tok_is_name
from .values import default_then_column

_TABLE_PREPS = ("to", "on", "into", "in", "for")


def add(p: Parser) -> list:
    """After `add`/`create`: decide what is being added from the words that follow."""
    c = p.c
    c.skip("a", "an", "the", "new", "another")
    if c.at("gin", "gist", "brin", "hash", "spgist", "full-text", "trigram") and c.at("index", k=1):
        raise FluxInputError(f"{c.peek().text} indexes are not something Flux plans yet: it builds btree "
                             "indexes on plain columns (give other SQL with --op raw_sql)")
    unique_index = _index_ahead(p)
    if unique_index is not None:
        return [index(p, unique=unique_index)]
    if c.accept("unique constraint", "unique key", "uniqueness constraint", "unique"):
        return [unique(p)]
    if c.accept("foreign key constraint", "foreign key", "foreign-key", "fk constraint", "fk", "reference",
                "relation"):
        return [foreign_key(p)]
    if c.accept("check constraint", "check"):
        return [check(p)]
    if c.at("constraint") and tok_is_name(c.peek(1)) and c.at("check", k=2):
        c.i += 1
        name = p.name(new=True)
        c.expect("check")
        return [check(p, name)]
    if c.accept("table"):
        return create_table(p)
    if tok_is_name(c.peek()) and c.at("table", k=1):
        return create_table(p)
    if c.accept("enum value", "new value", "value", "label", "enum label"):
        return [enum_value(p)]
    if c.kind() in ("quoted", "number") and c.at("to", "into", "in", k=1) \
            and _enum_ahead(p, 2):
        return [enum_value(p)]
    if c.accept("default value", "default", "a default of", "a default"):
        return [default_then_column(p)]
    if c.accept("not null constraint", "not-null constraint", "not-null constraint", "null constraint") or (
            c.at("not null") and c.at("to", "on", k=2) and c.accept("not null")):
        c.accept("to", "on", "for")
        table, column = p.column()
        return [not_null_tail(p, table, column)]
    if c.accept("columns", "fields"):
        return add_columns(p)
    start = c.i
    if c.accept(*_TABLE_PREPS):  # "add to users columns a text, b integer"
        table = p.try_table()
        c.skip("the", "new")
        if table is not None and c.accept("columns", "fields"):
            return add_columns(p, table)
        c.i = start
    return [add_column(p)]


_INDEX_KINDS = ("composite", "compound", "multi-column", "multicolumn", "partial", "btree", "b-tree", "simple",
                "regular", "normal", "plain", "concurrent")


def _index_ahead(p: Parser) -> Optional[bool]:
    """`[unique] [composite|partial|...] index`, consumed: whether it is unique; None (nothing consumed) otherwise."""
    c = p.c
    start, unique_index = c.i, False
    while True:
        if c.accept("unique"):
            unique_index = True
        elif not c.accept(*_INDEX_KINDS):
            break
    if c.accept("index", "indexes"):
        return unique_index
    c.i = start
    return None


def _enum_ahead(p: Parser, k: int) -> bool:
    start = p.c.i
    try:
        p.c.i += k
        p.c.skip("the")
        if p.c.accept("enum type", "enum", "type"):
            return True
        name = p.name(required=False)
        return name is not None and (p.names.is_enum(name) or p.c.at("enum", "type") is not None)
    finally:
        p.c.i = start


def add_column(p: Parser) -> AddColumn:
    c = p.c
    units: list[tuple[Optional[list[str]], Optional[str]]] = []  # (name parts, type) as written
    kw_at: Optional[int] = None
    table = typ = default = backfill = None
    nullable = True
    stop = p.stop_at(",", "and", *NOT_NULL[:8], "nullable", "optional", "backfilled", "backfill", "backfilling",
                     "filling", "with existing", "setting existing", "existing rows", "of type", "with type",
                     tables=_TABLE_PREPS)
    while not c.done():
        if c.accept(",", "a", "an", "the", "new", "and"):
            continue
        if c.accept(*NOT_NULL):
            nullable = False
        elif c.accept(*DEFAULT):
            default = p.expr("default", stop, values_only=True)
        elif c.accept(*BACKFILL):
            backfill = p.expr("backfill", stop)
        elif c.accept(*NULLABLE):
            nullable = True
        elif c.accept("of type", "with type", "of the type", "with the type", "type", "as an", "as a", "as", ":"):
            typ = p.type(strict=True)
        elif c.accept(*_TABLE_PREPS):
            table = p.table()
        elif c.accept(*COLUMN_WORDS):
            kw_at = len(units)
            c.accept("called", "named")
        elif c.accept("called", "named"):
            units.append(_unit(p))
        elif c.at("(") and _paren_type(p):
            typ = _paren_type(p, take=True)
        else:
            units.append(_unit(p))
    name, typ = _name_and_type(p, units, typ, kw_at)
    if len(name) > 1:
        named_table = p.names.table(".".join(name[:-1]))
        if table is not None and table != named_table:
            raise FluxInputError(f"column {'.'.join(name)} cannot also be added to {table}")
        table = named_table
    if table is None:
        raise FluxInputError(f"which table gets the new column {name[-1]!r}? say e.g. "
                             f"'add column {name[-1]} {typ} to TABLE'")
    if backfill is not None:
        check_refs(p, backfill, table, "backfill")
    return AddColumn(table=table, column=name[-1], type=typ, nullable=nullable, default=default,
                     backfill=backfill)


def add_columns(p: Parser, table: Optional[str] = None) -> list:
    """`add columns first_name text and last_name text not null default '' to users`."""
    c = p.c
    c.accept(":")
    specs: list[ColumnSpec] = []
    extra: list = []
    while not c.done():
        if c.accept(",", "and"):
            continue
        if table is None and c.accept(*_TABLE_PREPS):
            table = p.table()
            continue
        specs.append(_column_spec(p, table or "the table", extra))
    if table is None:
        raise FluxInputError("which table gets the new columns? say e.g. 'add columns a text, b integer to TABLE'")
    if any(s.primary_key for s in specs):
        raise FluxInputError("a primary key cannot be added to an existing table this way")
    cols = [AddColumn(table=table, column=s.name, type=s.type, nullable=s.nullable, default=s.default)
            for s in specs]
    return cols + [e.model_copy(update={"table": table}) for e in extra]


def _paren_type(p: Parser, take: bool = False) -> Optional[str]:
    """`(text)` after the column name."""
    start = p.c.i
    p.c.i += 1
    typ = p.type(strict=False)
    closed = typ is not None and p.c.accept(")") is not None
    if not (closed and take):
        p.c.i = start
    return typ if closed else None


def _unit(p: Parser) -> tuple[Optional[list[str]], Optional[str]]:
    """One free phrase of an add-column request: a name, a type, or a word that could be either."""
    c = p.c
    start = c.i
    typ = p.type(strict=False) if c.kind() == "word" else None
    type_end = c.i
    c.i = start
    parts = p.dotted(required=False, new=True)
    if typ is not None and type_end > c.i:
        c.i = type_end
        return None, typ
    if not parts:
        c.fail()
    return parts, (typ if len(parts) == 1 else None)


def _name_and_type(p: Parser, units, typ: Optional[str], kw_at: Optional[int]) -> tuple[list[str], str]:
    if typ is not None:
        if len(units) == 1 and units[0][0]:
            return units[0][0], typ
        p.c.fail("expected one column name")
    if len(units) == 1:
        parts, maybe_type = units[0]
        if parts is None:
            raise FluxInputError(f"the new {maybe_type} column needs a name")
        raise FluxInputError(f"no type given for the new column {'.'.join(parts)!r}: say e.g. "
                             f"'add column {parts[-1]} text to TABLE'")
    if len(units) != 2:
        words = " ".join(".".join(u[0]) if u[0] else u[1] for u in units) or "nothing"
        raise FluxInputError(f"cannot tell the new column's name and type from {words!r}")
    (a_name, a_type), (b_name, b_type) = units
    name_first = a_name is not None and b_type is not None
    type_first = a_type is not None and b_name is not None
    if name_first and type_first:
        name_first = not (kw_at is not None and kw_at >= 1)  # "a text column nickname", "a text nickname column"
    if name_first:
        return a_name, b_type
    if type_first:
        return b_name, a_type
    bad = ".".join(b_name) if a_name is not None else ".".join(a_name or ["?"])
    raise FluxInputError(f"unknown type {bad!r} for the new column (expected e.g. text, integer, boolean)")


# -- tables ------------------------------------------------------------------


def create_table(p: Parser) -> list:
    c = p.c
    c.accept("called", "named")
    name = ".".join(p.dotted("table name", new=True))
    c.accept("table")
    table = p.names.new_table(name)
    c.accept("with the columns", "with columns", "with fields", "having columns", "with the fields", "with",
             "having", "containing", ":", "columns")
    paren = c.accept("(") is not None
    specs: list[ColumnSpec] = []
    extra: list = []
    pk: list[str] = []
    while not c.done():
        if c.accept(")") and paren:
            paren = False
            continue
        if c.accept(",", "and"):
            continue
        if c.accept("primary key"):
            pk.extend(p.column_list())
            continue
        specs.append(_column_spec(p, table, extra))
    if paren:
        c.fail("missing ')'")
    if not specs:
        raise FluxInputError(f"create table {name}: list its columns, e.g. (id bigint primary key, name text)")
    for col in pk:
        spec = next((s for s in specs if s.name == col), None) or next(
            (s for s in specs if s.name.lower() == col.lower()), None)
        if spec is None:
            raise FluxInputError(f"primary key column {col!r} is not a column of the new table {name}")
        spec.primary_key, spec.nullable = True, False
    return [CreateTable(table=table, columns=specs), *extra]


def _column_spec(p: Parser, table: str, extra: list) -> ColumnSpec:
    c = p.c
    name = p.name("column name", new=True)
    typ = p.type(strict=False, serial_ok=True)
    if typ is None:
        if c.done() or c.at(",", ")", "and"):
            raise FluxInputError(f"no type given for column {name!r} of the new table {table}")
        tok = c.peek()
        raise FluxInputError(f"unknown type {tok.text!r} for column {name!r} of the new table {table}")
    spec = ColumnSpec(name=name, type=typ)
    stop = p.stop_at(",", ")", "and", "not null", "null", "primary key", "unique", "references", "required",
                     tables=_TABLE_PREPS)
    while not c.done() and not c.at(",", ")", "and") and not (c.at(*_TABLE_PREPS) and p.table_ahead(1)):
        if c.accept("primary key"):
            spec.primary_key, spec.nullable = True, False
        elif c.accept(*NOT_NULL):
            spec.nullable = False
        elif c.accept(*NULLABLE):
            spec.nullable = True
        elif c.accept(*DEFAULT):
            spec.default = p.expr("default", stop, values_only=True)
        elif c.accept("unique"):
            extra.append(AddUnique(table=table, columns=[name]))
        elif c.accept("references", "referencing", "foreign key to", "->"):
            ref_table, ref_cols = key_target(p, referenced=True)
            on_delete = on_delete_action(p)
            extra.append(AddForeignKey(table=table, columns=[name], ref_table=ref_table, ref_columns=ref_cols,
                                       on_delete=on_delete))
        else:
            c.fail(f"in the definition of column {name!r}")
    return spec


def enum_value(p: Parser, enum: Optional[str] = None) -> AddEnumValue:
    c = p.c
    tok = c.take()
    if tok.kind not in ("quoted", "word", "number"):
        c.i -= 1
        c.fail("expected the new enum value")
    value = tok.text
    c.accept("as a new value", "as a value", "as an option")
    if enum is None:
        c.expect("to", "into", "in", "of", "on", "for")
        c.skip("the")
        c.accept("enum type", "enum", "type")
        enum = p.names.enum(".".join(p.dotted("enum name")))
        c.accept("enum type", "enum", "type")
    before = after = None
    while not c.done():
        if c.accept(","):
            continue
        if c.accept("right after", "after"):
            after = p.names.enum_value(enum, c.take().text)
        elif c.accept("right before", "before"):
            before = p.names.enum_value(enum, c.take().text)
        else:
            c.fail()
    return AddEnumValue(enum=enum, value=value, before=before, after=after)
