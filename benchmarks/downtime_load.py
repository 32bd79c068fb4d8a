"""Running one migration (a naive statement or a Flux plan) under application
traffic, for benchmarks/downtime.py.

The traffic is flux_agent.verify's (old-code and new-code workers, each
owning a share of the rows; reads by key, updates of one column by key,
inserts; a code step starts the new code, runs both 0.3 s, stops the old),
with two changes for a benchmark: any number of workers per code version, and
keys spread over the whole table rather than its first rows. Steps run the
way flux_agent.verify.runner.run_sql runs them; a step that hits its lock_timeout is
retried, as the plan's summary tells the user to do. The data check at the
end is verify's: every row's last value written by the application must be
in the table (converted as the plan converts it).
"""

from __future__ import annotations

import gc
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import psycopg

from flux_agent.verify.runner import run_sql
from flux_agent.model.plan import Plan
from flux_agent.model.schema import Schema
from flux_agent.plan.planner import planned_schema
from flux_agent.verify.load import NEW, OLD, Traffic, Worker

Progress = Callable[[str], None]
WARMUP = 0.5  # traffic runs this long before anything is measured
BASELINE = 2.0  # then this long with no migration: the machine's own latency

SLOW_MS = 50.0  # --diagnose: application queries this slow are listed with their time

# Application queries running for a while, what they wait on and who blocks them (--diagnose).
WAITS_SQL = """
SELECT coalesce(a.wait_event_type || ' ' || a.wait_event, 'no wait event (on CPU)'),
       extract(epoch FROM clock_timestamp() - a.query_start) * 1000, left(a.query, 60),
       b.backend_type, b.state, left(b.query, 90)
  FROM pg_stat_activity a
  LEFT JOIN pg_stat_activity b ON a.wait_event_type = 'Lock' AND b.pid = (pg_blocking_pids(a.pid))[1]
 WHERE a.backend_type = 'client backend' AND a.state = 'active' AND a.datname = current_database()
   AND a.pid <> pg_backend_pid() AND a.pid <> ALL(%s) AND clock_timestamp() - a.query_start > interval '10 ms'"""
COUNTERS_SQL = """
SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
       (SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables)"""


class BenchTraffic(Traffic):
    """verify's Traffic with `workers` workers per code version over the given keys."""

    def __init__(self, url: str, plan: Plan, before: Schema, after: Schema, workers: int, keys: list[tuple]):
        super().__init__(url, plan, before, after)
        self.workers = workers
        if self.wl is not None:
            self.keys = keys
        self.slow: list[tuple[float, float, tuple]] = []  # (wall-clock end, ms, window) of slow queries

    def record(self, key: Optional[tuple], ms: float, error: Optional[str]) -> None:
        super().record(key, ms, error)
        if ms >= SLOW_MS and error is None:
            with self.lock:
                self.slow.append((time.time(), ms, key))

    def _start(self, version: str) -> None:
        view = self._view_for(version)
        if view is None or self.running[version]:
            return
        base, stride = (0 if version == OLD else self.workers), 2 * self.workers
        for i in range(self.workers):
            slot = base + i
            w = Worker(self, version, slot, view, self.keys[slot::stride])
            w.start()
            self.running[version].append(w)

    def summary(self, keys: list[tuple]) -> tuple[Optional[float], Optional[float], int]:
        with self.lock:
            ms = sorted(v for k in keys for v in self.samples.get(k, []))
        if not ms:
            return None, None, 0
        return round(ms[-1], 1), round(ms[max(0, math.ceil(0.99 * len(ms)) - 1)], 1), len(ms)


