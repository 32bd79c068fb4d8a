"""Which reader gives a project's current schema, chosen by its migration tool.

SQL migrations are replayed (they include files Flux wrote and the tool has
not applied yet); ORMs whose schema file is the source of truth are read
from it; tools whose migrations are program code (knex, TypeORM, ...) cannot
be read from files at all: those need a live database.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from ..errors import FluxError, FluxInputError
from ..model.schema import Schema
from .replay.engine import migration_files, read_migrations_dir, replay_sql, up_sql_of

NEEDS_DATABASE = {"django", "knex", "typeorm", "sequelize", "node-pg-migrate"}
_FLYWAY_VERSION = re.compile(r"^V(\d+(?:[._]\d+)*)__")  # file names, not SQL


def read_project_schema(project: Path, tool: str, migrations_dir: str,
                        database_url: Optional[str] = None) -> Schema:
    if database_url:
        from .readers.live import read_live

        return read_live(database_url)
    folder = project / migrations_dir
    if tool == "prisma":
        from .readers.prisma import read_prisma_project

        return read_prisma_project(project)
    if tool == "rails":
        from .readers.rails import read_rails_project

        return read_rails_project(project)
    if tool == "drizzle":
        return _drizzle(folder)
    if tool == "flyway":
        return _replay_files(_flyway_files(folder))
    if tool == "sqitch":
        return _replay_files(_sqitch_files(folder))
    if tool == "alembic":
        return _alembic(project)
    if tool in NEEDS_DATABASE:
        env = os.environ.get("DATABASE_URL")
        if env:
            from .readers.live import read_live

            return read_live(env)
        raise FluxInputError(
            f"{tool} migrations are program code, so flux reads the schema from the database: "
            "give --database-url (or set DATABASE_URL)")
    if folder.is_dir() and migration_files(folder):
        return read_migrations_dir(folder)
    dump = project / "db" / "schema.sql"
    if dump.is_file():
        from .readers.pg_dump import read_pg_dump

        return read_pg_dump(dump)
    return Schema()


def _replay_files(files: list[Path]) -> Schema:
    schema = Schema()
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            schema = replay_sql(up_sql_of(file, text), schema)
        except FluxError as exc:
            raise type(exc)(f"{file.name}: {exc}") from None
    return schema


def _drizzle(folder: Path) -> Schema:
    # The SQL files include migrations Flux wrote; the snapshot only what drizzle-kit generated.
    if folder.is_dir() and migration_files(folder):
        return read_migrations_dir(folder)
    if (folder / "meta").is_dir():
        from .readers.drizzle import read_drizzle_snapshot

        return read_drizzle_snapshot(folder)
    return Schema()


def _flyway_files(folder: Path) -> list[Path]:
    """V-files in version order (V10 after V9), undo files left out."""
    found = []
    for path in folder.glob("V*__*.sql") if folder.is_dir() else []:
        m = _FLYWAY_VERSION.match(path.name)
        if m:
            found.append((tuple(int(p) for p in re.split(r"[._]", m.group(1))), path))
    return [p for _, p in sorted(found)]


def _sqitch_files(folder: Path) -> list[Path]:
    """deploy/<change>.sql in sqitch.plan order."""
    plan = folder / "sqitch.plan"
    if not plan.is_file():
        return []
    files = []
    for line in plan.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("%", "#", "@")):
            continue
        name = line.split()[0]
        path = folder / "deploy" / f"{name}.sql"
        if path.is_file():
            files.append(path)
    return files


def _alembic(project: Path) -> Schema:
    """Alembic's offline mode prints the SQL of every revision; replay it."""
    import subprocess
    import sys

    ini = project / "alembic.ini"
    if not ini.is_file():
        raise FluxInputError("no alembic.ini: give --database-url to read the schema from the database")
    try:
        run = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head", "--sql"],
                             cwd=project, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FluxInputError(f"could not run alembic offline ({exc}); give --database-url") from None
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise FluxInputError(f"alembic offline mode failed ({last}); give --database-url") from None
    return replay_sql(run.stdout)
