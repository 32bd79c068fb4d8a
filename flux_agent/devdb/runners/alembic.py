"""Alembic's runner: the project's own env.py upgrades the dev database to its heads, given the
dev database every way env.py files read their URL; where env.py cannot be used, the revisions
run through alembic's own environment machinery without it, and a note says why.

The URL reaches env.py as alembic.ini's sqlalchemy.url (set on the Config, not in the file),
as DATABASE_URL and its cousins in the environment, and as `-x url=...` (and db_url, dburl,
database_url). env.py fails for reasons the runner cannot mend: it reads a variable of its own,
imports application code with dependencies missing, or wants an async driver. Then the
fallback does what a plain env.py does: ScriptDirectory's revisions, EnvironmentContext with
one connection to the dev database, upgrade to heads, online (op.get_bind() works; transactions
and autocommit blocks as alembic runs them). A revision that fails is reported, never retried.
This file's top half is the parent's (Flux), the `child` function the child process's: it runs
by path with the project's interpreter, so that part uses the standard library, SQLAlchemy and
alembic only.
"""

from __future__ import annotations

import configparser
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

if __package__:  # imported by Flux, not run in the child
    from ...errors import FluxInputError
    from ...project.scan import package_folder
    from ...project import places
    from . import _python

X_NAMES = ("url", "db_url", "dburl", "database_url")


@dataclass(frozen=True)
class _Where:
    file: Path  # alembic.ini, or pyproject.toml with [tool.alembic]
    toml: bool
    folders: tuple[Path, ...]  # the script location, then other version locations
    section: str = "alembic"  # the ini's section (`alembic -n NAME`) whose script_location it is


class AlembicRunner:
    """flux_agent.devdb.program's Runner for Alembic."""

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        where = config_of(project, migrations_dir)
        files = [where.file]
        for folder in where.folders:
            files += [p for p in folder.rglob("*.py") if "__pycache__" not in p.parts]
        return sorted(set(files))

    def run(self, job) -> list[str]:
        where = config_of(job.project, job.migrations_dir)
        python = places.project_python(where.file.parent, job.project)
        result = _python.run_child(job, "alembic", python, where.file.parent, {
            "ini": "" if where.toml else str(where.file), "toml": str(where.file) if where.toml else "",
            "locations": [str(f) for f in where.folders], "section": where.section,
            "leave_out": list(job.leave_out)}, cwd_last=True, also=job.project)
        return _python.outcome(result, "Alembic")


def config_of(project: Path, migrations_dir: str) -> _Where:
    """The alembic configuration nearest the versions folder, and the folders holding its Python."""
    versions = project / migrations_dir
    for d in versions.parents:
        if (d / "alembic.ini").is_file():
            return _from_ini(d / "alembic.ini", versions, project)
        toml = d / "pyproject.toml"
        if tomllib is not None and toml.is_file():
            try:
                section = tomllib.loads(toml.read_text(encoding="utf-8")).get("tool", {}).get("alembic")
            except (OSError, ValueError):
                section = None
            if isinstance(section, dict):
                return _where(toml, True, str(section.get("script_location") or ""),
                              " ".join(map(str, section.get("version_locations") or [])), versions, project)
        if d == project or project not in d.parents:
            break
    raise FluxInputError("no alembic.ini (nor [tool.alembic] in pyproject.toml) for the migrations in "
                         f"{migrations_dir}: the dev database runs alembic with it; add it, or give --database-url")


def _from_ini(ini: Path, versions: Path, project: Path) -> _Where:
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)}, strict=False)
    try:
        parser.read(ini, encoding="utf-8")
        section = "alembic"
        if not parser.get("alembic", "script_location", fallback=""):
            # Named sections only (dispatch's core and tenant): the one whose scripts hold the versions.
            section = next((name for name in parser.sections() if (name != "alembic" and _located(
                ini, parser.get(name, "script_location", fallback=""), project) == versions.parent)), section)
        location = parser.get(section, "script_location", fallback="")
        others = parser.get(section, "version_locations", fallback="")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"cannot read {ini.name}: {' '.join(str(exc).split())}; "
                             "give --database-url") from None
    where = _where(ini, False, location, others, versions, project)
    return _Where(where.file, where.toml, where.folders, section)


