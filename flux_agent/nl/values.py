"""Requests about a column's values and type: change the type (`change
users.age to bigint using ...`), set a default, backfill existing rows."""

from __future__ import annotations

from typing import Optional

from ..errors import FluxInputError
from ..model.operations import Backfill, DropNotNull, RenameColumn, SetDefault
from .alter import change_type_tail, column_done, column_only, new_column_name, not_null_tail, rename_one
from .phrases import COLUMN_WORDS, NOT_NULL, NULLABLE, NULLS, Parser, tok_is_name
from ..pg.parse import expr as sql_expr
from ..pg.quote import ident

_TO = ("to", "as", "into", "=", "->")


# -- types -------------------------------------------------------------------


def change(p: Parser) -> list:
    c = p.c
    if c.at("table") and c.toks[0].low == "alter":
        raise FluxInputError("this reads as SQL: flux plan takes the change in words (e.g. 'make users.email "
                             "required'); to check SQL you wrote, use flux validate")
    c.skip("the")
    if c.accept("name of", "name for"):
        return [rename_one(p)]
    if c.accept("default value of", "default value for", "default value on", "default of", "default for",
                "default on", "default"):
        return [_set_default(p)]
    c.accept("data type of", "type of", "column type of", "datatype of", "the type of", "type for")
    c.accept(*COLUMN_WORDS)
    ref = p.col_ref(preps=("on", "of", "in", "for"))
    if c.kind() == "poss":
        c.i += 1
    if c.accept("name", "column name"):
        c.expect(*_TO)
        new = new_column_name(p, ref)
        table, column = p.resolve(p.trailing_table(ref))
        return [RenameColumn(table=table, column=column, new_name=new)]
    said_type = c.accept("data type", "column type", "type") is not None
    p.trailing_table(ref)
    if c.accept("from"):
        p.type(strict=True)
    if not c.accept("to", "into", "as", "type") and not said_type:
        c.fail("expected 'to' and the new type")
    c.accept("be", "type", "a", "an")
    c.accept("type")
    if c.accept(*NOT_NULL):
        return [not_null_tail(p, *p.resolve(p.trailing_table(ref)))]
    if c.accept(*NULLABLE):
        return [DropNotNull(**column_done(p, ref))]
    return [change_type_tail(p, ref)]


# -- defaults and backfills ----------------------------------------------------


def _set_default(p: Parser) -> SetDefault:
    c = p.c
    c.accept("value")
    ref = p.col_ref()
    p.trailing_table(ref)
    c.expect("to", "as", "=", "be")
    c.accept("be")
    value = p.expr("default", p.stop_at(tables=("on", "in", "for")), values_only=True)
    return SetDefault(**column_done(p, ref), default=value)


def default_then_column(p: Parser) -> SetDefault:
    """`default 0 to products.stock` (after `add`): the value first, then the column."""
    c = p.c
    c.accept("value", "of", "=", ":")
    start = c.i
    value = p.expr("default", lambda: c.at("to", "on", "for", "of") is not None, values_only=True)
    if c.done():
        c.i = start
        c.fail("expected 'to' and the column")
    c.expect("to", "on", "for", "of")
    return SetDefault(**column_only(p), default=value)


