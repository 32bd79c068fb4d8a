"""Application traffic while `flux verify --load` runs the steps.

Old-code workers run until the plan's code step, new-code workers from it on
(both during the code step itself, as in a rolling deploy; the other way
round when rolling back). Each worker owns a share of the rows, so the last
value written to a row is known; at the end of each pass (forward, rollback,
forward again) the workers stop and every such value must be in the table,
converted the way the plan converts it (no lost write). Latency is counted
for queries that start while a step runs (a window of at least 0.1 s).
"""

from __future__ import annotations

import math
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Callable, Optional

import psycopg

from ..model.plan import Plan, Step
from ..model.schema import Schema
from ..pg.parse import expr
from ..pg.quote import ident, ident_list, qname
from .runner import connect  # no prepared statements: the traffic may go through a pooler too
from .check_values import check_choices
from .values import py_castable, py_value
from .seed_scope import converted
from .workload import View, Workload, choose

OLD, NEW = "old", "new"
SLOTS = {OLD: (0, 1), NEW: (2, 3)}
MIN_WINDOW = 0.1
OVERLAP = 0.3
PAUSE = 0.005  # between one worker's queries


class Worker(threading.Thread):
    def __init__(self, traffic: "Traffic", version: str, slot: int, view: View, keys: list[tuple]):
        super().__init__(daemon=True)
        self.traffic, self.version, self.slot, self.view = traffic, version, slot, view
        self.keys = list(keys)
        self.last: dict[tuple, tuple[str, Any, str]] = {}  # key -> (version, value, when) of the last write
        self.stopping = threading.Event()
        self.done: Optional[View] = None  # the view of the last finished query

    def run(self) -> None:
        tr = self.traffic
        rnd = random.Random(self.slot * 7919 + tr.pass_no)
        try:
            conn = connect(tr.url)
        except psycopg.Error as exc:
            tr.record(tr.current, 0.0, f"{self.version} code cannot connect: {exc}")
            return
        with conn:
            conn.execute("SET statement_timeout = '60s'")
            i = 0
            while not self.stopping.is_set():
                view = self.view
                kind = ("read", "update", "read", "update", "read", "update", "read", "update", "read",
                        "insert")[i % 10]
                if kind == "update" and not view.column or kind == "insert" and not view.can_insert:
                    kind = "read"
                key = tr.current
                t0 = time.perf_counter()
                error = None
                try:
                    self._op(conn, view, kind, i, rnd)
                except psycopg.Error as exc:
                    error = f"{self.version} code {kind} on {view.table}: {(exc.diag.message_primary or exc)}"
                tr.record(key, (time.perf_counter() - t0) * 1000, error)
                self.done = view
                i += 1
                time.sleep(PAUSE)

    def _op(self, conn, view: View, kind: str, i: int, rnd: random.Random) -> None:
        tr = self.traffic
        before = tr.contract_state
        where = " AND ".join(f"{ident(c)} = %s" for c in view.pk)
        n = self.slot * 1_000_003 + tr.pass_no * 100_000 + i
        token = f"{self.version}{self.slot}p{tr.pass_no}"
        if kind == "read" and self.keys:
            cols = ident(view.column) if view.column else ident_list(view.pk)
            conn.execute(f"SELECT {cols} FROM {qname(view.table)} WHERE {where}", rnd.choice(self.keys)).fetchall()
        elif kind == "update" and self.keys:
            row = rnd.choice(self.keys)
            value = tr.value(self.version, view, view.column, view.col_type, n, token)
            cur = conn.execute(f"UPDATE {qname(view.table)} SET {ident(view.column)} = %s WHERE {where}",
                               (value, *row))
            if cur.rowcount:
                self.last[row] = (self.version, value, tr.when(before, self.version, view))
        elif kind == "insert":
            cols = list(view.inserts) + ([(view.column, view.col_type)] if view.column else [])
            values = [tr.value(self.version, view, c, t, n, token) for c, t in cols]
            names = ident_list([c for c, _ in cols])
            marks = ", ".join(["%s"] * len(cols))
            sql = (f"INSERT INTO {qname(view.table)} ({names}) VALUES ({marks})" if cols
                   else f"INSERT INTO {qname(view.table)} DEFAULT VALUES") + f" RETURNING {ident_list(view.pk)}"
            row = tuple(conn.execute(sql, values).fetchone())
            self.keys.append(row)
            if view.column:
                self.last[row] = (self.version, values[-1], tr.when(before, self.version, view))


