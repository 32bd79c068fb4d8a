"""The values a table's CHECK constraints allow, as verify's synthetic rows and traffic need them:
a column's choices from `col IN (...)` / `col = ANY (ARRAY[...])`, a small integer range from
`col >= a AND col <= b` (or BETWEEN), an enum's labels less those `col <> 'x'` rules out. Read
with pglast from the expressions as PostgreSQL prints them; what is not understood adds nothing."""

from __future__ import annotations

from typing import Optional

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from ..model.schema import Schema, Table
from ..pg.parse import parse_sql
from ..pg.quote import literal
from .values import enum_values

_MAX_RANGE = 1000  # a wider range needs no choosing: values from the row number mostly fit


def check_choices(table: Table, schema: Optional[Schema] = None) -> dict[str, list[str]]:
    """column -> the SQL literals its rows cycle through to satisfy the table's CHECKs."""
    out: dict[str, list[str]] = {}
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    banned: dict[str, set[str]] = {}
    for con in table.constraints:
        if con.kind != "check" or not con.expression:
            continue
        try:
            node = parse_sql(f"SELECT {con.expression}")[0].stmt.targetList[0].val
        except Exception:  # an expression pglast cannot read back: no choices from it
            continue
        for part in _conjuncts(node):
            found = _in_list(part)
            if found:
                out[found[0]] = found[1]
                continue
            _bound(part, low, high, banned)
    for col in low.keys() & high.keys():
        if col not in out and 0 <= high[col] - low[col] < _MAX_RANGE:
            out[col] = [str(v) for v in range(low[col], high[col] + 1)]
    for col, values in banned.items():
        column = table.column(col)
        labels = out.get(col) or (enum_values(schema, column.type) if schema is not None and column else None)
        if labels:
            kept = [v for v in (labels if col in out else [literal(x) for x in labels]) if v not in values]
            if kept:
                out[col] = kept
    return out


def _conjuncts(node) -> list:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [p for arg in node.args for p in _conjuncts(arg)]
    return [node]


def _column(node) -> Optional[str]:
    field = node.fields[-1] if isinstance(node, ast.ColumnRef) else None
    return field.sval if isinstance(field, ast.String) else None


def _constant(node) -> Optional[str]:
    """The SQL literal of a constant (under casts), or None."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.A_Const) or node.isnull:
        return None
    v = node.val
    return literal(v.sval) if hasattr(v, "sval") else str(getattr(v, "ival", getattr(v, "fval", "")))


def _bound(node, low: dict, high: dict, banned: dict) -> None:
    """Note an integer bound (`col >= 1`, `col < 5`, BETWEEN) or a value ruled out (`col <> 'x'`)."""
    if not isinstance(node, ast.A_Expr) or _column(node.lexpr) is None:
        return
    col = _column(node.lexpr)
    if node.kind == A_Expr_Kind.AEXPR_BETWEEN and isinstance(node.rexpr, (list, tuple)) and len(node.rexpr) == 2:
        a, b = (_constant(x) for x in node.rexpr)
        if a is not None and b is not None and a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
            low[col], high[col] = max(low.get(col, int(a)), int(a)), min(high.get(col, int(b)), int(b))
        return
    if node.kind != A_Expr_Kind.AEXPR_OP or len(node.name) != 1:
        return
    op, value = node.name[0].sval, _constant(node.rexpr)
    if value is None:
        return
    if op in ("<>", "!="):
        banned.setdefault(col, set()).add(value)
        return
    if not value.lstrip("-").isdigit():
        return
    n = int(value)
    if op in (">=", ">"):
        low[col] = max(low.get(col, n), n + (op == ">"))
    elif op in ("<=", "<"):
        high[col] = min(high.get(col, n), n - (op == "<"))


def _in_list(node) -> Optional[tuple[str, list[str]]]:
    if not isinstance(node, ast.A_Expr) or not isinstance(node.lexpr, ast.ColumnRef):
        return None
    items = None
    if node.kind == A_Expr_Kind.AEXPR_IN and isinstance(node.rexpr, (list, tuple)):
        items = node.rexpr
    elif node.kind == A_Expr_Kind.AEXPR_OP_ANY:
        arr = node.rexpr.arg if isinstance(node.rexpr, ast.TypeCast) else node.rexpr
        items = arr.elements if isinstance(arr, ast.A_ArrayExpr) else None
    if not items:
        return None
    values = [_constant(item) for item in items]
    if any(v is None for v in values):
        return None
    col = _column(node.lexpr)
    return (col, values) if col is not None else None
