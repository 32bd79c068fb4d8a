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

import configparser
import json
import os
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Callable, Optional

from pydantic import BaseModel

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from ..errors import FluxInputError
from ..model.settings import Settings
from ..pg.parse import SqlSyntaxError, tokens

# The `tool` vocabulary of DESIGN.md section 3.
TOOLS = (
    "sql", "dbmate", "prisma", "alembic", "drizzle", "typeorm", "knex", "rails",
    "golang-migrate", "goose", "flyway", "django", "sequelize", "sqitch", "node-pg-migrate",
)

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

_SKIP = {"node_modules", ".git", ".venv", "venv", "dist", "build"}
_MAX_DEPTH = 4  # app folders one or two down, and resources/migrations/postgres below them
_MAX_FILES = 50_000  # stop walking a huge tree rather than hang
_MAX_SQL_READS = 2_000
_HEAD = 8_192  # tool markers sit at the top of a file


class Detection(BaseModel):
    tool: str
    dialect: str = "postgresql"
    migrations_dir: str
    evidence: list[str]
    candidates: list[str]
    ambiguous: bool


class _Scan:
    """The project's file list (relative posix paths), read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        files: list[PurePosixPath] = []
        dirs: set[PurePosixPath] = set()
        for here, dirnames, filenames in os.walk(root):
            rel = PurePosixPath(Path(here).relative_to(root).as_posix())
            depth = 0 if rel == PurePosixPath(".") else len(rel.parts)
            dirs.add(rel)
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP) if depth < _MAX_DEPTH else []
            files.extend(rel / f for f in sorted(filenames))
            if len(files) >= _MAX_FILES:
                break
        # Shallow first, then by name: the first match is the nearest, deterministically.
        self.files = sorted(files, key=lambda p: (len(p.parts), p.as_posix()))
        self.names = set(self.files)
        self.dirs = dirs
        self._heads: Optional[list[tuple[PurePosixPath, str]]] = None

    def named(self, *names: str) -> list[PurePosixPath]:
        return [f for f in self.files if f.name in names]

    def read(self, rel: PurePosixPath, limit: int = 65_536) -> str:
        try:
            with open(self.root / rel, encoding="utf-8", errors="replace") as fh:
                return fh.read(limit)
        except OSError:
            return ""

    def sql_heads(self) -> list[tuple[PurePosixPath, str]]:
        """(path, first characters) of .sql files, read once, capped so a big tree cannot stall detection."""
        if self._heads is None:
            sql = [f for f in self.files if f.suffix.lower() == ".sql"][:_MAX_SQL_READS]
            self._heads = [(f, self.read(f, _HEAD)) for f in sql]
        return self._heads

    def dependencies(self) -> list[tuple[PurePosixPath, set[str]]]:
        out = []
        for f in self.named("package.json"):
            try:
                data = json.loads(self.read(f, 1_000_000))
            except ValueError:
                continue
            deps: set[str] = set()
            for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
                if isinstance(data.get(key), dict):
                    deps.update(data[key])
            out.append((f, deps))
        return out


def _join(base: PurePosixPath, *parts: str) -> str:
    return PurePosixPath(base, *parts).as_posix()


def _inside(value: str) -> Optional[str]:
    """A configured relative folder, or None when it is absolute or climbs out."""
    value = value.strip().strip("'\"").replace("\\", "/")
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or ":" in value:
        return None
    return path.as_posix()


Found = tuple[list[str], Optional[str]]  # evidence lines, migrations folder


def _dbmate(scan: _Scan) -> Found:
    ev, folder, configured = [], None, None
    for f, head in scan.sql_heads():
        if re.search(r"^\s*--\s*migrate:up\b", head, re.M):
            ev.append(f"{f} has a '-- migrate:up' line")
            folder = f.parent.as_posix()
            break
    for f, deps in scan.dependencies():
        if "dbmate" in deps or any(d.startswith("@dbmate/") for d in deps):
            ev.append(f"{f} depends on dbmate")
            folder = folder or _join(f.parent, "db/migrations")
        where = _script_flag(scan, f, "dbmate", ("--migrations-dir", "-d"))
        if where:
            ev.append(f"{f} runs dbmate with its migrations in {where}")
            configured = configured or _join(f.parent, where)
    for f in scan.named(".env"):
        text = scan.read(f)
        if re.search(r"^\s*(export\s+)?DBMATE_\w+\s*=", text, re.M):
            ev.append(f"{f} sets DBMATE_* variables")
            m = re.search(r"^\s*(?:export\s+)?DBMATE_MIGRATIONS_DIR\s*=\s*(\S+)", text, re.M)
            if m and _inside(m.group(1)):
                configured = configured or _join(f.parent, _inside(m.group(1)))
            folder = folder or _join(f.parent, "db/migrations")
    return ev, configured or folder


def _script_flag(scan: _Scan, package: PurePosixPath, program: str, flags: tuple[str, ...]) -> Optional[str]:
    """The folder a package.json script passes to `program` with one of `flags`."""
    try:
        scripts = json.loads(scan.read(package, 1_000_000)).get("scripts") or {}
    except (ValueError, AttributeError):
        return None
    for command in scripts.values() if isinstance(scripts, dict) else ():
        try:
            words = shlex.split(str(command))
        except ValueError:
            continue
        if program not in [PurePosixPath(w).name for w in words]:
            continue
        for i, word in enumerate(words):
            name, _, value = word.partition("=")
            if name in flags and (value or i + 1 < len(words)):
                return _inside(value or words[i + 1])
    return None


def _prisma(scan: _Scan) -> Found:
    # Prisma's own order: prisma.config.ts's schema (and migrations path), package.json's
    # prisma.schema, then the default places, prisma/schema.prisma before ./schema.prisma.
    for f in scan.named(*(f"prisma.config.{ext}" for ext in ("ts", "js", "mts", "mjs", "cts", "cjs"))):
        text = scan.read(f)
        schema = re.search(r"\bschema\s*:\s*[\"'`]([^\"'`]+)[\"'`]", text)
        migrations = re.search(r"\bmigrations\s*:\s*\{[^}]*?\bpath\s*:\s*[\"'`]([^\"'`]+)[\"'`]", text, re.S)
        where = _inside(schema.group(1)) if schema else None
        folder = _inside(migrations.group(1)) if migrations else None
        if where or folder:
            base = PurePosixPath(f.parent, where or "prisma")
            base = base.parent if base.suffix == ".prisma" else base
            return [f"{f} names the schema {where or '(default)'}" + (f" and migrations {folder}" if folder else "")], \
                _join(f.parent, folder) if folder else _join(base, "migrations")
    for f in scan.named("package.json"):
        try:
            conf = json.loads(scan.read(f, 1_000_000)).get("prisma")
        except (ValueError, AttributeError):
            continue
        where = _inside(conf.get("schema", "")) if isinstance(conf, dict) and conf.get("schema") else None
        if where:
            base = PurePosixPath(f.parent, where)
            base = base.parent if base.suffix == ".prisma" else base
            return [f"{f} names the prisma schema {where}"], _join(base, "migrations")
    found = scan.named("schema.prisma")
    for f in sorted(found, key=lambda p: p.parent.name != "prisma"):  # prisma/ first, shallow first
        return [f"{f} exists"], _join(f.parent, "migrations")
    return [], None


def _alembic(scan: _Scan) -> Found:
    def versions_near(base: PurePosixPath) -> str:
        # A folder named versions beside an env.py is alembic's script folder.
        for d in sorted(scan.dirs, key=lambda p: (len(p.parts), p.as_posix())):
            if d.name == "versions" and (d.parent / "env.py") in scan.names and d.is_relative_to(base):
                return d.as_posix()
        return _join(base, "alembic/versions")

    for f in scan.named("alembic.ini"):
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(scan.read(f))
            location = parser.get("alembic", "script_location", fallback="")
        except configparser.Error:
            location = ""
        location = location.replace("%(here)s/", "").replace("%(here)s", ".")
        where = _inside(location) if location else None
        folder = _join(f.parent, where, "versions") if where else versions_near(f.parent)
        return [f"{f} exists"], folder
    for f in scan.named("pyproject.toml"):
        try:
            conf = tomllib.loads(scan.read(f, 1_000_000)).get("tool", {}).get("alembic")
        except tomllib.TOMLDecodeError:
            continue
        if isinstance(conf, dict):
            where = _inside(str(conf.get("script_location", "")).replace("%(here)s/", ""))
            folder = _join(f.parent, where, "versions") if where else versions_near(f.parent)
            return [f"{f} has [tool.alembic]"], folder
    return [], None


def _drizzle(scan: _Scan) -> Found:
    names = [f"drizzle.config.{ext}" for ext in ("ts", "js", "mjs", "cjs", "mts")]
    for f in scan.named(*names):
        m = re.search(r"\bout\s*:\s*[\"'`]([^\"'`]+)[\"'`]", scan.read(f))
        out = _inside(m.group(1)) if m else None
        return [f"{f} exists" + (f" with out: {out}" if out else "")], _join(f.parent, out or "drizzle")
    for f in scan.named("_journal.json"):  # drizzle-kit's journal of the migrations it generated
        if f.parent.name == "meta" and '"entries"' in scan.read(f, _HEAD):
            return [f"{f} is drizzle-kit's journal"], f.parent.parent.as_posix()
    return [], None


def _existing(scan: _Scan, base: PurePosixPath, *choices: str) -> str:
    for c in choices:
        if PurePosixPath(base, c) in scan.dirs:
            return _join(base, c)
    return _join(base, choices[-1])


def _glob_folder(pattern: str) -> Optional[str]:
    """The folder part of a migrations glob (`src/db/migrations/*.ts` -> src/db/migrations)."""
    parts = []
    for part in pattern.replace("\\", "/").split("/"):
        if any(c in part for c in "*?[{") or part.endswith((".ts", ".js")):
            break
        parts.append(part)
    return _inside("/".join(parts)) if parts else None


def _typeorm(scan: _Scan) -> Found:
    ev, base, configured = [], None, None
    for f in scan.files:
        if f.name.startswith("ormconfig.") or re.fullmatch(r"(?:.*[-_.])?data-?source\.(?:ts|js|mts|cts|mjs|cjs)",
                                                            f.name, re.I):
            text = scan.read(f)
            if f.name.startswith("ormconfig.") or "DataSource" in text:
                ev.append(f"{f} {'exists' if f.name.startswith('ormconfig.') else 'makes a DataSource'}")
                base = base or f.parent
                m = re.search(r"\bmigrations\s*[:=]\s*\[\s*[\"'`]([^\"'`]+)[\"'`]", text)
                where = _glob_folder(m.group(1)) if m else None
                # TypeORM reads the globs from where it runs: the package the file belongs to.
                home = max((p.parent for p in scan.named("package.json") if f.is_relative_to(p.parent)),
                           key=lambda p: len(p.parts), default=PurePosixPath("."))
                configured = configured or (_join(home, where) if where else None)
                break
    for f, deps in scan.dependencies():
        if "typeorm" in deps:
            ev.append(f"{f} depends on typeorm")
            base = base or f.parent
    return ev, configured or (_existing(scan, base, "src/migrations", "migrations") if ev else None)


def _knex(scan: _Scan) -> Found:
    for f in scan.named(*(f"knexfile.{ext}" for ext in ("js", "ts", "cjs", "mjs"))):
        m = re.search(r"migrations\s*:\s*\{[^}]*?directory\s*:\s*['\"`]([^'\"`]+)['\"`]", scan.read(f), re.S)
        where = _inside(m.group(1)) if m else None
        return [f"{f} exists"], _join(f.parent, where or "migrations")
    return [], None


def _rails(scan: _Scan) -> Found:
    for f in scan.named("Gemfile"):
        if re.search(r"^\s*gem\s+['\"](rails|railties|activerecord)['\"]", scan.read(f), re.M):
            if PurePosixPath(f.parent, "db/migrate") in scan.dirs:
                return [f"{f} uses rails and {_join(f.parent, 'db/migrate')} exists"], _join(f.parent, "db/migrate")
    for f in scan.named("schema.rb", "structure.sql"):  # the schema Rails dumps, without its app around it
        text = scan.read(f, _HEAD * 4)
        if f.parent.name == "db" and ("ActiveRecord::Schema" in text or "schema_migrations" in scan.read(f)):
            return [f"{f} is a Rails schema dump"], _join(f.parent, "migrate")
    return [], None


def _migration_modules(scan: _Scan, base: PurePosixPath) -> Optional[str]:
    """The first folder a settings module's MIGRATION_MODULES names (`{"shop": "shop.db_migrations"}`)."""
    for f in scan.files:
        if f.suffix == ".py" and "settings" in f.as_posix() and f.is_relative_to(base):
            m = re.search(r"MIGRATION_MODULES\s*=\s*\{[^}]*?:\s*[\"']([\w.]+)[\"']", scan.read(f), re.S)
            if m:
                return _join(base, m.group(1).replace(".", "/"))
    return None


