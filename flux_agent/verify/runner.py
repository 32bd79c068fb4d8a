"""Run a plan's SQL on a PostgreSQL connection the way migration tools do:
a transactional step's file in one transaction, a non-transactional step's
file as one query outside any transaction block (its guard, when it has one,
a query of its own before it).
"""

from __future__ import annotations

from typing import Iterable, Optional

import psycopg

from ..model.plan import Plan, Step


def run_sql(conn: psycopg.Connection, sql: Optional[str], transactional: bool) -> None:
    if not sql or not sql.strip():
        return
    if transactional:
        with conn.transaction():
            conn.execute(sql)
    else:
        conn.execute(sql)  # one simple-protocol query, like dbmate with transaction:false


def forward(conn: psycopg.Connection, steps: Iterable[Step]) -> None:
    for step in steps:
        run_sql(conn, step.guard_sql, False)  # its own query first, as the files run it
        run_sql(conn, step.up_file_sql, step.transactional)


def rollback(conn: psycopg.Connection, steps: Iterable[Step]) -> None:
    for step in reversed(list(steps)):
        run_sql(conn, step.down_file_sql, step.transactional)


def connect(url: str) -> psycopg.Connection:
    # autocommit: transactions are opened explicitly per step, as the tools do. No prepared
    # statements: through a pooler in transaction mode (PgBouncer before 1.21) a statement
    # psycopg prepared on one server connection is missing on the next one.
    return psycopg.connect(url, autocommit=True, prepare_threshold=None)


def sql_steps(plan: Plan) -> list[Step]:
    return [s for s in plan.steps if not s.is_code]
