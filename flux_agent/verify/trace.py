"""`flux validate --trace`: the files run, statement by statement and in their tool's transaction
mode, on a copy of the dev database (the project's history before the first of them) with rows
in every table. For each statement it reports the locks PostgreSQL granted (pg_locks, read by a
second session while they are held), the relations it rewrote (relfilenode), how long it held
them, and whether that is what the table of forms (pg/form_table.py) says; a difference is a
finding of its own (trace-mismatch), and so is a statement PostgreSQL refuses (trace-failed)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import psycopg
import psycopg.sql
from pydantic import BaseModel, Field

from ..errors import FluxInputError
from ..model.findings import FileFinding
from ..model.terms import Lock
from ..pg.forms import LOCK_ORDER, lookup, stronger, target
from ..pg.locks import facts
from ..pg.parse import ast
from ..pg.split import Statement, split_statements
from ..lint.readers import reader_for
from ..schema.migration_files import read_sections

MISMATCH, FAILED = "trace-mismatch", "trace-failed"

PG_LOCK_MODES = {"AccessShareLock": "ACCESS SHARE", "RowShareLock": "ROW SHARE", "RowExclusiveLock": "ROW EXCLUSIVE",
          "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE", "ShareLock": "SHARE",
          "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE", "ExclusiveLock": "EXCLUSIVE",
          "AccessExclusiveLock": "ACCESS EXCLUSIVE"}
_LOCKS = ("SELECT c.oid::regclass::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
          "WHERE l.pid = %s AND l.granted = %s AND c.relkind IN ('r', 'p', 'm', 'i', 'I', 'S') "
          "AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) "
          "AND c.relname NOT LIKE 'pg\\_toast%%'")
_FILES = ("SELECT oid::regclass::text, relfilenode FROM pg_class WHERE relkind IN ('r', 'p', 'm', 'i') "
          "AND relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, "
          "'pg_toast'::regnamespace)")


class TracedStatement(BaseModel):
    """What one statement did on PostgreSQL, beside what the table of forms says it does."""

    path: str
    line: int
    statement: str = Field(description="its first line, shortened")
    locks: dict[str, Lock] = Field(default_factory=dict, description="relation -> the strongest lock it held")
    rewrote: list[str] = Field(default_factory=list, description="relations given new files")
    held_ms: float = Field(0.0, description="from its start to the end of its transaction (its own run outside one)")
    static_lock: Optional[Lock] = Field(None, description="the table of forms' lock on its own relation")
    static_rewrites: Optional[bool] = None
    relation: Optional[str] = Field(None, description="its own relation, where the two are compared")
    held_before: list[Lock] = Field(default_factory=list, description="the modes its transaction held on its "
                                    "own relation before it (earlier statements'): one taken again shows no new lock")
    error: Optional[str] = None
    sqlstate: Optional[str] = Field(None, description="the error's SQLSTATE: class 22 or 23 is the rows' doing")

    @property
    def matches(self) -> bool:
        if self.error or self.relation is None or self.static_lock is None:
            return True
        seen = self.locks.get(self.relation, "none")
        rewrote = self.relation in self.rewrote
        # A lock at least as strong held since an earlier statement of the transaction covers the
        # statement's own: PostgreSQL shows no new row for it, only weaker modes it adds beside.
        covered = any(LOCK_ORDER.index(h) >= LOCK_ORDER.index(self.static_lock) for h in self.held_before)
        took = seen == self.static_lock or (covered and LOCK_ORDER.index(seen) <= LOCK_ORDER.index(self.static_lock))
        return took and (self.static_rewrites is None or rewrote == self.static_rewrites)


class TraceReport(BaseModel):
    database: str
    rows: int
    statements: list[TracedStatement] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


@dataclass
class _Piece:
    line: int
    stmt: Statement


def _pieces(path: Path, project: Optional[Path], tool: Optional[str]) -> tuple[list[_Piece], bool, list[str]]:
    """(the statements of a file's up part with their lines, does the tool run them in one transaction, notes)."""
    text = path.read_text(encoding="utf-8")
    if path.name.lower().endswith(".sql"):
        sec = read_sections(path, text)
        stmts = split_statements(sec.up, sec.up_line)
        return [_Piece(s.line, s) for s in stmts], sec.transactional or (sec.one_query and len(stmts) > 1), []
    reader = reader_for(path, text, tool)
    if reader is None:
        return [], False, [f"{path}: not traced: not a migration Flux reads"]
    read = reader.read(path, text, project)
    out = [_Piece(p.line, s) for p in read.up for s in split_statements(p.sql)]
    return out, read.transactional, [f"{path}:{u.line}: not traced: {u.what}" for u in read.unread]


def trace(files: Sequence[Path], url: str, major: int, rows: int, project: Optional[Path] = None,
          tool: Optional[str] = None, display=str) -> TraceReport:
    """Run `files` in order on the database at `url` (a scratch copy, seeded) and trace each statement."""
    report = TraceReport(database="", rows=rows)
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b, \
            psycopg.connect(url, autocommit=True) as holder:
        for path in files:
            pieces, transactional, notes = _pieces(path, project, tool)
            report.notes += notes + _make_roles(holder, pieces, display(path))
            _trace_file(a, b, holder, pieces, transactional, major, display(path), report)
    return report


def _make_roles(conn, pieces: list[_Piece], shown: str) -> list[str]:
    """Create the roles the file's statements name (OWNER TO, GRANT ... TO, a policy's TO) that the
    database does not have and the file does not create itself: a migration may use a role only
    production has (upchieve's `OWNER TO mat_view_owners`), as the dev database's build finds them
    (devdb/build.py); traced without it, the file stopped there and the files after it ran on a
    state they were not written for. The notes saying so."""
    made = {n.role for p in pieces if isinstance(p.stmt.node, ast.CreateRoleStmt) for n in [p.stmt.node]}
    named = dict.fromkeys(n.rolename for p in pieces for n in p.stmt.nodes
                          if isinstance(n, ast.RoleSpec) and n.rolename and n.rolename not in made)
    notes = []
    for role in named:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
            conn.execute(psycopg.sql.SQL("CREATE ROLE {} NOLOGIN").format(psycopg.sql.Identifier(role)))
            notes.append(f"{shown}: created role {role!r}, which the migrations use but do not create")
    return notes


def _trace_file(a, b, holder, pieces: list[_Piece], transactional: bool, major: int, shown: str,
                report: TraceReport) -> None:
    open_txn: list[tuple[TracedStatement, float]] = []
    in_txn = False
    if transactional:
        a.execute("BEGIN")
        in_txn = True
    for piece in pieces:
        node = piece.stmt.node
        if isinstance(node, ast.TransactionStmt):  # the file's own BEGIN/COMMIT
            kind = node.kind.name if hasattr(node.kind, "name") else str(node.kind)
            if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START") and not in_txn:
                a.execute("BEGIN")
                in_txn = True
            elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK") and in_txn:
                _end(a, kind == "TRANS_STMT_COMMIT", open_txn)
                in_txn = False
            continue
        traced = _static(piece, major, shown)
        report.statements.append(traced)
        try:
            if in_txn:
                started = _observe(a, b, piece.stmt.text, traced)
                open_txn.append((traced, started))
            elif facts(piece.stmt, major).forbidden_in_transaction:
                _observe_waiting(a, b, holder, piece.stmt.text, traced)
            else:  # alone, as autocommit runs it: in a transaction of its own, observed before it ends
                a.execute("BEGIN")
                started = _observe(a, b, piece.stmt.text, traced)
                _end(a, True, [(traced, started)])
        except psycopg.Error as exc:
            traced.error = (exc.diag.message_primary or str(exc)).strip().splitlines()[0]
            traced.sqlstate = exc.sqlstate
            if a.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                a.execute("ROLLBACK")
            return  # the rest of the file would run on a state it was not written for
    if in_txn:
        _end(a, True, open_txn)


def _static(piece: _Piece, major: int, shown: str) -> TracedStatement:
    forms = [f for _, f in lookup(piece.stmt, major)]
    own = target(piece.stmt)
    lock: Optional[Lock] = None
    rewrites: Optional[bool] = None
    if forms and all(f is not None for f in forms):
        lock = "none"
        for f in forms:
            lock = stronger(lock, f.lock)
        kinds = {f.rewrites for f in forms}
        rewrites = None if "depends" in kinds else bool(kinds & {"yes", "empties"})
    first = piece.stmt.text.strip().splitlines()[0] if piece.stmt.text.strip() else ""
    return TracedStatement(path=shown, line=piece.line, statement=first[:100], static_lock=lock,
                           static_rewrites=rewrites, relation=own)


def _qualified(a, name: Optional[str]) -> Optional[str]:
    """The relation as regclass prints it (so it matches pg_locks), or None when it does not exist (yet)."""
    if not name:
        return None
    try:
        row = a.execute("SELECT to_regclass(%s)::text", (name,)).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def _observe(a, b, sql: str, traced: TracedStatement) -> float:
    """Run `sql` in A's open transaction; B reads the locks A holds right before and after: the
    statement's are those it added (a transaction keeps each statement's locks to its end, one
    pg_locks row per relation and mode). Returns its start time."""
    traced.relation = _qualified(a, traced.relation)
    # B reads the locks through its own pg_class: only relations other sessions can see, where a lock
    # can make them wait. One A made in its open transaction (a table the migration creates, then
    # indexes) is not compared: nobody else can reach it, whatever it locks.
    if traced.relation is not None and _qualified(b, traced.relation) is None:
        traced.relation = None
    before = dict(a.execute(_FILES).fetchall())
    held = set(b.execute(_LOCKS, (a.info.backend_pid, True)).fetchall())
    traced.held_before = [lock for rel, mode in sorted(held) if rel == traced.relation
                          for lock in [PG_LOCK_MODES.get(mode)] if lock]
    started = time.perf_counter()
    a.execute(sql)
    traced.locks = strongest_locks(set(b.execute(_LOCKS, (a.info.backend_pid, True)).fetchall()) - held)
    after = dict(a.execute(_FILES).fetchall())
    traced.rewrote = sorted(rel for rel, node in before.items() if rel in after and after[rel] != node)
    if traced.relation is None or traced.relation not in before:
        traced.relation = None  # a relation it creates: nothing to compare with the table
    return started


def _observe_waiting(a, b, holder, sql: str, traced: TracedStatement) -> None:
    """A statement refused in a transaction: a third session holds EXCLUSIVE on its relation (its
    table, for an index) so the lock it asks for waits in pg_locks, where B reads it."""
    relation = _qualified(a, traced.relation)
    table = relation
    if relation is not None:
        row = a.execute("SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = %s::regclass",
                        (relation,)).fetchone()
        table = row[0] if row else relation
    before = dict(a.execute(_FILES).fetchall())
    errors: list[BaseException] = []
    started = time.perf_counter()
    if table is not None:
        holder.execute("BEGIN")
        holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    runner = threading.Thread(target=lambda: _run(a, sql, errors))
    runner.start()
    waited: dict[str, Lock] = {}
    deadline = time.perf_counter() + 10
    while table is not None and not waited and runner.is_alive() and time.perf_counter() < deadline:
        waited = strongest_locks(b.execute(_LOCKS, (a.info.backend_pid, False)).fetchall())
        time.sleep(0.01)
    if table is not None:
        holder.execute("ROLLBACK")
    runner.join()
    traced.held_ms = round((time.perf_counter() - started) * 1000, 1)
    if errors:
        raise errors[0]
    traced.locks = waited
    traced.relation = table
    after = dict(a.execute(_FILES).fetchall())
    traced.rewrote = sorted(rel for rel, node in before.items() if rel in after and after[rel] != node)
    if traced.relation is not None and traced.static_lock is not None and relation != table:
        traced.static_lock = None  # an index's statement: the table's lock is not the row's own-relation lock


def _run(conn, sql: str, errors: list) -> None:
    try:
        conn.execute(sql)
    except BaseException as exc:  # raised in the caller's thread
        errors.append(exc)


def _end(a, commit: bool, open_txn: list[tuple[TracedStatement, float]]) -> None:
    a.execute("COMMIT" if commit else "ROLLBACK")
    ended = time.perf_counter()
    for traced, started in open_txn:
        traced.held_ms = round((ended - started) * 1000, 1)
    open_txn.clear()


def strongest_locks(rows) -> dict[str, Lock]:
    """(relation, pg_locks.mode) rows -> the strongest lock on each relation."""
    out: dict[str, Lock] = {}
    for relation, mode in rows:
        lock = PG_LOCK_MODES.get(mode)
        if lock and LOCK_ORDER.index(lock) > LOCK_ORDER.index(out.get(relation, "none")):
            out[relation] = lock
    return out


def findings(report: TraceReport) -> list[FileFinding]:
    out = []
    for t in report.statements:
        if t.error and (t.sqlstate or "")[:2] in ("22", "23"):  # a data exception, an integrity violation
            out.append(FileFinding(path=t.path, line=t.line, rule=FAILED, severity="error",
                                   message=f"PostgreSQL refused it on the trace's rows ({report.rows} made-up rows "
                                           f"per table): {t.error}",
                                   hint="a production row like them fails it too: check what production holds (or "
                                        "backfill it first); the statements after it were not run"))
        elif t.error:
            out.append(FileFinding(path=t.path, line=t.line, rule=FAILED, severity="error",
                                   message=f"PostgreSQL refused it on a copy of the dev database: {t.error}",
                                   hint="fix the statement; the statements after it were not run"))
        elif not t.matches:
            seen = t.locks.get(t.relation, "none")
            said = f"{t.static_lock}{', rewrite' if t.static_rewrites else ''}"
            did = f"{seen}{', rewrite' if t.relation in t.rewrote else ''}"
            out.append(FileFinding(path=t.path, line=t.line, rule=MISMATCH, severity="warning",
                                   message=f"on {t.relation} PostgreSQL took {did}; the table of forms says {said}",
                                   hint="the static verdict may be wrong here: report it with the statement"))
    return out


def render(report: TraceReport) -> list[str]:
    lines = [f"trace on {report.database}, {report.rows} rows per table:"]
    for t in report.statements:
        if t.error:
            lines.append(f"  {t.path}:{t.line}: FAILED: {t.error}")
            continue
        locks = ", ".join(f"{mode} on {rel}" for rel, mode in sorted(t.locks.items())) or "no new lock"
        strongest = max(t.held_before, key=LOCK_ORDER.index) if t.held_before else None
        if strongest and LOCK_ORDER.index(strongest) > LOCK_ORDER.index(t.locks.get(t.relation, "none")):
            locks += f" ({strongest} on {t.relation} held since an earlier statement)"
        rewrote = f"; rewrote {', '.join(t.rewrote)}" if t.rewrote else ""
        verdict = "" if t.matches else "  <- differs from the table of forms"
        lines.append(f"  {t.path}:{t.line}: {locks}{rewrote}; held {t.held_ms:g} ms{verdict}")
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def run_trace(files: Sequence[Path], project: Path, settings, tool: str, rows: int) -> TraceReport:
    """Trace `files` on a copy of the dev database holding the project's history before the first of
    them (all of it, for files the history does not hold), with `rows` rows in every table."""
    from ..devdb.before_file import built_without
    from ..devdb.program import runner_for
    from ..devdb.sources import history_of_files, project_scripts
    from ..project.detect import detect
    from .pending import Before
    from .sandbox import open_sandbox
    from .seed import seed

    if rows < 0:
        raise FluxInputError("--rows must be 0 or more")
    found = history_of_files(project, detect(project, tool, settings), files)
    scripts = project_scripts(project, found)
    traced = {_rel(project, f) for f in files}
    notes: list[str] = []
    if scripts is not None:
        first = next((i for i, s in enumerate(scripts) if s.name in traced), len(scripts))
        before = Before(None, None, "", scripts[:first], found.tool)
        if not first:
            notes.append(f"no migration comes before {_rel(project, files[0])} in {found.migrations_dir}: "
                         "traced on an empty database")
    else:  # program code: the dev database its tool builds before the files (all of it, for new ones)
        runner = runner_for(found.tool)
        history = {f.resolve() for f in runner.inputs(project, found.migrations_dir)} if runner else set()
        held = [f for f in files if Path(f).resolve() in history]
        built = built_without(project, found, settings, held)  # none held: the whole history
        before = Before(None, None, "", None, found.tool, built=built)
        if built is None:
            notes.append("the project's history could not be built on PostgreSQL: traced on an empty database")
        elif not held:
            notes.append("the files are not in the project's history: traced on a copy of all of it")
    with open_sandbox(before=before, dev_url=settings.dev_url) as box:
        with psycopg.connect(box.url, autocommit=True) as conn:
            major = conn.info.server_version // 10000
            if box.prebuilt is not None:
                seed(conn, box.prebuilt, rows)
        report = trace(files, box.url, major, rows, project, found.tool,
                       display=lambda p: _rel(project, p))
        report.database = box.description
        report.notes = notes + box.notes + report.notes
    return report


def _rel(project: Path, path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(project.resolve()).as_posix()
    except ValueError:
        return str(path)
