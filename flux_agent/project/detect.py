"""Which migration tool a project uses, and where its migrations live.

Looks only at the project folder and four levels below it (monorepos keep
apps one or two levels down), never at dependency or build folders, and runs
no project code: each tool's configuration is read as text the way the tool
reads it (prisma.config.ts, package.json, drizzle.config.ts, knexfile,
alembic.ini, .sequelizerc, .env), with the files' own shape (`-- migrate:up`,
`-- +goose Up`, NNN_name.up.sql, drizzle's _journal.json, a Rails schema dump)
as the fallback. Every tool with evidence is reported, so a caller can ask the
user when two tools claim the same project instead of guessing silently.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import get_args

from pydantic import BaseModel

from ..errors import FluxInputError
from ..model.settings import Settings
from ..model.terms import PROGRAM_TOOLS, Tool
from .detectors import DETECTORS
from .dialect import dialect_of
from .scan import Scan, inside, postgres_named

# The `tool` vocabulary of DESIGN.md section 3 (model/terms.Tool).
TOOLS: tuple[str, ...] = get_args(Tool)

# Tie-break when several tools have evidence. Framework tools come first: their
# migrations are generated from the models, so they own the schema, while
# plain-SQL runners are as often a side tool (seeds, a sidecar service).
PRIORITY = (
    "prisma", "rails", "django", "alembic", "drizzle", "typeorm", "knex", "sequelize",
    "node-pg-migrate", "dbmate", "goose", "golang-migrate", "flyway", "sqitch",
)

DEFAULT_DIRS = {
    "sql": "db/migrations", "dbmate": "db/migrations", "prisma": "prisma/migrations",
    "alembic": "alembic/versions", "drizzle": "drizzle", "typeorm": "migrations",
    "knex": "migrations", "rails": "db/migrate", "golang-migrate": "migrations",
    "goose": "migrations", "flyway": "db/migration", "django": "migrations",
    "sequelize": "migrations", "sqitch": ".", "node-pg-migrate": "migrations",
}

class Detection(BaseModel):
    tool: str
    dialect: str = "postgresql"
    migrations_dir: str
    evidence: list[str]
    candidates: list[str]
    ambiguous: bool


def check_tool(name: str) -> str:
    tool = name.strip().lower()
    if tool not in TOOLS:
        raise FluxInputError(f"unknown tool {name!r}; expected one of: {', '.join(TOOLS)}")
    return tool


def ddl_folders(project_dir: Path, skip: str = "") -> list[str]:
    """Folders (relative, shallow first) holding .sql files that create tables, other than
    `skip` and those of another database's SQL (one named for PostgreSQL first): where a
    project's migrations may be when the ones Flux looked at are not."""
    scan = Scan(Path(project_dir))
    folders: list[str] = []
    for rel, head in scan.sql_heads():
        folder = rel.parent.as_posix()
        if folder == PurePosixPath(skip).as_posix() or folder in folders or rel.parent in scan.other_sql_folders:
            continue  # another database's SQL (SQLite's, MySQL's) is never where PostgreSQL's migrations are
        if _creates_table(head):
            folders.append(folder)
    return sorted(folders, key=lambda f: not postgres_named(f))  # one named for PostgreSQL first, else as found


def _creates_table(sql: str) -> bool:
    from ..pg.split import SqlSyntaxError, tokens  # the parser only when a folder is looked for: detect runs on every command

    try:
        words = [sql[t.start:t.end].upper() for t in tokens(sql)]
    except SqlSyntaxError:
        return False
    return any(a == "CREATE" and b == "TABLE" for a, b in zip(words, words[1:]))


