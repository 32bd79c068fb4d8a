"""What every statement family reads the same way: table names, name lists, types and
expressions printed back from their trees (never the statement's own text)."""

from __future__ import annotations

from typing import Optional

from ...pg.parse import ast, render
from ...pg.quote import relation_name
from ...pg.types import canonical_type


def table(rv) -> Optional[str]:
    """The operation's `table` of a RangeVar; None for what an operation cannot name (ONLY,
    a catalog-qualified name, a temporary table)."""
    if rv is None or rv.catalogname or not rv.inh or rv.relpersistence == "t":
        return None
    return relation_name(rv)


def strings(nodes) -> list[str]:
    return [n.sval for n in nodes or () if isinstance(n, ast.String)]


def type_text(type_name) -> Optional[str]:
    """A type as format_type prints it (what `flux plan --op` is given); None for %TYPE and SETOF."""
    if type_name is None or type_name.pct_type or type_name.setof:
        return None
    return canonical_type(type_name)


def expr(node) -> str:
    return render(node)
