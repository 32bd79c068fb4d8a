"""Identifiers and literals as SQL text: every name Flux writes is quoted here, checked
for what PostgreSQL would silently change (length, control characters)."""

from __future__ import annotations

from typing import Iterable, Optional

from ..errors import FluxInputError
from .parse import HAVE_PGLAST, maybe_double_quote_name, parse_sql, print_tree

if not HAVE_PGLAST:  # sqlglot stands in where the pglast wheel is missing
    from . import fallback as _fb

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
    parts = _qualified_parts(name) if HAVE_PGLAST else _fb.qualified_name(name)
    if parts is None:
        raise FluxInputError(f"cannot read table name {shown(name)}: not a plain or schema-qualified name")
    if any("." in p for p in parts):
        raise FluxInputError(f"table name {shown(name)}: names containing a dot are not supported")
    return parts


def _qualified_parts(name: str) -> Optional[list[str]]:
    try:
        stmts = parse_sql(f"SELECT * FROM {name}")
        rv = stmts[0].stmt.fromClause[0]
        parts = [p for p in (rv.catalogname, rv.schemaname, rv.relname) if p]
        # Exactly a (schema-)qualified name: nothing after it (an alias, a second statement).
        again = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
        exact = print_tree(stmts) == print_tree(parse_sql(f"SELECT * FROM {again}"))
    except Exception as exc:  # pglast.parser.ParseError and friends
        raise FluxInputError(f"cannot read table name {shown(name)}: {' '.join(str(exc).split())}") from None
    return parts if exact else None


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


def relation_name(rv) -> Optional[str]:
    """The schema model's key for a parsed relation (a pglast RangeVar)."""
    if rv is None:
        return None
    return canonical_table(f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname)
