"""One detector per migration tool: the evidence a project holds for it (the tool's own
configuration, read as text the way the tool reads it, else the files' own shape) and the
migrations folder that evidence names."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Callable, Optional

from . import dotenv, drizzle_config
from .alembic_config import detect_alembic as _alembic
from .scan import (
    HEAD, SKIP, Found, Scan, existing, glob_folder, hidden, inside, join, other_database, runs_program, script_flag,
)


def _dbmate(scan: Scan) -> Found:
    ev, folder, configured = [], None, None
    marked: dict[str, int] = {}  # folder -> its files with a migrate:up line
    for f, head in scan.sql_heads():
        if re.search(r"^\s*--\s*migrate:up\b", head, re.M):
            if not marked:
                ev.append(f"{f} has a '-- migrate:up' line")
            marked[f.parent.as_posix()] = marked.get(f.parent.as_posix(), 0) + 1
    if marked:  # dbmate's own folder when it holds any, else the folder holding most (not a stray file)
        folder = "db/migrations" if "db/migrations" in marked else max(marked, key=lambda k: (marked[k], -len(k)))
    for f, deps in scan.dependencies():
        if "dbmate" in deps or any(d.startswith("@dbmate/") for d in deps):
            ev.append(f"{f} depends on dbmate")
            folder = folder or join(f.parent, "db/migrations")
        where = script_flag(scan, f, "dbmate", ("--migrations-dir", "-d"))
        if where:
            ev.append(f"{f} runs dbmate with its migrations in {where}")
            configured = configured or join(f.parent, where)
    for f in scan.named(".env"):
        values = dotenv.parse(scan.read(f))
        if any(k.startswith("DBMATE_") for k in values):
            ev.append(f"{f} sets DBMATE_* variables")
            where = values.get("DBMATE_MIGRATIONS_DIR")
            if where and inside(where):
                configured = configured or join(f.parent, inside(where))
            folder = folder or join(f.parent, "db/migrations")
    return ev, configured or folder




def _prisma(scan: Scan) -> Found:
    # Prisma's own order: prisma.config.ts's schema (and migrations path), package.json's
    # prisma.schema, then the default places, prisma/schema.prisma before ./schema.prisma.
    for f in scan.named(*(f"prisma.config.{ext}" for ext in ("ts", "js", "mts", "mjs", "cts", "cjs"))):
        text = scan.read(f)
        schema = re.search(r"\bschema\s*:\s*[\"'`]([^\"'`]+)[\"'`]", text)
        migrations = re.search(r"\bmigrations\s*:\s*\{[^}]*?\bpath\s*:\s*[\"'`]([^\"'`]+)[\"'`]", text, re.S)
        where = inside(schema.group(1)) if schema else None
        folder = inside(migrations.group(1)) if migrations else None
        if where or folder:
            base = PurePosixPath(f.parent, where or "prisma")
            base = base.parent if base.suffix == ".prisma" else base
            evidence = [f"{f} names the schema {where or '(default)'}" + (f" and migrations {folder}" if folder else "")]
            named = join(f.parent, folder) if folder else join(base, "migrations")
            kept = _prisma_migrations_kept(scan, base.parent) if folder and not (scan.root / named).is_dir() else None
            if kept is not None:  # formbricks: a folder its own script fills from the one kept in git
                evidence.append(f"{named} is not in the project (made by a script?): its migrations are kept in "
                                f"{kept[0]} ({kept[1]} migration.sql files)")
                return evidence, kept[0]
            return evidence, named
    for f in scan.named("package.json"):
        try:
            conf = json.loads(scan.read(f, 1_000_000)).get("prisma")
        except (ValueError, AttributeError):
            continue
        where = inside(conf.get("schema", "")) if isinstance(conf, dict) and conf.get("schema") else None
        if where:
            base = PurePosixPath(f.parent, where)
            base = base.parent if base.suffix == ".prisma" else base
            return [f"{f} names the prisma schema {where}"], join(base, "migrations")
    found = scan.named("schema.prisma")
    for f in sorted(found, key=lambda p: p.parent.name != "prisma"):  # prisma/ first, shallow first
        return [f"{f} exists"], join(f.parent, "migrations")
    return [], None


def _prisma_migrations_kept(scan: Scan, near: PurePosixPath) -> Optional[tuple[str, int]]:
    """The folder under `near` holding the most Prisma migrations (<name>/migration.sql), and how many."""
    counts: dict[str, int] = {}
    for f in scan.named("migration.sql"):
        if f.is_relative_to(near) and len(f.parts) >= 3:
            counts[f.parent.parent.as_posix()] = counts.get(f.parent.parent.as_posix(), 0) + 1
    if not counts:
        return None
    folder = max(counts, key=lambda k: (counts[k], -len(k)))
    return folder, counts[folder]


def _drizzle(scan: Scan) -> Found:
    for f in (f for f in scan.named(*drizzle_config.CONFIGS) if not hidden(f)):
        value = drizzle_config.setting(scan.root / f, "out")  # the config read as drizzle_config reads it
        out = inside(value) if value else None
        return [f"{f} exists" + (f" with out: {out}" if out else "")], _drizzle_out(scan, f, out or "drizzle")
    for f in scan.named("_journal.json"):  # drizzle-kit's journal of the migrations it generated
        if f.parent.name == "meta" and '"entries"' in scan.read(f, HEAD):
            return [f"{f} is drizzle-kit's journal"], f.parent.parent.as_posix()
    return [], None


def _drizzle_out(scan: Scan, config: PurePosixPath, out: str) -> str:
    """drizzle-kit reads `out` from the folder it runs in: the package's (its package.json's, where
    `drizzle-kit generate --config server/db/drizzle.config.ts` runs: dokploy), not the config's;
    the config's own folder where only that one holds it."""
    package = drizzle_config.package_of(scan.root / config, scan.root).relative_to(scan.root)
    options = [join(PurePosixPath(d.as_posix()), out) for d in (package, config.parent)]
    return next((o for o in options if (scan.root / o).is_dir()), options[0])


