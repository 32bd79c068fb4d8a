"""The names PostgreSQL invents for unnamed indexes, constraints and sequences.

Ported from makeObjectName / ChooseRelationName / ChooseIndexColumnNames in
src/backend/commands/indexcmds.c and catalog/pg_constraint.c, so that a later
`DROP CONSTRAINT users_email_key` in a migration finds what CREATE TABLE made.
"""

from __future__ import annotations

from typing import Iterable, Optional

from ...pg.parse import ast

NAMEDATALEN = 64


def _clip(name: str, nbytes: int) -> str:
    # pg_mbcliplen: never cut a multibyte character in half.
    return name.encode()[:nbytes].decode(errors="ignore")


def make_object_name(name1: str, name2: Optional[str], label: Optional[str]) -> str:
    """name1_name2_label, shortening the longer of name1/name2 to fit 63 bytes."""
    n1, n2 = len(name1.encode()), len((name2 or "").encode())
    overhead = (len(label) + 1 if label else 0) + (1 if name2 else 0)
    avail = NAMEDATALEN - 1 - overhead
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    out = _clip(name1, n1)
    if name2:
        out += "_" + _clip(name2, n2)
    if label:
        out += "_" + label
    return out


def choose_name(name1: str, name2: Optional[str], label: str, taken: set[str]) -> str:
    """The first of name1_name2_label, ..._label1, ..._label2 not already used."""
    name = make_object_name(name1, name2, label)
    n = 0
    while name in taken:
        n += 1
        name = make_object_name(name1, name2, f"{label}{n}")
    return name


def name_addition(colnames: Iterable[str]) -> str:
    """Column names joined by '_', stopping once the text passes NAMEDATALEN."""
    buf = ""
    for name in colnames:
        if buf:
            buf += "_"
        buf += _clip(name, NAMEDATALEN - 1)
        if len(buf.encode()) >= NAMEDATALEN:
            break
    return buf


def index_elem_name(elem: ast.IndexElem) -> str:
    """What ChooseIndexColumnNames calls one index column."""
    if elem.indexcolname:
        return elem.indexcolname
    if elem.name:
        return elem.name
    return _figure_colname(elem.expr) or "expr"


def index_column_names(elems: Iterable[ast.IndexElem]) -> list[str]:
    # Repeated names get a number, as PostgreSQL does for (a, a).
    out: list[str] = []
    for elem in elems:
        base = index_elem_name(elem)
        name, n = base, 0
        while name in out:
            n += 1
            name = f"{base}{n}"
        out.append(name)
    return out


def _figure_colname(node) -> Optional[str]:
    """FigureIndexColname: only the strong guesses; anything else is 'expr'."""
    if isinstance(node, ast.ColumnRef):
        last = node.fields[-1]
        return last.sval if isinstance(last, ast.String) else None
    if isinstance(node, ast.FuncCall):
        return node.funcname[-1].sval
    if isinstance(node, ast.TypeCast):
        inner = _figure_colname(node.arg)
        return inner or node.typeName.names[-1].sval
    if isinstance(node, ast.CoalesceExpr):
        return "coalesce"
    if isinstance(node, ast.MinMaxExpr):
        return "greatest" if node.op == 0 else "least"
    if isinstance(node, ast.CaseExpr):
        return "case"
    if isinstance(node, ast.A_ArrayExpr):
        return "array"
    if isinstance(node, ast.RowExpr):
        return "row"
    if isinstance(node, ast.A_Indirection):
        last = node.indirection[-1]
        return last.sval if isinstance(last, ast.String) else _figure_colname(node.arg)
    return None
