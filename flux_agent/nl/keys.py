"""Indexes and constraints: `add index on orders(user_id)`, `index orders by
user_id`, unique constraints, foreign keys (`from orders.user_id to users.id
on delete cascade`) and checks (`add check price >= 0 on products`)."""

from __future__ import annotations

from typing import Optional

from ..errors import FluxInputError
from ..model.operations import AddCheck, AddForeignKey, AddIndex, AddUnique
from .phrases import Parser, tok_is_name
from ..pg.parse import column_refs, parse_expr

ON_DELETE = {"cascade": "CASCADE", "set null": "SET NULL", "restrict": "RESTRICT", "no action": "NO ACTION",
             "set default": "SET DEFAULT"}


def check_refs(p: Parser, text: str, table: str, what: str) -> None:
    for ref in sorted(column_refs(parse_expr(text, what))):
        p.names.column(table, ref)


def key_target(p: Parser, referenced: bool = False, need_columns: bool = True,
               expressions: bool = False) -> tuple[str, Optional[list[str]]]:
    """`orders(user_id)`, `orders.user_id [and orders.status]`, `user_id and status of orders`, `orders`;
    `expressions`: an index's, whose keys in parentheses may be expressions (`users (lower(email))`)."""
    c = p.c
    if p.ctx.column is not None and c.accept("it", "that column", "this column"):
        return p.ctx.table, [p.ctx.column]
    start = c.i
    table = p.try_table()
    if table is not None and not p.names.known and "." in table and not c.at("("):
        table, c.i = None, start  # no schema: `orders.user_id` is a column, not schema.table
    if table is not None:
        if c.at("("):
            keys = p.column_list(expressions_of=table if expressions else None)
            return table, [col if "(" in col else p.names.column(table, col) for col in keys]
        # with a schema a known table is a table; without one, `status of orders` names a column
        if not (c.kind() == "poss" or (not p.names.known and c.at("of", "on", "in"))):
            if referenced and p.names.known:
                pk = p.names.primary_key(table)
                if not pk:
                    raise FluxInputError(f"table {table} has no primary key: say which column is referenced")
                return table, pk
            if referenced:
                c.fail(f"say which column of {table} is referenced, e.g. {table}.id")
            if need_columns and not c.at("by", "using", "with", "covering"):
                c.fail(f"say which columns of {table}")
            return table, None
    c.i = start
    refs = [p.col_ref(preps=())]
    while c.at(",", "and", "&") and (tok_is_name(c.peek(1)) or c.at("and", k=1)):
        c.accept(",", "and", "&")
        c.accept("and")
        refs.append(p.col_ref(preps=()))
    c.accept("columns", "fields")
    if any(r.table is None and not r.resolved for r in refs) and c.accept("of", "on", "in", "from", "for"):
        table = p.table()
        for r in refs:
            r.table = r.table or table
    resolved = [p.resolve(r) for r in refs]
    tables = {t for t, _ in resolved}
    if len(tables) != 1:
        raise FluxInputError(f"columns {', '.join(f'{t}.{col}' for t, col in resolved)} are on different tables")
    return tables.pop(), [col for _, col in resolved]


def index(p: Parser, unique: bool = False) -> AddIndex:
    c = p.c
    name = where = table = None
    cols: Optional[list[str]] = None
    c.skip("concurrently", "if not exists")
    if tok_is_name(c.peek()) and c.at("on", k=1) and _paren_after_table(p, 2):
        name = p.name(new=True)  # "add index orders_user_idx on orders (user_id)"
    while not c.done():
        if c.accept(",", "concurrently", "if not exists", "please"):
            continue
        if c.accept("unique"):
            unique = True
        elif c.accept("named", "called", "with the name", "with name", "name"):
            name = p.name("index name", new=True)
        elif c.accept("for rows where", "only where", "where", "when"):
            where = p.expr("index predicate", p.stop_at("named", "called"))
        elif table is not None and cols is None and c.accept("by", "using", "with", "covering", "on"):
            cols = [p.names.column(table, col) for col in p.column_list()]
        elif table is not None and cols is None and p.names.known and tok_is_name(c.peek()) \
                and p.names.find_column(table, c.peek().text) is not None:
            cols = [p.names.column(table, col) for col in p.column_list()]  # "on Webhook url": a column of it
        elif table is None:
            c.accept("on", "to", "for", "of", "over", "across")
            table, cols = key_target(p, need_columns=False, expressions=True)
        else:
            c.fail()
    if table is None or cols is None:
        c.fail("say which table and columns to index, e.g. 'add index on orders(user_id)'")
    if where is not None:
        check_refs(p, where, table, "index predicate")
    return AddIndex(table=table, columns=cols, unique=unique, name=name, where=where)


