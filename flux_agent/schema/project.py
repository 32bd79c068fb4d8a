"""Which reader gives a project's current schema, chosen by its migration tool.

SQL migrations are replayed (they include files Flux wrote and the tool has
not applied yet); ORMs whose schema file is the source of truth are read
from it; tools whose migrations are program code (knex, TypeORM, ...) cannot
be read from files at all: those need a live database.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional

from ..errors import FluxError, FluxInputError
from ..model.schema import Schema
from .migration_order import migration_files
from .readers.drizzle import read_drizzle_snapshot
from .readers.live import read_live
from .readers.pg_dump import read_pg_dump
from .readers.prisma import read_prisma_project
from .readers.rails import read_rails_project
from .replay.engine import replay_folder, replay_sql

NEEDS_DATABASE = {"django", "knex", "typeorm", "sequelize", "node-pg-migrate"}


def read_migrations_history(project: Path, tool: str, migrations_dir: str) -> Optional[Schema]:
    """A Prisma project's migrations replayed without PostgreSQL, for when the dev database cannot hold
    them (an extension its server lacks); None for another tool (its static reader replays already, or
    reads what the history cannot give), or where the history does not replay."""
    folder = project / migrations_dir
    if tool != "prisma" or not migration_files(folder, tool):
        return None
    try:
        return replay_folder(folder, tool)
    except FluxError:
        return None


def read_project_schema(project: Path, tool: str, migrations_dir: str,
                        database_url: Optional[str] = None) -> Schema:
    if database_url:
        return read_live(database_url)
    folder = project / migrations_dir
    if tool == "prisma":
        return read_prisma_project(project)
    if tool == "rails":
        return read_rails_project(project)
    if tool == "drizzle":
        return _drizzle(folder)
    if tool in ("flyway", "sqitch"):
        # A file replay cannot read stops with its name: a plan made against a schema
        # missing that file's tables would be wrong (FolderReplay's one policy).
        return replay_folder(folder, tool)
    if tool == "alembic":
        return _alembic(project, migrations_dir)
    if tool in NEEDS_DATABASE:
        # Never a DATABASE_URL from the environment: that is the application's database.
        raise FluxInputError(
            f"{tool} migrations are program code, so flux reads the schema from the database: "
            "give --database-url (a read-only URL you choose)")
    if migration_files(folder, tool):
        return replay_folder(folder, tool)
    dump = project / "db" / "schema.sql"
    if dump.is_file():
        return read_pg_dump(dump)
    return Schema()


def _drizzle(folder: Path) -> Schema:
    # The SQL files include migrations Flux wrote; the snapshot only what drizzle-kit generated.
    if migration_files(folder, "drizzle"):
        return replay_folder(folder, "drizzle")
    if (folder / "meta").is_dir():
        return read_drizzle_snapshot(folder)
    return Schema()


def _alembic(project: Path, migrations_dir: str) -> Schema:
    """Alembic's offline mode prints the SQL of every revision; replay it. The configuration and its
    section as the dev database's runner finds them (dispatch's src/dispatch/alembic.ini, section
    tenant), run by the project's interpreter (its virtualenv has the revisions' imports)."""
    from ..project import places
    from ..devdb.runners.alembic import config_of

    where = config_of(project, migrations_dir)
    config = [] if where.toml else ["-c", str(where.file), "-n", where.section]
    python = places.project_python(where.file.parent, project)
    try:
        run = subprocess.run([python, "-m", "alembic", *config, "upgrade", "head", "--sql"],
                             cwd=where.file.parent, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FluxInputError(f"could not run alembic offline ({exc}); give --database-url") from None
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise FluxInputError(f"alembic offline mode failed with {python} ({last}); give --database-url") from None
    return replay_sql(run.stdout)
