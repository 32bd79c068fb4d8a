"""The child process of the Django reader (lint/readers/django.py): what `manage.py sqlmigrate`
does, one operation at a time. It runs by path with the project's interpreter as a child of
devdb/runners/_python.py (the drivers' guards installed, every connection checked to reach the
dev database), so it uses the standard library and Django only.

The project's settings load as they are, with DATABASES['default'] pointed at the dev database
the way devdb/runners/django.py does for `migrate` (its _dev_databases); Django's migration
loader finds the migration file among the apps' migrations, the project state before it is
built from the migrations it depends on, and each operation's SQL is collected by a schema
editor in collect_sql mode: nothing runs on the database but what Django's PostgreSQL backend
asks it (introspection, quoting). The result, per operation in the file's order: its SQL, or that
it runs Python, or why it could not be rendered; the same backwards for the down part.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _setup(config: dict, check) -> dict | None:
    """Django set up with the project's settings on the dev database; None, or the failure."""
    try:
        import django
        from django.conf import LazySettings
    except ImportError as exc:
        return {"status": "missing", "message": f"Django is not importable ({_first_line(exc)})"}
    runner = runpy.run_path(config["runner"], run_name="flux_django_runner")
    notes: list = []
    state: dict = {"error": None}
    load = LazySettings._setup

    def setup(self, name=None):
        try:
            load(self, name)
        except BaseException as exc:
            state["error"] = exc
            raise
        self._wrapped.DATABASES = runner["_dev_databases"](getattr(self._wrapped, "DATABASES", None),
                                                           config["params"], notes)

    LazySettings._setup = setup
    module = os.environ.get("DJANGO_SETTINGS_MODULE") or config["settings_module"]
    if not module:
        return {"status": "failed", "message": runner["NO_SETTINGS"]}
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    sys.path.insert(0, os.path.dirname(config["manage"]))
    try:
        django.setup()
    except BaseException as exc:  # noqa: BLE001 - the project's settings and apps may raise anything
        error = state["error"] or exc
        status = "missing" if isinstance(error, ImportError) else "failed"
        return {"status": status, "message": f"the settings module {module} or its apps could not be loaded "
                                             f"({_first_line(error)})"}
    from django.db.backends.signals import connection_created

    connection_created.connect(lambda sender, connection, **kw: check(connection.connection), weak=False)
    return None


