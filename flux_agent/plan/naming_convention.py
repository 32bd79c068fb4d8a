"""The names a project's SQLAlchemy naming_convention gives an index, a unique constraint or a
foreign key declared without one, rendered as SQLAlchemy renders them (sqlalchemy/sql/naming.py's
tokens, its cut of a name past 63 characters), so an operation asked for without a name in an
Alembic project is named as the project's models would name it (polar's ix_%(column_0_N_label)s).
tests/unit/plan/test_naming_convention.py holds each rendering against SQLAlchemy's own."""

from __future__ import annotations

import hashlib
import re
from typing import Optional

from ..model.operations import AddForeignKey, AddIndex, AddUnique, Operation
from ..pg.quote import split_qualified

_MAX = 63  # PostgreSQL's max_identifier_length: SQLAlchemy cuts a convention's name past it
# column_0_name, column_0N_label, column_0_N_name, referred_column_0_name, ... (ConventionDict.__getitem__)
_COLUMN = re.compile(r"(referred_)?column_(\d+)(_?N)?_(name|label|key)")


class _Unknown(Exception):
    """A token Flux cannot render as SQLAlchemy would (a column's key, the constraint's own name)."""


class _Tokens(dict):
    def __init__(self, table: str, columns: list[str], referred_table: Optional[str], referred: list[str]):
        super().__init__()
        self.table, self.columns, self.referred_table, self.referred = table, columns, referred_table, referred

    def __missing__(self, key: str) -> str:
        if key == "table_name":
            return self.table
        if key == "referred_table_name" and self.referred_table is not None:
            return self.referred_table
        m = _COLUMN.fullmatch(key)
        if m is None or m.group(4) == "key" or (m.group(1) and (self.referred_table is None or m.group(4) != "name")):
            raise _Unknown(key)  # a model's attribute key may differ from the column's name: not guessed
        names = self.referred if m.group(1) else self.columns
        if m.group(4) == "label":  # Column._ddl_label: <table>_<column>
            names = [f"{self.table}_{c}" for c in names]
        if m.group(3):  # all of them: column_0N_ joins with nothing, column_0_N_ with "_"
            if m.group(2) != "0":
                raise _Unknown(key)
            return ("_" if m.group(3).startswith("_") else "").join(names)
        index = int(m.group(2))
        if index < len(names):
            return names[index]
        if m.group(1):
            raise _Unknown(key)  # SQLAlchemy fails on a referred column that is not there
        return ""  # as SQLAlchemy gives a column past the last


def convention_name(convention: dict[str, str], kind: str, table: str, columns: list[str],
                    referred_table: Optional[str] = None, referred_columns: Optional[list[str]] = None
                    ) -> Optional[str]:
    """The name `convention` gives a `kind` ("ix", "uq", "fk") of `table` on `columns`; None where it
    has no pattern for the kind, the pattern names nothing of the object, or Flux cannot render it
    as SQLAlchemy would: a table outside public (SQLAlchemy's label puts its schema in), a token of
    a column's key or of the constraint's own name, a name not in ASCII (cut by characters there,
    by bytes in PostgreSQL)."""
    pattern = convention.get(kind)
    schema, bare = split_qualified(table)
    if not pattern or "%(" not in pattern or schema not in (None, "public"):
        return None
    referred = split_qualified(referred_table)[1] if referred_table else None
    try:
        name = pattern % _Tokens(bare, list(columns), referred, list(referred_columns or []))
    except (_Unknown, ValueError, TypeError):  # ValueError, TypeError: a pattern % cannot format
        return None
    if not name or not name.isascii():  # empty: SQLAlchemy leaves it unnamed, for PostgreSQL to name
        return None
    if len(name) > _MAX:  # IdentifierPreparer._truncate_and_render_maxlen_name
        name = name[:_MAX - 8] + "_" + hashlib.md5(name.encode()).hexdigest()[-4:]
    return name


def convention_named(op: Operation, convention: Optional[dict[str, str]]) -> Operation:
    """`op` named by the project's convention where it asks for no name and the convention names
    what it makes; else `op` itself."""
    if not convention or getattr(op, "name", "") is not None:
        return op
    if isinstance(op, AddIndex):  # a unique index too: SQLAlchemy's Index takes the "ix" pattern
        keys = list(op.columns)
        if not all(k.isidentifier() for k in keys):
            return op  # an expression: SQLAlchemy names it from the expression's own label
        name = convention_name(convention, "ix", op.table, keys)
    elif isinstance(op, AddUnique):
        name = convention_name(convention, "uq", op.table, list(op.columns))
    elif isinstance(op, AddForeignKey):
        name = convention_name(convention, "fk", op.table, list(op.columns), op.ref_table, list(op.ref_columns))
    else:
        return op
    return op if name is None else op.model_copy(update={"name": name})
