"""Django's runner: the project's own `manage.py migrate` builds the dev database, with the
project's settings loaded as they are and only DATABASES['default'] pointed at the dev database.

The settings are overridden in the child process, never in the project: Django's settings
loader is wrapped so that, once the project's settings module (the one manage.py names) is
loaded, its default database is replaced; nothing is written anywhere. Every connection is
checked by Django's connection_created signal besides the drivers' guards (_python.py). This
file's top half is the parent's (Flux), the `child` function the child process's: it runs by
path with the project's interpreter, so that part uses the standard library and Django only.
"""

from __future__ import annotations

import os
import re
import runpy
import sys
from pathlib import Path

if __package__:  # imported by Flux, not run in the child
    from ...errors import FluxInputError
    from ...project import places
    from . import _python

_SKIP = {".git", ".hg", "node_modules", ".venv", "venv", "env", "__pycache__", "site-packages", "dist", "build",
         ".tox", ".nox", ".mypy_cache", ".pytest_cache"}
_LOCKS = ("requirements.txt", "requirements-dev.txt", "poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock")
_SETTINGS = re.compile(r"""["']DJANGO_SETTINGS_MODULE["']\s*(?:,|\]\s*=)\s*(?:f?["'])([\w.]+)["']""")
# OPTIONS keys that say where or how to connect: the dev database's own answers replace them.
_LOCATION = {"service", "passfile", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "host",
             "hostaddr", "port", "dbname", "user", "password", "target_session_attrs", "require_auth"}


class DjangoRunner:
    """flux_agent.devdb.program's Runner for Django."""

    def inputs(self, project: Path, migrations_dir: str) -> list[Path]:
        manage = manage_py(project, migrations_dir)
        files = [manage] + settings_files(manage)
        for here, dirs, names in os.walk(project):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
            if Path(here).name == "migrations" and "__init__.py" in names:
                files += [Path(here) / n for n in sorted(names) if n.endswith(".py")]
        for folder in dict.fromkeys((project, manage.parent)):  # third-party apps' migrations come with versions
            files += [folder / n for n in _LOCKS if (folder / n).is_file()]
        return sorted(set(files))

    def run(self, job) -> list[str]:
        manage = manage_py(job.project, job.migrations_dir)
        python = places.project_python(manage.parent, job.project)
        module = _settings_module(manage)
        result = _python.run_child(job, "django", python, manage.parent,
                                   {"manage": str(manage), "settings_module": module or "",
                                    "leave_out": list(job.leave_out)})
        return _python.outcome(result, "Django")


def manage_py(project: Path, migrations_dir: str) -> Path:
    """The manage.py nearest the migrations folder (an app sits beside or below its manage.py)."""
    folder = project / migrations_dir
    for d in [folder, *folder.parents]:
        if (d / "manage.py").is_file():
            return d / "manage.py"
        if d == project or project not in d.parents:
            break
    found = sorted(project.glob("manage.py")) + sorted(project.glob("*/manage.py")) + \
        sorted(project.glob("*/*/manage.py"))
    if not found:
        raise FluxInputError("no manage.py found: the dev database runs Django's own `manage.py migrate`; "
                             "give --database-url to read the schema from a database instead")
    return found[0]


