"""What the Node tools' readers share (knex, typeorm, sequelize, node-pg-migrate): a migration
file read by running it. The project's own installed tool runs it against a scratch copy of the
dev database as the migrations before it leave it, and node_driver.cjs records every query the
`pg` driver is given, with the line of the migration file that sent it:

1. "before": the dev database built by the project's tool from the migrations that come before
   the file (its order, not Flux's), cached as every dev database is (devdb/build.py), keyed by
   the project's migration files and config except the file itself: editing the file being
   validated does not rebuild it. Where the database before an earlier file was built in this
   process (knex, sequelize, TypeORM), it is built from a copy of that one (_BUILT_BEFORE).
2. "capture": a scratch copy of that database (CREATE DATABASE ... TEMPLATE), the tool run there
   on the file alone, recording; the copy is dropped after.

The queries the tool sends for itself (its bookkeeping table, locks, catalog lookups, session
settings, BEGIN/COMMIT) are not the migration's: a query sent from the file (its line found)
is the migration's unless it only reads the catalogs; one sent from nowhere in the file is the
tool's unless it changes something other than the tool's bookkeeping table (then it is kept, at
the line of `up`). The transaction mode is what was seen: the migration's statements each sent
inside a BEGIN on their connection. What cannot be run (no node, the tool not installed, the
file or one before it failing) is a not-analysed finding, never a silent pass; what a failing
file sent before it failed is judged still. The down part is not run (down=None: not judged).
Reading a file costs two runs of node cold (the migrations before it, then the file), one once
the database before it is cached; each run is bounded by FLUX_DEVDB_TOOL_TIMEOUT.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ...errors import FluxInputError
from ...pg.parse import HAVE_PGLAST, ast, iter_nodes, parse_sql
from . import Piece, ReadMigration, Unread

if TYPE_CHECKING:
    from ...model.schema import Schema

SUFFIXES = (".js", ".ts", ".cjs", ".mjs", ".cts", ".mts")
# The tools' own tables (their defaults; a renamed one is told by the queries' lines).
BOOKKEEPING = {"knex_migrations", "knex_migrations_lock", "migrations", "sequelizemeta", "pgmigrations"}
_CATALOGS = {"pg_catalog", "information_schema"}
_UP = re.compile(r"\b(?:async\s+)?up\b\s*[(:=]")


def up_line(text: str) -> int:
    """The line where the file's `up` starts (1 when not found): where a statement no line of
    the file sent is shown."""
    m = _UP.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def read(tool: str, path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    out = ReadMigration(tool=tool, down=None)
    try:
        captured = capture(tool, path, project)
    except _Failed as exc:
        # What it sent before it failed is judged still; the rest is said not analysed.
        out.up, out.transactional = judge(exc.queries, up_line(text))
        out.unread.append(Unread(line=exc.line or 1, what=exc.what))
        out.schema_before = exc.schema
        return out
    out.up, out.transactional = judge(captured["queries"], up_line(text))
    out.schema_before = captured.get("schema")
    return out


class _Failed(Exception):
    def __init__(self, what: str, line: Optional[int] = None, queries: Optional[list] = None,
                 schema: Optional["Schema"] = None):
        super().__init__(what)
        self.what, self.line, self.queries, self.schema = what, line, queries or [], schema


def project_root(path: Path, project: Optional[Path]) -> Optional[Path]:
    """The project the file belongs to: the one given when the file is in it, else the nearest
    folder above the file with a package.json."""
    path = path.resolve()
    if project is not None and project.resolve() in path.parents:
        return project.resolve()
    return next((d for d in path.parents if (d / "package.json").is_file()), None)


def capture(tool: str, path: Path, project: Optional[Path]) -> dict:
    """The queries the file sends when the project's tool runs it, and the schema the migrations
    before it made (the database the file runs on, read from its catalogs):
    {queries: [{text, line, client}], schema: Schema}."""
    import psycopg  # here, as the devdb modules below: flux validate on SQL files never connects
    from psycopg import conninfo
    from psycopg import sql as psql

    from ...devdb.build import _complete, build_with, cached, clone, database_name
    from ...devdb.program import MARKER_SETTING, _key, runner_for, tool_run
    from ...devdb.server import check_identity, dev_server, find_binaries
    from ...project.config import load_settings

    path = path.resolve()
    root = project_root(path, project)
    if root is None:
        raise _Failed(f"{path.name} was not run: no package.json above it (Flux runs the project's own {tool} "
                      "to see what a migration sends); give --project")
    folder = path.parent.relative_to(root).as_posix()
    runner = runner_for(tool)
    try:
        settings = load_settings(root)
        major = None
        if not settings.dev_url:
            binaries = find_binaries(settings.pg_version)
            major = binaries[0].major if binaries else None
        before = [f for f in runner.inputs(root, folder) if f.resolve() != path]
        key = _key(root, f"{tool} before {path.name}", before, major, settings.dev_url)
        server = dev_server(settings.dev_url, major or settings.pg_version)
    except FluxInputError as exc:
        raise _Failed(f"{path.name} was not run: {exc}") from None

    with tempfile.TemporaryDirectory(prefix="flux-read-") as tmp:
        out = Path(tmp) / "capture.json"

        def marked(admin: psycopg.Connection, url: str) -> tuple[str, str]:
            marker = secrets.token_hex(16)
            admin.execute(psql.SQL("ALTER DATABASE {} SET {} = {}").format(
                psql.Identifier(conninfo.conninfo_to_dict(url)["dbname"]),
                psql.Identifier(*MARKER_SETTING.split(".")), psql.Literal(marker)))
            with psycopg.connect(url, autocommit=True) as conn:
                check_identity(server, conn)
            return url, marker

        def run(url: str, marker: str, phase: str) -> None:
            job = replace(tool_run(root, folder, url, marker),
                          capture={"target": str(path), "phase": phase, "out": str(out)})
            runner.run(job)

        try:
            with psycopg.connect(server.url, autocommit=True) as admin:
                done = _complete(admin, database_name(key), key)
            built = cached(key) if done is not None else None
            if built is None:  # built now, or read from the database built earlier
                fill = lambda admin, url: run(*marked(admin, url), "before") or []  # noqa: E731
                template = _earlier((tool, server.url, str(root), folder), path)
                try:
                    built = build_with(server, key, fill, template=template)
                except FluxInputError:
                    if template is None:
                        raise
                    built = build_with(server, key, fill)  # the copy would not do (TypeORM's order): whole
            _BUILT_BEFORE[(tool, server.url, str(root), folder)] = (path, key)
        except FluxInputError as exc:
            why = f"the migrations before it did not run ({exc})" if " failed migrating " in str(exc) else str(exc)
            raise _Failed(f"{path.name} was not run: {why}") from None

        scratch = f"flux_verify_read_{uuid.uuid4().hex[:12]}"
        try:
            url = clone(server, key, scratch)
            with psycopg.connect(server.url, autocommit=True) as admin:
                marker = marked(admin, url)[1]  # a copy does not keep its template's settings
            try:
                run(url, marker, "capture")
            except FluxInputError as exc:
                got = _load(out)
                lines = [q["line"] for q in got["queries"] if q.get("line")]
                raise _Failed(f"{path.name} fails when {tool} runs it: {exc}",
                              got.get("errorLine") or (lines[-1] if lines else None), got["queries"],
                              built.schema) from None
            return {**_load(out), "schema": built.schema}
        finally:
            with psycopg.connect(server.url, autocommit=True) as admin:
                admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(scratch)))


# The database last built before a file, by (tool, server, project, folder): the next file's is
# built from a copy of it, the tool running only the migrations between the two (each one once
# when a folder is validated, not once per file after it). Only where the earlier file runs first
# in the tool's order (_runs_before: certain for knex and sequelize, a guess TypeORM's driver checks):
# the copy must hold no migration that comes after the file.
_BUILT_BEFORE: dict[tuple[str, str, str, str], tuple[Path, str]] = {}


def _earlier(where: tuple[str, str, str, str], path: Path) -> Optional[str]:
    """The key of the database built before a file that comes before `path` in the tool's order,
    `where` (tool, server, project, folder) as _BUILT_BEFORE keys it."""
    last = _BUILT_BEFORE.get(where)
    if last is None or not _runs_before(where[0], last[0].name, path.name):
        return None
    return last[1]


def _runs_before(tool: str, first: str, then: str) -> bool:
    """Does migration file `first` run before `then`, and can the tool go on from a copy? knex and
    sequelize-cli sort the file names as JavaScript compares strings (UTF-16 code units). TypeORM
    orders by its classes' timestamps, which the names usually carry: said from the names, and the
    driver refuses a copy holding a migration that runs at or after the file (the database is then
    built whole, capture). Never for node-pg-migrate, whose driver runs `up N`, N counted from an
    empty database (its `up NAME` runs that one migration alone)."""
    return tool in ("knex", "sequelize", "typeorm") and first.encode("utf-16-be") < then.encode("utf-16-be")


def _load(out: Path) -> dict:
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"queries": [], "errorLine": None}
    return data if isinstance(data, dict) and isinstance(data.get("queries"), list) else {"queries": []}


# --------------------------------------------------------------------------
# The migration's own statements among the queries
# --------------------------------------------------------------------------


def judge(queries: list[dict], fallback_line: int) -> tuple[list[Piece], bool]:
    """(the migration's statements, each at its line; whether each was sent inside a transaction)."""
    pieces: list[Piece] = []
    open_on: dict[int, bool] = {}  # connection -> a transaction is open there
    inside: list[bool] = []
    for q in queries:
        text, line, client = q.get("text") or "", q.get("line"), q.get("client")
        kind = _kind(text)
        if kind in ("begin", "commit"):
            open_on[client] = kind == "begin"
            continue
        if kind == "savepoint":
            continue
        if line and kind != "catalog-read":
            pieces.append(Piece(sql=text, line=int(line)))
        elif not line and kind == "change":
            pieces.append(Piece(sql=text, line=fallback_line))
        else:
            continue
        inside.append(open_on.get(client, False))
    transactional = bool(inside) and all(inside) if inside else any(open_on.values())
    return pieces, transactional


def _kind(text: str) -> str:
    """begin | commit | savepoint | catalog-read (reads only the catalogs) | tool (a query a tool
    sends for itself: reads, session settings, its bookkeeping table) | change."""
    if not HAVE_PGLAST:
        return "change"
    try:
        stmts = [s.stmt for s in parse_sql(text)]
    except Exception:  # noqa: BLE001 - PostgreSQL ran it; judged as text by the rules
        return "change"
    if len(stmts) == 1 and isinstance(stmts[0], ast.TransactionStmt):
        name = stmts[0].kind.name
        if name in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            return "begin"
        if name in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED",
                    "TRANS_STMT_ROLLBACK_PREPARED"):
            return "commit"
        return "savepoint"
    relations = [n for s in stmts for n in iter_nodes(s) if isinstance(n, ast.RangeVar)]
    reads = all(isinstance(s, (ast.SelectStmt, ast.VariableShowStmt)) for s in stmts)
    if reads and relations and all(_catalog(r) for r in relations):
        return "catalog-read"
    if reads or all(isinstance(s, ast.VariableSetStmt) for s in stmts):
        return "tool"
    if relations and all((r.relname or "").lower() in BOOKKEEPING or _catalog(r) for r in relations):
        return "tool"
    return "change"


def _catalog(r) -> bool:
    return (r.schemaname or "").lower() in _CATALOGS or (not r.schemaname and (r.relname or "").startswith("pg_"))
