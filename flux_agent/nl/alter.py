"""Requests that rename or remove something, or change a column's
nullability or type: rename, drop, make X required/nullable/unique/T, allow nulls."""

from __future__ import annotations

from typing import Optional

from ..errors import FluxInputError
from ..model.operations import (
    AddUnique, ChangeColumnType, DropColumn, DropDefault, DropIndex, DropNotNull, DropTable, RenameColumn,
    RenameTable, SetDefault, SetNotNull,
)
from .keys import foreign_key, key_target
from .phrases import COLUMN_WORDS, FILL, NOT_NULL, NULLABLE, NULLS, Parser, Ref, tok_is_name

_TO = ("to", "as", "into", "=", "->")


# -- rename ------------------------------------------------------------------


def rename(p: Parser) -> list:
    c = p.c
    ops = [rename_one(p)]
    while c.accept(",", "and"):
        c.accept("and", "rename")
        ops.append(rename_one(p))
    return ops


def rename_one(p: Parser):
    c = p.c
    c.skip("the")
    if c.accept("table", "model"):
        return _rename_table(p, p.table())
    table = _table_with_word(p)
    if table is not None:
        return _rename_table(p, table)
    if c.at("index", "constraint", "enum", "type", "view", "schema"):
        c.fail("only tables and columns can be renamed")
    explicit = c.accept(*COLUMN_WORDS) is not None
    ref = p.col_ref()
    c.expect(*_TO)
    new = new_column_name(p, ref)
    p.trailing_table(ref)
    if not explicit and ref.table is None and not ref.resolved and p.names.find_table(ref.column) is not None:
        return RenameTable(table=p.names.table(ref.column), new_name=new)
    table, column = p.resolve(ref)
    return RenameColumn(table=table, column=column, new_name=new)


def _table_with_word(p: Parser):
    """`the order items table`: a known table followed by the word table."""
    start = p.c.i
    table = p.try_table()
    if table is not None and p.c.toks[p.c.i - 1].low in ("table", "model"):
        return table
    p.c.i = start
    return None


def _rename_table(p: Parser, table: str) -> RenameTable:
    p.c.expect(*_TO)
    p.c.accept("table")
    new = ".".join(p.dotted("new table name", new=True))
    p.c.accept("table")
    return RenameTable(table=table, new_name=new)


def new_column_name(p: Parser, ref: Ref) -> str:
    p.c.skip("the", "a", "an")
    parts = p.dotted("new column name", new=True)
    if len(parts) > 1:  # "rename users.email to users.email_address"
        owner = ".".join(parts[:-1])
        if ref.table is None and not ref.resolved:
            ref.table = owner
        elif p.names.table(owner) != p.names.table(ref.table):
            raise FluxInputError(f"a rename cannot move a column to another table ({owner})")
    p.c.accept(*COLUMN_WORDS)
    return parts[-1]


# -- drop --------------------------------------------------------------------


def drop(p: Parser) -> list:
    c = p.c
    c.skip("the")
    if c.accept("default value", "default"):
        c.accept("value")
        c.accept("of", "from", "on", "for")
        return [DropDefault(**column_only(p))]
    if c.accept("not null constraint", "not-null constraint", "not null", "not-null", "required constraint",
                "nullability constraint"):
        c.accept("constraint")
        c.accept("from", "on", "of", "for")
        return [DropNotNull(**column_only(p))]
    if c.accept("foreign key", "constraint", "check", "unique constraint", "primary key", "enum value", "fk"):
        raise FluxInputError("dropping constraints or enum values is not something Flux plans yet; "
                             "give the SQL with --op raw_sql")
    if c.accept("indexes", "index"):
        return [_drop_index(p)]
    if p.ctx.column is not None and c.accept("its"):  # "... and drop its default"
        c.expect("default value", "default", "not null constraint", "not null")
        kind = DropDefault if c.toks[c.i - 1].low in ("default", "value") else DropNotNull
        return [kind(table=p.ctx.table, column=p.ctx.column)]
    if tok_is_name(c.peek()) and c.at("index", k=1):
        name = p.name()
        c.accept("index")
        return [DropIndex(name=p.names.index(name))]
    if c.accept("tables", "table", "models", "model"):
        ops = [DropTable(table=p.table())]
        while c.accept(",", "and"):
            c.accept("and")
            ops.append(DropTable(table=p.table()))
        return ops
    table = _table_with_word(p)
    if table is not None:
        return [DropTable(table=table)]
    explicit = c.accept("columns", "fields", *COLUMN_WORDS) is not None
    refs = [p.col_ref(preps=())]
    while c.accept(",", "and", "&"):
        c.accept("and")
        refs.append(p.col_ref(preps=()))
    if c.accept("columns", "fields"):
        explicit = True
    if c.accept("tables", "table"):
        return [DropTable(table=p.names.table(_bare(p, r))) for r in refs]
    if c.accept("from", "on", "in", "of"):
        table = p.table()
        for r in refs:
            r.table = r.table or table
    if not c.done():
        c.fail()
    ops = []
    for r in refs:
        if not explicit and r.table is None and not r.resolved and p.names.find_table(r.column) is not None:
            ops.append(DropTable(table=p.names.table(r.column)))
        else:
            ops.append(DropColumn(**dict(zip(("table", "column"), p.resolve(r)))))
    return ops