class Traffic:
    def __init__(self, url: str, plan: Plan, before: Schema, after: Schema,
                 progress: Optional[Callable[[str], None]] = None):
        self.url, self.plan, self.before, self.after, self.progress = url, plan, before, after, progress
        self.converted = converted(plan, before)
        self.wl: Optional[Workload] = choose(plan, before, after)
        self.notes: list[str] = list(self.wl.notes) if self.wl else [
            "--load: the plan names no existing table, so no application traffic ran"]
        if self.wl is not None and not self.wl.old.pk:
            self.notes.append(f"--load: {self.wl.old.table} has no primary key, so no application traffic ran")
            self.wl = None
        self.lock = threading.Lock()
        self.current: Optional[tuple] = None
        self.last_key: Optional[tuple] = None
        self.samples: dict[tuple, list[float]] = {}
        self.failures: dict[tuple, list[str]] = {}
        self.error_count = 0
        self.lost = 0
        self.checked = 0  # application writes whose value was looked up afterwards
        self.lost_samples: list[str] = []
        self.written: dict[str, set[tuple]] = {}  # rows the workers of the last pass wrote, per table
        self.paused: list[str] = []
        self.pass_no = 0
        self.running: dict[str, list[Worker]] = {OLD: [], NEW: []}
        self.finished: list[Worker] = []
        self.switched = False
        self.parents: dict[tuple[str, str], list[Any]] = {}
        self.keys: list[tuple] = []
        self.new_column = self.wl.new.column if self.wl and self.wl.new else None
        # change_column_type with a shadow: whether the contract step (which gives the
        # column its new meaning) has run in this forward pass: "before", "running", "after".
        self.contract_state: Optional[str] = "before"
        if self.wl is not None:
            with connect(url) as conn:
                t = self.wl.old
                self.keys = [tuple(r) for r in conn.execute(
                    f"SELECT {ident_list(t.pk)} FROM {qname(t.table)} ORDER BY 1 LIMIT 4000").fetchall()]
                for view in (self.wl.old, self.wl.new):
                    for _, parent, ref in view.fks if view else ():
                        self.parents[(parent, ref)] = [r[0] for r in conn.execute(
                            f"SELECT {ident(ref)} FROM {qname(parent)} WHERE {ident(ref)} IS NOT NULL "
                            f"ORDER BY 1 LIMIT 500").fetchall()]
            if self.progress:
                self.progress(f"--load: {self.wl.kind} traffic on {self.wl.pre[0]}"
                              + (f", writing {self.wl.pre[1]}" if self.wl.pre[1] else ""))

    # -- values ------------------------------------------------------------
    def value(self, version: str, view: View, column: str, typ: str, n: int, token: str) -> Any:
        fk = next(((p, r) for c, p, r in view.fks if c == column), None)
        if fk is not None and self.parents.get(fk):
            keys = self.parents[fk]
            return keys[n % len(keys)]
        schema = self.after if version == NEW else self.before
        table = schema.table(view.table)
        choices = check_choices(table).get(column) if table is not None else None
        if choices:
            lit = choices[n % len(choices)]
            return lit[1:-1].replace("''", "'") if lit.startswith("'") else int(lit)
        target = self.converted.get((view.table, column))  # a text column the plan casts: values that cast
        castable = py_castable(typ, target, n, token, schema) if target else None
        return castable if castable is not None else py_value(typ, n, token, schema)

    # -- workers -------------------------------------------------------------
    def _view_for(self, version: str) -> Optional[View]:
        if self.wl is None:
            return None
        if version == OLD:
            return self.wl.old
        return replace(self.wl.new, column=self.new_column) if self.wl.new else None

    def _start(self, version: str) -> None:
        view = self._view_for(version)
        if view is None or self.running[version]:
            return
        slots = SLOTS[version]
        for slot in slots:
            w = Worker(self, version, slot, view, self.keys[slot::4])
            w.start()
            self.running[version].append(w)

    def _stop(self, version: str) -> None:
        workers, self.running[version] = self.running[version], []
        for w in workers:
            w.stopping.set()
        for w in workers:
            w.join(timeout=120)
        self.finished += workers

    def start(self) -> None:
        self._start(OLD)

    def deploy(self, step_number: int, back: bool) -> None:
        """The code step: the other version takes over, both running for a moment."""
        if self.wl is None or step_number != self.wl.first_code:
            return
        new_side, old_side = (OLD, NEW) if back else (NEW, OLD)
        self._start(new_side)
        time.sleep(OVERLAP)
        self._stop(old_side)

    def when(self, before: Optional[str], version: str, view: View) -> str:
        """How a new-code write to a changing column is to be read: "pre" when it landed
        before the contract step (its value then goes through the conversion), "either"
        when it overlapped the step, "" otherwise."""
        wl = self.wl
        if wl.kind != "retype" or version != NEW or view.column != wl.pre[1] or before is None:
            return ""
        after = self.contract_state
        return "pre" if before == after == "before" else ("" if before == "after" else "either")

    def after_step(self, step: Step, back: bool) -> None:
        if self.wl is not None and self.wl.kind == "retype" and step.number == self.wl.contract:
            self.contract_state = None if back else "after"

    def before_step(self, step: Step, back: bool) -> None:
        """change_column_type: new code writes the column itself from the contract step on."""
        wl = self.wl
        if wl is None or wl.kind != "retype":
            return
        if step.number == wl.contract and not back:
            self.contract_state = "running"
        column = wl.pre[1] if wl.contract <= step.number else wl.shadow
        if column == self.new_column:
            return
        self.new_column = column
        workers = self.running[NEW]
        for w in workers:
            w.view = replace(w.view, column=column)
        # Wait until no query of the previous view is still on its way.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(w.is_alive() and w.done is not w.view for w in workers):
            time.sleep(0.001)

    @contextmanager
    def window(self, key: tuple):
        t0 = time.perf_counter()
        self.current = key
        try:
            yield
        finally:
            rest = MIN_WINDOW - (time.perf_counter() - t0)
            if rest > 0 and self.wl is not None:
                time.sleep(rest)
            self.current, self.last_key = None, key

    def record(self, key: Optional[tuple], ms: float, error: Optional[str]) -> None:
        with self.lock:
            if key is not None and error is None:
                self.samples.setdefault(key, []).append(ms)
            if error is not None:
                self.error_count += 1
                where = key or self.last_key or ("before", 0)
                self.failures.setdefault(where, []).append(error)

    def stats(self, key: tuple) -> tuple[Optional[float], Optional[float], int, int, list[str]]:
        with self.lock:
            ms = sorted(self.samples.get(key, []))
            errors = self.failures.get(key, [])
        if not ms:
            return None, None, 0, len(errors), sorted(set(errors))[:3]
        p99 = ms[max(0, math.ceil(0.99 * len(ms)) - 1)]
        return round(ms[-1], 2), round(p99, 2), len(ms), len(errors), sorted(set(errors))[:3]

    # -- the data check --------------------------------------------------------
    def end_pass(self, direction: str) -> None:
        """The workers stop and their last writes are checked; `resume` starts them again."""
        self.paused = []
        if self.wl is None:
            return
        self.paused = [v for v in (OLD, NEW) if self.running[v]]
        for v in self.paused:
            self._stop(v)
        self._check("rollback" if direction == "rollback" else "forward", direction)
        self.written = {self.wl.old.table: {k for w in self.finished for k in w.last}}
        self.finished = []
        self.pass_no += 1
        self.contract_state = "before" if direction == "rollback" else None

    def resume(self) -> None:
        for v in self.paused:
            self._start(v)
        self.paused = []

    def _check(self, state: str, direction: str) -> None:
        wl = self.wl
        table, column, ftype = wl.pre if state == "rollback" else wl.post
        writes = {}
        for w in self.finished:
            writes.update(w.last)
        if not writes:
            return
        with connect(self.url) as conn:
            if table is None or conn.execute("SELECT to_regclass(%s)", (qname(table),)).fetchone()[0] is None:
                self.notes.append(f"after {direction}: {wl.pre[0]} no longer exists (the plan drops it); "
                                  f"its {len(writes)} written rows are not checked")
                return
            where = " AND ".join(f"{ident(c)} = %s" for c in wl.old.pk)
            self.checked += len(writes)
            for row, (version, value, when) in writes.items():
                kinds = {"pre": [OLD], "either": [OLD, NEW]}.get(when, [version])
                test = " OR ".join(f"{ident(column)} IS NOT DISTINCT FROM {self._expected(k, state)}" for k in kinds)
                try:
                    got = conn.execute(f"SELECT {test}, {ident(column)}::text FROM {qname(table)} WHERE {where}",
                                       (*[value] * len(kinds), *row)).fetchone()
                except psycopg.Error as exc:
                    got = (False, f"(cannot compare: {exc.diag.message_primary or exc})")
                if got is None or not got[0]:
                    self.lost += 1
                    self.lost_samples.append(f"after {direction}: {table} {row}: {version} code wrote {value!r}, "
                                             f"found {'no row' if got is None else got[1]!r}")

    def _expected(self, version: str, state: str) -> str:
        """SQL for the value a write of `version` code should have become in `state` (one %s)."""
        wl = self.wl
        wtype = wl.pre[2] if version == OLD else wl.post[2]
        ftype = wl.pre[2] if state == "rollback" else wl.post[2]
        if wl.kind == "retype" and version == OLD and state != "rollback" and wl.using:
            return (f"(SELECT {expr(wl.using, 'using')} FROM (SELECT CAST(%s AS {wtype}) AS "
                    f"{ident(wl.pre[1])}) AS flux_v)")
        if wtype != ftype:
            return f"CAST(CAST(%s AS {wtype}) AS {ftype})"
        return f"CAST(%s AS {ftype})"

    def stop(self) -> None:
        for v in (OLD, NEW):
            self._stop(v)
