"""Program-code migration tools (alembic, django, knex, typeorm, sequelize,
node-pg-migrate) build the dev database the only way their migrations can be
read: the project's own tool runs them against it.

That runs the project's code, so it runs fenced in: the user's environment
scrubbed of every database setting but the dev database's (no DATABASE_URL, PG*,
*_DB_*, or value that is a database URL or libpq string reaches it; the settings
a project's config needs besides, a SECRET_KEY or a REDIS_URL, do), and a marker
Flux sets on the dev database (`flux.dev_marker`) that each runner checks on every
connection the tool opens, before any migration runs; a connection anywhere else
stops the run with one line. Each tool's runner lives in flux_agent.devdb.runners, one module a tool.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol
from urllib.parse import quote

import psycopg
from psycopg import conninfo, sql as psql

from ..errors import FluxInputError
from .digests import file_digest
from ..model.settings import Settings
from ..project.detect import Detection
from .build import BUILD_FORMAT, Built, _reader_version, build_with, cached, clone, drop_database
from .server import Server, binaries_major, check_identity, dev_server

MARKER_SETTING = "flux.dev_marker"


def explains_schema(note: str) -> bool:
    """Can this note of a build say why the schema lacks something? Not one on migrations left out
    that sent no query (runners/_python.UNTOUCHED): the schema is the same without them; nor one
    saying TypeORM's migrations ran with a data source of Flux's own (runners/typeorm.OWN_SOURCE), or
    knex's with settings of Flux's own (runners/knex.OWN_SETTINGS): they all ran."""
    from .runners._python import UNTOUCHED  # the runners' module: the child process writes the note
    from .runners.knex import OWN_SETTINGS
    from .runners.typeorm import OWN_SOURCE

    return UNTOUCHED not in note and OWN_SOURCE not in note and OWN_SETTINGS not in note


# What of the user's environment the tool's process may not see: anything that names or
# points at a database (by its name, or by a value that is a database URL or a libpq string),
# Flux's own settings, and what chooses the project's config (manage.py's settings module,
# the Node environment: Flux sets that). The marker check, not this, is what stops a connection
# elsewhere; this keeps the tool's config from reaching for one.
_DATABASE_NAME = re.compile(r"^PG|DATABASE|POSTGRES|(^|_)DB(_|$)|DSN|SQLALCHEMY|TYPEORM|KNEX|SEQUELIZE|PRISMA|"
                            r"MYSQL|MARIADB|REDSHIFT|COCKROACH|SUPABASE|NEON|^FLUX_", re.IGNORECASE)
_DATABASE_VALUE = re.compile(r"^\s*(postgres(ql)?|pg|postgis|mysql|mariadb|jdbc|cockroach\w*|redshift)"
                             r"(\+\w+)?:|\b(host|hostaddr|dbname|service)\s*=", re.IGNORECASE)
_CHOSEN_BY_FLUX = {"DJANGO_SETTINGS_MODULE", "NODE_ENV"}
# Which driver or dialect, not where: kutt's knexfile takes its client from DB_CLIENT (better-sqlite3
# when unset), brocoders' nestjs-boilerplate its TypeORM `type` from DATABASE_TYPE. A value naming a
# server is dropped all the same.
_DRIVER_NAME = re.compile(r"_(CLIENT|DIALECT|DRIVER|ENGINE|VENDOR|TYPE)$", re.IGNORECASE)
# A value that only chooses PostgreSQL names no server either (healthchecks' settings read DB=postgres and use
# SQLite without it, and Flux said the project's default database was sqlite3).
_CHOOSES_POSTGRES = re.compile(r"^\s*(postgres(ql)?|pg|postgis)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ToolRun:
    """One run of a project's tool against a dev database."""

    project: Path
    migrations_dir: str
    conninfo: str  # libpq keywords (psycopg, psql)
    url: str  # the same as a postgresql:// URL (SQLAlchemy, Node drivers, Django's dj-database-url)
    params: dict = field(default_factory=dict)  # host, port, user, password, database
    env: dict = field(default_factory=dict)  # the scrubbed environment, the dev database's settings in it
    marker: str = ""  # what current_setting('flux.dev_marker') answers on the dev database
    capture: dict = field(default_factory=dict)  # lint/readers: {target, phase, out} (node_driver.cjs's capture)
    leave_out: tuple[str, ...] = ()  # migration files not to run (absolute): a plan's, for the database before it
    # A batch capture's messages (node_capture.cjs), each answered ("go") or not (None); runners/_node.talk.
    talk: Optional[Callable[[dict], Optional[str]]] = None


