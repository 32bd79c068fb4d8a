"""Downtime under load: the naive single statement against Flux's plan.

    python benchmarks/downtime.py [--rows 2000000] [--only CASE[,CASE]] [--workers 4] [--runs 3]
                                  [--timeout 900] [--json] [--diagnose]
                                  [--synchronous-commit on|off] [--batch-size N] [--batch-sleep-ms N]
                                  [--set NAME=VALUE ...] [--server NAME=VALUE ...] [--baseline-s 2]

Starts a PostgreSQL of its own (benchmarks/downtime_server.py: the machine's
binaries, fsync on) in a temporary folder and builds,
once, a template database: `orders` with --rows rows (bigint identity key,
a numeric total, a user_id, a status with an index, an integer quantity, a
unique-valued code, a nullable region that is never NULL, a nullable note, a
NOT NULL legacy column, a timestamp; about 140 bytes a row with its two
indexes) and `users` with
--rows/10 rows (at least 30,000), VACUUM ANALYZEd. For every operation class
below, --runs times, it clones the template twice (CREATE DATABASE ... TEMPLATE, file copy)
and, on one copy, runs the naive single statement (no lock_timeout: what
people run), on the other Flux's plan (flux_agent.plan.planner.build_plan with
the default Settings and the server's major version), each under the same
application traffic (flux_agent.verify's load workers, --workers per code
version: point SELECT by key, UPDATE of one column by key, INSERT, 5 ms
apart, keys spread over the whole table).

  stall        the slowest application query that started while the
               migration's steps ran (worst, and p99), in milliseconds
  app errors   application queries that failed (old code using a column or
               table the naive statement renamed or dropped counts: the
               naive form deploys the new code 1 s after its statement)
  lost writes  rows whose last value written by the application is not in
               the table at the end (verify's data check)

The server runs with synchronous_commit on by default, as production does:
then a commit waits for its WAL flush, and a migration's WAL competes with the
application's (--synchronous-commit off shows the locks alone; on a VM disk a
commit's own fsync can stall ~160 ms with no migration at all, which is why
each row prints the traffic-alone worst beside it). Backfill throughput is
the rows its walk covers per second of the backfill step, beside the naive
single statement's over the same rows; each class also names its slowest Flux
step (CREATE INDEX CONCURRENTLY and VALIDATE CONSTRAINT cannot pace
themselves: this is where they show). A
Flux step that hits its lock_timeout is retried (3 times, 1 s apart), as
the plan's summary tells the user to do. --diagnose samples what slow
application queries wait on (pg_stat_activity: lock, blocker, IO or CPU),
logs statements over 20 ms, checkpoints and autovacuum on the server, and
lists each query over 50 ms with what the server logged meanwhile.

Each run is bounded by --timeout seconds; progress goes to stderr, the
table (or --json) to stdout (benchmarks/downtime_report.py); the exit status
is 1 when a class misses the limit (median of Flux's worst stalls over 50 ms,
a run over 80 ms, an app error or a lost write).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402
import psycopg.sql  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from downtime_cases import CASES, FILL, SCHEMA, Case  # noqa: E402
from downtime_load import BASELINE, RunResult, run_under_load  # noqa: E402
from downtime_report import fmt, table, verdict  # noqa: E402
from downtime_server import durable_server, machine  # noqa: E402
from flux_agent.model.plan import Plan, Step  # noqa: E402
from flux_agent.pg.quote import qname  # noqa: E402
from flux_agent.model.settings import Settings  # noqa: E402
from flux_agent.plan.planner import build_plan  # noqa: E402
from flux_agent.schema.replay.engine import replay_sql  # noqa: E402
from flux_agent.entry.actions import parse_operations  # noqa: E402
from flux_agent.verify.sandbox import _with, open_sandbox  # noqa: E402

# The sandbox may be the shared dev server: names of this run's own, dropped at the end.
TEMPLATE = f"flux_downtime_template_{os.getpid()}"
KEYS = 10_000  # rows the application touches, spread over the table
DEPLOY_LAG = 1.0  # naive: seconds between the statement and the new code's deploy

def slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def naive_plan(case: Case, flux: Plan) -> Plan:
    steps = [Step(number=1, phase="migrate", title=case.naive, up_sql=case.naive, transactional=True)]
    if case.code:
        steps.append(Step(number=2, phase="code", title="deploy the new code"))
    return Plan(description=f"naive: {case.naive}", type="safe", tool="sql", operations=flux.operations,
                steps=steps)


def build_template(admin: str, rows: int, users: int, cases: list[Case]) -> str:
    url = _with(admin, dbname=TEMPLATE)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(FILL.format(rows=rows, users=users))
        for extra in dict.fromkeys((c.schema, c.fill) for c in cases if c.schema):
            conn.execute(extra[0])
            conn.execute(extra[1].format(rows=rows))
        conn.execute("VACUUM (ANALYZE, FREEZE)")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    say(f"template: {rows:,} orders and {users:,} users built in {time.perf_counter() - t0:.1f}s")
    return url


def fresh_copy(admin: str, name: str, sets: Optional[list[str]] = None) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        for item in sets or ():  # --set: what a session could SET, for every session of the copy
            key, value = item.split("=", 1)
            conn.execute(psycopg.sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Identifier(key.strip()), psycopg.sql.Literal(value.strip())))
        conn.execute("CHECKPOINT")
    return _with(admin, dbname=name)


def drop_copy(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def backfill_rows(admin: str, case: Case) -> Optional[int]:
    """Rows a backfill of this class walks: its table's, those matching its `where` (the
    benchmark's own fixed text); None for a class with no backfill step."""
    flux = build_plan(parse_operations([case.op]), replay_sql(SCHEMA + case.schema), Settings())
    step = next((s for s in flux.steps if s.batching is not None), None)
    if step is None:
        return None
    where = f" WHERE {case.op['where']}" if case.op.get("where") else ""
    with psycopg.connect(_with(admin, dbname=TEMPLATE), autocommit=True) as conn:
        return conn.execute(f"SELECT count(*) FROM {qname(step.batching.table)}{where}").fetchone()[0]