def _paren_after_table(p: Parser, k: int) -> bool:
    start = p.c.i
    try:
        p.c.i += k
        return p.try_table() is not None and p.c.at("(") is not None
    finally:
        p.c.i = start


def unique(p: Parser) -> AddUnique:
    c = p.c
    name = None
    if c.accept("named", "called"):
        name = p.name("constraint name", new=True)
    c.accept("on", "to", "for", "over", "across")
    table, cols = key_target(p)
    if c.accept("named", "called"):
        name = p.name("constraint name", new=True)
    return AddUnique(table=table, columns=cols, name=name)


def on_delete_action(p: Parser) -> Optional[str]:
    c = p.c
    if c.accept("on delete", "on deletion", "when deleted"):
        c.accept("do")
        found = c.expect(*ON_DELETE)
        return ON_DELETE[found]
    if c.accept("with cascading deletes", "with cascade delete", "with delete cascade", "cascading on delete",
                "cascading deletes", "cascade on delete", "with cascade", "cascading", "cascade"):
        return "CASCADE"
    return None


def foreign_key(p: Parser, src: Optional[tuple[str, list[str]]] = None,
                dst: Optional[tuple[str, list[str]]] = None) -> AddForeignKey:
    c = p.c
    name = on_delete = None
    while not c.done():
        if c.accept(",", "constraint", "that", "which"):
            continue
        action = on_delete_action(p)
        if action is not None:
            on_delete = action
        elif c.accept("named", "called"):
            name = p.name("constraint name", new=True)
        elif c.accept("to", "references", "referencing", "->", "pointing to", "pointing at", "that references",
                      "reference", "onto", "targeting"):
            dst = key_target(p, referenced=True)
        elif src is None:
            c.accept("from", "on", "for", "in")
            src = key_target(p)
        else:
            c.fail()
    if src is None or dst is None:
        c.fail("say both sides, e.g. 'add foreign key from orders.user_id to users.id'")
    if len(src[1]) != len(dst[1]):
        raise FluxInputError(f"foreign key from {src[0]} ({', '.join(src[1])}) to {dst[0]} "
                             f"({', '.join(dst[1])}): the column counts differ")
    return AddForeignKey(table=src[0], columns=src[1], ref_table=dst[0], ref_columns=dst[1], on_delete=on_delete,
                         name=name)


def check(p: Parser, name: Optional[str] = None) -> AddCheck:
    c = p.c
    table = expression = None
    while not c.done():
        if c.accept(",", ":", "constraint", "that", "ensuring", "so that", "requiring", "to ensure", "where"):
            continue
        if c.accept("named", "called"):
            name = p.name("constraint name", new=True)
        elif table is None and c.at("on", "to", "for", "in") and p.table_ahead(1, ends=("(", ":", "that",
                                                                                       "named", "called")):
            c.accept("on", "to", "for", "in")
            table = p.table()
        elif expression is None:
            expression = p.expr("check expression",
                                p.stop_at("named", "called", tables=("on", "to", "for", "in")))
        else:
            c.fail()
    if expression is None:
        c.fail("expected the check's condition, e.g. 'add check price >= 0 on products'")
    if table is None:
        raise FluxInputError(f"which table does the check {expression!r} belong to? add 'on TABLE'")
    check_refs(p, expression, table, "check expression")
    return AddCheck(table=table, expression=expression, name=name)