def _located(file: Path, location: str, project: Path) -> Path | None:
    """The folder a script_location names, as alembic reads it: beside the config file, or a
    package's (`package:path`); None when it names no folder."""
    if not location:
        return None
    base = file.parent
    folder = base / location.replace("%(here)s", str(base))
    return folder if folder.is_dir() else package_folder(base, location, project)


def _where(file: Path, toml: bool, location: str, others: str, versions: Path, project: Path) -> _Where:
    base = file.parent
    folder = _located(file, location, project)
    if folder is None or not folder.is_dir():
        if not (versions.parent / "env.py").is_file():
            raise FluxInputError(f"alembic's script_location {location!r} ({file.name}) is not a folder with "
                                 "env.py; give --database-url to read the schema from a database instead")
        folder = versions.parent  # a package resource (pkg:path) or the like: where detection found it
    extra = [base / o.replace("%(here)s", str(base)) for o in re.split(r"[\s,;" + os.pathsep + "]+", others) if o]
    return _Where(file, toml, tuple(dict.fromkeys([folder] + [e for e in extra if e.is_dir()])))


RUNNER = AlembicRunner()


# --------------------------------------------------------------------------
# The child: runs in the project's interpreter, cwd the folder of alembic.ini
# --------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _url(sa, params: dict, original: str) -> str:
    """The dev database as a SQLAlchemy URL, with the driver the project names when it has it."""
    import importlib.util

    scheme = (original or "").split("://", 1)[0].lower()
    named = scheme.split("+", 1)[1] if scheme.startswith("postgres") and "+" in scheme else ""
    driver = next((d for d in (named, "psycopg2", "psycopg")
                   if d and importlib.util.find_spec({"psycopg_async": "psycopg"}.get(d, d)) is not None), "")
    socket = params["host"].startswith("/")
    if not hasattr(getattr(sa.engine, "URL", None), "create"):  # SQLAlchemy before 1.4 (redash pins 1.3.24)
        from urllib.parse import quote, urlencode

        auth = quote(params["user"], safe="") + (f":{quote(params['password'], safe='')}" if params["password"] else "")
        where = "" if socket else f"{params['host']}:{params['port']}"
        query = f"?{urlencode({'host': params['host'], 'port': params['port']})}" if socket else ""
        return (f"postgresql{'+' + driver if driver else ''}://{auth}@{where}/"
                f"{quote(params['database'], safe='')}{query}")
    url = sa.engine.URL.create(f"postgresql+{driver}" if driver else "postgresql", username=params["user"],
                               password=params["password"] or None, host=None if socket else params["host"],
                               port=None if socket else params["port"], database=params["database"],
                               query={"host": params["host"], "port": str(params["port"])} if socket else {})
    return url.render_as_string(hide_password=False)


