"""The one seam to PostgreSQL's parser: SQL parsed into trees (pg/split.py cuts it into
statements with their lines), user expressions and types parsed and printed back from
their trees, so nothing a user or a model types is pasted into SQL. pglast does the
work; where its wheel is missing (Windows) sqlglot stands in (flux_agent.pg.fallback)
for expressions, types, quoting and cutting SQL into statements, and whatever needs
pglast's trees ends in one line saying so (ParserMissing)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Sequence

from ..errors import FluxInputError, FluxInternalError


class ParserMissing(FluxInternalError):
    """Something that needs pglast ran where it is not installed (exit 3, one line)."""


def require_pglast(what: str) -> None:
    """The one line for `what` where pglast is missing; nothing where it is installed."""
    if not HAVE_PGLAST:
        raise ParserMissing(f"{what} needs pglast, PostgreSQL's own SQL parser, which is not installed here "
                            "(it has no wheel for Windows); run it on Linux, macOS or WSL, e.g. in CI")


class _Missing:
    """pglast's modules where its wheel is missing: modules may import `ast` and `enums`
    from here and still load; using them ends in ParserMissing's line, not an AttributeError."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends probe for these: plain absence
            raise AttributeError(name)
        require_pglast("reading SQL")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        require_pglast("reading SQL")


try:
    import pglast
    from pglast import ast, enums
    from pglast.parser import ParseError
    from pglast.stream import RawStream, maybe_double_quote_name  # noqa: F401 (quote.py takes it from here)
    from pglast.visitors import Ancestor

    HAVE_PGLAST = True
    _CHECKED_SETATTR = ast.Node.__setattr__
except ImportError:  # no pglast wheel (Windows): sqlglot stands in
    from . import fallback as _fb
    from .fallback import maybe_double_quote_name  # noqa: F401 (quote.py takes it from here)

    pglast = ast = enums = RawStream = _Missing()
    HAVE_PGLAST = False

    class ParseError(Exception):  # type: ignore[no-redef]
        """pglast's parse error; never raised without pglast (parsing raises ParserMissing)."""


# pglast's parser builds each node through ast.Node.__setattr__, which checks and converts every
# value: for the trees its C code makes from PostgreSQL's, values already of the right type but one
# (A_Const's Boolean gets an int: tests/unit/pg/test_parse_build.py finds it in pglast's source and
# compares the trees both ways). Built without the check, parsing is four times faster (the 2,000
# files of the validate benchmark: 0.62 -> 0.15 s). Switching the check off and on costs ~0.1 ms
# (Python updates every node class), so it pays for long SQL and for many pieces at once
# (parse_many), not for an expression. Nodes Flux makes itself are always checked: the check is off
# only inside this module's parse calls, under a lock (a node another thread makes in that moment
# goes unchecked, which changes nothing it holds).
_BUILDING = threading.Lock()
_UNCHECKED_FROM = 2_000  # characters of SQL from which one parse call switches the check off


class _Unchecked:
    def __enter__(self) -> None:
        _BUILDING.acquire()
        ast.Node.__setattr__ = object.__setattr__
        ast.Boolean.__setattr__ = _CHECKED_SETATTR  # its check makes the int pglast gives a bool

    def __exit__(self, *exc) -> None:
        del ast.Boolean.__setattr__
        ast.Node.__setattr__ = _CHECKED_SETATTR
        _BUILDING.release()


def parse_sql(sql: str):
    """pglast's raw statements of `sql` (raises ParseError; ParserMissing without pglast)."""
    if not HAVE_PGLAST:
        require_pglast("reading SQL")
    if len(sql) < _UNCHECKED_FROM:
        return pglast.parse_sql(sql)
    with _Unchecked():
        return pglast.parse_sql(sql)


def parse_many(texts: Sequence[str]) -> list:
    """parse_sql of each text, or the ParseError it raises, with pglast's check off once for all."""
    if not HAVE_PGLAST:
        require_pglast("reading SQL")
    out: list = []
    with _Unchecked():
        for sql in texts:
            try:
                out.append(pglast.parse_sql(sql))
            except ParseError as exc:
                out.append(exc)
    return out


def scan_comments(sql: str) -> list[tuple[int, str]]:
    """(offset, text) of each `--` comment, as PostgreSQL's scanner sees them (none in strings)."""
    try:
        scanned = pglast.parser.scan(sql)
    except ParseError:
        return []
    return [(t.start, sql[t.start: t.end + 1]) for t in scanned if t.name == "SQL_COMMENT"]


def print_tree(node) -> str:
    return RawStream()(node)


def parse_expr(text: str, what: str = "expression"):
    """Parse one SQL value expression, refusing anything that is not exactly one."""
    if text is None or not str(text).strip():
        raise FluxInputError(f"empty {what}")
    if not HAVE_PGLAST:
        return _fb.parse_expr(text, what)
    try:
        stmts = parse_sql(f"SELECT {text}")
    except ParseError as exc:
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
        or sel.op != enums.SetOperation.SETOP_NONE
        or not sel.targetList
        or len(sel.targetList) != 1
        or sel.targetList[0].name
        or star
    ):
        raise FluxInputError(f"{what} {text!r} must be a single SQL expression")
    return sel.targetList[0].val