def _settings_module(manage: Path) -> str | None:
    """The settings module manage.py names (os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)); where
    it names none, the user's DJANGO_SETTINGS_MODULE, which the project's own runs need set too
    (babybuddy's manage.py loads a .env and names none; its docs say to export it). The child's
    environment never carries it (program._CHOSEN_BY_FLUX): only this answer, in its config."""
    try:
        found = _SETTINGS.search(manage.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        found = None
    return found.group(1) if found else (os.environ.get("DJANGO_SETTINGS_MODULE") or "").strip() or None


def settings_files(manage: Path) -> list[Path]:
    """The settings module's file, or every file of a settings package (base.py, local.py, ...)."""
    module = _settings_module(manage)
    if not module:
        return []
    base = manage.parent.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return [base.with_suffix(".py")]
    if (base / "__init__.py").is_file():
        return sorted(base.glob("*.py"))
    if base.parent.is_dir() and (base.parent / "__init__.py").is_file():  # a module of a settings package
        return sorted(base.parent.glob("*.py"))
    return []


RUNNER = DjangoRunner()


# --------------------------------------------------------------------------
# The child: runs in the project's interpreter, cwd the folder of manage.py
# --------------------------------------------------------------------------


# Also the Django reader's child's words (lint/readers/_django_sql.py runs this file too).
NO_SETTINGS = ("manage.py names no settings module, and DJANGO_SETTINGS_MODULE is not set where Flux runs: set it "
               "as for the project's own manage.py")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _dev_databases(databases, params: dict, notes: list) -> dict:
    """The project's DATABASES with 'default' on the dev database: its engine when it is a
    PostgreSQL one (postgis, a wrapper), its options but where to connect; other aliases kept
    (migrate uses only 'default'; a connection to one of them is stopped by the guards)."""
    databases = dict(databases or {})
    old = dict(databases.get("default") or {})
    engine = str(old.get("ENGINE") or "")
    options = {k: v for k, v in dict(old.get("OPTIONS") or {}).items() if k not in _LOCATION}
    if not any(word in engine for word in ("postgres", "postgis")):
        if engine:
            notes.append(f"the project's default database is {engine.rsplit('.', 1)[-1]}, not PostgreSQL; "
                         "its migrations were run on PostgreSQL")
        engine = "django.db.backends.postgresql"
        options = {}  # that engine's (healthchecks' sqlite init_command): PostgreSQL's driver refuses them
    old.update(ENGINE=engine, NAME=params["database"], USER=params["user"], PASSWORD=params["password"],
               HOST=params["host"], PORT=str(params["port"]), OPTIONS=options)
    databases["default"] = old
    return databases


def child(config: dict, check, tolerated) -> dict:
    """Run manage.py migrate with the default database on the dev database; the result for the parent.
    A RunPython that fails without a database error is gone past (_python.Tolerated)."""
    try:
        import django
        from django.conf import LazySettings
    except ImportError as exc:
        return {"status": "missing", "message": f"Django is not importable ({_first_line(exc)})"}
    notes: list = []
    state: dict = {"settings": None, "settings_error": None, "migration": None}
    if not (os.environ.get("DJANGO_SETTINGS_MODULE") or config["settings_module"]):
        return {"status": "failed", "message": NO_SETTINGS, "settings": True}
    load = LazySettings._setup

    def setup(self, name=None):
        module = os.environ.get("DJANGO_SETTINGS_MODULE") or config["settings_module"]
        if module:
            os.environ["DJANGO_SETTINGS_MODULE"] = module
        state["settings"] = module
        try:
            load(self, name)
        except BaseException as exc:
            state["settings_error"] = exc
            raise
        self._wrapped.DATABASES = _dev_databases(getattr(self._wrapped, "DATABASES", None), config["params"], notes)

    LazySettings._setup = setup

    from django.db.backends.signals import connection_created
    from django.db.migrations.executor import MigrationExecutor

    connection_created.connect(lambda sender, connection, **kw: check(connection.connection), weak=False)
    apply = MigrationExecutor.apply_migration

    left_out = {str(Path(p).resolve()) for p in config.get("leave_out") or []}
    walk = _Walk(config) if config.get("walk") else None

    def apply_migration(self, project_state, migration, *args, **kwargs):
        state["migration"] = f"{migration.app_label}.{migration.name}"
        module = sys.modules.get(type(migration).__module__)
        file = str(Path(getattr(module, "__file__", "") or "").resolve())
        if left_out and file in left_out:
            return project_state  # a plan's migration (the leaves): the database before the plan
        if walk is not None:
            walk.reached(file, self.connection, migration, project_state)
        return apply(self, project_state, migration, *args, **kwargs)

    MigrationExecutor.apply_migration = apply_migration
    _tolerate_run_python(state, tolerated)
    manage = config["manage"]
    sys.argv = [manage, "migrate", "--noinput"] + (["--skip-checks"] if django.VERSION >= (3, 0) else [])
    walked = {"renders": walk.renders} if walk is not None else {}
    try:
        runpy.run_path(manage, run_name="__main__")
    except _Walked:
        pass
    except SystemExit as exc:
        if exc.code not in (0, None):
            return {**_failed(state, None), **walked, **_loaded(walk)}
    except BaseException as exc:  # noqa: BLE001 - the project's code may raise anything
        return {**_failed(state, exc), **walked, **_loaded(walk)}
    return {"status": "ok", "notes": notes + tolerated.notes(), **walked, **_loaded(walk)}


def _loaded(walk) -> dict:
    """For a walk: the Python files the run loaded outside the interpreter's own folders (the
    project's modules among them), which the reader keeps its answers by (lint/readers/_django_kept.py)."""
    if walk is None:
        return {}
    own = tuple(os.path.join(os.path.realpath(p), "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    files = {os.path.realpath(f) for m in list(sys.modules.values())
             for f in [getattr(m, "__file__", None)] if isinstance(f, str) and f.endswith(".py")}
    return {"loaded": sorted(f for f in files if not f.startswith(own))}


class _Walked(BaseException):
    """Every migration the walk was asked about is read: the run stops there."""


class _Walk:
    """The Django reader's walk (lint/readers/django.py): at each migration it was given (files), just
    before it is applied, the migration is rendered on the database as the ones before it left it
    (the reader's _django_sql.render) and the parent is told through the pause pipe, the child
    waiting while it reads the database's catalogs; after the last of them, the run stops."""

    def __init__(self, config: dict):
        self.render = runpy.run_path(config["walk"]["reader"], run_name="flux_django_sql")["render"]
        self.pending = {str(Path(f).resolve()) for f in config["walk"]["files"]}
        self.out_fd, self.in_fd = config["pause_fds"]
        self.renders: dict = {}

    def reached(self, file: str, connection, migration, project_state) -> None:
        if file not in self.pending:
            return
        self.pending.discard(file)
        self.renders[file] = self.render(connection, migration.app_label, migration, project_state)
        os.write(self.out_fd, (file + "\n").encode("utf-8"))
        answer = b""
        while not answer.endswith(b"\n"):
            got = os.read(self.in_fd, 64)
            if not got:
                raise _Walked()  # the parent is gone
            answer += got
        if not self.pending:
            raise _Walked()


def _tolerate_run_python(state: dict, tolerated) -> None:
    """RunPython's forwards run through `tolerated`, counting the queries sent on its connection
    (execute_wrapper, Django 2.0+; before it, a failure stops the run as ever)."""
    from django.db.migrations.operations.special import RunPython

    forwards = RunPython.database_forwards

    def tolerant_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if not hasattr(connection, "execute_wrapper"):
            return forwards(self, app_label, schema_editor, from_state, to_state)
        sent = [0]

        def counting(execute, sql, params, many, context):
            sent[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counting):
            return tolerated.run(state["migration"] or app_label,
                                 lambda: forwards(self, app_label, schema_editor, from_state, to_state),
                                 lambda: sent[0])

    RunPython.database_forwards = tolerant_forwards


def _failed(state: dict, exc) -> dict:
    """What went wrong, in one line: the settings, a missing package, or which migration."""
    error = state["settings_error"]
    if error is not None:
        verb = "cannot be imported" if isinstance(error, ImportError) else "raised"
        return {"status": "missing" if isinstance(error, ImportError) else "failed",
                "message": f"the settings module {state['settings']} {verb} ({_first_line(error)})",
                "settings": True}
    if isinstance(exc, ImportError):
        return {"status": "missing", "message": f"cannot import {exc.name or 'a module'} ({_first_line(exc)})"}
    where = f"migration {state['migration']} failed: " if state["migration"] else ""
    if exc is None:  # manage.py exited (a CommandError): the parent takes the line it printed
        return {"status": "failed", "message": None, "prefix": where}
    return {"status": "failed", "message": where + _first_line(exc)}
