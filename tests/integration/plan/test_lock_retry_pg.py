"""A step whose lock blocks the application waits briefly for it and retries (plan/lock_retry.py),
on a real PostgreSQL: while another session holds the table, the step lets go between tries so
reads and writes pass; once the holder is gone it succeeds; a holder that stays makes it fail
after its tries with nothing changed."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.verify.runner import connect, run_sql

from shop import SETTINGS, build_shop, shop_schema

pytestmark = pytest.mark.pg


def _step(**settings):
    """The NOT VALID check step on orders: one ACCESS EXCLUSIVE statement."""
    ops = parse_operations({"op": "add_check", "table": "orders", "name": "total_pos", "expression": "total >= 0"})
    plan = build_plan(ops, shop_schema(), SETTINGS.model_copy(update=settings))
    step = plan.steps[0]
    assert step.lock == "ACCESS EXCLUSIVE" and step.lock_retry is not None
    return step


def _hold(url: str, seconds: float, started: threading.Event) -> None:
    """An open transaction that read orders: its ACCESS SHARE lock conflicts with the step's."""
    with psycopg.connect(url) as conn:
        conn.execute("SELECT count(*) FROM orders").fetchone()
        started.set()
        time.sleep(seconds)
        conn.rollback()


def _reader_waits(url: str, stop: threading.Event, waits: list[float]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            t0 = time.perf_counter()
            conn.execute("SELECT id FROM orders ORDER BY id LIMIT 1").fetchone()
            waits.append(time.perf_counter() - t0)
            time.sleep(0.005)


def _constraint(conn) -> bool:
    return conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'total_pos'").fetchone()[0] == 1


def _under_a_holder(url: str, run) -> list[float]:
    """`run(conn)` while another session holds orders for 1.5 s and a reader keeps reading it:
    how long each of the reader's queries took."""
    with connect(url) as conn:
        build_shop(conn)
    started, stop, waits = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold, args=(url, 1.5, started))
    holder.start()
    started.wait(10)
    reader = threading.Thread(target=_reader_waits, args=(url, stop, waits))
    reader.start()
    time.sleep(0.1)
    try:
        with connect(url) as conn:
            run(conn)
    finally:
        stop.set()
        reader.join()
        holder.join()
    return waits


def test_the_step_waits_out_a_holder_without_queueing_readers(pg_url):
    step = _step(lock_wait_ms=50, lock_retry_pause_ms=100, lock_retry_max_pause_ms=400)
    notices, took = [], []

    def run(conn):
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        t0 = time.perf_counter()
        run_sql(conn, step.up_file_sql, step.transactional)
        took.append(time.perf_counter() - t0)
        assert _constraint(conn)

    waits = _under_a_holder(pg_url, run)
    tries = [n for n in notices if "locks not granted within 50 ms" in n]
    assert len(tries) >= 3, notices  # refused while the holder held on, then granted
    assert took[0] >= 0.9  # it waited for the holder rather than failing
    # Readers queued behind the step for one try's wait at most, never the holder's 1.5 s.
    assert max(waits) < 0.5, max(waits)


def test_the_plain_statement_queues_readers_behind_the_holder(pg_url):
    """The control: the same statement without the retry, under a long lock_timeout, queues the
    readers for as long as the holder holds on (what the retry is for)."""
    step = _step()

    def run(conn):
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute(step.up_sql.split("\n")[-1])  # the ALTER alone

    assert max(_under_a_holder(pg_url, run)) > 0.8


def test_a_holder_that_stays_makes_the_step_fail_changing_nothing(pg_url):
    step = _step(lock_wait_ms=20, lock_tries=3, lock_retry_pause_ms=50, lock_retry_max_pause_ms=50)
    with connect(pg_url) as conn:
        build_shop(conn)
    started = threading.Event()
    holder = threading.Thread(target=_hold, args=(pg_url, 3.0, started))
    holder.start()
    started.wait(10)
    notices = []
    with connect(pg_url) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        with pytest.raises(psycopg.errors.LockNotAvailable, match="not granted in 3 tries of 20 ms; nothing was changed"):
            run_sql(conn, step.up_file_sql, step.transactional)
        assert len([n for n in notices if "try" in n]) == 2
        assert not _constraint(conn)
    holder.join()
    with connect(pg_url) as conn:  # and run again once the table is free, it goes through
        run_sql(conn, step.up_file_sql, step.transactional)
        assert _constraint(conn)


def test_statement_timeout_covers_every_try_and_pause():
    step = _step(statement_timeout="5s", lock_wait_ms=50, lock_tries=4, lock_retry_pause_ms=100,
                 lock_retry_max_pause_ms=150)
    # 4 tries of 50 ms, pauses 100, 150, 150 ms: 0.6 s on top of the statement's own 5 s.
    assert step.lock_retry.worst_wait_ms == 600
    assert "SET LOCAL statement_timeout = '6s';" in step.up_sql
    assert "SET LOCAL lock_timeout = '50ms';" in step.up_sql
    unretried = build_plan(parse_operations({"op": "add_check", "table": "orders", "name": "c",
                                             "expression": "total >= 0"}), shop_schema(), SETTINGS).steps[1]
    assert unretried.lock_retry is None and unretried.up_file_sql == unretried.up_sql  # VALIDATE: nothing queues


def test_settings_refuse_a_duration_postgresql_would_not_read():
    with pytest.raises(ValueError, match="not a PostgreSQL duration"):
        Settings(lock_timeout="soon")
