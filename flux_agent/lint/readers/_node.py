"""What the Node tools' readers share (knex, typeorm, sequelize, node-pg-migrate): a migration
file read by running it. The project's own installed tool runs it against a scratch copy of the
dev database as the migrations before it leave it, and node_driver.cjs records every query the
`pg` driver is given, with the line of the migration file that sent it:

1. "before": the dev database built by the project's tool from the migrations that come before
   the file (its order, not Flux's), cached as every dev database is (devdb/build.py), keyed by
   the project's migration files and config except the file itself: editing the file being
   validated does not rebuild it. Where the database before an earlier file was built in this
   process (knex, sequelize, TypeORM), it is built from a copy of that one (devdb/before_file.py).
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
the database before it is cached; each run is bounded by FLUX_DEVDB_TOOL_TIMEOUT. `flux validate`
reads a folder's files in one run first (_node_batch.py), kept as a file validated
again is (_keep_capture): each file read here then runs nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from ...devdb.run_memo import memo
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


# A migration made by another module: `module.exports = require('../sql-migration')(__filename)` (ODK
# Central's, whose up runs the .sql files beside it), `export { up, down } from './shared'`: in a file
# named as migrations are (a number first), not an index.js that gathers a folder's modules.
_MADE_ELSEWHERE = re.compile(r"\bmodule\.exports\s*=\s*require\s*\(|\bexport\s*(?:\*|\{[^}]*\bup\b[^}]*\})\s*from\b")


def shaped(name: str, text: str) -> bool:
    """Does the text define an `up` (every Node tool's migration does), or a file named as a
    migration take its migration whole from another module? Reader.shaped: asked only of the
    project's own tool, which runs the file."""
    return _UP.search(text) is not None or (name[:1].isdigit() and _MADE_ELSEWHERE.search(text) is not None)


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
    out.up, out.transactional = judge(captured["queries"], up_line(text), captured.get("bookkeeping") or ())
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
    from ...devdb.before_file import before_file, before_key, build_before  # here: validate on SQL never connects
    from ...devdb.program import scratch_copy

    path = path.resolve()
    root = project_root(path, project)
    if root is None:
        raise _Failed(f"{path.name} was not run: no package.json above it (Flux runs the project's own {tool} "
                      "to see what a migration sends); give --project")
    kept = memo()
    if kept is not None and str(path) in kept.failed_reads:
        raise _Failed(*kept.failed_reads[str(path)])
    earlier = kept.unbuilt.get((tool, str(root), path.parent.as_posix())) if kept is not None else None
    if earlier is not None and path.name >= earlier[0]:  # these tools run a folder's files in name order
        raise _Failed(f"{path.name} was not run: {earlier[1]}")
    try:
        key: Optional[str] = before_key(tool, root, path)
        kept_file = _capture_file(key, path)
    except (FluxInputError, OSError):
        key, kept_file = None, None
    found = _kept_capture(kept_file)
    if found is not None:
        return found
    with tempfile.TemporaryDirectory(prefix="flux-read-") as tmp:
        out = Path(tmp) / "capture.json"
        try:
            place = before_file(tool, root, path, out, key=key)
            built = build_before(place)
        except FluxInputError as exc:
            why = unbuilt(tool, root, path, exc)
            raise _Failed(f"{path.name} was not run: {why}") from None
        with scratch_copy(place.server, place.key, "flux_verify_read") as (url, marker):
            try:
                place.run(url, marker, "capture")
            except FluxInputError as exc:
                raise _Failed(*failed_run(tool, path, exc, _load(out), built.schema)) from None
        captured = {**_load(out), "schema": built.schema}
        _keep_capture(kept_file, captured)
        return captured


def failed_run(tool: str, path: Path, exc: FluxInputError, got: dict, schema: "Schema") -> tuple:
    """_Failed's arguments for a file whose run failed (`exc`), `got` what it sent before that: the
    line of the error, else of the last query sent from the file."""
    lines = [q["line"] for q in got["queries"] if q.get("line")]
    return (f"{path.name} fails when {tool} runs it: {exc}", got.get("errorLine") or (lines[-1] if lines else None),
            got["queries"], schema)


def unbuilt(tool: str, root: Path, path: Path, exc: FluxInputError) -> str:
    """Why `path` was not run: the project's tool failed building the database it runs on (loading its
    config, or a migration before it; not "the migrations before it", which the first file has none of).
    Kept for the files after it within one validate (devdb/run_memo.py)."""
    why = f"{tool} could not build the database it runs on ({exc})" if " failed migrating " in str(exc) else str(exc)
    kept = memo()
    if kept is not None:
        kept.unbuilt.setdefault((tool, str(root), path.parent.as_posix()), (path.name, why))
    return why


# What a file sent when its tool ran it, kept by the key of the database before it and the file's
# bytes (the inputs the dev database's own cache keys on): a file validated again, unchanged with the
# migrations before it, is read without running the tool (~0.9 s a TypeORM file: ts-node and its run).
_CAPTURES_KEPT = 4_000


def _capture_file(before: str, path: Path) -> Path:
    from ...devdb.server import base_dir

    digest = hashlib.sha256(f"{before}\0{path.name}\0".encode() + path.read_bytes()).hexdigest()[:32]
    return base_dir() / "captures" / f"{digest}.json.z"


def _kept_capture(kept: Optional[Path]) -> Optional[dict]:
    if kept is None:
        return None
    try:
        data = json.loads(zlib.decompress(kept.read_bytes()))
        from ...model.schema import Schema

        return {**data, "schema": Schema.model_validate(data["schema"])}
    except (OSError, ValueError, KeyError, zlib.error):
        return None


def _keep_capture(kept: Optional[Path], captured: dict) -> None:
    if kept is None:
        return
    from ..cache_folder import keep_newest, write_whole

    data = {**captured, "schema": captured["schema"].model_dump(mode="json")}
    # Compressed, as the Django walk's: the schema before each file is most of a capture (misskey's 340
    # files kept 221 MB as JSON). Captures kept uncompressed by an earlier Flux (`.json`) go.
    if write_whole(kept, zlib.compress(json.dumps(data).encode("utf-8"), 1)):
        keep_newest(kept.parent, lambda name: name.endswith(".json.z"), _CAPTURES_KEPT)
        keep_newest(kept.parent, lambda name: name.endswith(".json"), 0)


def _load(out: Path) -> dict:
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"queries": [], "errorLine": None}
    return data if isinstance(data, dict) and isinstance(data.get("queries"), list) else {"queries": []}


# --------------------------------------------------------------------------
# The migration's own statements among the queries
# --------------------------------------------------------------------------


def judge(queries: list[dict], fallback_line: int, own: Sequence[str] = ()) -> tuple[list[Piece], bool]:
    """(the migration's statements, each at its line; whether each was sent inside a transaction). `own`:
    the tool's tables as the project's config names them (Infisical's infisical_migrations_lock), its
    queries of them the tool's own, as of BOOKKEEPING's."""
    tables = BOOKKEEPING | {t.lower() for t in own}
    pieces: list[Piece] = []
    open_on: dict[int, bool] = {}  # connection -> a transaction is open there
    inside: list[bool] = []
    for q in queries:
        text, line, client = q.get("text") or "", q.get("line"), q.get("client")
        kind = _kind(text, tables)
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


def _kind(text: str, tables: frozenset | set = BOOKKEEPING) -> str:
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
    if relations and all((r.relname or "").lower() in tables or _catalog(r) for r in relations):
        return "tool"
    return "change"


def _catalog(r) -> bool:
    return (r.schemaname or "").lower() in _CATALOGS or (not r.schemaname and (r.relname or "").startswith("pg_"))
