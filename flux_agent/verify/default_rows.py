"""A row relying on the defaults of each table the plan changes, inserted and taken back before the
plan and after each step of its first forward run: an application's insert names only some columns,
and a step can break the others' defaults (polar's customers.short_id, bigint from a function,
planned to integer: from step 1 the sync trigger cast each default to integer and every such insert
failed, while the seed, which names every column, went in)."""

from __future__ import annotations

from typing import Optional

import psycopg

from ..model.plan import Plan
from ..model.schema import Schema
from ..schema.replay.steps import schemas_before_each
from ..plan.changed import changed
from .seed import insert_sql


class _TakeBack(Exception):
    """Raised inside the insert's transaction to roll it back: the check leaves no row."""


class DefaultRows:
    def __init__(self, conn: psycopg.Connection, plan: Plan, before: Schema, counts: dict[str, int]):
        made = {op.table for op in plan.operations if op.op == "create_table"}
        names = sorted({t for op in plan.operations for t, _ in changed(op)} - made)
        self.counts = counts
        self.schemas = schemas_before_each([s.up_sql for s in plan.steps], before)  # after step i: [i]
        # only where such a row goes in before the plan: what fails then is the seed's to fill, not the plan's
        self.tables = [n for n in names if before.table(n) is not None and self._insert(conn, before, n) is None]

    def after(self, conn: psycopg.Connection, position: int) -> Optional[str]:
        """What stops such a row going in after the step at `position` (1 is the plan's first), or None."""
        schema = self.schemas[position]
        for name in self.tables:
            if schema.table(name) is None:
                continue  # renamed or dropped by the plan
            error = self._insert(conn, schema, name)
            # ... where the same row with every column named goes in: the defaults broke, not the row's
            # made-up values (a CHECK the plan adds may refuse those; the application's rows meet it)
            if error and self._insert(conn, schema, name, by_default=False) is None:
                return f"from this step on an insert leaving {name}'s columns with defaults to them fails: {error}"
        return None

    def _insert(self, conn: psycopg.Connection, schema: Schema, name: str, by_default: bool = True) -> Optional[str]:
        # every column but those with a default given a value: what fails is the defaults', nothing else
        sql = insert_sql(schema, schema.table(name), 1, self.counts, null_optional=False, held=True,
                         by_default=by_default)
        try:
            with conn.transaction():
                conn.execute(sql)
                raise _TakeBack
        except _TakeBack:
            return None
        except psycopg.Error as exc:
            return (exc.diag.message_primary or str(exc)).strip()
