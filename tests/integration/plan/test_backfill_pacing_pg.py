"""The batched backfill paces itself on a real PostgreSQL (issue 25): batches slower than
the bound and sessions queued behind its locks lengthen its pause, with one NOTICE line
saying why; the pause never drops the walk below its floor rate, and it comes back to its
pace when the strain is gone. Deterministic: the slowness is a pg_sleep in the value."""

from __future__ import annotations

import re
import threading
import time

import psycopg

from flux_agent.model.operations import Backfill
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live

THROTTLED = re.compile(r"flux backfill (\S+): throttled \((.*)\): next batch (\d+) rows after (\d+) ms")


def _table(url: str, rows: int, slow_until: int, per_row_s: float) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, v int)")
        conn.execute("INSERT INTO items SELECT g, NULL FROM generate_series(1, %s) g", (rows,))
        # Rows up to slow_until take per_row_s each to compute: a server straining, on demand.
        conn.execute(f"""CREATE FUNCTION slow_one(k bigint) RETURNS int VOLATILE LANGUAGE plpgsql AS $$
            BEGIN IF k <= {slow_until} THEN PERFORM pg_sleep({per_row_s}); END IF; RETURN 1; END $$""")


def _run(url: str, settings: Settings, batch_size: int = 100) -> tuple[list[str], float]:
    plan = build_plan([Backfill(table="items", column="v", value="slow_one(id)", batch_size=batch_size)],
                      read_live(url), settings)
    step = next(s for s in plan.steps if s.batching is not None)
    notices: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        start = time.monotonic()
        conn.execute(step.up_sql)
        elapsed = time.monotonic() - start
        assert conn.execute("SELECT count(*) FROM items WHERE v IS NULL").fetchone()[0] == 0
    return notices, elapsed


def test_slow_batches_lengthen_the_pause_then_it_comes_back_to_pace(pg_url):
    # 4 slow batches (100 rows x >= 1 ms, over the 30 ms bound), then 11 fast ones
    _table(pg_url, rows=1500, slow_until=400, per_row_s=0.001)
    settings = Settings(backfill_sleep_ms=10, backfill_max_commit_ms=30, backfill_max_pause_ms=60_000,
                        backfill_min_rows_per_s=100)
    notices, _ = _run(pg_url, settings)
    throttled = [m for n in notices if (m := THROTTLED.fullmatch(n))]
    assert len(throttled) >= 4, notices
    first = throttled[0]
    assert first.group(1) == "items.v" and re.fullmatch(r"batch took \d+ ms over 30", first.group(2)), notices
    # doubling from the 10 ms pause (the floor, 1 s a batch of 100, is far off)
    assert [int(m.group(4)) for m in throttled[:4]] == [20, 40, 80, 160], notices
    back = "flux backfill items.v: back to pace (10 ms pauses)"
    assert notices.count(back) == 1 and notices.index(back) > notices.index(throttled[3].group(0)), notices
    assert any(n.endswith(": 1500 rows updated") for n in notices)


def test_the_floor_rate_caps_the_pause(pg_url):
    _table(pg_url, rows=500, slow_until=500, per_row_s=0.001)
    settings = Settings(backfill_sleep_ms=10, backfill_max_commit_ms=30, backfill_max_pause_ms=60_000,
                        backfill_min_rows_per_s=400)
    notices, _ = _run(pg_url, settings)
    pauses = [int(m.group(4)) for n in notices if (m := THROTTLED.fullmatch(n))]
    assert len(pauses) >= 5, notices
    # 100 rows at 400 rows/s: 250 ms a batch, its own >= 100 ms included; doubling would reach 160, 320
    assert max(pauses) <= 150 and min(pauses) >= 10, notices


def test_without_strain_it_never_throttles(pg_url):
    _table(pg_url, rows=1000, slow_until=0, per_row_s=0)
    notices, _ = _run(pg_url, Settings(backfill_sleep_ms=0, backfill_max_commit_ms=5000))
    assert not [n for n in notices if "throttled" in n or "back to pace" in n], notices


def test_sessions_waiting_on_its_locks_slow_it_and_it_still_finishes(pg_url):
    # every batch holds its locks ~300 ms (100 rows x 3 ms): long enough for a waiter to queue
    _table(pg_url, rows=400, slow_until=400, per_row_s=0.003)
    stop = threading.Event()
    waits = []

    def waiter() -> None:
        # SHARE conflicts with the batch's ROW EXCLUSIVE: it queues until the batch commits
        with psycopg.connect(pg_url, autocommit=True) as conn:
            while not stop.is_set():
                with conn.transaction():
                    t = time.monotonic()
                    conn.execute("LOCK TABLE items IN SHARE MODE")
                    waits.append(time.monotonic() - t)
                time.sleep(0.02)

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    try:
        notices, elapsed = _run(pg_url, Settings(backfill_sleep_ms=0, backfill_max_commit_ms=5000,
                                                 backfill_min_rows_per_s=100))
    finally:
        stop.set()
        thread.join(10)
    reasons = [m.group(2) for n in notices if (m := THROTTLED.fullmatch(n))]
    assert any(r == "1 session(s) waiting on its locks" for r in reasons), notices
    assert max(waits) > 0.05  # the waiter really queued behind a batch
    assert elapsed < 30


def test_batches_ask_the_kernel_to_write_as_they_go(pg_url):
    # The setting is read inside each batch's UPDATE, where it must hold; after the block
    # the session's own value is back (SET LOCAL, per batch transaction).
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, v text)")
        conn.execute("INSERT INTO items SELECT g, NULL FROM generate_series(1, 450) g")
        conn.execute("SET backend_flush_after = 0")
        for kb, want in ((256, "256kB"), (1024, "1MB"), (0, "0")):
            conn.execute("UPDATE items SET v = NULL")
            plan = build_plan([Backfill(table="items", column="v", value="current_setting('backend_flush_after')",
                                        batch_size=100)],
                              read_live(pg_url), Settings(backfill_flush_after_kb=kb, backfill_sleep_ms=0))
            step = next(s for s in plan.steps if s.batching is not None)
            assert step.batching.flush_after_kb == kb
            conn.execute(step.up_sql)
            assert conn.execute("SELECT array_agg(DISTINCT v) FROM items").fetchone()[0] == [want]
            assert conn.execute("SHOW backend_flush_after").fetchone()[0] == "0"