def _django(scan: _Scan) -> Found:
    for f in scan.named("manage.py"):
        base = f.parent
        configured = _migration_modules(scan, base)
        if configured:
            return [f"{f} exists; MIGRATION_MODULES names {configured}"], configured
        for g in scan.files:  # nearest app first: files are sorted shallow-first
            if g.name == "__init__.py" and g.parent.name == "migrations" and g.is_relative_to(base):
                return [f"{f} exists"], g.parent.as_posix()
        return [f"{f} exists"], _join(base, "migrations")
    return [], None


def _golang_migrate(scan: _Scan) -> Found:
    for f in scan.files:
        if f.name.endswith(".up.sql") and f.with_name(f.name[: -len(".up.sql")] + ".down.sql") in scan.names:
            return [f"{f} has a matching .down.sql"], f.parent.as_posix()
    # Up-only projects: several NNN_name.up.sql files in one folder, golang-migrate's naming.
    ups: dict[PurePosixPath, int] = {}
    for f in scan.files:
        if re.fullmatch(r"\d+_[^/]+\.up\.sql", f.name):
            ups[f.parent] = ups.get(f.parent, 0) + 1
    for folder, count in sorted(ups.items(), key=lambda kv: (len(kv[0].parts), kv[0].as_posix())):
        if count >= 2:
            return [f"{folder} holds {count} files named NNN_name.up.sql"], folder.as_posix()
    return [], None