def run_case(admin: str, case: Case, args, keys: list[tuple], settings: Settings) -> dict:
    schema = replay_sql(SCHEMA + case.schema)
    flux = build_plan(parse_operations([case.op]), schema, settings)
    out = {"operation": case.name, "naive_sql": case.naive, "flux_steps": [s.title for s in flux.steps]}
    for form, plan in (("naive", naive_plan(case, flux)), ("flux", flux)):
        name = f"flux_downtime_{form}_{os.getpid()}"
        t0 = time.perf_counter()
        url = fresh_copy(admin, name, args.set)
        say(f"{case.name} / {form}: fresh copy in {time.perf_counter() - t0:.1f}s; "
            f"{len(plan.steps)} step(s) under load")
        try:
            res = run_under_load(url, plan, schema, form, args.workers, keys, args.timeout,
                                 deploy_lag=DEPLOY_LAG if form == "naive" else 0.0, diagnose=args.diagnose,
                                 progress=say, baseline=args.baseline_s)
        except Exception as exc:  # a broken run is a row in the table, not a crash of the whole benchmark
            res = RunResult(form=form, failure=f"{type(exc).__name__}: {exc}")
        finally:
            drop_copy(admin, name)
        say(f"{case.name} / {form}: worst {fmt(res.worst_ms)} ms, p99 {fmt(res.p99_ms)} ms, {res.errors} app "
            f"errors, {res.lost} lost writes, {res.seconds:.1f}s (idle worst {fmt(res.baseline_worst_ms)} ms; "
            f"{res.checkpoints} checkpoint(s), {res.autovacuums} autovacuum/analyze)"
            + (f" -- FAILED: {res.failure}" if res.failure else ""))
        for sample in res.error_samples[:2] + res.lost_samples[:2]:
            say(f"    {sample}")
        if args.diagnose:
            longest = max((e - s for s, e, _ in res.gc_pauses), default=0.0)
            say(f"    python gc pauses of 2 ms or more: {len(res.gc_pauses)}, longest {longest * 1000:.0f} ms")
            explain_slow(res, args.server_log)
        out[form] = res.as_dict()
    return out


