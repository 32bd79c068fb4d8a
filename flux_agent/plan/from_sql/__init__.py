"""SQL statements read back into Flux's typed operations (for `flux fix`): one module per statement
family (alter_table, rename, index, drop, update), each giving the operations one parsed statement
means, or None when no operation says exactly what the statement does (it then stays raw SQL)."""

from __future__ import annotations

from typing import Optional

from ...model.operations import Operation
from ...pg.parse import ast
from . import alter_table, drop, index, rename, update


def operations_of(node) -> Optional[list[Operation]]:
    """The operations a pglast statement tree means, in order; None when none fits exactly."""
    handler = {
        ast.AlterTableStmt: alter_table.operations,
        ast.RenameStmt: rename.operations,
        ast.IndexStmt: index.operations,
        ast.DropStmt: drop.operations,
        ast.UpdateStmt: update.operations,
    }.get(type(node))
    return handler(node) if handler is not None else None