def _typeorm(scan: Scan) -> Found:
    ev, base, configured, packages = [], None, None, []
    for f in scan.files:
        if f.name.startswith("ormconfig.") or re.fullmatch(r"(?:.*[-_.])?data-?source\.(?:ts|js|mts|cts|mjs|cjs)",
                                                            f.name, re.I):
            text = scan.read(f)
            # TypeORM's DataSource is imported from "typeorm": a file of the app's own data
            # sources (redash's client/app/services/data-source.js) is not one.
            if f.name.startswith("ormconfig.") or ("DataSource" in text and "typeorm" in text):
                ev.append(f"{f} {'exists' if f.name.startswith('ormconfig.') else 'makes a DataSource'}")
                base = base or f.parent
                # One config per database (jellyseerr's sqlite then postgres): PostgreSQL's, not the first.
                globs = re.findall(r"\bmigrations\s*[:=]\s*\[\s*[\"'`]([^\"'`]+)[\"'`]", text)
                where = min((d for d in map(glob_folder, globs) if d), key=other_database, default=None)
                # TypeORM reads the globs from where it runs: the package the file belongs to.
                home = max((p.parent for p in scan.named("package.json") if f.is_relative_to(p.parent)),
                           key=lambda p: len(p.parts), default=PurePosixPath("."))
                configured = configured or (join(home, where) if where else None)
                break
    for f, deps in scan.dependencies():
        if "typeorm" in deps:
            ev.append(f"{f} depends on typeorm")
            base = base or f.parent
            packages.append(f.parent)
    if not ev or configured:
        return ev, configured
    folder = existing(scan, base, "src/migrations", "migrations")
    if PurePosixPath(folder) not in scan.dirs:  # not where TypeORM's examples keep them: where its files are
        found = _typeorm_files(scan, packages)
        if found is not None:
            ev.append(f"{found[0]} holds {found[1]} TypeORM migrations (<timestamp>-Name with a MigrationInterface)")
            folder = found[0].as_posix()
    return ev, folder


