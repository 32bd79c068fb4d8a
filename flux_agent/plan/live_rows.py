"""Counts, on the live database a plan is made against (--database-url), the rows one of its steps
would fail on: the duplicates under a unique index to build, the NULLs under a NOT NULL to prove,
the rows breaking a check or a foreign key to validate. The plan reads right and fails at deploy
(a concurrent build leaving an INVALID index behind); counted here, it is refused before a file is
written, with the way out.

Each count runs alone in a READ ONLY transaction, bounded (ROWS_TIMEOUT, lock_timeout), and only on
a table of at most ROWS_LIMIT estimated rows: production's big tables are not scanned at plan
time, the warning gives the query to run on a replica instead. The counts only are shown, never a
value (production rows hold emails and tokens). An operation is not counted when an earlier one of
the plan changes what it reads (a backfill, a new column, raw SQL): the rows will differ by then."""

from __future__ import annotations

from typing import Sequence

from ..model.operations import Operation
from ..model.plan import Finding
from ..model.schema import Schema
from .changed import overlap
from .ops import OPS
from .ops._base import RowsCount

RULE = "live-rows"
ROWS_TIMEOUT = "5s"
ROWS_LIMIT = 5_000_000  # estimated rows of a table above which it is not counted (a full scan or more)


def counts(operations: Sequence[Operation], schema: Schema) -> list[tuple[Operation, RowsCount]]:
    """The counts the plan's operations ask for, in their order, on the schema read before the plan."""
    out, before = [], []
    for op in operations:
        if op.op == "raw_sql":
            break  # what it changes is not known: no count after it would be the rows the steps meet
        hook = getattr(OPS[op.op], "refusing_rows", None)
        if hook is not None and not overlap([op], before):
            count = hook(op, schema)
            if count is not None:
                out.append((op, count))
        before.append(op)
    return out


def refusing(url: str, operations: Sequence[Operation], schema: Schema) -> list[Finding]:
    """An error for each count that finds rows, a warning for each not made (too big, too slow)."""
    import psycopg

    asked = counts(operations, schema)
    findings, run = [], []
    for op, count in asked:
        rows = schema.table(count.table).row_estimate if schema.table(count.table) else None
        if rows is not None and rows > ROWS_LIMIT:
            findings.append(_unchecked(op, count, f"~{rows:,} rows, more than Flux scans on production"))
        else:
            run.append((op, count))
    if not run:
        return findings
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        return findings + [_unchecked(op, count, _first_line(exc)) for op, count in run]
    with conn:
        for op, count in run:
            try:
                with conn.transaction():
                    conn.execute("SET TRANSACTION READ ONLY")
                    conn.execute(f"SET LOCAL statement_timeout = '{ROWS_TIMEOUT}'")
                    conn.execute("SET LOCAL lock_timeout = '1s'")
                    conn.execute("SET LOCAL search_path = public")  # the schema's keys: unqualified in public
                    row = conn.execute(count.sql).fetchone()
            except psycopg.errors.QueryCanceled:
                findings.append(_unchecked(op, count, f"counting took longer than {ROWS_TIMEOUT}"))
                continue
            except psycopg.Error as exc:
                findings.append(_unchecked(op, count, _first_line(exc)))
                continue
            if row[0]:
                findings.append(Finding(rule=RULE, severity="error", message=(
                    f"{OPS[op.op].describe(op)}: {count.found.format(*_counted(row, count.units))} in the database "
                    f"read: {count.fails}")))
    return findings


def _unchecked(op: Operation, count: RowsCount, why: str) -> Finding:
    return Finding(rule=RULE, severity="warning", message=(
        f"{OPS[op.op].describe(op)}: the rows of {count.table} a step would fail on were not counted ({why}); "
        f"count them on a replica before deploying: {count.sql}"))


def _counted(row, units: list[str]) -> list[str]:
    return [f"{n:,} {unit}{'' if n == 1 else 's'}" for n, unit in zip(row, units)]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