def _bare(p: Parser, ref: Ref) -> str:
    if ref.table is not None or ref.resolved:
        p.c.fail("a table name is one word")
    return ref.column


def _drop_index(p: Parser) -> DropIndex:
    c = p.c
    if c.accept("on", "from", "for"):
        table, cols = key_target(p)
        return DropIndex(name=p.names.index_on(table, cols))
    c.accept("named", "called")
    name = p.name("index name")
    if c.accept("on", "from"):
        p.table()  # "drop index orders_status_idx on orders": the name alone says which
    return DropIndex(name=p.names.index(name))


def column_only(p: Parser, preps=("on", "of", "in", "from", "for")) -> dict:
    table, column = p.column(preps)
    if not p.c.done():
        p.c.fail()
    return {"table": table, "column": column}


# -- not null / nullable -----------------------------------------------------


def not_null_tail(p: Parser, table: str, column: str) -> SetNotNull:
    """`..., backfilling nulls with 'x'` after a set-not-null request."""
    c = p.c
    value = None
    while not c.done():
        if c.accept(",", "and", "first"):
            continue
        if c.accept(*FILL):
            c.accept("in")
            c.skip("the", "any", "all")
            c.accept(*NULLS)
            c.expect("with", "to", "as", "by", "=", "using")
            value = p.expr("backfill", p.stop_at("for", ","), table)
            c.accept("first")
        elif c.accept("using", "with"):
            value = p.expr("backfill", p.stop_at("for", ","), table)
            c.expect("for")
            c.skip("the", "any", "all")
            c.expect(*NULLS)
        else:
            c.fail()
    return SetNotNull(table=table, column=column, backfill=value)


def make(p: Parser, ref: Optional[Ref] = None) -> list:
    """`make X required`, `make X nullable`, `make X unique`, `make X bigint`, `make X default to 0`."""
    c = p.c
    refs = [ref or p.col_ref()]
    while ref is None and c.at(",", "and") and tok_is_name(c.peek(1)):
        c.accept(",", "and")
        refs.append(p.col_ref())
    p.trailing_table(refs[-1])
    c.accept("be", "to be", "into", "become", "as")
    if len(refs) > 1:
        c.expect("unique")
        c.accept("together")
        p.trailing_table(refs[-1])
        if refs[-1].table is not None:
            for r in refs:
                r.table = r.table or refs[-1].table
        resolved = [p.resolve(r) for r in refs]
        tables = {t for t, _ in resolved}
        if len(tables) != 1:
            raise FluxInputError("columns made unique together must be on one table")
        return [AddUnique(table=tables.pop(), columns=[col for _, col in resolved])]
    r = refs[0]
    if c.accept(*NOT_NULL, "not optional", "non-optional"):
        return [not_null_tail(p, *p.resolve(p.trailing_table(r)))]
    if c.accept(*NULLABLE, "not required", "allow null", "allow nulls"):
        return [DropNotNull(**column_done(p, r))]
    if c.accept("unique"):
        table, column = p.resolve(p.trailing_table(r))
        return [AddUnique(table=table, columns=[column])]
    if c.accept("default to", "default", "defaults to", "have a default of", "have default", "have a default value of"):
        c.accept("value", "of", "to", "=")
        value = p.expr("default", p.stop_at(tables=("on", "in", "for", "of")), values_only=True)
        return [SetDefault(**column_done(p, r), default=value)]
    if c.accept("reference", "references", "point to", "point at", "a foreign key to", "a foreign key referencing",
                "a foreign key into", "foreign key to", "refer to"):
        table, column = p.resolve(r)
        return [foreign_key(p, src=(table, [column]), dst=key_target(p, referenced=True))]
    c.accept("a", "an", "of type", "type", "a column of type")
    start = c.i
    if p.type(strict=False) is None and c.peek(1) is not None:
        c.fail("expected required, nullable, unique, a default or a type")
    c.i = start
    return [change_type_tail(p, r)]


def column_done(p: Parser, ref: Ref) -> dict:
    p.trailing_table(ref)
    table, column = p.resolve(ref)
    if not p.c.done():
        p.c.fail()
    return {"table": table, "column": column}


def allow(p: Parser) -> list:
    c = p.c
    if c.accept("nulls in", "null in", "null values in", "nulls on", "null on", "null values on", "nulls for",
                "null for", "null values for", "empty values in", "missing values in"):
        return [DropNotNull(**column_only(p))]
    ref = p.col_ref()
    c.expect("to be null", "to be nullable", "to be empty", "to be missing", "to be optional", "be null",
             "to contain nulls", "to have nulls", "nulls", "null")
    return [DropNotNull(**column_done(p, ref))]


def change_type_tail(p: Parser, ref: Ref) -> ChangeColumnType:
    c = p.c
    typ = p.type(strict=True)
    p.trailing_table(ref)
    table, column = p.resolve(ref)
    using = None
    paren = c.at("(") and c.at("using", k=1)
    if paren:
        c.i += 1
    if c.accept("using", "converting with", "casting with", "with"):
        using = p.expr("using expression", p.stop_at(tables=("on", "in")), table)
    if paren:
        c.expect(")")
    if not c.done():
        c.fail()
    return ChangeColumnType(table=table, column=column, type=typ, using=using)
