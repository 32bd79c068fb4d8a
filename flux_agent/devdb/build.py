"""Build a schema in a dev database by running SQL through PostgreSQL, in order, and read it
back from the catalogs; cached by a hash of the inputs, so an unchanged project is never
built twice (the schema is kept beside the database, and read without the server).

What the project's history cannot do on an empty database is not Flux's to fix, but it
must not stop Flux either: a statement that fails is skipped with a note naming the file,
the line and PostgreSQL's message (drift: a COMMENT on a column no migration creates);
a role a migration grants to is created, as it exists outside the migrations; an
extension the server does not ship is refused in one line that says how to give a
server that has it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import psycopg
from psycopg import errors, sql as psql

from ..errors import FluxInputError
from ..model.schema import Schema
from ..pg.parse import HAVE_PGLAST
from ..pg.split import SqlSyntaxError, split_statements
from ..model import schema as schema_model
from ..pg import ddl
from ..schema.readers import dependencies, live
from ..schema.readers.live import read_live
from ..project.lock import file_lock
from .server import Server, base_dir, check_identity

BUILD_FORMAT = "5"  # bump when what a build puts in the database changes


@functools.lru_cache(maxsize=1)
def _reader_version() -> str:
    """The code that builds a dev database and turns it into the cached Schema: a cache written
    by other code (an upgrade, an edit) may hold what that code no longer makes, so it is not read."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in [Path(m.__file__) for m in (schema_model, live, dependencies, ddl)] + \
            [here / "build.py", here / "sources.py", here / "program.py"] + sorted((here / "runners").iterdir()):
        if path.suffix not in (".py", ".cjs"):
            continue
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
KEEP_BUILDS = 40  # databases kept on the owned server; older ones are dropped


@dataclass(frozen=True)
class Script:
    """One unit the project's tool runs: a migration's up SQL, or a dump."""

    name: str  # as notes show it: a path relative to the project
    sql: str
    transactional: bool = True
    line_offset: int = 0  # lines of the file before `sql`, so notes give the file's line numbers
    not_run: str = ""  # why the build cannot run this one (a goose Go migration): a note, in its place


@dataclass
class Built:
    database: str
    schema: Schema
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False


def inputs_hash(scripts: Sequence[Script], major: Optional[int] = None, extra: str = "") -> str:
    digest = hashlib.sha256(f"flux-devdb {BUILD_FORMAT} {_reader_version()} pg{major or '-'} {extra}\n".encode())
    for s in scripts:
        digest.update(f"{s.name}\0{int(s.transactional)}\0{s.not_run}\0{len(s.sql)}\0".encode())
        digest.update(s.sql.encode())
    return digest.hexdigest()[:24]


def _cache_file(key: str) -> Path:
    return base_dir() / "builds" / f"{key}.json"


def cached(key: str) -> Optional[Built]:
    """The schema of an earlier build with the same inputs, without touching a server."""
    path = _cache_file(key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Built(data["database"], Schema.model_validate(data["schema"]), data.get("notes", []), 0.0, True)
    except (OSError, ValueError, KeyError):
        return None


def database_name(key: str) -> str:
    return f"flux_{key}"


def build(server: Server, scripts: Sequence[Script], key: str) -> Built:
    """The database for these scripts on `server` (built now unless it is there already)."""
    return build_with(server, key, lambda admin, url: _run_all(server, admin, url, scripts))


def build_with(server: Server, key: str, fill: Callable[[psycopg.Connection, str], list[str]],
               template: Optional[str] = None) -> Built:
    """The database `key` on `server`, made by `fill(admin connection, URL of an empty database)`
    (which returns its notes) unless it is there already; given the key of a database built
    already (`template`), `fill` is handed a copy of that one instead of an empty database
    (an empty one when it is gone)."""
    started = time.perf_counter()
    name = database_name(key)
    with file_lock(base_dir() / "builds" / f"{key}.lock"):
        with psycopg.connect(server.url, autocommit=True) as admin:
            check_identity(server, admin)
            done = _complete(admin, name, key)
            if done is not None:
                schema = read_live(server.database_url(name))
                return _keep(key, Built(name, schema, done, _since(started), True))
            temp = f"flux_building_{key}"
            admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(temp)))
            source = database_name(template) if template is not None else "template0"
            if template is not None and _complete(admin, source, template) is None:
                source = "template0"
            admin.execute(psql.SQL("CREATE DATABASE {} TEMPLATE {}").format(psql.Identifier(temp),
                                                                            psql.Identifier(source)))
            try:
                notes = fill(admin, server.database_url(temp))
            except BaseException:
                admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(temp)))
                raise
            admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))
            admin.execute(psql.SQL("ALTER DATABASE {} RENAME TO {}").format(psql.Identifier(temp),
                                                                           psql.Identifier(name)))
            stamp = _stamp(key) + "\n" + json.dumps(notes)  # the notes stay with the database
            admin.execute(psql.SQL("COMMENT ON DATABASE {} IS {}").format(psql.Identifier(name),
                                                                         psql.Literal(stamp)))
            if server.owned:
                _prune(admin)
        schema = read_live(server.database_url(name))
        return _keep(key, Built(name, schema, notes, _since(started), False))


