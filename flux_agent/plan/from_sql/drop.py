"""DROP TABLE / DROP INDEX [IF EXISTS] of one object read back into drop_table and drop_index
(CASCADE, several objects, a table's IF EXISTS or other kinds stay raw SQL)."""

from __future__ import annotations

from typing import Optional

from ...model.operations import DropIndex, DropTable, Operation
from ...pg.parse import enums
from ...pg.quote import canonical_table

_O = enums.ObjectType


def operations(node) -> Optional[list[Operation]]:
    # IF EXISTS of an index: Django's RemoveIndex says it so (flux fix drops the statement where the
    # index is not there); of a table, a drop that may do nothing is no drop_table.
    if node.behavior != enums.DropBehavior.DROP_RESTRICT or len(node.objects or ()) != 1 \
            or (node.missing_ok and node.removeType != _O.OBJECT_INDEX):
        return None
    if node.removeType not in (_O.OBJECT_TABLE, _O.OBJECT_INDEX):
        return None  # a function's, a type's object is no list of names (ObjectWithArgs, TypeName)
    parts = [p.sval for p in node.objects[0]]
    if len(parts) > 2 or any("." in p or '"' in p for p in parts):
        return None
    name = ".".join(parts)
    if node.removeType == _O.OBJECT_TABLE and not node.concurrent:
        return [DropTable(table=canonical_table(name))]
    if node.removeType == _O.OBJECT_INDEX:
        return [DropIndex(name=canonical_table(name))]
    return None