def _revision(exc: BaseException, locations: list) -> str | None:
    """file:line of the revision the exception came from (None when it came from env.py or alembic)."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.name != "env.py" and any(path.is_relative_to(loc) for loc in locations):
            found = f"{os.path.relpath(path)}:{frame.lineno}"
    return found


def _error(exc: BaseException, revision: str | None) -> dict:
    if isinstance(exc, ImportError):
        return {"status": "missing", "message": f"cannot import {exc.name or 'a module'} ({_first_line(exc)})"}
    where = f"revision {revision} failed: " if revision else ""
    return {"status": "failed", "message": where + _first_line(exc)}


def _left_out(result: dict, tolerated) -> dict:
    """A failure's message with the revisions gone past before it: often its cause (mealie's first
    revision failed importing psycopg, so the next found no table)."""
    if result.get("status") == "failed" and tolerated.untouched:
        result["message"] += "; " + "; ".join(tolerated.notes())
    return result


def child(config: dict, check, tolerated) -> dict:
    """alembic upgrade heads with the project's env.py, else without it; the result for the parent.
    A revision whose upgrade() fails without a database error is gone past (_python.Tolerated)."""
    import argparse

    try:
        import sqlalchemy as sa
        from alembic import command
        from alembic.config import Config
    except ImportError as exc:
        return {"status": "missing", "message": f"alembic is not importable ({_first_line(exc)})"}
    cfg = Config(toml_file=config["toml"]) if config["toml"] else Config(config["ini"], ini_section=config["section"])
    if not cfg.get_main_option("script_location"):  # Flask-Migrate's alembic.ini: its Migrate() gives it
        cfg.set_main_option("script_location", str(config["locations"][0]).replace("%", "%%"))
    try:
        original = cfg.get_main_option("sqlalchemy.url") or ""
    except Exception:  # noqa: BLE001 - a %(NAME)s the ini cannot fill
        original = ""
    url = _url(sa, config["params"], original)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.cmd_opts = argparse.Namespace(x=[f"{name}={url}" for name in X_NAMES], quiet=False)
    locations = [Path(p).resolve() for p in config["locations"]]
    _tolerate_upgrades(sa, tolerated)
    target = _target(cfg, config.get("leave_out") or [])
    try:
        command.upgrade(cfg, target)
        return {"status": "ok", "notes": tolerated.notes()}
    except BaseException as exc:  # noqa: BLE001 - env.py may raise anything, SystemExit too
        revision = _revision(exc, locations)
        if revision is not None:
            return _left_out(_error(exc, revision), tolerated)
        reason = _first_line(exc)
    try:
        _without_env(cfg, sa, url, target)
    except BaseException as exc:  # noqa: BLE001
        result = _error(exc, _revision(exc, locations))
        result["message"] += f" (alembic's env.py could not be used either: {reason})"
        return _left_out(result, tolerated)
    note = (f"alembic's env.py could not be used ({reason}); the revisions ran on the dev database with alembic's "
            "default environment, without what env.py sets (search_path, version table, options)")
    return {"status": "ok", "notes": [note] + tolerated.notes()}


def _target(cfg, leave_out: list) -> str:
    """Where upgrade goes: every head, or, with revisions to leave out (the files of a plan, on
    top of the history), the revision the first of them follows."""
    if not leave_out:
        return "heads"
    from alembic.script import ScriptDirectory

    def downs(rev) -> tuple:
        down = rev.down_revision
        return () if down is None else (down,) if isinstance(down, str) else tuple(down)

    files = {str(Path(p).resolve()) for p in leave_out}
    left = {r.revision: r for r in ScriptDirectory.from_config(cfg).walk_revisions()
            if r.path and str(Path(r.path).resolve()) in files}
    first = [downs(r) for r in left.values() if not set(downs(r)) & set(left)]
    if len(first) != 1 or len(first[0]) > 1:  # not one chain on top of one revision: all of it
        return "heads"
    return first[0][0] if first[0] else "base"


def _tolerate_upgrades(sa, tolerated) -> None:
    """Each revision's upgrade() runs through `tolerated`, the queries of every engine counted."""
    import functools

    from alembic.runtime import migration as runtime

    sent = [0]
    from sqlalchemy import event

    event.listen(sa.engine.Engine, "before_cursor_execute", lambda *args: sent.__setitem__(0, sent[0] + 1))
    init = runtime.RevisionStep.__init__

    def tolerant_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if self.is_upgrade:
            upgrade, name = self.migration_fn, os.path.relpath(self.revision.path)

            @functools.wraps(upgrade)
            def tolerant_upgrade(**kw):
                return tolerated.run(name, lambda: upgrade(**kw), lambda: sent[0])

            self.migration_fn = tolerant_upgrade

    runtime.RevisionStep.__init__ = tolerant_init


def _without_env(cfg, sa, url: str, target: str = "heads") -> None:
    """What a plain online env.py does, with one connection to the dev database."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with EnvironmentContext(cfg, script, fn=lambda rev, context: script._upgrade_revs(target, rev),
                                destination_rev=target) as env, engine.connect() as conn:
            env.configure(connection=conn)
            with env.begin_transaction():
                env.run_migrations()
    finally:
        engine.dispose()
