"""The rollback of a safe statement `flux fix` keeps as written, where it is one obvious statement
(CREATE TABLE, ADD COLUMN, CREATE INDEX); "" for a COMMENT (metadata a rollback may leave); None
elsewhere (the statement is then planned as its operation where one fits, which knows its rollback)."""

from __future__ import annotations

from typing import Optional

from ...pg.parse import ast, enums
from ...pg.quote import ident, qname
from ._names import table


def inverse(node) -> Optional[str]:
    if isinstance(node, ast.CommentStmt):
        return ""
    if isinstance(node, ast.CreateStmt) and not node.if_not_exists and table(node.relation):
        return f"DROP TABLE {qname(table(node.relation))};"
    if isinstance(node, ast.AlterTableStmt) and table(node.relation) and node.cmds and all(
            c.subtype == enums.AlterTableType.AT_AddColumn and not c.missing_ok for c in node.cmds):
        drops = ", ".join(f"DROP COLUMN {ident(c.def_.colname)}" for c in node.cmds)
        return f"ALTER TABLE {qname(table(node.relation))} {drops};"
    if isinstance(node, ast.IndexStmt) and node.idxname and not node.if_not_exists:
        schema = node.relation.schemaname
        name = qname(f"{schema}.{node.idxname}" if schema else node.idxname)
        return f"DROP INDEX {'CONCURRENTLY ' if node.concurrent else ''}IF EXISTS {name};"
    return None


def outside_transaction(node) -> bool:
    """Statements PostgreSQL refuses inside a transaction block: each is a step of its own."""
    if isinstance(node, (ast.IndexStmt, ast.DropStmt)):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", None) == "concurrently" for p in node.params or ())
    return isinstance(node, (ast.VacuumStmt, ast.CreatedbStmt))
