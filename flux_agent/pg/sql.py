"""The one place SQL text is built: identifiers are quoted here, and every
user-supplied type or expression is parsed with pglast and printed back from
its syntax tree, so nothing a user or a model types is pasted into SQL.
"""

from __future__ import annotations

from typing import Iterable, Optional

from ..errors import FluxInputError

try:
    import pglast
    from pglast import ast
    from pglast.stream import RawStream, maybe_double_quote_name

    HAVE_PGLAST = True
except ImportError:  # no pglast wheel (Windows): sqlglot stands in
    from . import fallback as _fb
    from .fallback import maybe_double_quote_name

    HAVE_PGLAST = False

MAX_IDENT_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names


def shown(name: str, limit: int = 80) -> str:
    """A name as error messages quote it: repr, cut short when a caller sent something huge."""
    return repr(name) if len(name) <= limit else repr(name[:limit]) + f"... ({len(name)} characters)"


def check_ident(name: str, what: str = "identifier") -> str:
    if not name or not name.strip():
        raise FluxInputError(f"empty {what} name")
    if "\x00" in name:
        raise FluxInputError(f"{what} name {shown(name)} contains a NUL byte")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        # A line break would end the SQL comments that name the object and run the rest as SQL.
        raise FluxInputError(f"{what} name {shown(name)} contains a control character (line break, tab, ...)")
    if len(name.encode()) > MAX_IDENT_BYTES:
        raise FluxInputError(
            f"{what} name {shown(name)} is {len(name.encode())} bytes; PostgreSQL keeps only {MAX_IDENT_BYTES}"
        )
    return name


def ident(name: str) -> str:
    """Quote one identifier when PostgreSQL needs it quoted."""
    return maybe_double_quote_name(check_ident(name))


def split_qualified(name: str) -> tuple[Optional[str], str]:
    """'billing.invoices' -> ('billing', 'invoices'); 'users' -> (None, 'users')."""
    if name.startswith('"'):
        # An explicitly quoted name may hold dots: parse it as PostgreSQL would.
        parts = _parse_qualified(name)
    else:
        parts = name.split(".")
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise FluxInputError(f"table name {shown(name)} has more than one dot; expected schema.table")


def _parse_qualified(name: str) -> list[str]:
    if not HAVE_PGLAST:
        raise FluxInputError(f"quoted table names such as {shown(name)} need pglast")
    try:
        stmts = pglast.parse_sql(f"SELECT * FROM {name}")
        rv = stmts[0].stmt.fromClause[0]
        parts = [p for p in (rv.catalogname, rv.schemaname, rv.relname) if p]
        # Exactly a (schema-)qualified name: nothing after it (an alias, a second statement).
        again = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
        exact = RawStream()(stmts) == RawStream()(pglast.parse_sql(f"SELECT * FROM {again}"))
    except Exception as exc:  # pglast.parser.ParseError and friends
        raise FluxInputError(f"cannot read table name {shown(name)}: {' '.join(str(exc).split())}") from None
    if not exact:
        raise FluxInputError(f"cannot read table name {shown(name)}: not a plain or schema-qualified name")
    if any("." in p for p in parts):
        raise FluxInputError(f"table name {shown(name)}: names containing a dot are not supported")
    return parts


def canonical_table(name: str) -> str:
    """The schema model's key for a table: unqualified when in public."""
    schema, table = split_qualified(name)
    if schema in (None, "public"):
        return table
    return f"{schema}.{table}"


def qname(name: str) -> str:
    """A table, view, index or type name, schema-qualified when given so."""
    schema, obj = split_qualified(name)
    return f"{ident(schema)}.{ident(obj)}" if schema else ident(obj)


def same_schema_name(table: str, obj: str) -> str:
    """An index or constraint name placed in the schema of `table`."""
    schema, _ = split_qualified(table)
    return f"{schema}.{obj}" if schema and schema != "public" else obj


def qname_in(table: str, obj: str) -> str:
    """The quoted name of `obj` (an index or function) in the schema of `table`; unlike
    qname(same_schema_name(...)) it never reads a dot or a quote inside `obj` as syntax."""
    schema, _ = split_qualified(table)
    return f"{ident(schema)}.{ident(obj)}" if schema and schema != "public" else ident(obj)


def dollar_quote(body: str, tag: str = "flux") -> str:
    """`$flux$body$flux$`, with a tag that does not occur in `body`: a name or string constant
    holding `$flux$` must not end the quoted body early."""
    n = 0
    while f"${tag}$" in body:
        n += 1
        tag = f"flux{n}"
    return f"${tag}${body}${tag}$"


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident_list(names: Iterable[str]) -> str:
    return ", ".join(ident(n) for n in names)


# --------------------------------------------------------------------------
# Expressions and types from users
# --------------------------------------------------------------------------


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


PHASE_MARKER = "flux-phase"


def phase_marker(phase: str, reason: str) -> str:
    """The comment that tells the validator which plan phase a migration file belongs to, with
    its reason: a contract file, run after its code deploy, may drop what the code stopped using."""
    return f"-- {PHASE_MARKER} {phase}: {reason}"