def _find(loader, path: str):
    """(app_label, the Migration) of the file at `path`: one of the apps' migrations, else the file
    loaded by path as a migration of the app whose folder holds it."""
    want = os.path.normcase(os.path.realpath(path))
    for (label, name), migration in loader.disk_migrations.items():
        module = sys.modules.get(type(migration).__module__)
        if module is not None and os.path.normcase(os.path.realpath(getattr(module, "__file__", "") or "")) == want:
            return label, migration
    from django.apps import apps

    folder = os.path.dirname(os.path.dirname(want))
    label = next((a.label for a in apps.get_app_configs()
                  if os.path.normcase(os.path.realpath(a.path)) == folder), os.path.basename(folder))
    spec = importlib.util.spec_from_file_location(f"flux_django_migration_{abs(hash(want))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    name = os.path.splitext(os.path.basename(path))[0]
    return label, module.Migration(name, label)


def _state_before(loader, label: str, migration):
    """The project state the migration starts from: its own node's parents, or its dependencies."""
    key = (label, migration.name)
    if key in loader.graph.nodes:
        return loader.project_state(key, at_end=False)
    nodes = []
    for dep in migration.dependencies:
        try:
            found = loader.check_key(dep, label)
        except Exception:  # noqa: BLE001 - a dependency the loader does not know
            found = None
        if found is not None:
            nodes.append(found)
    return loader.project_state(nodes, at_end=True)


class _Undo(Exception):
    pass


def _executed(connection, label: str, operations: list, before) -> list | None:
    """Each operation's SQL as the schema editor runs it, one after another, in a transaction rolled
    back after the last (the database left as it was); None where they do not all run."""
    from django.db import transaction

    done: list = []
    try:
        with transaction.atomic(using=connection.alias):
            state = before.clone()
            for operation in operations:
                old = state.clone()
                operation.state_forwards(label, state)
                sent: list = []
                with connection.schema_editor(atomic=False) as editor:
                    run = editor.execute  # what the editor sends, its deferred SQL too; not its introspection

                    def execute(sql, params=(), run=run, editor=editor, sent=sent):
                        sent.append(str(sql) % tuple(map(editor.quote_value, params)) if params else str(sql))
                        return run(sql, params)

                    editor.execute = execute
                    if operation.reduces_to_sql:
                        operation.database_forwards(label, editor, old, state)
                done.append([s if s.rstrip().endswith(";") else s.rstrip() + ";" for s in sent] or None)
            raise _Undo
    except _Undo:
        return done
    except BaseException:  # noqa: BLE001 - one of them fails for real: as collected, then
        return None


def _collect(connection, run) -> list:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        run(editor)
    return list(editor.collected_sql)


def child(config: dict, check, tolerated) -> dict:
    """The child process's part; `tolerated` goes unused: nothing is migrated here."""
    failed = _setup(config, check)
    if failed is not None:
        return failed
    from django.db import connection
    from django.db.migrations.exceptions import NodeNotFoundError
    from django.db.migrations.loader import MigrationLoader

    try:
        try:  # every file its own node, a squashed migration's originals too, so any of them can be read
            loader = MigrationLoader(connection, replace_migrations=False)
        except NodeNotFoundError:
            # The originals are gone, and another app's migration still names one (paperless-ngx's
            # paperless_mail.0001_squashed depends on documents.0001_initial): as Django reads them.
            loader = MigrationLoader(connection, replace_migrations=True)
        label, migration = _find(loader, config["file"])
        before = _state_before(loader, label, migration)
    except BaseException as exc:  # noqa: BLE001 - the project's migrations may raise anything
        return {"status": "failed", "message": f"Django could not load the migration ({_first_line(exc)})"}
    return render(connection, label, migration, before)


def render(connection, label: str, migration, before) -> dict:
    """The migration's SQL, operation by operation, from the project state `before` it, and its
    reverse, as the schema editor on `connection` collects them (introspecting the database as it
    stands: the Django runner's walk calls this on the database the migrations before it made)."""
    ops = []
    states = [before.clone()]  # states[i]: the state before operation i
    state = before.clone()
    operations = _own(migration)
    for operation in operations:
        old = state.clone()
        entry = {"describe": _describe(operation), "sql": [], "python": not operation.reduces_to_sql,
                 "error": None}
        try:
            operation.state_forwards(label, state)
            if operation.reduces_to_sql:
                entry["sql"] = _collect(connection, lambda ed: operation.database_forwards(label, ed, old, state))
        except BaseException as exc:  # noqa: BLE001
            entry["error"] = _first_line(exc)
        ops.append(entry)
        states.append(state.clone())
    if any(e["error"] for e in ops):
        # An operation that introspects what an earlier one of the same migration makes (netbox's squashed
        # AlterUniqueTogether pair: "Found wrong number (0) of constraints") cannot be collected against the
        # database as it stands before the migration: run them all for real, as migrate does, and undo.
        for entry, sql in zip(ops, _executed(connection, label, operations, before) or ()):
            if sql is not None:
                entry["sql"], entry["error"] = sql, None
    down = []
    for i in reversed(range(len(operations))):
        operation = operations[i]
        entry = {"index": i, "sql": [], "python": not operation.reduces_to_sql, "error": None,
                 "reversible": bool(operation.reversible)}
        if operation.reversible and operation.reduces_to_sql:
            try:
                entry["sql"] = _collect(connection, lambda ed: operation.database_backwards(
                    label, ed, states[i + 1].clone(), states[i].clone()))
            except BaseException as exc:  # noqa: BLE001
                entry["error"] = _first_line(exc)
        down.append(entry)
    return {"status": "ok", "atomic": bool(migration.atomic), "label": label, "ops": ops, "down": down}


def _own(migration) -> list:
    """The migration's own operations, as its file lists them: `migrate` lets apps add theirs to the
    instance's list before it runs (contenttypes adds a RunPython after each RenameModel), which is
    no operation of the file (saleor's renames: a RunPython said there, every line the class's)."""
    listed = getattr(type(migration), "operations", None)
    if not isinstance(listed, (list, tuple)):
        return list(migration.operations)
    return [op for op in migration.operations if any(op is mine for mine in listed)]


def _describe(operation) -> str:
    try:
        return str(operation.describe())
    except Exception:  # noqa: BLE001
        return type(operation).__name__
