"""SQL split into statements, each with its text, its line in the file and its tree (pg.parse
parses; this module cuts): one text or many at once, and, where pglast is missing, at the
scanner's semicolons with no tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional, Sequence, Union

from .parse import HAVE_PGLAST, ParseError, iter_nodes, parse_many, parse_sql, pglast

if not HAVE_PGLAST:
    from . import fallback as _fb


@dataclass
class Statement:
    node: Any  # pglast's tree; None where pglast is missing (text, line and offsets still hold)
    text: str
    line: int  # 1-based line of the statement's first token in its file
    index: int
    start: int = 0  # offset of its first token in the SQL it was cut from
    end: Optional[int] = None  # offset of its closing `;`; None when it has none (the last one)
    _nodes: Optional[list] = field(default=None, init=False, repr=False, compare=False)
    # What the rules work out about the statement alone, once, by name (pg.forms.lookup's answer
    # per major version, which three rules and the lock facts ask for; whether it adds a foreign key)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def nodes(self) -> list:
        """Every node of the statement's tree, depth first (iter_nodes' order), walked once and
        kept: the rules share this list instead of each walking the tree again."""
        if self._nodes is None:
            self._nodes = list(iter_nodes(self.node)) if self.node is not None else []
        return self._nodes


class SqlSyntaxError(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


class Token(NamedTuple):
    start: int
    end: int  # exclusive
    kind: str  # "comment", "semicolon", "dollar" (a dollar-quoted string), "word" or "other"


def tokens(sql: str) -> list[Token]:
    """`sql`'s tokens as PostgreSQL's scanner sees them (strings, quoted names and comments
    whole); sqlglot's tokenizer where pglast is missing, which reports no comments."""
    if not HAVE_PGLAST:
        try:
            return [Token(*t) for t in _fb.tokens(sql)]
        except ValueError as exc:
            raise SqlSyntaxError(str(exc), 1) from None
    try:
        scanned = pglast.parser.scan(sql)
    except ParseError as exc:
        raise SqlSyntaxError(str(exc.args[0] if exc.args else exc), _line_of(sql, exc, 0)) from None
    out = []
    for t in scanned:
        text = sql[t.start: t.end + 1]
        if t.name in ("SQL_COMMENT", "C_COMMENT"):
            kind = "comment"
        elif t.name == "ASCII_59":
            kind = "semicolon"
        elif t.name == "SCONST" and text.startswith("$"):
            kind = "dollar"
        else:
            kind = "word" if _is_word(text) else "other"
        out.append(Token(t.start, t.end + 1, kind))
    return out


def _is_word(text: str) -> bool:
    """A keyword or unquoted name (the token's shape, the scanner having cut it)."""
    return (text[:1].isalpha() or text[:1] == "_") and all(c.isalnum() or c in "_$" for c in text)


def _line_of(sql: str, exc: Exception, line_offset: int) -> int:
    where = getattr(exc, "location", None) or 0
    return sql.count("\n", 0, min(where, len(sql))) + 1 + line_offset


def split_statements(sql: str, line_offset: int = 0) -> list[Statement]:
    """`sql`'s statements. pglast's parser cuts them (a `;` inside BEGIN ATOMIC ... END stays
    inside); where pglast is missing they are cut at the scanner's semicolons, with no tree."""
    if not HAVE_PGLAST:
        return _cut_at_semicolons(sql, line_offset)
    try:
        raws = parse_sql(sql)
    except ParseError as exc:
        raise SqlSyntaxError(str(exc.args[0] if exc.args else exc), _line_of(sql, exc, line_offset)) from None
    return _statements(sql, raws, line_offset)


def split_many(pieces: Sequence[tuple[str, int]]) -> list[Union[list[Statement], SqlSyntaxError]]:
    """split_statements of each (sql, line_offset), or the SqlSyntaxError it raises, parsed in one
    go (pg.parse.parse_many): many files at a time."""
    if not HAVE_PGLAST:
        return [_cut_at_semicolons(sql, offset) for sql, offset in pieces]
    return [SqlSyntaxError(str(got.args[0] if got.args else got), _line_of(sql, got, offset))
            if isinstance(got, ParseError) else _statements(sql, got, offset)
            for (sql, offset), got in zip(pieces, parse_many([sql for sql, _ in pieces]))]


def _statements(sql: str, raws, line_offset: int) -> list[Statement]:
    out = []
    line, counted = 1 + line_offset, 0  # lines counted from the statement before, not from the top
    for i, raw in enumerate(raws):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else None
        text = sql[start:end].strip() if end is not None else sql[start:].strip()
        line += sql.count("\n", counted, start)
        counted = start
        out.append(Statement(raw.stmt, text, line, i, start, end))
    return out


def _cut_at_semicolons(sql: str, line_offset: int) -> list[Statement]:
    out: list[Statement] = []
    first: Optional[Token] = None
    for tok in [*tokens(sql), None]:  # None: the end of the text
        if tok is not None and tok.kind != "semicolon":
            first = first or (tok if tok.kind != "comment" else None)
            continue
        if first is not None:
            text = sql[first.start: tok.start if tok is not None else len(sql)].strip()
            out.append(Statement(None, text, sql.count("\n", 0, first.start) + 1 + line_offset, len(out),
                                 first.start, tok.start if tok is not None else None))
        first = None
    return out


def cut_statements(sql: str) -> list[str]:
    """`sql` cut into statements, each keeping the comments before it and its closing
    semicolon (added after the last token of a last statement that has none)."""
    stmts = split_statements(sql)
    out, begin = [], 0
    for i, st in enumerate(stmts):
        end = st.end + 1 if st.end is not None else len(sql)
        if i == len(stmts) - 1:
            if st.end is None:  # the semicolon goes after its last token, before any trailing comment
                cut = max((t.end for t in tokens(sql) if t.kind != "comment" and t.end > begin), default=len(sql))
                sql = sql[:cut] + ";" + sql[cut:]
            end = len(sql)  # the last statement takes the rest: its trailing comments too
        text = sql[begin:end].strip()
        if text:
            out.append(text)
        begin = end
    return out


def has_dollar_quote(sql: str) -> bool:
    """Does `sql` hold a dollar-quoted string ($$...$$, $tag$...$tag$)?"""
    return any(t.kind == "dollar" for t in tokens(sql))