def _goose(scan: _Scan) -> Found:
    for f, head in scan.sql_heads():
        if re.search(r"^\s*--\s*\+goose\s+up\b", head, re.M | re.I):
            return [f"{f} has a '-- +goose Up' line"], f.parent.as_posix()
    return [], None


def _flyway(scan: _Scan) -> Found:
    ev, folder = [], None
    for f in scan.files:
        if re.fullmatch(r"V\d+(?:[._]\d+)*__.+\.sql", f.name):
            ev.append(f"{f} is a versioned flyway migration")
            folder = f.parent.as_posix()
            break
    for f in scan.named("flyway.conf", "flyway.toml"):
        ev.append(f"{f} exists")
        m = re.search(r"filesystem:([^,\"'\s\]]+)", scan.read(f))
        where = _inside(m.group(1)) if m else None
        folder = folder or _join(f.parent, where or "db/migration")
        break
    return ev, folder


def _sequelize(scan: _Scan) -> Found:
    for f in scan.named(".sequelizerc"):
        folder = "migrations"
        m = re.search(r"['\"]migrations-path['\"]\s*:(.*)", scan.read(f))
        if m:  # path.resolve('db', 'migrations') -> db/migrations
            parts = re.findall(r"['\"]([^'\"]+)['\"]", m.group(1))
            folder = _inside("/".join(parts)) or folder
        return [f"{f} exists"], _join(f.parent, folder)
    for f, deps in scan.dependencies():
        if "sequelize-cli" in deps:
            return [f"{f} depends on sequelize-cli"], _join(f.parent, "migrations")
    return [], None