class Runner(Protocol):
    """A program-code tool's runner (flux_agent.devdb.runners.<tool>.RUNNER)."""

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        """The files whose contents decide the schema (migrations, the tool's config): the cache key."""

    def run(self, job: ToolRun) -> list[str]:
        """Migrate the dev database up with the project's tool, checking the marker on each connection
        before any migration runs; the notes to keep. One line (FluxInputError) when the project's
        dependencies are missing, saying what to install or to give --database-url."""


def runner_for(tool: str) -> Optional[Runner]:
    from . import runners

    return runners.RUNNERS.get(tool)


def program_schema(project: Path, found: Detection, settings: Settings,
                   leave_out: tuple[Path, ...] = (), on_server: bool = False) -> Optional[Built]:
    """The schema the project's own tool makes on the dev database, or None for a tool whose
    migrations are not program code (or whose runner is not written yet). `leave_out`: migration
    files the tool does not run (a plan's, for the database before it: the Python tools' runners).
    `on_server`: the database itself is wanted (verify and trace copy it), not only its schema:
    looked for on the server, not in the cache of schemas, and built again where it is gone."""
    runner = runner_for(found.tool)
    if runner is None:
        return None
    unused = {f.resolve() for f in leave_out}
    files = [f for f in runner.inputs(project, found.migrations_dir) if f.resolve() not in unused]
    major = binaries_major(settings)
    key = _key(project, found.tool, files, major, settings.dev_url)
    known = None if on_server else cached(key)
    if known is None:
        server = dev_server(settings.dev_url, major or settings.pg_version)
        known = build_with(server, key, lambda admin, url: _fill(server, admin, url, project, found, runner,
                                                                 tuple(sorted(str(f) for f in unused))))
    # verify's copy (on_server) holds the table and is compared whole with the plan's schema: kept there
    return known if on_server else _without_runs_table(known, project, found)


def _without_runs_table(built: Built, project: Path, found: Detection) -> Built:
    """The build's schema without the table the tool records its runs in (TypeORM's `migrations`,
    knex's and its lock): no plan names it and `flux schema` lists it not (nestjs-boilerplate's showed
    TypeORM's `migrations` among its tables)."""
    from ..project.applied import without_runs_table

    kept = without_runs_table(built.schema, found.tool, project, found.migrations_dir)
    return built if kept is built.schema else replace(built, schema=kept)


def _key(project: Path, tool: str, files: list[Path], major: Optional[int], dev_url: Optional[str]) -> str:
    digest = hashlib.sha256(f"flux-devdb {BUILD_FORMAT} {_reader_version()} {tool} pg{major or '-'} "
                            f"{'dev_url' if dev_url else ''}\n".encode())
    # (each path relative to the project by its text: a folder's N keys of N files each made 70,000 Paths)
    root = os.path.join(str(project), "")
    named = sorted(((p[len(root):].replace(os.sep, "/") if p.startswith(root) else p), path)
                   for path in files for p in [str(path)])
    for rel, path in named:
        digest.update(f"{rel}\0".encode())
        digest.update(file_digest(path))
    return digest.hexdigest()[:24]


def _fill(server: Server, admin: psycopg.Connection, url: str, project: Path, found: Detection,
          runner: Runner, leave_out: tuple[str, ...] = ()) -> list[str]:
    """Set the marker on the empty database at `url`, run the tool there, check where it went."""
    job = replace(tool_run(project, found.migrations_dir, url, mark(server, admin, url), server), leave_out=leave_out)
    return runner.run(job)


def mark(server: Server, admin: psycopg.Connection, url: str) -> str:
    """A new marker on the database at `url` (a copy does not keep its template's), which is checked
    to be the dev server's: each connection the tool opens reads it before any migration runs."""
    marker = secrets.token_hex(16)
    admin.execute(psql.SQL("ALTER DATABASE {} SET {} = {}").format(
        psql.Identifier(conninfo.conninfo_to_dict(url)["dbname"]), psql.Identifier(*MARKER_SETTING.split(".")),
        psql.Literal(marker)))
    with psycopg.connect(url, autocommit=True) as conn:
        check_identity(server, conn)
    return marker


