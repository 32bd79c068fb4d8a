"""CREATE [UNIQUE] INDEX read back into add_index: plain columns, btree, an optional predicate
(an expression, INCLUDE, an operator class or a sort order stays raw SQL: add_index has no field for
it); such a statement built while writes wait can still be built CONCURRENTLY, as it is written
(concurrent_form)."""

from __future__ import annotations

import copy
from typing import Optional

from ...model.operations import AddIndex, Operation, RawSql
from ...pg.parse import enums, render
from ...pg.quote import ident
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


def concurrent_form(node) -> Optional[RawSql]:
    """The named CREATE INDEX built CONCURRENTLY, outside a transaction, and dropped the same way
    (Django's `_like` index with varchar_pattern_ops, a gin index, an expression): None for one that
    is already, or has no name to drop it by."""
    if node.concurrent or not node.idxname or node.relation is None:
        return None
    built = copy.deepcopy(node)
    built.concurrent = True
    schema = node.relation.schemaname
    name = (f"{ident(schema)}." if schema else "") + ident(node.idxname)
    return RawSql(up=render(built) + ";", down=f"DROP INDEX CONCURRENTLY IF EXISTS {name};", transactional=False)