@dataclass
class StepStat:
    number: int
    phase: str
    title: str
    seconds: float = 0.0
    worst_ms: Optional[float] = None
    p99_ms: Optional[float] = None
    ops: int = 0
    errors: int = 0
    retries: int = 0  # tries the step's own lock retry was refused
    throttles: list[str] = field(default_factory=list)  # a backfill's throttle notices
    error: Optional[str] = None
    waits: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    form: str
    worst_ms: Optional[float] = None
    p99_ms: Optional[float] = None
    ops: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    lost: int = 0
    lost_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    baseline_worst_ms: Optional[float] = None
    baseline_p99_ms: Optional[float] = None
    checkpoints: int = 0
    autovacuums: int = 0
    failure: Optional[str] = None
    slow: list[tuple[float, float, str]] = field(default_factory=list)  # --diagnose: (start, end, window)
    gc_pauses: list[tuple[float, float, int]] = field(default_factory=list)  # --diagnose: (start, end, gen)
    steps: list[StepStat] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class GcWatch:
    """This process's garbage-collection pauses (--diagnose): they stall every worker thread."""

    def __init__(self):
        self.pauses: list[tuple[float, float, int]] = []  # (start, end, generation), wall clock
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t0 = time.time()
        else:
            self.pauses.append((self._t0, time.time(), info.get("generation", -1)))

    def __enter__(self) -> "GcWatch":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


class WaitSampler:
    """Application queries running longer than 10 ms, with what they wait on (--diagnose)."""

    def __init__(self, url: str, skip: list[int]):
        self.conn = psycopg.connect(url, autocommit=True)
        self.skip, self.key = skip, None
        self.seen: dict[tuple, dict[tuple, float]] = {}  # window -> (waiter query, blocker) -> longest ms
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stop.is_set():
            try:
                rows = self.conn.execute(WAITS_SQL, (self.skip,)).fetchall()
            except psycopg.Error:
                return
            for event, ms, query, btype, bstate, bquery in rows:
                blocker = f"; blocked by {btype} ({bstate}): {bquery}".replace("\n", " ") if btype else ""
                what = (f"{query.split(' WHERE')[0].split(' VALUES')[0]}", f"{event}{blocker}")
                bucket = self.seen.setdefault(self.key, {})
                bucket[what] = max(bucket.get(what, 0.0), float(ms or 0))
            self.stop.wait(0.005)

    def top(self, key) -> list[str]:
        found = sorted(self.seen.get(key, {}).items(), key=lambda kv: -kv[1])[:3]
        return [f"{ms:.0f} ms: {query} -- {event}" for (query, event), ms in found]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.conn.close()


