"""The one seam to PostgreSQL's parser: statements split with their lines, user
expressions and types parsed and printed back from their trees, so nothing a user
or a model types is pasted into SQL. pglast does the work; where its wheel is
missing (Windows) sqlglot stands in for expressions (flux_agent.pg.fallback)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FluxInputError

try:
    import pglast
    from pglast import ast
    from pglast.stream import RawStream, maybe_double_quote_name  # noqa: F401 (quote.py takes it from here)

    HAVE_PGLAST = True
except ImportError:  # no pglast wheel (Windows): sqlglot stands in
    from . import fallback as _fb
    from .fallback import maybe_double_quote_name  # noqa: F401 (quote.py takes it from here)

    pglast = ast = RawStream = None
    HAVE_PGLAST = False


def parse_sql(sql: str):
    """pglast's raw statements of `sql` (raises pglast.parser.ParseError)."""
    return pglast.parse_sql(sql)


def scan_comments(sql: str) -> list[tuple[int, str]]:
    """(offset, text) of each `--` comment, as PostgreSQL's scanner sees them (none in strings)."""
    try:
        tokens = pglast.parser.scan(sql)
    except pglast.parser.ParseError:
        return []
    return [(t.start, sql[t.start: t.end + 1]) for t in tokens if t.name == "SQL_COMMENT"]


def print_tree(node) -> str:
    return RawStream()(node)


def parse_expr(text: str, what: str = "expression"):
    """Parse one SQL value expression, refusing anything that is not exactly one."""
    if text is None or not str(text).strip():
        raise FluxInputError(f"empty {what}")
    if not HAVE_PGLAST:
        return _fb.parse_expr(text, what)
    try:
        stmts = pglast.parse_sql(f"SELECT {text}")
    except pglast.parser.ParseError as exc:
        raise FluxInputError(f"cannot parse {what} {text!r}: {exc}") from None
    if len(stmts) != 1:
        raise FluxInputError(f"{what} {text!r} must be one expression, not several statements")
    sel = stmts[0].stmt
    star = isinstance(sel, ast.SelectStmt) and any(
        isinstance(n, ast.ColumnRef) and isinstance(n.fields[-1], ast.A_Star) for n in iter_nodes(sel.targetList))
    if (
        not isinstance(sel, ast.SelectStmt)
        or sel.fromClause
        or sel.whereClause
        or sel.groupClause
        or sel.sortClause
        or sel.limitCount
        or sel.valuesLists
        or sel.op != pglast.enums.SetOperation.SETOP_NONE
        or not sel.targetList
        or len(sel.targetList) != 1
        or sel.targetList[0].name
        or star
    ):
        raise FluxInputError(f"{what} {text!r} must be a single SQL expression")
    return sel.targetList[0].val


def render(node) -> str:
    return RawStream()(node) if HAVE_PGLAST else _fb.render(node)


def no_subquery(node, text: str, what: str) -> None:
    """PostgreSQL refuses subqueries in defaults, checks and index predicates: say so now."""
    if HAVE_PGLAST and any(isinstance(n, ast.SubLink) for n in iter_nodes(node)):
        raise FluxInputError(f"{what} {text!r} holds a subquery; PostgreSQL does not allow one there")


def operand(text: str) -> str:
    """A printed expression made safe where the grammar takes less than a full expression
    (after DEFAULT in a column definition, beside IS DISTINCT FROM): parenthesized unless
    it is a constant, a column, a function call or a cast."""
    if not HAVE_PGLAST:
        return f"({text})"
    try:
        node = parse_expr(text)
    except FluxInputError:
        return f"({text})"
    # not CASE (nor ARRAY[...], which may hold one): its THEN would end a PL/pgSQL IF condition early
    simple = (ast.A_Const, ast.ColumnRef, ast.FuncCall, ast.TypeCast, ast.SQLValueFunction)
    if isinstance(node, simple):
        return text
    return f"({text})"


def expr(text: str, what: str = "expression") -> str:
    """A user expression, re-printed from its parse tree."""
    return render(parse_expr(text, what))


def iter_nodes(node):
    """Every pglast node of a tree, depth first."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Node):
            yield n
            stack.extend(getattr(n, attr) for attr in n)
        elif isinstance(n, (tuple, list)):
            stack.extend(n)


def column_refs(node) -> set[str]:
    """Bare column names an expression refers to (last name part of each reference)."""
    if not HAVE_PGLAST:
        return _fb.column_refs(node)
    found: set[str] = set()
    for n in iter_nodes(node):
        if isinstance(n, ast.ColumnRef) and isinstance(n.fields[-1], ast.String):
            found.add(n.fields[-1].sval)
    return found


def replace_column(node, column: str, replacement: list[str]):
    """Rewrite references to `column` as the qualified name `replacement` (e.g. NEW.col)."""
    if not HAVE_PGLAST:
        return _fb.replace_column(node, column, replacement)

    for n in iter_nodes(node):
        if isinstance(n, ast.ColumnRef) and len(n.fields) == 1:
            last = n.fields[-1]
            if isinstance(last, ast.String) and last.sval == column:
                n.fields = tuple(ast.String(sval=p) for p in replacement)
    return node


def parse_type(text: str):
    """Parse a type name such as `varchar(255)`, `numeric(12, 2)` or `text[]`."""
    if text is None or not str(text).strip():
        raise FluxInputError("empty type")
    try:
        stmts = pglast.parse_sql(f"SELECT NULL::{text}")
    except pglast.parser.ParseError as exc:
        raise FluxInputError(f"cannot parse type {text!r}: {exc}") from None
    target = stmts[0].stmt.targetList if len(stmts) == 1 else None
    val = target[0].val if target and len(target) == 1 else None
    if not isinstance(val, ast.TypeCast) or not isinstance(val.arg, ast.A_Const):
        raise FluxInputError(f"{text!r} is not a type")
    return val.typeName


@dataclass
class Statement:
    node: ast.Node
    text: str
    line: int  # 1-based line of the statement's first token in its file
    index: int


class SqlSyntaxError(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def split_statements(sql: str, line_offset: int = 0) -> list[Statement]:
    try:
        raws = pglast.parse_sql(sql)
    except pglast.parser.ParseError as exc:
        where = getattr(exc, "location", None) or 0
        line = sql.count("\n", 0, min(where, len(sql))) + 1 + line_offset
        raise SqlSyntaxError(str(exc.args[0] if exc.args else exc), line) from None
    out = []
    for i, raw in enumerate(raws):
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(sql)
        out.append(Statement(raw.stmt, sql[start:end].strip(), sql.count("\n", 0, start) + 1 + line_offset, i))
    return out
