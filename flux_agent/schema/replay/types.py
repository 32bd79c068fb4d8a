"""Replay of the types a schema makes other than enums: CREATE TYPE ... AS RANGE, CREATE DOMAIN,
CREATE TYPE ... AS (composite), and DROP TYPE/DOMAIN of them. Each is kept with its statement as
the migration wrote it (Schema.types), so a scratch database can make it again."""

from __future__ import annotations

from typing import Optional

from pglast import ast

from ...model.schema import UserType
from ...pg.parse import render
from .state import State, names_of


def create_range(st: State, stmt: ast.CreateRangeStmt) -> None:
    subtype = next((p.arg for p in stmt.params or () if isinstance(p, ast.DefElem) and p.defname == "subtype"), None)
    over = st.column_type(subtype) if isinstance(subtype, ast.TypeName) else None
    _add(st, names_of(stmt.typeName), "range", over, stmt)


def create_domain(st: State, stmt: ast.CreateDomainStmt) -> None:
    _add(st, names_of(stmt.domainname), "domain", st.column_type(stmt.typeName), stmt)


def create_composite(st: State, stmt: ast.CompositeTypeStmt) -> None:
    rv = stmt.typevar
    _add(st, [rv.schemaname, rv.relname] if rv.schemaname else [rv.relname], "composite", None, stmt)


def _add(st: State, names: list[str], kind: str, over: Optional[str], stmt) -> None:
    key = st.creation_key(names[-2] if len(names) > 1 else None, names[-1])
    st.schema.types = [t for t in st.schema.types if t.name != key]
    st.schema.types.append(UserType(name=key, kind=kind, over=over, create=render(stmt)))


def drop_type(st: State, names: list[str]) -> bool:
    """Drop the user type `names` resolves to; False when none does (an enum's, then)."""
    key = st.resolve(names[-2] if len(names) > 1 else None, names[-1],
                     lambda k: any(t.name == k for t in st.schema.types))
    if key is None:
        return False
    st.schema.types = [t for t in st.schema.types if t.name != key]
    return True