# TypeORM's generated migration files: a millisecond time stamp, a dash, the class's name.
_TYPEORM_FILE = re.compile(r"\d{13}-\w+\.(?:ts|js|mts|cts|mjs|cjs)$")


def _typeorm_files(scan: Scan, packages: list[PurePosixPath]) -> Optional[tuple[PurePosixPath, int]]:
    """The folder under the packages that depend on typeorm holding the most TypeORM migration
    files (ever-gauzy keeps its 278 in packages/core/src/lib/database/migrations, deeper than the
    scan looks), and how many: one of them implements MigrationInterface."""
    found = _named_migrations(scan, packages, _TYPEORM_FILE, re.compile("MigrationInterface"))
    return found[:2] if found else None


def _knex(scan: Scan) -> Found:
    for f in scan.named(*(f"knexfile.{ext}" for ext in ("js", "ts", "cjs", "mjs"))):
        m = re.search(r"migrations\s*:\s*\{[^}]*?directory\s*:\s*['\"`]([^'\"`]+)['\"`]", scan.read(f), re.S)
        where = inside(m.group(1)) if m else None
        return [f"{f} exists"], join(f.parent, where or "migrations")
    # No knexfile: an app that runs knex's migrations itself (Joplin's server: knex.migrate.latest with
    # its own settings). The dependency alone says little (knex is a query builder too): a folder of
    # migrations named as knex names them is what counts.
    return _dependency_and_folder(scan, "knex", _KNEX_FILE, _DEFINES_UP, "knex names them (<timestamp>_name, defining up)")


# knex's migrate:make names: a time stamp (or any number) first, then the name.
_KNEX_FILE = re.compile(r"\d{8,}[-_][\w.-]+\.(?:ts|js|mts|cts|mjs|cjs)$")
_DEFINES_UP = re.compile(r"\bup\b\s*[(:=]|\bexports\.up\b|\bmodule\.exports\s*=\s*require\s*\(")


def _dependency_and_folder(scan: Scan, dependency: str, named: re.Pattern, shaped: re.Pattern, how: str) -> Found:
    """A package depending on `dependency` and a folder of it holding migrations `named` and `shaped`
    as the tool makes them (`how` it names them, for the evidence)."""
    packages = [f.parent for f, deps in scan.dependencies() if dependency in deps]
    found = _named_migrations(scan, packages, named, shaped)
    if found is None:
        return [], None
    return [f"{found[2]} depends on {dependency} and {found[0]} holds {found[1]} migrations named as {how}"], \
        found[0].as_posix()


def _named_migrations(scan: Scan, packages: list[PurePosixPath], named: re.Pattern,
                      shaped: re.Pattern) -> Optional[tuple[PurePosixPath, int, PurePosixPath]]:
    """The folder under `packages` holding the most files `named` so, one of the first three of
    them `shaped` so (a folder named for another database last: Flowise's migrations/mysql holds one
    more than its migrations/postgres); how many; and the package.json of the package it is in."""
    counts: dict[PurePosixPath, tuple[list[str], PurePosixPath]] = {}
    for package in packages:
        top = scan.root / package
        for folder, subdirs, names in os.walk(top):
            depth = len(Path(folder).relative_to(top).parts)
            subdirs[:] = [d for d in sorted(subdirs) if d not in SKIP and not d.startswith(".") and depth < 6]
            hits = [n for n in names if named.match(n)]
            if hits:
                counts[PurePosixPath(Path(folder).relative_to(scan.root).as_posix())] = (sorted(hits), package)
    for folder, (names, package) in sorted(counts.items(), key=lambda kv: (other_database(kv[0]), -len(kv[1][0]),
                                                                          kv[0].as_posix())):
        if any(shaped.search(scan.read(folder / n, HEAD * 4)) for n in names[:3]):
            return folder, len(names), package / "package.json"
    return None