def clone(server: Server, key: str, scratch: str) -> str:
    """A copy of a built database under `scratch` (CREATE DATABASE ... TEMPLATE): verify's playground."""
    with psycopg.connect(server.url, autocommit=True) as admin:
        check_identity(server, admin)
        admin.execute(psql.SQL("CREATE DATABASE {} TEMPLATE {}").format(psql.Identifier(scratch),
                                                                        psql.Identifier(database_name(key))))
    return server.database_url(scratch)


def drop_database(server: Server, name: str) -> None:
    """Drop a scratch database of the dev server, sessions still on it or not (gone already: nothing)."""
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(name)))


def _stamp(key: str) -> str:
    return f"flux dev database {key}"


def _complete(admin: psycopg.Connection, name: str, key: str) -> Optional[list[str]]:
    """The notes of a finished build of `key` on the server, or None when there is none."""
    row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                        (name,)).fetchone()
    head, _, notes = (row[0] or "").partition("\n") if row else ("", "", "")
    if head != _stamp(key):
        return None
    try:
        return list(json.loads(notes or "[]"))
    except ValueError:
        return []


def as_built(schema: Schema) -> Schema:
    """A schema read from a database Flux built, without what only production can say: an empty
    dev table says nothing of production's size, nor the dev server of production's settings."""
    for table in schema.tables:
        table.row_estimate = table.size_bytes = None
    schema.server = None
    return schema


def _keep(key: str, built: Built) -> Built:
    as_built(built.schema)
    path = _cache_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"database": built.database, "schema": built.schema.model_dump(mode="json"),
                               "notes": built.notes}), encoding="utf-8")
    tmp.replace(path)
    return built


def _prune(admin: psycopg.Connection) -> None:
    # missing_ok: another Flux process sharing the server may drop one of them meanwhile (its files gone,
    # pg_stat_file failed: "could not stat file base/20713/PG_VERSION", and the validate with it).
    rows = admin.execute("SELECT datname FROM (SELECT datname, (pg_stat_file('base/' || oid || '/PG_VERSION', true))"
                         ".modification AS made FROM pg_database WHERE datname LIKE 'flux\\_%' "
                         "AND datname NOT LIKE 'flux\\_building\\_%' AND datname NOT LIKE 'flux\\_verify\\_%') AS d "
                         "WHERE made IS NOT NULL ORDER BY made DESC").fetchall()
    for (old,) in rows[KEEP_BUILDS:]:
        admin.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(old)))


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# --------------------------------------------------------------------------
# Running the scripts
# --------------------------------------------------------------------------


def _run_all(server: Server, admin: psycopg.Connection, url: str, scripts: Sequence[Script]) -> list[str]:
    notes: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        check_identity(server, conn)
        for script in scripts:
            if script.not_run:
                notes.append(f"{script.name}: not run: {script.not_run}")
                continue
            conn.execute("RESET ALL")  # each migration starts as a fresh session would
            if script.transactional and _whole(conn, script.sql):
                continue
            notes += _one_by_one(conn, admin, script)
    return notes


def _whole(conn: psycopg.Connection, text: str) -> bool:
    """Run a transactional script in one transaction, as its tool does; False if it failed."""
    try:
        with conn.transaction():
            conn.execute(text)
        return True
    except psycopg.Error:
        return False


def _one_by_one(conn: psycopg.Connection, admin: psycopg.Connection, script: Script) -> list[str]:
    """Each statement on its own, skipping what fails. A file its tool runs in a transaction runs in
    one here too, each statement under a savepoint: LOCK TABLE, SET LOCAL and the like need the
    transaction (hatchet's LOCK TABLE ... IN ACCESS EXCLUSIVE MODE files failed one by one in
    autocommit). Any other file runs in autocommit, as its tool runs it."""
    try:
        statements = split_statements(script.sql, script.line_offset)
    except SqlSyntaxError as exc:
        return [f"{script.name}:{exc.line}: skipped: cannot parse: {exc}"]
    if not script.transactional:
        return _each(conn, admin, script, statements, lambda: _savepoint_in_own_transaction(conn))
    with conn.transaction():
        # The file's own BEGIN/COMMIT would end the transaction the statements share: the tool's
        # transaction is this one (PostgreSQL only warns of a nested BEGIN).
        kept = [s for s in statements if not _transaction_control(s)]
        return _each(conn, admin, script, kept, conn.transaction)


