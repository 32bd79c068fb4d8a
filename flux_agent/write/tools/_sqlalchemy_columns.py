"""The columns of a SQLAlchemy declarative class as its source writes them (`Column(...)`,
`mapped_column(...)`, `name: Mapped[T]`), read with `ast` for _sqlalchemy_models.py's edits."""

from __future__ import annotations

import ast
from dataclasses import dataclass

_COLUMN_CALLS = ("Column", "mapped_column")


@dataclass
class Col:
    """A column attribute of a model class: its statement, its Column()/mapped_column() call and the
    column's name."""

    attr: str
    stmt: ast.stmt
    call: ast.Call | None  # None for `name: Mapped[T]` alone
    column: str

    @property
    def key(self) -> str:
        """The name __table_args__ (Index("ix", "total"), UniqueConstraint) finds the column by: its
        key= where given, else the column's name, not the attribute's (SQLAlchemy 2.x:
        `total = mapped_column("amount")` is found as "amount")."""
        given = next((k.value for k in self.call.keywords if k.arg == "key"), None) if self.call else None
        return given.value if isinstance(given, ast.Constant) and isinstance(given.value, str) else self.column


def columns_of(cls: ast.ClassDef) -> list[Col]:
    """The column attributes of a declarative class, in order."""
    out = []
    for st in cls.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            attr, value = st.targets[0].id, st.value
        elif isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            attr, value = st.target.id, st.value
            if value is None and ast.unparse(st.annotation).startswith("Mapped["):
                out.append(Col(attr, st, None, attr))
                continue
        else:
            continue
        if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] in _COLUMN_CALLS:
            first = value.args[0] if value.args else None
            named = isinstance(first, ast.Constant) and isinstance(first.value, str)
            out.append(Col(attr, st, value, first.value if named else attr))
    return out


def column_of(cls: ast.ClassDef, column: str) -> Col | None:
    """The attribute of the column named `column`, if any."""
    return next((c for c in columns_of(cls) if c.column == column), None)


def type_arg(col: Col) -> ast.expr | None:
    """The type given to the column's call (its first argument that is no name, key or sequence)."""
    for a in col.call.args if col.call else []:
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            continue
        if isinstance(a, ast.Call) and ast.unparse(a.func).split(".")[-1] in ("ForeignKey", "Sequence", "Identity"):
            continue
        return a
    return None


def mapped_inner(ann: ast.expr) -> ast.expr | None:
    """X of Mapped[X] or Mapped[Optional[X]]."""
    if isinstance(ann, ast.Subscript) and ast.unparse(ann.value).endswith("Mapped"):
        inner = ann.slice
        if isinstance(inner, ast.Subscript) and ast.unparse(inner.value).endswith("Optional"):
            return inner.slice
        if isinstance(inner, ast.BinOp):  # X | None
            return inner.left
        return inner
    return None
