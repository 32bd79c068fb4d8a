"""The guard before a concurrent index build, on a real PostgreSQL: a build cancelled half-way
leaves an INVALID index that the build alone skips (IF NOT EXISTS); the step run again (guard,
then build, each its own query, as the files run them) drops it and builds a VALID one. A valid
index is left alone, and a build still running in another session is never dropped: the guard
gives up after its tries, and the application's queries wait at most one try's lock_timeout
behind it, not the whole wait."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.planner import build_plan
from flux_agent.verify.runner import forward

from shop import SETTINGS, build_shop, shop_schema

pytestmark = pytest.mark.pg

INDEX = "orders_user_id_idx"


@pytest.fixture
def db(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    return pg_url


def _step(settings=SETTINGS):
    plan = build_plan(parse_operations([{"op": "add_index", "table": "orders", "columns": ["user_id"]}]),
                      shop_schema(), settings, tool="goose")
    (step,) = plan.steps
    assert step.guard_sql and not step.transactional
    return step


def _index(conn) -> tuple[int, bool] | None:
    """(oid, valid) of the plan's index, None when there is none."""
    row = conn.execute("SELECT indexrelid::int, indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
                       [INDEX]).fetchone()
    return tuple(row) if row else None


def _cancelled_build(url: str, step) -> None:
    """The build alone, cancelled while it waits for a transaction that wrote to orders."""
    holder = psycopg.connect(url)
    holder.execute("UPDATE orders SET note = note WHERE id = 1")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET statement_timeout = '300ms'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute(step.up_sql)
    finally:
        holder.close()


def test_a_cancelled_build_is_dropped_and_rebuilt_when_the_step_runs_again(db):
    step = _step()
    _cancelled_build(db, step)
    with psycopg.connect(db, autocommit=True) as conn:
        left = _index(conn)
        assert left is not None and left[1] is False  # INVALID
        conn.execute(step.up_sql)  # the build alone: IF NOT EXISTS skips the leftover
        assert _index(conn) == left
        notices = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        forward(conn, [step])  # the step as its files run it: the guard, then the build
        healed = _index(conn)
        assert healed is not None and healed[1] is True and healed[0] != left[0]
        assert any(f"dropped INVALID index {INDEX}" in n for n in notices), notices
        uses = conn.execute("EXPLAIN SELECT * FROM orders WHERE user_id = 7").fetchall()
        assert any(INDEX in r[0] for r in uses)  # PostgreSQL uses it now


def test_a_valid_index_is_left_alone(db):
    step = _step()
    with psycopg.connect(db, autocommit=True) as conn:
        forward(conn, [step])
        built = _index(conn)
        assert built is not None and built[1] is True
        forward(conn, [step])  # run again (a tool that lost its record of the first run)
        conn.execute(step.guard_sql)
        assert _index(conn) == built


def test_the_guard_with_no_index_does_nothing(db):
    step = _step()
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(step.guard_sql)
        assert _index(conn) is None


def test_a_build_in_progress_elsewhere_is_never_dropped_nor_queues_the_application(db):
    """A second run of the step while the first still builds: the first build's index is INVALID
    meanwhile, and the guard's DROP waits for its lock in tries of 30 ms; a reader of the table
    waits behind each try at most that long, and after its tries the guard fails, the build lives."""
    settings = SETTINGS.model_copy(update={"lock_tries": 4, "lock_wait_ms": 30, "lock_retry_pause_ms": 100,
                                           "lock_retry_max_pause_ms": 200})
    step = _step(settings)
    holder = psycopg.connect(db)  # keeps the first build waiting in its first phase
    holder.execute("UPDATE orders SET note = note WHERE id = 1")
    errors: list[Exception] = []
    waits: list[float] = []
    guarding = threading.Event()

    def first_build():
        try:
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute(step.up_sql)
        except psycopg.Error as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        with psycopg.connect(db, autocommit=True) as conn:
            guarding.wait(30)
            while guarding.is_set():
                t0 = time.monotonic()
                conn.execute("SELECT count(*) FROM orders WHERE id < 10")
                waits.append(time.monotonic() - t0)
                time.sleep(0.002)

    builder = threading.Thread(target=first_build)
    builder.start()
    app = threading.Thread(target=reader)
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            for _ in range(100):
                if _index(conn) is not None:
                    break
                time.sleep(0.05)
            building = _index(conn)
            assert building is not None and building[1] is False
            notices = []
            conn.add_notice_handler(lambda d: notices.append(d.message_primary))
            app.start()
            guarding.set()
            t0 = time.monotonic()
            with pytest.raises(psycopg.errors.LockNotAvailable, match="INVALID index is still there"):
                conn.execute(step.guard_sql)
            took = time.monotonic() - t0
            guarding.clear()
            app.join(10)
            assert 0.1 < took < 5  # four tries and three pauses, not for ever
            assert sum("trying again" in n for n in notices) == 3, notices
            assert _index(conn) == building
    finally:
        guarding.clear()
        holder.close()  # the first build goes on and finishes
        builder.join(30)
    assert not errors
    # 1 s (the old single wait) would show here; each try queues the reader for 30 ms at most.
    assert len(waits) > 10 and max(waits) < 0.25, (len(waits), max(waits))
    with psycopg.connect(db) as conn:
        done = _index(conn)
        assert done is not None and done[1] is True
