"""What a forward/rollback/forward run of a plan must leave behind, checked
the same way by `flux verify` and by the tests: after each forward run the
planned columns and every row, with the values the plan sets; after the
rollback the whole catalog from before the plan and, where the plan declares
no data loss, the same data."""

from __future__ import annotations

from typing import Optional, Sequence

import psycopg

from ..model.plan import Plan
from ..model.schema import Schema
from ..plan.planner import planned_schema
from ..pg.quote import canonical_table
from .catalog import planned_differences, rollback_differences, snapshot
from .rows import Keys, checksum_differences, checksums, expectations, missing_rows, renamed_tables, row_keys, \
    wrong_values


class PlanCheck:
    """Create it on the database holding the schema before the plan (rows included), then call
    `forward_done` after each forward run, `rollback_done` after the rollback and
    `forward_starts` before running forward again. Each returns the problems found, one line each;
    `notes` collects what was allowed or could not be checked."""

    def __init__(self, conn: psycopg.Connection, plan: Plan, before: Schema, home: str = "public",
                 only: Optional[Sequence[str]] = None):
        self.conn, self.plan, self.before, self.home, self.only = conn, plan, before, home, only
        self.ops = list(plan.operations)
        self.planned = planned_schema(self.ops, before, plan.tool)
        self.judged = self.ops + _on_partitions(self.ops, before)
        self.names = renamed_tables(self.ops, before)
        self.lossy = any(s.data_loss_on_rollback for s in plan.steps)
        self.notes: list[str] = []
        self.original = snapshot(conn, home, only)
        self.sums = checksums(conn, before)
        self.forward_starts()

    def forward_starts(self) -> None:
        """Rows and values as they are before a forward run."""
        self.keys: Keys = row_keys(self.conn, self.before)
        self.expected = expectations(self.conn, self.ops, self.before, self.notes)

    def forward_done(self, written: Optional[Keys] = None) -> list[str]:
        """`written`: rows the application wrote during the run (their values are the load check's)."""
        return (planned_differences(self.conn, self.planned, self.home)
                + missing_rows(self.conn, self.keys, self.names, self.planned)
                + wrong_values(self.conn, self.expected, self.names, written))

    def rollback_done(self, skip_tables: Sequence[str] = ()) -> list[str]:
        """`skip_tables`: tables the application wrote during the run (their data changed on purpose)."""
        problems, notes = rollback_differences(self.original, snapshot(self.conn, self.home, self.only),
                                               self.judged, self.lossy)
        self.notes += [n for n in notes if n not in self.notes]
        return problems + checksum_differences(self.sums, checksums(self.conn, self.before), self.judged, self.lossy,
                                               skip_tables, self.triggers_fired(), self.notes)

    def triggers_fired(self) -> set[str]:
        """The tables whose backfill fires row triggers of the project's own, as the plan warns."""
        from ..plan.triggers import RULE

        warned = {f.step for f in self.plan.findings if f.rule == RULE}
        return {canonical_table(s.batching.table) for s in self.plan.steps
                if s.batching is not None and s.number in warned}


def _on_partitions(operations: list, before: Schema) -> list:
    """Each operation on a partitioned table as it reaches each partition (PostgreSQL recurses):
    what the plan declares lost on the parent is lost on its partitions too."""
    deps = before.dependencies
    if deps is None:
        return []
    out, todo = [], [op for op in operations if getattr(op, "table", None)]
    while todo:
        op = todo.pop()
        for child in deps.partitions(canonical_table(op.table)):
            todo.append(op.model_copy(update={"table": child}))
            out.append(todo[-1])
    return out