def migration_folders(project_dir: Path, found: Detection) -> list[str]:
    """Every folder of the project's own migrations: detection names one, a Django project has one
    per app (healthchecks' api and accounts: `--since` looked at the accounts app alone), an
    alembic.ini one per section naming a script_location (dispatch's core and tenant), and a Rails
    app its db/migrate's siblings (db/post_migrate, db/<database>_migrate)."""
    if found.tool == "alembic":
        from .alembic_config import alembic_folders

        others = alembic_folders(Scan(Path(project_dir)))
        return [found.migrations_dir] + [f for f in others if f != found.migrations_dir]
    if found.tool == "rails" and PurePosixPath(found.migrations_dir).name == "migrate":
        # db/post_migrate (mastodon's, GitLab's post-deployment migrations), another database's db/<name>_migrate
        db = PurePosixPath(found.migrations_dir).parent
        others = sorted(d.name for d in (Path(project_dir) / db).glob("*_migrate") if d.is_dir())
        return [found.migrations_dir] + [(db / name).as_posix() for name in others]
    if found.tool == "django":
        from .detectors import django_apps

        scan = Scan(Path(project_dir))
        apps = list(dict.fromkeys(a for f in scan.named("manage.py") for a in django_apps(scan, f.parent)))
        if found.migrations_dir in apps:  # (not where settings or MIGRATION_MODULES name one elsewhere)
            return [found.migrations_dir] + [a for a in apps if a != found.migrations_dir]
    return [found.migrations_dir]


# The tools found by SQL files' shape alone: SQL files of such a shape inside a program tool's
# migrations folder (model/terms.PROGRAM_TOOLS) are what its migrations read, not another tool's.
_SHAPE_TOOLS = ("golang-migrate", "goose", "dbmate")


def _sidecar_notes(found: dict) -> dict[str, str]:
    """The shape-only tools whose folder is inside a program tool's migrations folder, each with
    the evidence line that says why it is not a candidate."""
    notes = {}
    for shape in _SHAPE_TOOLS:
        folder = found.get(shape, (None, None))[1]
        if folder is None:
            continue
        for owner in (t for t in PRIORITY if t in PROGRAM_TOOLS):
            theirs = found.get(owner, (None, None))[1]
            if theirs and PurePosixPath(folder).is_relative_to(PurePosixPath(theirs)):
                notes[shape] = (f"{shape}: not a candidate: the SQL files in {folder} are in {owner}'s migrations "
                                f"folder, where its migrations read them")
                break
    return notes


def detect(project_dir: Path, tool_override: str | None = None, settings: Settings | None = None) -> Detection:
    """The project's migration tool and folder.

    `tool_override` (the --tool flag) wins over settings.tool, which wins over
    detection; a configured settings.migrations_dir always wins over a found one.
    """
    root = Path(project_dir)
    if not root.is_dir():
        raise FluxInputError(f"project folder not found: {project_dir}")
    override = tool_override or (settings.tool if settings else None)
    chosen = check_tool(override) if override else None

    scan = Scan(root)
    found = {}
    for tool in PRIORITY:
        ev, folder = DETECTORS[tool](scan)
        if ev:
            found[tool] = (ev, folder)
    sidecars = _sidecar_notes(found)
    candidates = [t for t in found if t not in sidecars]
    evidence = [f"{tool}: {line}" for tool in candidates for line in found[tool][0]] + list(sidecars.values())

    if chosen:
        tool, ambiguous = chosen, False
        evidence.insert(0, f"{tool}: chosen by {'--tool' if tool_override else 'settings'}")
    elif candidates:
        tool, ambiguous = candidates[0], len(candidates) > 1
    else:
        tool, ambiguous = "sql", False
        evidence.append("sql: no migration tool found; plain SQL files in dbmate format")

    # `sql` writes dbmate's format, so dbmate's folder is the right one for it too.
    hit = found.get(tool) or (found.get("dbmate") if tool == "sql" else None)
    migrations_dir = (hit[1] if hit else None) or DEFAULT_DIRS[tool]
    source = f"found by {hit[0][-1]}" if hit and hit[1] else f"{tool}'s default folder"
    if settings and settings.migrations_dir:
        configured = inside(settings.migrations_dir)
        if configured is None:
            raise FluxInputError(f"migrations_dir must be a folder inside the project: {settings.migrations_dir}")
        migrations_dir, source = configured, "set by migrations_dir in the settings (.flux.yaml or [tool.flux])"
    evidence.append(f"migrations: {migrations_dir}, {source}")
    dialect, where = dialect_of(scan, tool, migrations_dir)
    if dialect != "postgresql":  # PostgreSQL is the default; another database is said with its source
        evidence.append(f"dialect: {where}")
    return Detection(tool=tool, dialect=dialect, migrations_dir=migrations_dir, evidence=evidence,
                     candidates=candidates, ambiguous=ambiguous)