def _savepoint_in_own_transaction(conn: psycopg.Connection):
    """Inside a transaction the file's own BEGIN opened (sqitch's scripts, psql's), a savepoint: one
    statement failing does not abort the rest of it; outside one, nothing (autocommit, as the tool)."""
    return conn.transaction() if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS \
        else nullcontext()


def _transaction_control(stmt) -> bool:
    return _kind(stmt, "TransactionStmt", ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"))


def _kind(stmt, node_type: str, first_words: tuple[str, ...]) -> bool:
    """Is the statement of pglast's `node_type`; without pglast (sqlglot cut it: no tree), does its
    text start with one of `first_words`?"""
    if HAVE_PGLAST:
        return type(stmt.node).__name__ == node_type
    words = stmt.text.split(None, 2)
    return bool(words) and words[0].upper() in first_words and (node_type != "CreateRoleStmt" or (
        len(words) > 1 and words[1].upper() in ("ROLE", "USER")))


def _each(conn: psycopg.Connection, admin: psycopg.Connection, script: Script, statements, scope) -> list[str]:
    """Run each statement in `scope()` (a savepoint, or nothing), noting and skipping what fails."""
    notes = []
    for stmt in statements:
        for _attempt in range(3):  # a missing role or extension is created, then the statement runs again
            try:
                with nullcontext() if _transaction_control(stmt) else scope():
                    conn.execute(stmt.text)
                break
            except errors.DuplicateObject as exc:
                if not _creates_role(stmt):
                    notes.append(_note(script, stmt.line, exc, conn))
                break  # roles outlive a database: an earlier build on this server made it
            except errors.UndefinedObject as exc:
                role, extension = _missing_role(exc), _missing_extension_type(conn, exc)
                if role is not None:
                    admin.execute(psql.SQL("CREATE ROLE {} NOLOGIN").format(psql.Identifier(role)))
                    notes.append(f"{script.name}:{stmt.line}: created role {role!r}, which the migrations use "
                                 "but do not create")
                elif extension is not None:
                    with scope():
                        conn.execute(psql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(psql.Identifier(extension)))
                    notes.append(f"{script.name}:{stmt.line}: created extension {extension!r}, whose type the "
                                 "migrations use but do not create")
                else:
                    notes.append(_note(script, stmt.line, exc, conn))
                    break
            except psycopg.Error as exc:
                _refuse_missing_extension(exc)
                notes.append(_note(script, stmt.line, exc, conn))
                break
    return notes


def _creates_role(stmt) -> bool:
    return _kind(stmt, "CreateRoleStmt", ("CREATE",))


def _missing_role(exc: psycopg.Error) -> Optional[str]:
    message = exc.diag.message_primary or ""
    if message.startswith('role "') and message.endswith('" does not exist'):
        return message[len('role "'):-len('" does not exist')]
    return None


def _missing_extension_type(conn: psycopg.Connection, exc: psycopg.Error) -> Optional[str]:
    """An extension named as the missing type (citext, hstore, ltree, vector), when the server has it."""
    message = exc.diag.message_primary or ""
    if not (message.startswith('type "') and message.endswith('" does not exist')):
        return None
    name = message[len('type "'):-len('" does not exist')].split(".")[-1]
    row = conn.execute("SELECT name FROM pg_available_extensions WHERE name = %s AND installed_version IS NULL",
                       (name,)).fetchone()
    return row[0] if row else None


class MissingExtension(FluxInputError):
    """The dev database server does not ship an extension the project uses."""


def _refuse_missing_extension(exc: psycopg.Error) -> None:
    message = " ".join((exc.diag.message_primary or str(exc)).split())
    if "extension" in message and ("is not available" in message or "could not open extension control" in message):
        raise MissingExtension(f"the dev database server lacks an extension the project uses ({message}); set "
                               "dev_url in .flux.yaml (or [tool.flux]) to a PostgreSQL server that has it") from None


def _note(script: Script, line: int, exc: psycopg.Error, conn: psycopg.Connection) -> str:
    message = " ".join((exc.diag.message_primary or str(exc)).split())
    if isinstance(exc, errors.SyntaxError):
        # It was cut out of the file by pglast, which is PostgreSQL's own parser of a newer version:
        # the server's grammar is older than the migrations' (a subquery without an alias before 16,
        # JSON_TABLE before 17), and every statement building on it is skipped too.
        from pglast.parser import get_postgresql_version

        ours, server = get_postgresql_version()[0], conn.info.server_version // 10000
        if server < ours:
            message += (f" (PostgreSQL {ours}'s parser reads it; this dev database runs PostgreSQL {server}: "
                        "set dev_url in .flux.yaml (or [tool.flux]) to a server of your production's version)")
    return f"{script.name}:{line}: statement skipped: {message}"
