"""A bare UPDATE of one column read back into backfill (its WHERE kept): the same rows, the same
value, in batches. Several columns, FROM, RETURNING, WITH or a cursor stay raw SQL."""

from __future__ import annotations

from typing import Optional

from ...model.operations import Backfill, Operation
from ...pg.parse import ast
from ._names import expr, table


def operations(node) -> Optional[list[Operation]]:
    name = table(node.relation)
    if (name is None or node.relation.alias is not None or node.fromClause or getattr(node, "returningClause", None)
            or getattr(node, "returningList", None)
            or node.withClause or len(node.targetList or ()) != 1):
        return None
    target = node.targetList[0]
    if target.indirection or isinstance(target.val, (ast.MultiAssignRef, ast.SetToDefault)):
        return None
    if isinstance(node.whereClause, ast.CurrentOfExpr):
        return None
    where = expr(node.whereClause) if node.whereClause is not None else None
    return [Backfill(table=name, column=target.name, value=expr(target.val), where=where)]
