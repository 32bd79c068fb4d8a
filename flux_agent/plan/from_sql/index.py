"""CREATE [UNIQUE] INDEX read back into add_index: plain columns, btree, an optional predicate
(an expression, INCLUDE, an operator class or a sort order stays raw SQL: add_index has no field for it)."""

from __future__ import annotations

from typing import Optional

from ...model.operations import AddIndex, Operation
from ...pg.parse import enums
from ._names import expr, table


def operations(node) -> Optional[list[Operation]]:
    name = table(node.relation)
    if (name is None or node.accessMethod not in (None, "btree") or node.indexIncludingParams or node.options
            or node.tableSpace or node.nulls_not_distinct or node.primary or node.isconstraint):
        return None
    columns = []
    for elem in node.indexParams or ():
        if (elem.name is None or elem.collation or elem.opclass or elem.opclassopts
                or elem.ordering != enums.SortByDir.SORTBY_DEFAULT
                or elem.nulls_ordering != enums.SortByNulls.SORTBY_NULLS_DEFAULT):
            return None
        columns.append(elem.name)
    if not columns:
        return None
    where = expr(node.whereClause) if node.whereClause is not None else None
    return [AddIndex(table=name, columns=columns, unique=bool(node.unique), name=node.idxname, where=where)]
