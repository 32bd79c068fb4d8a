"""ALTER TABLE ... RENAME COLUMN / RENAME TO read back into rename_column and rename_table."""

from __future__ import annotations

from typing import Optional

from ...model.operations import Operation, RenameColumn, RenameTable
from ...pg.parse import enums
from ._names import table

_O = enums.ObjectType


def operations(node) -> Optional[list[Operation]]:
    name = table(node.relation)
    if name is None or node.missing_ok:
        return None
    if node.renameType == _O.OBJECT_COLUMN and node.relationType == _O.OBJECT_TABLE:
        return [RenameColumn(table=name, column=node.subname, new_name=node.newname)]
    if node.renameType == _O.OBJECT_TABLE:
        return [RenameTable(table=name, new_name=node.newname)]
    return None
