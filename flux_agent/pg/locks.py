"""What a statement does to a live PostgreSQL, read from its tree: the table it
touches, the lock level it takes, whether it rewrites or scans the table, whether
it may run inside a transaction block. Rules and estimates ask these questions
instead of each re-reading the tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..model.terms import Lock
from .parse import Statement, ast, enums
from .quote import relation_name

ACCESS_EXCLUSIVE: Lock = "ACCESS EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE: Lock = "SHARE UPDATE EXCLUSIVE"
SHARE_ROW_EXCLUSIVE: Lock = "SHARE ROW EXCLUSIVE"
SHARE: Lock = "SHARE"
ROW_EXCLUSIVE: Lock = "ROW EXCLUSIVE"
NO_LOCK: Lock = "none"


@dataclass
class Facts:
    table: Optional[str] = None
    lock: Lock = NO_LOCK
    rewrites: bool = False
    scans: bool = False
    forbidden_in_transaction: bool = False


def alter_cmds(node: ast.Node) -> list[ast.AlterTableCmd]:
    if isinstance(node, ast.AlterTableStmt):
        return [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
    return []


def added_constraint(cmd: ast.AlterTableCmd) -> Optional[ast.Constraint]:
    if cmd.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        return cmd.def_
    return None


def facts(stmt: Statement) -> Facts:
    AT, ConstrType, ObjectType = enums.AlterTableType, enums.ConstrType, enums.ObjectType
    n = stmt.node
    if isinstance(n, ast.IndexStmt):
        return Facts(relation_name(n.relation), SHARE_UPDATE_EXCLUSIVE if n.concurrent else SHARE,
                     scans=True, forbidden_in_transaction=bool(n.concurrent))
    if isinstance(n, ast.DropStmt) and n.removeType == ObjectType.OBJECT_INDEX:
        return Facts(None, SHARE_UPDATE_EXCLUSIVE if n.concurrent else ACCESS_EXCLUSIVE,
                     forbidden_in_transaction=bool(n.concurrent))
    if isinstance(n, ast.AlterTableStmt):
        table = relation_name(n.relation)
        f = Facts(table, ACCESS_EXCLUSIVE)
        for cmd in alter_cmds(n):
            con = added_constraint(cmd)
            if cmd.subtype == AT.AT_AlterColumnType:
                f.rewrites = True
            elif cmd.subtype == AT.AT_SetNotNull:
                f.scans = True
            elif cmd.subtype == AT.AT_ValidateConstraint:
                f.lock, f.scans = SHARE_UPDATE_EXCLUSIVE, True
            elif con is not None and not con.skip_validation and con.contype in (
                    ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN):
                f.scans = True
                if con.contype == ConstrType.CONSTR_FOREIGN and len(alter_cmds(n)) == 1:
                    f.lock = SHARE_ROW_EXCLUSIVE
            elif con is not None and con.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY) \
                    and not con.indexname:
                f.scans = True  # builds an index under ACCESS EXCLUSIVE
        return f
    if isinstance(n, (ast.UpdateStmt, ast.DeleteStmt)):
        return Facts(relation_name(n.relation), ROW_EXCLUSIVE, scans=n.whereClause is None)
    if isinstance(n, ast.InsertStmt):
        return Facts(relation_name(n.relation), ROW_EXCLUSIVE)
    if isinstance(n, ast.TruncateStmt):
        return Facts(relation_name(n.relations[0]) if n.relations else None, ACCESS_EXCLUSIVE)
    if isinstance(n, ast.AlterEnumStmt):
        return Facts(None, NO_LOCK)  # a brief lock on the type, none on a table
    if isinstance(n, ast.RenameStmt):
        return Facts(relation_name(n.relation), ACCESS_EXCLUSIVE)
    if isinstance(n, ast.DropStmt) and n.removeType == ObjectType.OBJECT_TABLE:
        return Facts(None, ACCESS_EXCLUSIVE)
    if isinstance(n, ast.ReindexStmt):
        concurrent = any(getattr(p, "defname", "") == "concurrently" for p in n.params or ())
        return Facts(relation_name(n.relation), SHARE_UPDATE_EXCLUSIVE if concurrent else ACCESS_EXCLUSIVE,
                     forbidden_in_transaction=concurrent)
    return Facts()