def render(node) -> str:
    """A node printed back as SQL. RawStream's own entry point first sets every node's ancestors
    (the printers read them) through pglast's generic Visitor, which looks its methods up on each
    call: half the time of printing a default. The same ancestors set by a plain walk
    (tests/unit/pg/test_print_back.py compares both), then RawStream prints."""
    if not HAVE_PGLAST:
        return _fb.render(node)
    if not isinstance(node, ast.Node):
        return RawStream()(node)
    shape = _shape(node)
    if shape is not None:
        found = _RENDERED.get(shape)
        if found is not None:
            return found
    _set_ancestors(node)
    printer = RawStream()
    printer.print_node(node)
    text = printer.getvalue()
    if shape is not None:
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[shape] = text
    return text


# Small trees printed already, by their shape (_shape): a history's defaults are mostly the same few
# (now(), false, 0, ''), and printing one takes ~25 us, its shape ~2 us.
_RENDERED: dict = {}
_RENDERED_MAX = 4096
_SHAPE_NODES = 12  # larger trees (a view's query) are printed each time


def _shape(node):
    """A hashable value equal for two trees exactly when they print alike: each node's class and
    every attribute but its place in the SQL (location), each value with its type (True and 1 are
    equal in Python); None for a tree of more than _SHAPE_NODES nodes."""
    budget = [_SHAPE_NODES]

    def of(value):
        if isinstance(value, ast.Node):
            budget[0] -= 1
            if budget[0] < 0:
                raise _TooBig
            return (type(value), tuple(of(getattr(value, a)) for a in value if a != "location"))
        if isinstance(value, (tuple, list)):
            return (tuple, tuple(of(v) for v in value))
        return (type(value), value)

    try:
        shape = of(node)
        hash(shape)
    except (_TooBig, TypeError, AttributeError):  # an unhashable value, an attribute never set: printed as it is
        return None
    return shape


class _TooBig(Exception):
    pass


def _set_ancestors(top) -> None:
    """pglast.visitors.populate_ancestors((top,)): the same Ancestor chains, in the same order
    (breadth first, so a node reached twice keeps the last chain, as there)."""
    todo = deque([(Ancestor(), (top,))])
    while todo:
        chain, value = todo.popleft()
        if isinstance(value, ast.Node):  # reached as an attribute of its parent
            value.ancestors = chain
            todo.extend((chain / (value, m), v) for m in value if isinstance(v := getattr(value, m), (tuple, ast.Node)))
            continue
        for i, item in enumerate(value):
            here = chain / (value, i)
            if isinstance(item, ast.Node):
                item.ancestors = here
                todo.extend((here / (item, m), v) for m in item if isinstance(v := getattr(item, m), (tuple, ast.Node)))
            elif isinstance(item, tuple):
                todo.extend((here / (item, j), v) for j, v in enumerate(item) if isinstance(v, (tuple, ast.Node)))


def no_subquery(node, text: str, what: str) -> None:
    """PostgreSQL refuses subqueries in defaults, checks and index predicates: say so now."""
    if HAVE_PGLAST and any(isinstance(n, ast.SubLink) for n in iter_nodes(node)):
        raise FluxInputError(f"{what} {text!r} holds a subquery; PostgreSQL does not allow one there")


def is_one_name(text: str) -> bool:
    """Is `text` one column name as an index item prints it (`day`, `"Kind"`), not an expression?
    Where a relation's columns are not known (a materialized view's), this tells them apart."""
    if not HAVE_PGLAST:
        return text.isidentifier()
    try:
        scanned = pglast.parser.scan(text)
    except ParseError:
        return False
    # one name or keyword: `user` is a column here, not CURRENT_USER (no index holds that)
    return len(scanned) == 1 and (scanned[0].name == "IDENT" or scanned[0].kind != "NO_KEYWORD")


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


# Per node class, the attributes that can hold a node or a list of them (pglast's slot types):
# the walk reads only those, not the strings, numbers and enums beside them (4x faster).
_CHILDREN: dict = {}


def _children(cls) -> tuple:
    def may_hold(ptype) -> bool:
        return any(isinstance(t, type) and issubclass(t, (ast.Node, list, tuple, dict))
                   for t in (ptype if isinstance(ptype, tuple) else (ptype,)))

    found = _CHILDREN[cls] = tuple(a for a, spec in cls.__slots__.items() if may_hold(spec[1]))
    return found


def iter_nodes(node):
    """Every pglast node of a tree, depth first."""
    stack = [node]
    pop, push, node_type, children = stack.pop, stack.append, ast.Node, _CHILDREN
    while stack:
        n = pop()
        if isinstance(n, node_type):
            yield n
            cls = type(n)
            attrs = children[cls] if cls in children else _children(cls)
            for a in attrs:
                v = getattr(n, a)
                if v is not None:
                    push(v)
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
        stmts = parse_sql(f"SELECT NULL::{text}")
    except ParseError as exc:
        raise FluxInputError(f"cannot parse type {text!r}: {exc}") from None
    target = stmts[0].stmt.targetList if len(stmts) == 1 else None
    val = target[0].val if target and len(target) == 1 else None
    if not isinstance(val, ast.TypeCast) or not isinstance(val.arg, ast.A_Const):
        raise FluxInputError(f"{text!r} is not a type")
    return val.typeName
