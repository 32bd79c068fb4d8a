"""The batched backfill paces itself on replication lag (issue 25), tested with a real
streaming replica: a primary and a standby made by pg_basebackup from it, with the server
binaries the dev database uses (flux_agent.devdb.server). With replay paused on the standby
the lag grows and the backfill slows, saying why; resumed, the standby catches up and the
backfill comes back to its pace."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest

from flux_agent.devdb.server import _run_as, _tool, find_binaries
from flux_agent.model.operations import Backfill
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live

pytestmark = pytest.mark.slow


def _url(sock: Path, port: int) -> str:
    return psycopg.conninfo.make_conninfo(host=str(sock), port=str(port), user="postgres", dbname="postgres")


def _wait(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _caught_up(p_url: str) -> bool:
    with psycopg.connect(p_url, autocommit=True) as c:
        return c.execute("SELECT replay_lsn >= pg_current_wal_lsn() FROM pg_stat_replication").fetchone()[0] is True


@pytest.fixture
def primary_and_standby():
    """(primary URL, standby URL): a fresh primary and its streaming standby, stopped afterwards."""
    found = [b for b in find_binaries() if (b.bindir / "pg_basebackup").is_file()]
    if not found:
        pytest.skip("no PostgreSQL server binaries with pg_basebackup on this machine (a streaming "
                    "replica needs initdb, pg_ctl and pg_basebackup of one installation)")
    bins = found[0]
    home = Path(tempfile.mkdtemp(prefix="flux-replica-"))
    os.chmod(home, 0o755)
    _, ids = _run_as()
    for d in ("psock", "ssock"):
        (home / d).mkdir()
    if ids:
        for d in (home, home / "psock", home / "ssock"):
            os.chown(d, *ids)
    primary, standby = home / "primary", home / "standby"
    started: list[Path] = []
    try:
        made = _tool(bins, "initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "--no-sync",
                     "--locale=C", "-E", "UTF8")
        assert made.returncode == 0, made.stderr
        # initdb's pg_hba.conf already trusts local replication connections
        opts = (f"-c listen_addresses='' -c unix_socket_directories='{home / 'psock'}' -c port=5491 "
                "-c wal_level=replica -c max_wal_senders=4 -c fsync=off -c shared_buffers=32MB")
        run = _tool(bins, "pg_ctl", "-D", str(primary), "-l", str(home / "primary.log"), "-o", opts, "-w", "start")
        assert run.returncode == 0, run.stderr + (home / "primary.log").read_text(errors="replace")
        started.append(primary)
        copy = _tool(bins, "pg_basebackup", "-h", str(home / "psock"), "-p", "5491", "-U", "postgres",
                     "-D", str(standby), "-R", "-X", "stream", "-c", "fast",
                     "-C", "-S", "flux_standby")  # a slot: the primary keeps the WAL a paused standby needs
        assert copy.returncode == 0, copy.stderr
        opts = (f"-c listen_addresses='' -c unix_socket_directories='{home / 'ssock'}' -c port=5492 "
                "-c fsync=off -c shared_buffers=32MB")
        run = _tool(bins, "pg_ctl", "-D", str(standby), "-l", str(home / "standby.log"), "-o", opts, "-w", "start")
        assert run.returncode == 0, run.stderr + (home / "standby.log").read_text(errors="replace")
        started.append(standby)
        p_url, s_url = _url(home / "psock", 5491), _url(home / "ssock", 5492)

        def streaming() -> bool:
            with psycopg.connect(p_url, autocommit=True) as c:
                return c.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").fetchone()[0] == 1

        _wait("the standby to stream", streaming)
        yield p_url, s_url, home
    finally:
        for data in reversed(started):
            _tool(bins, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def test_backfill_slows_while_the_replica_lags_and_comes_back_to_pace(primary_and_standby):
    p_url, s_url, home = primary_and_standby
    with psycopg.connect(p_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, filler text, v int)")
        conn.execute("INSERT INTO items SELECT g, repeat('x', 200), NULL FROM generate_series(1, 50000) g")
    settings = Settings(backfill_sleep_ms=0, backfill_max_commit_ms=10_000, backfill_max_lag_bytes=4 * 1024 * 1024,
                        backfill_max_pause_ms=400, backfill_min_rows_per_s=100)
    plan = build_plan([Backfill(table="items", column="v", value="1", batch_size=1000)], read_live(p_url), settings)
    step = next(s for s in plan.steps if s.batching is not None)
    assert step.batching.max_lag_bytes == 4 * 1024 * 1024

    notices: list[tuple[float, str]] = []
    errors: list[BaseException] = []

    def backfill() -> None:
        try:
            with psycopg.connect(p_url, autocommit=True) as conn:
                conn.add_notice_handler(lambda d: notices.append((time.monotonic(), d.message_primary)))
                conn.execute(step.up_sql)
        except BaseException as exc:  # noqa: BLE001  (reported by the test below)
            errors.append(exc)

    with psycopg.connect(s_url, autocommit=True) as standby:
        # The lag starts at nothing and grows only from the backfill: the standby replays the load
        # first, and the backfill starts once replay has stopped (a pause is first only "requested":
        # on a busy machine the standby replayed on, the lag fell under the limit while "paused", and
        # the backfill came back to pace before the resume).
        _wait("the standby to replay the load", lambda: _caught_up(p_url))
        standby.execute("SELECT pg_wal_replay_pause()")
        _wait("replay to pause",
              lambda: standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] == "paused")
        thread = threading.Thread(target=backfill, daemon=True)
        thread.start()
        _wait("the backfill to throttle on lag",
              lambda: sum("throttled (replica lag" in n and n.endswith("after 400 ms") for _, n in notices) >= 2
              or not thread.is_alive())
        resumed = time.monotonic()
        standby.execute("SELECT pg_wal_replay_resume()")
        thread.join(120)
    assert not thread.is_alive() and not errors, errors
    texts = [n for _, n in notices]
    lagged = [n for n in texts if "throttled (replica lag" in n]
    log = (home / "standby.log").read_text(errors="replace").splitlines()[-8:]
    assert len(lagged) >= 6, "\n".join(texts[:8] + ["standby log:"] + log)
    assert "over 4096 kB" in lagged[0], lagged[0]
    back = [t for t, n in notices if n == "flux backfill items.v: back to pace (0 ms pauses)"]
    assert back and back[0] > resumed, "\n".join(f"{t - resumed:.2f} {n}" for t, n in notices)
    assert texts[-1].endswith(": 50000 rows updated") or any(n.endswith(": 50000 rows updated") for n in texts)

    # The pace: time between batches while throttled, and once back to pace
    done = [t for t, n in notices if n.endswith("rows updated")]
    gaps = [(b, b - a) for a, b in zip(done, done[1:])]
    slow = [g for t, g in gaps if t < resumed]
    fast = [g for t, g in gaps if t > back[0]]
    assert len(slow) >= 3 and len(fast) >= 3, (slow, fast)
    # slowed to its longest pause while the standby lagged; batches back to back once caught up
    assert max(slow) >= 0.4 and statistics.median(fast) * 3 < 0.4, (slow, fast)
    with psycopg.connect(p_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE v IS NULL").fetchone()[0] == 0


def test_a_role_without_pg_monitor_sees_no_lag_and_runs_at_its_pace(primary_and_standby):
    """pg_stat_replication shows its positions only to superusers and pg_monitor: for any other
    role the lag reads NULL, which the block takes as no lag (it neither fails nor stalls)."""
    p_url, s_url, _ = primary_and_standby
    with psycopg.connect(p_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, filler text, v int)")
        conn.execute("INSERT INTO items SELECT g, repeat('x', 200), NULL FROM generate_series(1, 20000) g")
        conn.execute("CREATE ROLE flux_app LOGIN")
        conn.execute("GRANT SELECT, UPDATE ON items TO flux_app")
    settings = Settings(backfill_sleep_ms=0, backfill_max_commit_ms=10_000, backfill_max_lag_bytes=1024 * 1024)
    plan = build_plan([Backfill(table="items", column="v", value="1", batch_size=1000)], read_live(p_url), settings)
    step = next(s for s in plan.steps if s.batching is not None)
    app_url = psycopg.conninfo.make_conninfo(p_url, user="flux_app")
    notices: list[str] = []
    with psycopg.connect(s_url, autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        with psycopg.connect(app_url, autocommit=True) as conn:
            assert conn.execute("SELECT count(*), max(replay_lsn) FROM pg_stat_replication").fetchone() == (1, None)
            conn.add_notice_handler(lambda d: notices.append(d.message_primary))
            conn.execute(step.up_sql)
        standby.execute("SELECT pg_wal_replay_resume()")
    assert not [n for n in notices if "throttled" in n], notices
    assert notices[-1].endswith(": 20000 rows updated")