def _rails(scan: Scan) -> Found:
    for f in scan.named("Gemfile"):
        if re.search(r"^\s*gem\s+['\"](rails|railties|activerecord)['\"]", scan.read(f), re.M):
            if PurePosixPath(f.parent, "db/migrate") in scan.dirs:
                return [f"{f} uses rails and {join(f.parent, 'db/migrate')} exists"], join(f.parent, "db/migrate")
    for f in scan.named("schema.rb", "structure.sql"):  # the schema Rails dumps, without its app around it
        text = scan.read(f, HEAD * 4)
        if f.parent.name == "db" and ("ActiveRecord::Schema" in text or "schema_migrations" in scan.read(f)):
            return [f"{f} is a Rails schema dump"], join(f.parent, "migrate")
    return [], None


def _migration_modules(scan: Scan, base: PurePosixPath) -> Optional[str]:
    """The first folder a settings module's MIGRATION_MODULES names (`{"shop": "shop.db_migrations"}`)."""
    for f in scan.files:
        if f.suffix == ".py" and "settings" in f.as_posix() and f.is_relative_to(base):
            m = re.search(r"MIGRATION_MODULES\s*=\s*\{[^}]*?:\s*[\"']([\w.]+)[\"']", scan.read(f), re.S)
            if m:
                return join(base, m.group(1).replace(".", "/"))
    return None


def _django(scan: Scan) -> Found:
    for f in scan.named("manage.py"):
        # Django's own manage.py names its settings (DJANGO_SETTINGS_MODULE); Flask and other
        # apps ship a manage.py too (redash's is Flask's, beside its alembic folder).
        if "django" not in scan.read(f, HEAD).lower():
            continue
        base = f.parent
        configured = _migration_modules(scan, base)
        if configured:
            return [f"{f} exists; MIGRATION_MODULES names {configured}"], configured
        apps = django_apps(scan, base)  # nearest app first: files are sorted shallow-first
        # One folder is named (a migration of a table no model owns goes there), but each app's are the
        # project's: said, so the folder named is not read as the only one (netbox's twelve apps).
        many = [f"{len(apps)} apps keep migrations ({', '.join(PurePosixPath(a).parent.name for a in apps)}); "
                f"a new migration goes to the app whose model owns its table"] if len(apps) > 1 else []
        return [*many, f"{f} exists"], apps[0] if apps else join(base, "migrations")
    return [], None


def django_apps(scan: Scan, base: PurePosixPath) -> list[str]:
    """The migrations folder of each app below the Django project's manage.py (`base`), nearest first."""
    return [g.parent.as_posix() for g in scan.files
            if g.name == "__init__.py" and g.parent.name == "migrations" and g.is_relative_to(base)]


def _golang_migrate(scan: Scan) -> Found:
    # The folder holding the most up/down pairs (river keeps test fixtures' pairs nearer the root than
    # its drivers' migrations), the shallowest of equals first.
    pairs: dict[PurePosixPath, list[PurePosixPath]] = {}
    for f in scan.files:
        if f.name.endswith(".up.sql") and f.with_name(f.name[: -len(".up.sql")] + ".down.sql") in scan.names:
            pairs.setdefault(f.parent, []).append(f)
    # Another database's pairs (atuin's SQLite crates beside its PostgreSQL server's) are never the project's.
    pairs = {d: fs for d, fs in pairs.items() if d not in scan.other_sql_folders} if pairs else pairs
    if pairs:
        folder, *others = sorted(pairs, key=lambda d: (other_database(d), -len(pairs[d]), len(d.parts), d.as_posix()))
        return [f"{pairs[folder][0]} has a matching .down.sql"
                + (f" ({len(pairs[folder])} pairs in its folder; {len(others)} other folder"
                   f"{'s hold' if len(others) > 1 else ' holds'} pairs too, e.g. {others[0]} with "
                   f"{len(pairs[others[0]])}: choose with migrations_dir)" if others else "")], folder.as_posix()
    # Up-only projects: several NNN_name.up.sql files in one folder, golang-migrate's naming.
    ups: dict[PurePosixPath, int] = {}
    for f in scan.files:
        if re.fullmatch(r"\d+_[^/]+\.up\.sql", f.name):
            ups[f.parent] = ups.get(f.parent, 0) + 1
    for folder, count in sorted(ups.items(),
                                key=lambda kv: (other_database(kv[0]), len(kv[0].parts), kv[0].as_posix())):
        if count >= 2 and folder not in scan.other_sql_folders:
            return [f"{folder} holds {count} files named NNN_name.up.sql"], folder.as_posix()
    return [], None


