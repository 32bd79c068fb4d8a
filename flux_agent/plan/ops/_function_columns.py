"""Which table's column a function body names, read from PostgreSQL's own parse of it (pglast's
PL/pgSQL and SQL parsers): each statement's column references resolved to the tables it reads or
writes, NEW and OLD to the tables whose triggers call it. A rename or drop of a column then meets
the function only where its body names that table's column: a trigger on comments whose body
deletes from posts by posts.user_id names no column of comments (it was refused as naming
comments.user_id, from its words alone)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...model.schema import Function
from ...pg.parse import HAVE_PGLAST, ast, iter_nodes
from ...pg.quote import canonical_table

_EXPRESSION_MODES = (2, 3, 4, 5)  # PLPGSQL_EXPR and the three assignment modes of raw_parser


class _Unread(Exception):
    """A part of the body Flux cannot resolve: the caller falls back to the body's words."""


def column_lines(fn: Function, table: str, column: str) -> Optional[list[int]]:
    """The lines of `fn`'s body naming column `column` of `table` (canonical names); None where the
    body is not SQL or PL/pgSQL Flux parses and resolves (the caller scans its words instead)."""
    if not HAVE_PGLAST:
        return None
    triggers = {canonical_table(t.rpartition(" on ")[2]) for t in fn.triggers}
    try:
        statements, records = _body(fn)
    except _Unread:
        return None
    scope = {name for _, stmt in statements for name in _relations(stmt).values()}
    context = _Context(table, column, triggers, scope, records)
    return sorted({line for line, stmt in statements if _names(stmt, context)})


def _body(fn: Function) -> tuple[list, dict[str, set[str]]]:
    """(line in the body, parsed statement) of each SQL statement and expression of the body, and
    the tables whose rows each record variable holds (FOR r IN query, SELECT ... INTO r)."""
    import pglast

    language = fn.language.lower()
    if language == "sql":
        try:
            return [(fn.body.count("\n", 0, raw.stmt_location or 0) + 1, raw.stmt)
                    for raw in pglast.parse_sql(fn.body)], {}
        except pglast.parser.ParseError:
            raise _Unread from None
    if language != "plpgsql":
        raise _Unread
    tag = next(f"$flux{n}$" for n in range(100) if f"$flux{n}$" not in fn.body)
    try:
        tree = pglast.parse_plpgsql(f"CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS {tag}{fn.body}{tag}")
    except pglast.parser.ParseError:
        raise _Unread from None
    statements = [(line, _parsed(query, mode)) for line, query, mode in _expressions(tree, 1)]
    records: dict[str, set[str]] = {}
    for rec, expr in _filled_records(tree):
        records.setdefault(rec, set()).update(_relations(_parsed(expr["query"], expr.get("parseMode", 0))).values())
    return statements, records


def _filled_records(node):
    """(record variable, the PLpgSQL_expr of the query that fills it) of each FOR loop over a query
    and each SELECT ... INTO a record."""
    if isinstance(node, dict):
        loop = node.get("PLpgSQL_stmt_fors")
        if loop is not None and "PLpgSQL_rec" in loop.get("var", {}):
            yield loop["var"]["PLpgSQL_rec"]["refname"], loop["query"]["PLpgSQL_expr"]
        into = node.get("PLpgSQL_stmt_execsql")
        if into is not None and "PLpgSQL_rec" in (into.get("target") or {}):
            yield into["target"]["PLpgSQL_rec"]["refname"], into["sqlstmt"]["PLpgSQL_expr"]
        for value in node.values():
            yield from _filled_records(value)
    elif isinstance(node, list):
        for value in node:
            yield from _filled_records(value)


def _expressions(node, line: int):
    """(line, query, parse mode) of each PLpgSQL_expr under `node`, at its statement's line."""
    if isinstance(node, dict):
        line = node.get("lineno", line)
        expr = node.get("PLpgSQL_expr")
        if expr is not None:
            yield line, expr.get("query", ""), expr.get("parseMode", 0)
        for value in node.values():
            yield from _expressions(value, line)
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value, line)


def _parsed(query: str, mode: int):
    """A PL/pgSQL expression's parse: a statement as it is, an expression (or an assignment's value,
    after its := as PostgreSQL's scanner finds it) as the SELECT PL/pgSQL makes of it."""
    import pglast

    try:
        if mode in _EXPRESSION_MODES:
            if mode != 2:
                cut = next(t.end + 1 for t in pglast.parser.scan(query) if t.name in ("COLON_EQUALS", "ASCII_61"))
                query = query[cut:]
            return pglast.parse_sql(f"SELECT {query}")[0].stmt
        (raw,) = pglast.parse_sql(query)
        return raw.stmt
    except (pglast.parser.ParseError, StopIteration, ValueError):
        raise _Unread from None


def _relations(stmt) -> dict[str, str]:
    """Each name a column of the statement may be qualified with (a table's name, its alias) -> the table."""
    out: dict[str, str] = {}
    for n in iter_nodes(stmt):
        if isinstance(n, ast.RangeVar):
            table = canonical_table(".".join(p for p in (n.schemaname, n.relname) if p))
            out[n.relname] = table
            if n.alias is not None:
                out[n.alias.aliasname] = table
    return out


@dataclass(frozen=True)
class _Context:
    table: str  # the column's table and name
    column: str
    triggers: set[str]  # the tables whose triggers call the function (NEW, OLD)
    scope: set[str]  # every table the function's statements name
    records: dict[str, set[str]]  # record variable -> the tables whose rows fill it


def _names(stmt, ctx: _Context) -> bool:
    """Does the statement name the column? A bare column is one of the statement's own tables
    (none: a variable); NEW.c and OLD.c the triggers' tables; a record's field (r.c) the tables its
    query reads; another qualifier's field any table the function names."""
    table, column, triggers = ctx.table, ctx.column, ctx.triggers
    relations = _relations(stmt)
    tables = set(relations.values())
    for n in iter_nodes(stmt):
        if isinstance(n, ast.ColumnRef):
            parts = [f.sval for f in n.fields if isinstance(f, ast.String)]
            if not parts or parts[-1] != column or len(parts) != len(n.fields):
                continue
            if len(parts) == 1:
                hit = table in tables
            elif parts[-2] in ("new", "old") and parts[-2] not in relations:
                hit = table in triggers
            elif len(parts) == 2 and parts[0] in relations:
                hit = relations[parts[0]] == table
            elif len(parts) == 3:
                hit = canonical_table(f"{parts[0]}.{parts[1]}") == table
            elif len(parts) == 2 and parts[0] in ctx.records:
                hit = table in ctx.records[parts[0]]
            else:
                hit = table in ctx.scope or table in triggers
            if hit:
                return True
        elif isinstance(n, (ast.InsertStmt, ast.UpdateStmt)) and n.relation is not None:
            # INSERT INTO t (c), UPDATE t SET c = ...: the target's own columns, by name
            target = canonical_table(".".join(p for p in (n.relation.schemaname, n.relation.relname) if p))
            named = [r.name for r in (n.cols if isinstance(n, ast.InsertStmt) else n.targetList) or ()
                     if isinstance(r, ast.ResTarget)]
            if target == table and column in named:
                return True
        elif isinstance(n, ast.JoinExpr) and n.usingClause:
            if column in [u.sval for u in n.usingClause] and table in tables:
                return True
        elif isinstance(n, ast.IndexElem) and n.name == column and table in tables:
            return True  # ON CONFLICT (c) of the statement's table
    return False
