"""What a statement does to a live PostgreSQL, read from its tree: the table it
touches, the lock level it takes, whether it rewrites or scans the table, whether
it may run inside a transaction block. Rules and estimates ask these questions
instead of each re-reading the tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..model.terms import Lock
from .forms import lookup, stronger, target
from .parse import ast, enums
from .split import Statement

ACCESS_EXCLUSIVE: Lock = "ACCESS EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE: Lock = "SHARE UPDATE EXCLUSIVE"
SHARE_ROW_EXCLUSIVE: Lock = "SHARE ROW EXCLUSIVE"
SHARE: Lock = "SHARE"
ROW_EXCLUSIVE: Lock = "ROW EXCLUSIVE"
NO_LOCK: Lock = "none"


@dataclass(frozen=True)
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


def facts(stmt: Statement, major: int = 16) -> Facts:
    """The statement's facts from PostgreSQL's table of forms (pg/form_table.py): its strongest
    lock on any relation, and whether it scans, rewrites or refuses a transaction block. A form
    the table does not know is taken to lock like ACCESS EXCLUSIVE (the validator says it is unknown)."""
    found = stmt.memo.get(("facts", major))  # asked by several rules of each statement
    if found is not None:
        return found
    n = stmt.node
    lock, rewrites, scans, forbidden = NO_LOCK, False, False, False
    for _key, form in lookup(stmt, major):
        if form is None:
            lock = stronger(lock, ACCESS_EXCLUSIVE)
            continue
        lock = stronger(lock, _lock_mode(n) if isinstance(n, ast.LockStmt) else form.strongest)
        rewrites = rewrites or form.rewrites in ("yes", "depends")
        scans = scans or form.scans
        forbidden = forbidden or form.no_transaction
    if isinstance(n, (ast.UpdateStmt, ast.DeleteStmt)):
        scans = n.whereClause is None  # a data change reads what its WHERE lets through
    found = stmt.memo[("facts", major)] = Facts(table=_table(stmt), lock=lock, rewrites=rewrites, scans=scans,
                                                 forbidden_in_transaction=forbidden)
    return found


def _table(stmt: Statement) -> Optional[str]:
    """The relation a statement works on (an index's DROP names no table)."""
    return None if isinstance(stmt.node, ast.DropStmt) else target(stmt)


# LOCK TABLE's mode numbers (lockdefs.h) and the mode each names.
_MODES: dict[int, Lock] = {1: "ACCESS SHARE", 2: "ROW SHARE", 3: "ROW EXCLUSIVE", 4: "SHARE UPDATE EXCLUSIVE",
                           5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}


def _lock_mode(n: ast.LockStmt) -> Lock:
    return _MODES.get(n.mode, ACCESS_EXCLUSIVE)