def run_under_load(url: str, plan: Plan, before: Schema, form: str, workers: int, keys: list[tuple],
                   timeout: float, deploy_lag: float = 0.0, diagnose: bool = False,
                   progress: Optional[Progress] = None, baseline: float = BASELINE) -> RunResult:
    """Run `plan`'s steps in order under traffic; a code step switches old code to new code
    (after `deploy_lag` seconds: a naive migration goes first and the deploy follows)."""
    say = progress or (lambda _text: None)
    res = RunResult(form=form)
    after = planned_schema(plan.operations, before)
    traffic = BenchTraffic(url, plan, before, after, workers, keys)
    res.notes += traffic.notes
    conn = psycopg.connect(url, autocommit=True)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        conn.cancel_safe()

    watchdog = threading.Timer(timeout, expire)
    sampler = WaitSampler(url, [conn.info.backend_pid]) if diagnose else None
    counters0 = conn.execute(COUNTERS_SQL).fetchone()
    windows: list[tuple] = []
    started = time.perf_counter()
    gc_watch = GcWatch()
    if diagnose:
        gc.callbacks.append(gc_watch)
    try:
        traffic.start()
        time.sleep(WARMUP)
        with traffic.window(("baseline",)):
            time.sleep(baseline)
        res.baseline_worst_ms, res.baseline_p99_ms, _ = traffic.summary([("baseline",)])
        if sampler is not None:
            sampler.thread.start()
        watchdog.start()
        t_all = time.perf_counter()
        for step in plan.steps:
            stat = StepStat(step.number, step.phase, step.title)
            res.steps.append(stat)
            key = (form, step.number)
            windows.append(key)
            if sampler is not None:
                sampler.key = key
            t0 = time.perf_counter()
            if step.phase == "code":
                if deploy_lag:
                    time.sleep(deploy_lag)  # old code keeps running until the deploy
                    t0 = time.perf_counter()
                with traffic.window(key):
                    traffic.deploy(step.number, False)
            else:
                traffic.before_step(step, False)
                with traffic.window(key):
                    t0 = time.perf_counter()
                    stat.error = _run_step(conn, step, stat, expired)
                if stat.error is None:
                    traffic.after_step(step, False)
            stat.seconds = round(time.perf_counter() - t0, 3)
            if sampler is not None:
                stat.waits = sampler.top(key)
            say(f"  {form} step {step.number} ({step.phase}) {step.title}: {stat.seconds:.2f}s"
                + (f", {stat.retries} tries refused their lock" if stat.retries else "")
                + (f", throttled {len(stat.throttles)}x: {stat.throttles[0]}" if stat.throttles else "")
                + (f" -- FAILED: {stat.error}" if stat.error else ""))
            if stat.error:
                res.failure = f"step {step.number} ({step.title}): {stat.error}"
                break
        res.seconds = round(time.perf_counter() - t_all, 2)
    finally:
        watchdog.cancel()
        if sampler is not None:
            sampler.close()
        traffic.end_pass("forward-again")  # stops every worker, then the data check
        traffic.stop()
        if diagnose:
            gc.callbacks.remove(gc_watch)
            res.gc_pauses = [p for p in gc_watch.pauses if p[1] - p[0] >= 0.002]
        try:
            counters1 = conn.execute(COUNTERS_SQL).fetchone()
            res.checkpoints, res.autovacuums = counters1[0] - counters0[0], counters1[1] - counters0[1]
        except psycopg.Error:
            pass
        conn.close()
    res.worst_ms, res.p99_ms, res.ops = traffic.summary(windows)
    res.slow = [(end - ms / 1000, end, f"{key[0]} step {key[1]}") for end, ms, key in traffic.slow
                if key in windows]
    for stat in res.steps:  # now that every query has finished, the slow ones included
        stat.worst_ms, stat.p99_ms, stat.ops, stat.errors, _ = traffic.stats((form, stat.number))
        say(f"    {form} step {stat.number}: app worst {_ms(stat.worst_ms)} ms, p99 {_ms(stat.p99_ms)} ms, "
            f"{stat.ops} ops, {stat.errors} errors")
        for w in stat.waits:
            say(f"      running long: {w}")
    res.errors = traffic.error_count
    res.error_samples = sorted({e for errs in traffic.failures.values() for e in errs})[:5]
    res.lost, res.lost_samples = traffic.lost, traffic.lost_samples[:5]
    res.notes += [n for n in traffic.notes if n not in res.notes]
    res.seconds = res.seconds or round(time.perf_counter() - started, 2)
    return res


def _run_step(conn: psycopg.Connection, step, stat: StepStat, expired: threading.Event) -> Optional[str]:
    """The step's SQL as its file runs it (a brief-lock step retries its lock inside its own DO
    block: each refused try is one NOTICE, counted; a backfill's throttling too)."""
    def heard(d) -> None:
        text = d.message_primary or ""
        if text.startswith("flux: locks not granted within"):
            stat.retries += 1
        elif "throttled" in text:
            stat.throttles.append(text)

    conn.add_notice_handler(heard)
    try:
        run_sql(conn, step.up_file_sql, step.transactional)
        return None
    except psycopg.Error as exc:
        if expired.is_set():
            return "timed out (the case's --timeout)"
        return (exc.diag.message_primary or str(exc)).strip()
    finally:
        conn.remove_notice_handler(heard)


def _ms(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.1f}"


__all__ = ["run_under_load", "RunResult", "StepStat", "BenchTraffic", "NEW", "OLD"]
