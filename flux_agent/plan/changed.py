"""What an operation changes, as (table, column): whether a plan changes what a plan still being
written changes too (two plans on one column interleave their steps, and one's contract breaks the
other's: a pending drop of users.email set the column aside under a rename's sync trigger, and every
write to users failed), and which tables verify inserts a row relying on defaults into."""

from __future__ import annotations

from typing import Iterable

from ..model.operations import Operation
from ..pg.quote import canonical_table

WHOLE = "*"  # the whole table: a drop or rename of it, a check reading any of its columns


def changed(op: Operation) -> set[tuple[str, str]]:
    """(table, column) the operation changes; (table, WHOLE) for the table as a whole. Nothing for
    raw SQL or an enum value, whose tables no field names."""
    table = getattr(op, "table", None)
    if not isinstance(table, str):
        return set()
    key = canonical_table(table)
    if op.op in ("drop_table", "rename_table", "add_check", "create_table"):
        return {(key, WHOLE)}
    columns = [op.column] if isinstance(getattr(op, "column", None), str) else list(getattr(op, "columns", []) or [])
    return {(key, c) for c in columns} or {(key, WHOLE)}


def overlap(ours: Iterable[Operation], theirs: Iterable[Operation]) -> list[str]:
    """What both change, as `table.column` or `table`."""
    mine = set().union(*(changed(op) for op in ours))
    out = set()
    for table, column in set().union(*(changed(op) for op in theirs)):
        for t, c in mine:
            if t == table and (c == column or WHOLE in (c, column)):
                out.add(table if WHOLE in (c, column) else f"{table}.{column}")
    return sorted(out)
