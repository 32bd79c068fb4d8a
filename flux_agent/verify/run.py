"""`flux verify`: build the schema a plan starts from on a scratch PostgreSQL,
fill it with synthetic rows, then run the plan's steps forward, roll them all
back and run them forward again, the way migration tools run them; in the last pass each step is
also rolled back alone and run again, as `downgrade -1` then `upgrade +1` does
(flux_agent.verify.runner: a transactional step in one transaction, a
non-transactional one as one query outside any transaction block).

Each step reports ok or PostgreSQL's exact error, its duration, the lock the
plan says it takes and the locks seen in pg_locks: for a transactional step
read inside its own transaction just before COMMIT (every lock is still held
there), for a non-transactional step sampled from a side connection while it
runs. The first failing step stops the run.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import psycopg

from ..entry import actions as tools
from .runner import connect
from ..errors import FluxInputError
from ..model.plan import Plan, Step
from ..model.schema import Schema
from ..plan.planner import planned_schema
from ..pg.ddl import schema_ddl
from ..pg.managed import not_offered
from ..pg.quote import split_qualified
from ..project.applied import without_runs_table
from .catalog import diff, snapshot
from .check import PlanCheck
from .default_rows import DefaultRows
from .load import Traffic
from .pending import resolve_plan
from ..project.config import load_settings
from .report import StepResult, VerifyReport
from .sandbox import Sandbox, open_sandbox
from .seed import seed
from .seed_scope import FEW, converted, full_tables, with_planned_keys

Progress = Optional[Callable[[str], None]]
PASSES = (("forward", False), ("rollback", True), ("forward-again", False))
REDONE = "forward-again"  # the pass whose steps are each rolled back alone and run again (_redo)
LOCK_ORDER = ["AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
              "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"]
LOCKS_SQL = """
SELECT l.mode, l.relation::bigint FROM pg_locks l
 WHERE l.pid = %s AND l.locktype = 'relation' AND l.relation >= 16384"""
# The pid of the server process running this transaction: through a pooler, the client's
# connection-time backend_pid names none (PgBouncer sends its own) and transactions move.
OWN_LOCKS_SQL = LOCKS_SQL.replace("%s", "pg_backend_pid()")
# Relations before the step (so a table the step drops keeps its name); ones the step
# creates are left out: nobody else can see them, so their locks block no one.
RELATIONS_SQL = """
SELECT c.oid::bigint, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid >= 16384 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"""


def verify(project_dir: Optional[str | Path] = None, database_url: Optional[str] = None, rows: int = 1000,
           load: bool = False, operations: Optional[Sequence[Any]] = None, i_know: bool = False,
           progress: Progress = None) -> VerifyReport:
    started = time.perf_counter()
    if rows < 0:
        raise FluxInputError("--rows must be 0 or more")
    project = tools.project_path(project_dir)
    start = resolve_plan(project, operations)
    plan = start.plan
    report = VerifyReport(plan=plan.description, source=start.source, database="", rows=rows, load=load,
                          notes=list(start.notes))
    report.notes += [f"plan finding: step {f.step}: {f.rule}: {f.message}" for f in plan.findings
                     if f.severity == "error"]
    with open_sandbox(database_url, i_know, progress, before=start,
                      dev_url=load_settings(project).dev_url) as box:
        report.database = box.description
        report.notes += box.notes
        before = box.prebuilt or start.schema  # what PostgreSQL holds, where it built the project
        report.notes += [f"the schema uses extension {e}, outside the usual allow-list of {', '.join(not_offered(e))} "
                         "as flux_agent/pg/managed.py records it: check the provider's list"
                         for e in before.extensions if not_offered(e)]
        _check_schema_mode(box, before)
        with connect(box.url) as conn:
            if box.prebuilt is not None or _build(conn, before, report, progress):
                full = full_tables(plan, before)
                _say(progress, f"seeding {rows} rows per table" if full is None else
                     f"seeding {rows} rows in each of the {len(full)} tables the plan reaches, "
                     f"{min(rows, FEW)} in each of the {len(before.tables) - len(full)} others")
                # the tool's own runs table gets no synthetic rows (nestjs-boilerplate's `migrations` got eleven)
                seeded = seed(conn, with_planned_keys(plan, without_runs_table(before, plan.tool, project)), rows,
                              full, converted(plan, before))
                report.seeded, report.notes = seeded.counts, report.notes + seeded.notes + _unfilled(plan, before,
                                                                                                    seeded.counts)
                _run(conn, box, plan, before, report, progress)
    report.seconds = round(time.perf_counter() - started, 3)
    if report.failure is None and report.lost_writes:
        report.failure = f"{report.lost_writes} write(s) made by the application during the plan were lost"
    if report.failure is None and report.traffic_errors:
        report.failure = f"{report.traffic_errors} application queries failed while the plan ran"
    report.ok = report.failure is None
    _say(progress, "done: ok" if report.ok else f"done: FAILED: {report.failure}")
    return report


def _unfilled(plan: Plan, before: Schema, counts: dict[str, int]) -> list[str]:
    """A note for each table the plan changes that holds no rows here: an OK then says nothing of
    what the plan does to its data (plane's issues, before cycles of keys were seeded)."""
    names = {getattr(op, "table", None) for op in plan.operations if op.op != "create_table"}
    tables = sorted({t.name for t in (before.table(n) for n in names if n) if t is not None})
    return [f"{name}: the plan changes this table, and it holds no rows here: its data went unchecked"
            for name in tables if counts.get(name) == 0]


def _say(progress: Progress, text: str) -> None:
    if progress is not None:
        progress(text)


def _check_schema_mode(box: Sandbox, schema: Schema) -> None:
    if box.mode != "schema":
        return
    names = [t.name for t in schema.tables] + [e.name for e in schema.enums] + [v.name for v in schema.views]
    other = sorted({split_qualified(n)[0] for n in names} - {None, "public"})
    if other:
        raise FluxInputError(f"the role may not create databases and the schema uses schema {other[0]!r}: "
                             "a scratch schema cannot hold it; give a role with CREATEDB")


def _build(conn: psycopg.Connection, schema: Schema, report: VerifyReport, progress: Progress) -> bool:
    statements = schema_ddl(schema)
    _say(progress, f"building the schema before the plan: {len(schema.tables)} table(s), "
                   f"{len(schema.enums)} enum(s), {len(schema.views)} view(s)")
    for stmt in statements:
        if stmt.startswith("--"):
            report.notes.append(stmt[2:].strip())
            continue
        try:
            conn.execute(stmt)
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip()
            if stmt.startswith("CREATE VIEW"):
                report.notes.append(f"view not built ({message}): {stmt[:120]}")
                continue
            report.failure = f"building the schema before the plan failed: {message} (in: {stmt[:200]})"
            return False
    return True


def _null_hint(plan: Plan, error: Optional[str]) -> str:
    """What to do where a NOT NULL the plan sets meets the synthetic rows' NULLs (a column that
    allows NULL is given some): production's rows may hold them too, and the plan fills none."""
    bare = [op for op in plan.operations if op.op == "set_not_null" and not op.backfill]
    if not bare or not error or "violated" not in error:
        return ""
    op = bare[0]
    return (f" (the synthetic rows hold NULLs in {op.table}.{op.column}, as production's may: give set_not_null "
            f"a backfill, an expression for the rows that are NULL, or check production holds none)")


# --------------------------------------------------------------------------
# Forward, rollback, forward again
# --------------------------------------------------------------------------


def _run(conn: psycopg.Connection, box: Sandbox, plan: Plan, before: Schema, report: VerifyReport,
         progress: Progress) -> None:
    traffic = None
    if report.load:
        after = planned_schema(plan.operations, before, plan.tool)
        traffic = Traffic(box.url, plan, before, after, progress)
        report.notes += traffic.notes
    home, only = (box.scratch, [box.scratch]) if box.mode == "schema" else ("public", None)
    check = PlanCheck(conn, plan, before, home, only)
    watcher = LockWatcher(box.url, conn, box.scratch)
    defaults = DefaultRows(conn, plan, before, report.seeded)
    try:
        if traffic is not None:
            traffic.start()
        for direction, back in PASSES:
            steps = list(reversed(plan.steps)) if back else list(plan.steps)
            for i, step in enumerate(steps, 1):
                _say(progress, f"{direction} {i}/{len(steps)}: step {step.number} ({step.phase}) {step.title}")
                result = _one(conn, step, direction, back, watcher, traffic)
                report.steps.append(result)
                lock = f", {result.observed_lock}" if result.observed_lock else ""
                _say(progress, f"  {'ok' if result.ok else 'FAILED: ' + (result.error or '')} "
                               f"({result.seconds:.3f}s{lock})")
                if not result.ok:
                    report.failure = (f"step {step.number} ({step.phase}: {step.title}) failed on {direction}: "
                                      f"{result.error}{_null_hint(plan, result.error)}")
                    return
                problem = defaults.after(conn, i) if direction == "forward" and not step.is_code else None
                if problem:
                    report.failure = f"step {step.number} ({step.phase}: {step.title}): {problem}"
                    report.problems.append(report.failure)
                    return
                if direction == REDONE and traffic is None and step.down_sql and not step.is_code:
                    problem = _redo(conn, steps[max(0, i - 1 - step.undoes_steps_before):i], watcher, home, only)
                    if problem:
                        report.failure = f"step {step.number} ({step.phase}: {step.title}) {problem}"
                        report.problems.append(report.failure)
                        return
            if traffic is not None:
                traffic.end_pass(direction)
            if not _checked(check, direction, traffic, report, progress):
                return
            if direction == REDONE and traffic is None:
                report.notes.append("each step was also rolled back alone and run again, as a tool's "
                                    "`downgrade -1` then `upgrade +1` runs it: the catalog came back the same")
            if traffic is not None:
                traffic.resume()
    finally:
        watcher.close()
        if traffic is not None:
            traffic.stop()
            for r in report.steps:
                stats = traffic.stats((r.direction, r.number))
                r.worst_ms, r.p99_ms, r.ops, r.errors, r.error_samples = stats
            report.lost_writes, report.checked_writes = traffic.lost, traffic.checked
            report.lost_write_samples = traffic.lost_samples[:10]
            report.traffic_errors = traffic.error_count
            report.notes += [n for n in traffic.notes if n not in report.notes]


def _redo(conn, steps: list[Step], watcher: "LockWatcher", home: str, only: Optional[list[str]]) -> Optional[str]:
    """The last of `steps` rolled back alone and run again: its rollback must leave what its forward SQL
    starts from, and the second run the catalog the first left (a contract's rollback took the unique
    index the contract attaches, and the contract run again failed). A step whose rollback undoes the
    ones before it (Step.undoes_steps_before) comes with them: all are undone and run again. What went
    wrong, or None. Not under load: the workload follows the passes, not steps undone in one."""
    left = snapshot(conn, home, only)
    for step, back in [(s, True) for s in reversed(steps)] + [(s, False) for s in steps]:
        res = _one(conn, step, REDONE, back, watcher, None)
        if not res.ok:
            return (f"rolled back alone, then run again, failed on step {step.number}'s "
                    f"{'rollback' if back else 'forward SQL'}: {res.error}")
    changed = diff(left, snapshot(conn, home, only))
    if changed:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        return f"rolled back alone and run again leaves another catalog: {changed[0].text()}{more}"
    return None


def _checked(check: PlanCheck, direction: str, traffic: Optional[Traffic], report: VerifyReport,
             progress: Progress) -> bool:
    """After a pass: the catalog and rows it must leave (flux_agent.verify.check); False stops the run."""
    if direction == "rollback":
        problems = check.rollback_done([traffic.wl.old.table] if traffic is not None and traffic.wl else [])
        check.forward_starts()  # the rows and values the next forward run starts from
    else:
        problems = check.forward_done(traffic.written if traffic is not None else None)
    report.notes += [n for n in check.notes if n not in report.notes]
    report.problems += [f"after the {direction} run: {p}" for p in problems]
    for p in problems:
        _say(progress, f"  PROBLEM after the {direction} run: {p}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        report.failure = report.problems[0] + more
        return False
    _say(progress, f"  after the {direction} run: " + ("the catalog is as before the plan" if direction == "rollback"
                                                      else "the columns and rows are as planned"))
    return True


def _one(conn, step: Step, direction: str, back: bool, watcher: "LockWatcher",
         traffic: Optional[Traffic]) -> StepResult:
    res = StepResult(number=step.number, phase=step.phase, title=step.title, direction=direction, ok=True,
                     lock=step.lock)
    if step.is_code:
        t0 = time.perf_counter()
        res.note = "application deploy: no SQL"
        if traffic is not None:
            with traffic.window((direction, step.number)):
                traffic.deploy(step.number, back)
            res.note += "; " + ("old code takes over from new code" if back else "new code takes over from old code")
        res.seconds = round(time.perf_counter() - t0, 4)
        return res
    sql = step.down_file_sql if back else step.up_file_sql
    if not sql or not sql.strip():
        res.note = "no rollback SQL: nothing to undo" if back else "no SQL"
        return res
    if traffic is not None:
        traffic.before_step(step, back)
    observed: dict[str, str] = {}
    names = {oid: (rel if ns in ("public", watcher.schema) else f"{ns}.{rel}")
             for oid, ns, rel in conn.execute(RELATIONS_SQL).fetchall()}
    with traffic.window((direction, step.number)) if traffic is not None else _nothing():
        t0 = time.perf_counter()
        try:
            if step.transactional:
                with conn.transaction():
                    conn.execute(sql)
                    _collect(observed, conn.execute(OWN_LOCKS_SQL).fetchall(), names)
            else:
                with watcher.watching(observed, names):
                    if step.guard_sql and not back:  # its own query before the build, as the files run it
                        conn.execute(step.guard_sql)
                    conn.execute(sql)
        except psycopg.Error as exc:
            diag = exc.diag
            res.ok = False
            res.error = (diag.message_primary or str(exc)).strip()
            res.sqlstate = diag.sqlstate
            extra = [f"{k}: {v}" for k, v in (("DETAIL", diag.message_detail), ("HINT", diag.message_hint),
                                              ("CONTEXT", diag.context)) if v]
            res.detail = "\n".join(extra) or None
        res.seconds = round(time.perf_counter() - t0, 4)
    if traffic is not None and res.ok:
        traffic.after_step(step, back)
    res.observed_lock = lock_text(observed)
    return res


@contextmanager
def _nothing():
    yield


def _mode_name(mode: str) -> str:
    return " ".join(re.findall(r"[A-Z][a-z]*", mode.removesuffix("Lock"))).upper()


def _collect(observed: dict[str, str], rows, names: dict[int, str]) -> None:
    for mode, oid in rows:
        name = names.get(oid)
        if name is None or mode not in LOCK_ORDER:
            continue
        if name not in observed or LOCK_ORDER.index(mode) > LOCK_ORDER.index(observed[name]):
            observed[name] = mode


def lock_text(observed: dict[str, str]) -> Optional[str]:
    if not observed:
        return None
    order = sorted(observed.items(), key=lambda kv: (-LOCK_ORDER.index(kv[1]) if kv[1] in LOCK_ORDER else 0, kv[0]))
    return ", ".join(f"{_mode_name(mode)} on {name}" for name, mode in order)


class LockWatcher:
    """Samples pg_locks for the migration's backend from a side connection."""

    def __init__(self, url: str, migrating: psycopg.Connection, scratch: Optional[str]):
        self.conn = connect(url)
        self.migrating, self.schema, self.pid = migrating, scratch, None

    @contextmanager
    def watching(self, observed: dict[str, str], names: dict[int, str]):
        stop = threading.Event()
        # Asked just before the step: through a transaction pooler the step may still land on
        # another server connection, and then its locks go unobserved.
        self.pid = self.migrating.execute("SELECT pg_backend_pid()").fetchone()[0]

        def poll():
            while not stop.is_set():
                try:
                    _collect(observed, self.conn.execute(LOCKS_SQL, (self.pid,)).fetchall(), names)
                except psycopg.Error:
                    return
                stop.wait(0.0005)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def close(self) -> None:
        self.conn.close()
