"""Where verification runs: a copy of the dev database (the project's schema as
PostgreSQL built it from the project's files), or a scratch database created on a
server the user names.

With a URL nothing existing is touched: a database `flux_verify_<random>` is
created from template0 and dropped afterwards (when the role may not create
databases, a schema of that name in the given database, dropped with
CASCADE). URLs that do not look local, or whose database name says
production, are refused unless the caller says it knows (`i_know`).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import psycopg
from psycopg import conninfo, errors

from ..errors import FluxError, FluxInputError
from ..pg.quote import ident
from ..devdb.build import build
from ..devdb.project import dev_key
from ..devdb.server import dev_server
from ..model.schema import Schema
from ..model.settings import Settings
from .pending import Before

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1", "[::1]"}
_PROD_WORD = re.compile(r"^(prod|production|live|prd)\d*$")


@dataclass
class Sandbox:
    url: str
    description: str
    mode: str  # "database" or "schema"
    scratch: Optional[str] = None
    prebuilt: Optional[Schema] = None  # the schema the scratch database holds already (a dev database copy)
    notes: list[str] = field(default_factory=list)


def _say(progress: Optional[Callable[[str], None]], text: str) -> None:
    if progress is not None:
        progress(text)


def url_concern(url: str) -> Optional[str]:
    """Why a URL looks like it could be production, or None."""
    try:
        info = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise FluxInputError(f"cannot read the database URL: {_first_line(exc)}") from None
    hosts = (info.get("host") or os.environ.get("PGHOST") or "").split(",")
    addrs = (info.get("hostaddr") or "").split(",") if info.get("hostaddr") else []
    remote = [h for h in hosts + addrs if h not in LOCAL_HOSTS and not h.startswith("/") and not h.startswith("@")]
    if remote:
        return f"its host {remote[0]} is not local"
    dbname = info.get("dbname") or os.environ.get("PGDATABASE") or info.get("user") or ""
    words = [w for w in re.split(r"[^a-z0-9]+", dbname.lower()) if w]
    if any(_PROD_WORD.match(w) for w in words):
        return f"its database name {dbname!r} says production"
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the given database"
    host = info.get("host") or "local socket"
    return f"database {info.get('dbname') or '(default)'} on {host}"


def _with(url: str, **changes: str) -> str:
    info = conninfo.conninfo_to_dict(url)
    info.update(changes)
    return conninfo.make_conninfo(**info)


@contextmanager
def open_sandbox(database_url: Optional[str] = None, i_know: bool = False,
                 progress: Optional[Callable[[str], None]] = None, mode: str = "database",
                 before: Optional[Before] = None, dev_url: Optional[str] = None) -> Iterator[Sandbox]:
    """Yield a Sandbox; everything it created is gone when the block ends. Without a URL it is
    a copy of the dev database holding the schema `before` the plan (on dev_url's server, or
    the one Flux owns)."""
    before = before or Before(None, Schema(), "")
    if database_url:
        concern = url_concern(database_url)
        if concern and not i_know:
            raise FluxInputError(
                f"refusing to verify on {redact(database_url)}: {concern}, so it may be production; verify only "
                "creates and drops a scratch database there, but pass --i-know (i_know=True) to confirm")
        with _scratch(database_url, progress, mode) as box:
            yield box
    else:
        with _dev(progress, before, dev_url) as box:
            yield box


@contextmanager
def _dev(progress, before: Before, dev_url: Optional[str]) -> Iterator[Sandbox]:
    """A copy of the dev database (CREATE DATABASE ... TEMPLATE): the project's schema as
    PostgreSQL built it from the project's files, extensions and all. Where the dev
    database cannot build the project, an empty scratch database on the dev server."""
    settings = Settings(dev_url=dev_url) if dev_url else Settings()
    server = dev_server(dev_url, settings.pg_version)
    built = before.built
    if built is None and before.scripts is not None:
        key, _ = dev_key(before.scripts, settings, before.tool)
        _say(progress, f"building the schema before the plan in the dev database ({len(before.scripts)} file(s))")
        built = build(server, before.scripts, key)
    with _scratch(server.url, progress, "database", template=built.database if built else None) as box:
        if built is not None:
            box.prebuilt, box.notes = built.schema, list(built.notes)
            box.description = f"a copy of the dev database on {server.description}"
        yield box


STALE_SECONDS = 6 * 3600


def _drop_stale(admin, progress) -> None:
    """Scratch databases a crashed verify left behind (their name carries their
    start time): dropped once old and unused; one in use makes DROP fail, and is kept."""
    now = int(time.time())
    rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'flux\\_verify\\_%'").fetchall()
    for (name,) in rows:
        parts = name.split("_")
        if len(parts) != 4 or not parts[2].isdigit() or now - int(parts[2]) < STALE_SECONDS:
            continue
        try:
            admin.execute(f"DROP DATABASE IF EXISTS {ident(name)}")
            _say(progress, f"dropped {name}, left behind by an interrupted verify")
        except psycopg.Error:
            pass  # in use or not ours to drop: leave it


@contextmanager
def _scratch(url: str, progress, mode: str, template: Optional[str] = None) -> Iterator[Sandbox]:
    name = f"flux_verify_{int(time.time())}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise FluxInputError(f"cannot connect to {redact(url)}: {_first_line(exc)}") from None
    with admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
        _drop_stale(admin, progress)
        where = redact(url)
        if mode == "database":
            try:
                admin.execute(f"CREATE DATABASE {ident(name)} TEMPLATE {ident(template or 'template0')}")
            except errors.InsufficientPrivilege:
                _say(progress, "the role may not create databases: using a scratch schema instead")
                mode = "schema"
            except psycopg.Error as exc:
                raise FluxError(f"cannot create a scratch database on {where}: "
                                f"{exc.diag.message_primary or exc}") from None
        if mode == "schema":
            try:
                admin.execute(f"CREATE SCHEMA {ident(name)}")
            except psycopg.Error as exc:
                raise FluxError(f"cannot create a scratch database or schema on {where}: "
                                f"{exc.diag.message_primary or exc}") from None
            box = Sandbox(url=_with(url, options=f"-c search_path={name}"), mode="schema", scratch=name,
                          description=f"scratch schema {name} in {where} (PostgreSQL {version})")
        else:
            box = Sandbox(url=_with(url, dbname=name), mode="database", scratch=name,
                          description=f"scratch database {name} next to {where} (PostgreSQL {version})")
        _say(progress, f"created {box.description}")
        try:
            if box.mode == "schema":
                _check_search_path(box, where)
            yield box
        finally:
            _drop(admin, box)
            _say(progress, f"dropped {box.mode} {name}")


def _check_search_path(box: Sandbox, where: str) -> None:
    """A scratch schema is reached by the `options` startup parameter; a pooler (PgBouncer)
    refuses it, or drops it when told to ignore it, and the plan would then run in the
    database's own schemas: refuse instead."""
    why = None
    try:
        with psycopg.connect(box.url, autocommit=True) as conn:
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            if schema != box.scratch:
                why = f"the connection's schema is {schema!r}: the server or a pooler dropped the search_path"
    except psycopg.OperationalError as exc:
        why = _first_line(exc).split("FATAL:")[-1].strip()
    if why:
        raise FluxInputError(f"the role may not create databases, and a scratch schema on {where} cannot be "
                             f"reached ({why}); give the role CREATEDB, or verify on a direct connection "
                             "rather than through a pooler")


def _drop(admin: psycopg.Connection, box: Sandbox) -> None:
    name = ident(box.scratch)
    if box.mode == "schema":
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        return
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                  "pg_backend_pid()", (box.scratch,))
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except psycopg.errors.SyntaxError:  # before PostgreSQL 13
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