@contextmanager
def scratch_copy(server: Server, key: str, prefix: str) -> Iterator[tuple[str, str]]:
    """A copy of built database `key` for a tool to run on: (its url, the marker each of the tool's
    connections checks, as a copy does not keep its template's); dropped on leaving, whatever happened."""
    scratch = f"{prefix}_{secrets.token_hex(6)}"  # flux_verify_*: never pruned as a build
    try:
        url = clone(server, key, scratch)
        with psycopg.connect(server.url, autocommit=True) as admin:
            marker = mark(server, admin, url)
        yield url, marker
    finally:
        drop_database(server, scratch)


def tool_run(project: Path, migrations_dir: str, url: str, marker: str, server: Optional[Server] = None) -> ToolRun:
    """The job for a runner: the dev database (at `url`, on `server`) as every client spells it, by
    TCP where the server listens there (Server.for_programs), and the scrubbed environment."""
    if server is not None:
        url = server.for_programs(url)
    info = conninfo.conninfo_to_dict(url)
    params = {"host": info.get("host") or "localhost", "port": int(info.get("port") or 5432),
              "user": info.get("user") or "postgres", "password": info.get("password") or "",
              "database": info["dbname"]}
    return ToolRun(project=project, migrations_dir=migrations_dir, conninfo=url, url=as_url(params),
                   params=params, env=scrubbed_env(params, as_url(params), dotenv(project)), marker=marker)


def as_url(p: dict) -> str:
    auth = quote(p["user"], safe="") + (f":{quote(p['password'], safe='')}" if p["password"] else "")
    if p["host"].startswith("/"):  # a Unix socket folder
        return f"postgresql://{auth}@/{quote(p['database'])}?host={quote(p['host'], safe='')}&port={p['port']}"
    return f"postgresql://{auth}@{p['host']}:{p['port']}/{quote(p['database'])}"


def dotenv(project: Path) -> dict[str, str]:
    """The variables the project's `.env` sets (the project's own scripts load it before their tool:
    brocoders/nestjs-boilerplate's DataSource takes its driver from DATABASE_TYPE there)."""
    from ..project import dotenv as _dotenv

    return _dotenv.read(project)


def scrubbed_env(params: dict, url: str, dotenv_values: Optional[dict] = None) -> dict:
    """The user's environment, over what the project's .env sets (`dotenv_values`), without anything
    naming a database, then the dev database under the names tools read (DATABASE_URL and libpq's PG*
    variables)."""
    env = {k: v for k, v in {**(dotenv_values or {}), **os.environ}.items()
           if k not in _CHOSEN_BY_FLUX and not _DATABASE_VALUE.search(v)
           and (not _DATABASE_NAME.search(k) or (_DRIVER_NAME.search(k) and not k.upper().startswith("FLUX_"))
                or (_CHOOSES_POSTGRES.match(v) and not k.upper().startswith("FLUX_")))}
    env.update({"DATABASE_URL": url, "PGHOST": params["host"], "PGPORT": str(params["port"]),
                "PGUSER": params["user"], "PGDATABASE": params["database"], "PGPASSWORD": params["password"],
                "NODE_ENV": "development", "PYTHONDONTWRITEBYTECODE": "1"})
    # The parts under the names settings commonly read them by: a name scrubbed above and left unset
    # fails the settings (dispatch: KeyError "Config 'DATABASE_HOSTNAME' is missing").
    for prefix in ("DATABASE_", "DB_"):
        env.update({f"{prefix}{k}": v for k, v in (
            ("HOST", params["host"]), ("HOSTNAME", params["host"]), ("PORT", str(params["port"])),
            ("NAME", params["database"]), ("USER", params["user"]), ("USERNAME", params["user"]),
            ("PASSWORD", params["password"]), ("CREDENTIALS", f"{params['user']}:{params['password']}"))})
    return env


def check_marker(url: str, marker: str) -> None:
    """What a runner does where it cannot hook the tool's connections: check the database it was given."""
    with psycopg.connect(url, autocommit=True) as conn:
        got = conn.execute("SELECT current_setting(%s, true)", (MARKER_SETTING,)).fetchone()[0]
    if got != marker:
        raise FluxInputError("the migration tool's connection did not reach Flux's dev database; "
                             "stopped before running anything")