def _goose(scan: Scan) -> Found:
    for f, head in scan.sql_heads():
        if re.search(r"^\s*--\s*\+goose\s+up\b", head, re.M | re.I):
            return [f"{f} has a '-- +goose Up' line"], f.parent.as_posix()
    return [], None


def _flyway(scan: Scan) -> Found:
    ev, folder = [], None
    for f in scan.files:
        if re.fullmatch(r"V\d+(?:[._]\d+)*__.+\.sql", f.name):
            ev.append(f"{f} is a versioned flyway migration")
            folder = f.parent.as_posix()
            break
    for f in scan.named("flyway.conf", "flyway.toml"):
        ev.append(f"{f} exists")
        m = re.search(r"filesystem:([^,\"'\s\]]+)", scan.read(f))
        where = inside(m.group(1)) if m else None
        folder = folder or join(f.parent, where or "db/migration")
        break
    return ev, folder


def _sequelize(scan: Scan) -> Found:
    for f in scan.named(".sequelizerc"):
        folder = "migrations"
        m = re.search(r"['\"]migrations-path['\"]\s*:(.*)", scan.read(f))
        if m:  # path.resolve('db', 'migrations') -> db/migrations
            parts = re.findall(r"['\"]([^'\"]+)['\"]", m.group(1))
            folder = inside("/".join(parts)) or folder
        return [f"{f} exists"], join(f.parent, folder)
    for f, deps in scan.dependencies():
        if "sequelize-cli" in deps:
            return [f"{f} depends on sequelize-cli"], join(f.parent, "migrations")
    # sequelize-cli installed globally (as its own README says): the dependency on sequelize and a
    # folder of migrations named as sequelize-cli names them, written with its queryInterface.
    return _dependency_and_folder(scan, "sequelize", _SEQUELIZE_FILE, _QUERY_INTERFACE,
                                  "sequelize-cli names them (<YYYYMMDDHHMMSS>-name, calling queryInterface)")


# sequelize-cli's migration:generate names: a 14-digit time stamp, a dash, the name.
_SEQUELIZE_FILE = re.compile(r"\d{14}-[\w.-]+\.(?:js|cjs|mjs|ts)$")
_QUERY_INTERFACE = re.compile(r"\bqueryInterface\b|\.(?:createTable|addColumn|addIndex)\s*\(")


def _sqitch(scan: Scan) -> Found:
    for f in scan.named("sqitch.plan"):
        return [f"{f} exists"], f.parent.as_posix()
    return [], None


def _node_pg_migrate(scan: Scan) -> Found:
    for f, deps in scan.dependencies():
        # A script running it is enough: stacks' comes through another package's dependencies
        if "node-pg-migrate" in deps or runs_program(scan, f, "node-pg-migrate"):
            where = script_flag(scan, f, "node-pg-migrate", ("-m", "--migrations-dir"))
            said = f" and runs it with its migrations in {where}" if where else ""
            how = "depends on node-pg-migrate" if "node-pg-migrate" in deps else "runs node-pg-migrate in a script"
            return [f"{f} {how}{said}"], join(f.parent, where or "migrations")
    return [], None


DETECTORS: dict[str, Callable[[Scan], Found]] = {
    "prisma": _prisma, "rails": _rails, "django": _django, "alembic": _alembic,
    "drizzle": _drizzle, "typeorm": _typeorm, "knex": _knex, "sequelize": _sequelize,
    "node-pg-migrate": _node_pg_migrate, "dbmate": _dbmate, "goose": _goose,
    "golang-migrate": _golang_migrate, "flyway": _flyway, "sqitch": _sqitch,
}