def set_(p: Parser) -> list:
    c = p.c
    c.skip("the")
    if c.accept("default value of", "default value for", "default value on", "default of", "default for",
                "default on"):
        return [_set_default(p)]
    if c.accept("default value", "default", "a default of", "a default"):
        start = c.i
        c.accept(*COLUMN_WORDS)
        if tok_is_name(c.peek()) or c.kind() == "poss":
            try:
                return [_set_default(p)]
            except FluxInputError:
                c.i = start
        return [default_then_column(p)]
    if c.at("existing rows", "existing values", "all rows", "existing nulls", "nulls", "null values"):
        return backfill(p)
    if c.accept("not null on", "not null for", "not null constraint on", "not-null on"):
        return [not_null_tail(p, *p.column())]
    if c.accept("data type of", "type of", "column type of"):
        ref = p.col_ref(preps=("on", "of", "in", "for"))
        p.trailing_table(ref)
        c.expect("to", "as", "=")
        return [change_type_tail(p, ref)]
    ref = p.col_ref()
    p.trailing_table(ref)
    if c.kind() == "poss":
        c.i += 1
    if c.accept("default value", "default"):
        c.expect("to", "as", "=")
        value = p.expr("default", p.stop_at(tables=("on", "in", "for")), values_only=True)
        return [SetDefault(**column_done(p, ref), default=value)]
    if c.accept("data type", "column type", "type"):
        c.expect("to", "as", "=")
        return [change_type_tail(p, ref)]
    c.accept("to be", "to", "as", "=")
    if c.accept(*NOT_NULL):
        return [not_null_tail(p, *p.resolve(p.trailing_table(ref)))]
    if c.accept(*NULLABLE):
        return [DropNotNull(**column_done(p, ref))]
    table, column = p.resolve(ref)
    value = p.expr("value", p.stop_at("for", "where", "in batches", "on all", "on existing"), table)
    if c.done():
        raise FluxInputError(f"'set {table}.{column} to {value}' is ambiguous: say 'set the default of "
                             f"{table}.{column} to {value}' or 'backfill {table}.{column} with {value}'")
    return [_backfill_rest(p, table, column, value)]


def backfill(p: Parser) -> list:
    c = p.c
    c.skip("the", "all", "any")
    if c.at(*NULLS) and not p.names.tables_with(c.peek().text):
        nulls = c.accept(*NULLS) not in ("it", "them", "existing rows", "the existing rows", "rows")
        if c.accept("in", "of", "on", "for"):
            table, column = p.column(preps=("on", "of", "in", "for"))
        elif p.ctx.column is None:
            c.fail("say which column to backfill")
        else:
            table, column = p.ctx.table, p.ctx.column
        c.expect("with", "to", "as", "=", "using")
        value = p.expr("backfill value", _backfill_stop(p), table)
        where = _is_null(column) if nulls else None
        return [_backfill_rest(p, table, column, value, where)]
    ref = p.col_ref(preps=("on", "of", "in", "for"))
    p.trailing_table(ref)
    c.expect("with", "to", "as", "=", "using", "from")
    table, column = p.resolve(ref)
    value = p.expr("backfill value", _backfill_stop(p), table)
    return [_backfill_rest(p, table, column, value)]


def _backfill_stop(p: Parser):
    return p.stop_at("where", "for rows where", "only where", "for existing rows", "for all rows", "in batches",
                     "batch size", "with batch size", "with a batch size", ",", "for nulls", "where it is null",
                     "where missing", "for null rows")


def _backfill_rest(p: Parser, table: str, column: str, value: str, where: Optional[str] = None) -> Backfill:
    c = p.c
    batch = None
    while not c.done():
        if c.accept(",", "and", "for existing rows", "for all rows", "on all rows", "on existing rows",
                    "for all existing rows"):
            continue
        if c.accept("where it is null", "where it's null", "where missing", "where null", "for nulls",
                    "for null rows", "only where null", "only where it is null", "where empty"):
            where = _is_null(column)
        elif c.accept("for rows where", "only where", "where"):
            where = p.expr("where condition", _backfill_stop(p), table)
        elif c.accept("in batches of", "batch size of", "batch size", "with batch size", "with a batch size of",
                      "with a batch size", "in chunks of"):
            batch = _count(p)
            c.accept("rows", "at a time")
        elif c.kind() == "number" and c.at("rows at a time", "at a time", k=1):
            batch = _count(p)
            c.accept("rows at a time", "at a time")
        else:
            c.fail()
    return Backfill(table=table, column=column, value=value, where=where, batch_size=batch)


def _is_null(column: str) -> str:
    return sql_expr(f"{ident(column)} IS NULL", "where condition")


def _count(p: Parser) -> int:
    tok = p.c.take()
    if tok.kind != "number" or not tok.text.isdigit() or int(tok.text) <= 0:
        p.c.i -= 1
        p.c.fail("expected a batch size")
    return int(tok.text)
