"""sqlglot stand-ins for the few pglast services the planner and the writers
need, for platforms where the pglast wheel is missing (Windows): expressions,
types, quoting, and tokens to cut SQL into statements. pglast stays the
reference: it is PostgreSQL's own parser, sqlglot only approximates it.
Schema replay and the lint rules have no fallback; they need pglast.
"""

from __future__ import annotations

import re
from typing import Optional

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.tokens import TokenType

from ..errors import FluxInputError

_KEYWORDS = {k.lower() for k in Postgres.Tokenizer.KEYWORDS if k.replace(" ", "").isalpha()}
_SIMPLE = re.compile(r"[a-z_][a-z0-9_]*$")  # identifier shape, not SQL parsing


def maybe_double_quote_name(name: str) -> str:
    # Quoting a name that needs none is harmless; sqlglot's keyword list is broad.
    if _SIMPLE.match(name) and name not in _KEYWORDS:
        return name
    return '"%s"' % name.replace('"', '""')


def qualified_name(name: str) -> Optional[list[str]]:
    """The parts of a (schema-)qualified name as PostgreSQL reads them (quoted parts as
    written, unquoted ones folded to lower case); None when `name` is anything else."""
    try:
        found = Postgres().tokenize(name)
    except sqlglot.errors.TokenError:
        return None
    if len(found) % 2 == 0:  # name (. name)*
        return None
    parts = []
    for i, t in enumerate(found):
        if i % 2 == 1:
            if t.token_type != TokenType.DOT:
                return None
        elif t.token_type in (TokenType.IDENTIFIER, TokenType.VAR):
            parts.append(t.text if t.token_type == TokenType.IDENTIFIER else t.text.lower())
        else:
            return None
    return parts


def parse_expr(text: str, what: str) -> exp.Expression:
    try:
        stmts = sqlglot.parse(f"SELECT {text}", read="postgres")
    except sqlglot.errors.ParseError as exc:
        raise FluxInputError(f"cannot parse {what} {text!r}: {str(exc).splitlines()[0]}") from None
    if len(stmts) != 1:
        raise FluxInputError(f"{what} {text!r} must be one expression, not several statements")
    sel = stmts[0]
    if not isinstance(sel, exp.Select) or len(sel.expressions) != 1 or any(
        sel.args.get(k) for k in ("from", "where", "group", "order", "limit")
    ) or isinstance(sel.expressions[0], exp.Alias):
        raise FluxInputError(f"{what} {text!r} must be a single SQL expression")
    return sel.expressions[0]


def render(node: exp.Expression) -> str:
    return node.sql(dialect="postgres")


def column_refs(node: exp.Expression) -> set[str]:
    return {c.name for c in node.find_all(exp.Column)}


def replace_column(node: exp.Expression, column: str, replacement: list[str]) -> exp.Expression:
    def swap(n):
        if isinstance(n, exp.Column) and n.name == column and not n.table:
            return exp.column(replacement[-1], table=replacement[0] if len(replacement) > 1 else None)
        return n

    return node.transform(swap)


_TYPES = {
    "INT": "integer", "BIGINT": "bigint", "SMALLINT": "smallint", "TEXT": "text", "BOOLEAN": "boolean",
    "VARCHAR": "character varying", "CHAR": "character", "DECIMAL": "numeric", "DOUBLE": "double precision",
    "FLOAT": "real", "TIMESTAMPTZ": "timestamp with time zone", "TIMESTAMP": "timestamp without time zone",
    "DATE": "date", "UUID": "uuid", "JSON": "json", "JSONB": "jsonb", "BINARY": "bytea", "VARBINARY": "bytea",
    "INTERVAL": "interval", "TIME": "time without time zone", "TIMETZ": "time with time zone", "INET": "inet",
}


def type_name(text: str) -> str:
    try:
        dt = exp.DataType.build(text, dialect="postgres", udt=True)
    except (sqlglot.errors.ParseError, ValueError) as exc:
        raise FluxInputError(f"cannot parse type {text!r}: {str(exc).splitlines()[0]}") from None
    suffix = ""
    while dt.this == exp.DataType.Type.ARRAY and dt.expressions:
        suffix += "[]"
        dt = dt.expressions[0]
    if dt.this == exp.DataType.Type.USERDEFINED:
        return maybe_double_quote_name(dt.sql("postgres")) + suffix
    base = _TYPES.get(dt.this.name, dt.this.name.lower())
    mods = ",".join(e.sql("postgres") for e in dt.expressions)
    if mods and base.endswith("time zone"):
        head, _, tail = base.partition(" ")
        return f"{head}({mods}) {tail}{suffix}"
    return (f"{base}({mods})" if mods else base) + suffix


def function_names(node: exp.Expression) -> set[str]:
    names = set()
    for fn in node.find_all(exp.Func):
        names.add(fn.name.lower() if isinstance(fn, exp.Anonymous) else fn.sql_name().lower())
    if any(True for _ in node.find_all(exp.Subquery)):
        names.add("(subquery)")
    return names


_STRINGS = {TokenType.STRING, TokenType.HEREDOC_STRING}


def tokens(sql: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each token, as pg.split.tokens gives them; sqlglot keeps
    comments on the tokens, so none is reported. ValueError when the text does not scan."""
    try:
        found = Postgres().tokenize(sql)
    except sqlglot.errors.TokenError as exc:
        raise ValueError(f"cannot scan the SQL: {str(exc).splitlines()[0]}") from None
    out = []
    for t in found:
        text = sql[t.start: t.end + 1]
        if t.token_type == TokenType.SEMICOLON:
            kind = "semicolon"
        elif t.token_type in _STRINGS and text.startswith("$"):
            kind = "dollar"
        elif t.token_type == TokenType.VAR or _SIMPLE.match(text.lower()):
            kind = "word"
        else:
            kind = "other"
        out.append((t.start, t.end + 1, kind))
    return out