def explain_slow(res: RunResult, log: Optional[Path]) -> None:
    """Each slow application query (--diagnose) with what the server logged while it ran (statements
    over 20 ms, checkpoints, autovacuum) and this process's garbage-collection pauses."""
    events = [(start, f"python gc of generation {gen}: {(end - start) * 1000:.0f} ms") for start, end, gen
              in res.gc_pauses]
    # The server's log: a file, or logging_collector's folder of them.
    logs = [] if log is None or not log.exists() else sorted(log.iterdir()) if log.is_dir() else [log]
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            try:
                when = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
            except ValueError:
                continue
            if line[24:27] == "UTC" and ("checkpoint" in line or "automatic" in line or "duration:" in line):
                events.append((when.timestamp(), "server: " + line[27:].split("]", 1)[-1].strip()[:200]))
    events.sort()
    for start, end, window in sorted(res.slow)[:1 if res.form == "naive" else 12]:
        stamp = datetime.fromtimestamp(start, timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        say(f"    slow query in {window}: {(end - start) * 1000:.0f} ms from {stamp} UTC")
        checkpoint = None
        for when, text in events:
            if when < start - 0.05 and "checkpoint starting" in text:
                checkpoint = text
            elif when < start - 0.05 and "checkpoint complete" in text:
                checkpoint = None
            elif start - 0.05 <= when <= end + 0.05:
                offset = (when - start) * 1000
                say(f"      {offset:+.0f} ms {text}")
        if checkpoint:
            say(f"      (a checkpoint was running: {checkpoint})")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows in orders (default 2,000,000)")
    ap.add_argument("--only", help="comma-separated case names: " + ", ".join(slug(c.name) for c in CASES))
    ap.add_argument("--workers", type=int, default=4, help="application workers per code version (default 4)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds one run (naive or flux) may take")
    ap.add_argument("--diagnose", action="store_true", help="sample the lock waits of application queries")
    ap.add_argument("--synchronous-commit", choices=["on", "off"], default="on",
                    help="the server's synchronous_commit (default on, as in production; off: commits do not "
                         "wait for the WAL flush, which shows the locks alone)")
    ap.add_argument("--server", action="append", metavar="NAME=VALUE", help="a server setting at start (what "
                    "a DBA sets, not Flux), e.g. wal_buffers=16MB, max_wal_size=4GB, wal_compression=lz4")
    ap.add_argument("--set", action="append", metavar="NAME=VALUE", help="a session setting for every "
                    "connection to the copies (ALTER DATABASE ... SET), e.g. max_parallel_maintenance_workers=0")
    ap.add_argument("--runs", type=int, default=3, help="runs of each class, naive and Flux (default 3)")
    ap.add_argument("--baseline-s", type=float, default=BASELINE,
                    help=f"seconds of traffic alone before each run (default {BASELINE:g}); as long as a "
                         "class's backfill, it shows the machine's own worst over the same length of time")
    ap.add_argument("--batch-size", type=int, help="Settings.backfill_batch_size for Flux's plans "
                    "(default: the planner's default)")
    ap.add_argument("--batch-sleep-ms", type=int, help="Settings.backfill_sleep_ms (default: the planner's)")
    ap.add_argument("--flux", action="append", metavar="NAME=VALUE", default=[],
                    help="a Flux setting for its plans (a .flux.yaml key), e.g. backfill_flush_after_kb=0")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    args = ap.parse_args(argv)
    # --batch-size and --batch-sleep-ms are short names for two of the --flux settings
    flux_sets = {k: v for k, v in (("backfill_batch_size", args.batch_size),
                                   ("backfill_sleep_ms", args.batch_sleep_ms)) if v is not None}
    for item in args.flux:
        name, sep, value = item.partition("=")
        if not sep or name not in Settings.model_fields:
            ap.error(f"--flux wants NAME=VALUE with NAME a Flux setting, not {item!r}")
        flux_sets[name] = value
    try:  # said before the server starts
        Settings.model_validate(flux_sets)
    except ValidationError as exc:
        first = exc.errors()[0]
        ap.error(f"--flux {'.'.join(map(str, first['loc']))}: {first['msg']}")
    if args.rows < 1000 or args.workers < 1 or args.runs < 1:
        ap.error("--rows must be at least 1000, --workers and --runs at least 1")
    cases = CASES
    if args.only:
        wanted = [slug(w) for w in args.only.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in {slug(c.name) for c in CASES}]
        if unknown:
            ap.error(f"unknown case {unknown[0]!r}: choose from " + ", ".join(slug(c.name) for c in CASES))
        cases = [c for c in CASES if slug(c.name) in wanted]
    users = max(30_000, args.rows // 10)  # the load's inserts use user ids up to 30,000
    rnd = random.Random(42)
    keys = [(k,) for k in rnd.sample(range(1, args.rows + 1), min(KEYS, args.rows))]
    started = time.perf_counter()
    # A server of its own: the dev database's runs with fsync off, where synchronous commit means nothing
    with durable_server(args.synchronous_commit, say, args.server or []) as server, open_sandbox(server, i_know=True, progress=say) as box:
        with psycopg.connect(box.url, autocommit=True) as conn:
            if args.diagnose:  # the server's view of slow queries, checkpoints and autovacuum
                for name, value in (("log_min_duration_statement", "20ms"), ("log_checkpoints", "on"),
                                    ("log_autovacuum_min_duration", "0")):
                    conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")
            args.server_log = Path(conn.execute("SHOW data_directory").fetchone()[0]) / "log"
        build_template(box.url, args.rows, users, cases)
        with psycopg.connect(box.url, autocommit=True) as conn:
            major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
        settings = Settings.model_validate({"pg_version": major, **flux_sets})
        info = {**machine(_with(box.url, dbname=TEMPLATE), args.rows, users), "workers": args.workers,
                "runs": args.runs, "sets": args.set or [], "server_sets": args.server or [], "baseline_s": args.baseline_s, "deploy_lag_s": DEPLOY_LAG,
                "settings": settings.model_dump(include={
                    "lock_timeout", "statement_timeout", "backfill_batch_size", "backfill_sleep_ms", "pg_version",
                    "backfill_max_commit_ms", "backfill_max_lag_bytes", "backfill_max_pause_ms",
                    "backfill_min_rows_per_s", "lock_wait_ms", "lock_tries", "backfill_flush_after_kb", *flux_sets})}
        results = []
        try:
            for i, case in enumerate(cases, 1):
                say(f"case {i}/{len(cases)}: {case.name} ({time.perf_counter() - started:.0f}s so far)")
                runs = []
                for n in range(1, args.runs + 1):
                    say(f"{case.name}: run {n}/{args.runs}")
                    runs.append(run_case(box.url, case, args, keys, settings))
                results.append({"operation": case.name, "naive_sql": case.naive,
                                "flux_steps": runs[0]["flux_steps"], "runs": runs,
                                "backfill_rows": backfill_rows(box.url, case) if case.writes_rows else None})
                say(f"{case.name}: {verdict(results[-1])}")
        finally:
            drop_copy(box.url, TEMPLATE)
    say(f"all done in {time.perf_counter() - started:.0f}s")
    if args.json:
        print(json.dumps({"machine": info, "results": results}, indent=2, default=str))
    else:
        print(table(results, info))
    return 0 if all(verdict(r) == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