def _sqitch(scan: _Scan) -> Found:
    for f in scan.named("sqitch.plan"):
        return [f"{f} exists"], f.parent.as_posix()
    return [], None


def _node_pg_migrate(scan: _Scan) -> Found:
    for f, deps in scan.dependencies():
        if "node-pg-migrate" in deps:
            where = _script_flag(scan, f, "node-pg-migrate", ("-m", "--migrations-dir"))
            said = f" and runs it with its migrations in {where}" if where else ""
            return [f"{f} depends on node-pg-migrate{said}"], _join(f.parent, where or "migrations")
    return [], None


_DETECTORS: dict[str, Callable[[_Scan], Found]] = {
    "prisma": _prisma, "rails": _rails, "django": _django, "alembic": _alembic,
    "drizzle": _drizzle, "typeorm": _typeorm, "knex": _knex, "sequelize": _sequelize,
    "node-pg-migrate": _node_pg_migrate, "dbmate": _dbmate, "goose": _goose,
    "golang-migrate": _golang_migrate, "flyway": _flyway, "sqitch": _sqitch,
}


def check_tool(name: str) -> str:
    tool = name.strip().lower()
    if tool not in TOOLS:
        raise FluxInputError(f"unknown tool {name!r}; expected one of: {', '.join(TOOLS)}")
    return tool


def ddl_folders(project_dir: Path, skip: str = "") -> list[str]:
    """Folders (relative, shallow first) holding .sql files that create tables, other than
    `skip`: where a project's migrations may be when the ones Flux looked at are not."""
    folders: list[str] = []
    for rel, head in _Scan(Path(project_dir)).sql_heads():
        folder = rel.parent.as_posix()
        if folder == PurePosixPath(skip).as_posix() or folder in folders:
            continue
        if _creates_table(head):
            folders.append(folder)
    return folders


def _creates_table(sql: str) -> bool:
    try:
        words = [sql[t.start:t.end].upper() for t in tokens(sql)]
    except SqlSyntaxError:
        return False
    return any(a == "CREATE" and b == "TABLE" for a, b in zip(words, words[1:]))


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

    scan = _Scan(root)
    found = {}
    for tool in PRIORITY:
        ev, folder = _DETECTORS[tool](scan)
        if ev:
            found[tool] = (ev, folder)
    candidates = list(found)
    evidence = [f"{tool}: {line}" for tool in candidates for line in found[tool][0]]

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
        configured = _inside(settings.migrations_dir)
        if configured is None:
            raise FluxInputError(f"migrations_dir must be a folder inside the project: {settings.migrations_dir}")
        migrations_dir, source = configured, "set by migrations_dir in the settings (.flux.yaml or [tool.flux])"
    evidence.append(f"migrations: {migrations_dir}, {source}")
    return Detection(tool=tool, migrations_dir=migrations_dir, evidence=evidence,
                     candidates=candidates, ambiguous=ambiguous)
