"""Django migrations, one per database step, chained on the app's latest one.

`<app>/migrations/000N_<slug>.py` (N after the app's highest number) holding a
Migration class with `dependencies = [("<app>", "<previous>")]` and one
`migrations.RunSQL`. The first step depends on the app's only leaf migration,
read from the existing files with `ast`; each next step on the step before.

Each SQL text is passed as a one-item list: Django runs a list item with
`cursor.execute(sql, None)`, so the text reaches PostgreSQL as written (no
parameters, so `%` and `:` are left alone), while a plain string is first cut
into statements and stripped of comments by sqlparse. A non-transactional step
gets `atomic = False` on the Migration class, and its guard is the list's first item
(with atomic = False each item is its own query, committed on its own).

The files go into the app whose models.py holds the model of the plan's table
(its Meta.db_table, or Django's `<app>_<model>`); the detected folder only when
no model is found. The last migration `plan --write` writes carries `state_operations`, so
Django's migration state follows the models.py edit code_changes() returns (_django_models.py)
in the commit that ships that edit: the migrations before the code deploy run (`migrate`) before
the new code starts, as a Django deploy runs them. A plan that starts with its deploy (a dropped
field) gets a migration of state operations only, written with `plan --write` to ship with it
(Django's own way to remove a field safely); the steps after the deploy carry none.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path, PurePosixPath

from ...errors import FluxInputError
from ...model.plan import CodeChange, Plan, Step
from ...pg.locks import facts
from ...pg.split import SqlSyntaxError, split_statements
from .._layout import lay_out, step_slug
from ..base import FileJob, Writer, clean_dir, db_steps, down_sql, laid_files, nothing_to_undo
from ..code_changes import cannot, change
from . import _django_model_find, _django_models, _django_portable
from ._py import comment_text, module_assignments, module_head, originals, parse_file

_NUMBER = re.compile(r"(\d+)_")  # file names only
_NAME = re.compile(r"\d{4,}_[a-z0-9_]+")


def _django_name(file: str) -> bool:
    path = PurePosixPath(file)
    return path.suffix == ".py" and bool(_NAME.fullmatch(path.stem))


def _next_number(folder: Path) -> int:
    """The number after the highest of the folder's migration files (1 in an empty or missing folder)."""
    numbers = [int(m.group(1)) for p in folder.glob("*.py") if (m := _NUMBER.match(p.name))] if folder.is_dir() else []
    return max(numbers, default=0) + 1


def _pairs(node: ast.expr | None) -> list[tuple[str, str]]:
    """("app", "name") tuples of a dependencies/replaces list; calls and the like are skipped."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    out = []
    for item in node.elts:
        if (isinstance(item, (ast.Tuple, ast.List)) and len(item.elts) == 2
                and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in item.elts)):
            out.append((item.elts[0].value, item.elts[1].value))
    return out


def read_migrations(folder: Path) -> dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    """migration name -> (dependencies, replaces), for every migration file in `folder`."""
    found: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith(("_", "~")):
            continue  # Django's loader skips these too
        tree = parse_file(path, "django")
        cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None)
        if cls is None:
            continue
        values = module_assignments(ast.Module(body=cls.body, type_ignores=[]), {"dependencies", "replaces"})
        found[path.stem] = (_pairs(values.get("dependencies")), _pairs(values.get("replaces")))
    return found


def app_label(folder: PurePosixPath, project_dir: Path) -> str:
    """The app's label: `label = "..."` of an AppConfig in <app>/apps.py, else the app folder's name."""
    app = folder.parent
    if folder.name != "migrations" or not app.name:
        raise FluxInputError(f"Django migrations folder must be <app>/migrations, not {folder.as_posix()}")
    apps_py = Path(project_dir) / app / "apps.py"
    if apps_py.is_file():
        for node in parse_file(apps_py, "django").body:
            if isinstance(node, ast.ClassDef):
                label = module_assignments(ast.Module(body=node.body, type_ignores=[]), {"label"}).get("label")
                if isinstance(label, ast.Constant) and isinstance(label.value, str) and label.value:
                    return label.value
    return app.name


def latest(migrations: dict, label: str) -> str | None:
    """The app's only leaf migration (nothing in the app depends on it); None when there is none yet."""
    if not migrations:
        return None
    squashed = {name: squash for squash, (_, replaces) in migrations.items()
                for app, name in replaces if app == label}
    depended = {squashed.get(name, name) for deps, _ in migrations.values() for app, name in deps if app == label}
    leaves = sorted(n for n in migrations if n not in squashed and n not in depended)
    if len(leaves) > 1:
        raise FluxInputError(
            f"Django app {label} has {len(leaves)} latest migrations ({', '.join(leaves)}); "
            "merge them first (manage.py makemigrations --merge)")
    if not leaves:
        raise FluxInputError(f"Django app {label} has no latest migration (its dependencies form a cycle)")
    return leaves[0]


def render_migration(step: Step, label: str, previous: str | None, state: list[str] | None = None,
                     others: list[tuple[str, str]] = (), engines: list[str] = ()) -> str:
    """The migration file for one step; `state` the state operations its RunSQL carries; `others`
    the latest migrations of the other apps whose tables it changes, which must run first;
    `engines` the other databases the project runs, where the SQL is not run (_django_portable.py)."""
    down = None if step.is_code else down_sql(step)
    how = "runs in one transaction" if step.transactional else "runs outside a transaction (atomic = False)"
    imports = "from django.db import migrations, models" if state else "from django.db import migrations"
    about = [f"Written by flux; {how}."] + ([f"Its SQL is PostgreSQL's: on {', '.join(engines)}, which the project's "
                                            "settings name too, Django makes the state operations itself."]
                                           if engines else [])
    if step.is_code:  # the deploy's own migration: no SQL (the database changes in the steps after it)
        about = ["Written by flux, to ship with the models.py edit of this deploy: Django's migration state "
                 "only; PostgreSQL changes in the steps after it."] + about[1:]
    lines = module_head(step, about, [imports]) + (_django_portable.SOURCE if engines else [])
    run_sql = _django_portable.CLASS if engines else "migrations.RunSQL"
    lines += ["", "class Migration(migrations.Migration):"]
    if previous is None:
        lines.append("    initial = True")
    if not step.transactional and not step.is_code:
        lines.append("    atomic = False")
    needed = ([(label, previous)] if previous else []) + list(others)
    deps = "".join(f"\n        {pair!r}," for pair in needed) + "\n    " if needed else ""
    lines += [
        "",
        f"    dependencies = [{deps}]",
        "",
        "    operations = [",
    ]
    if not step.is_code:
        lines += ["        # One-item lists: Django runs each as written (a plain string is split",
                  "        # into statements by sqlparse first)."]
    reverse = "[DOWN_SQL]" if down is not None else "migrations.RunSQL.noop"
    # atomic = False: each item of the list is its own query and transaction, the guard first.
    up = "migrations.RunSQL.noop" if step.is_code else "[GUARD_SQL, UP_SQL]" if step.guard_sql else "[UP_SQL]"
    if down is None and not step.is_code:
        lines.append(f"        # nothing to undo: {comment_text(nothing_to_undo(step))}")
    if state:
        lines += [f"        {run_sql}(sql={up}, reverse_sql={reverse}, state_operations=[",
                  "            # what the models.py edit of this plan changes, for Django's migration state",
                  *(f"            {op}," for op in state), "        ]),"]
    else:
        lines.append(f"        {run_sql}(sql={up}, reverse_sql={reverse}),")
    lines.append("    ]")
    return "\n".join(lines) + "\n"


class DjangoWriter(Writer):
    tool = "django"
    default_dir = "migrations"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        if folder.name == "migrations":  # not a MIGRATION_MODULES folder of the settings' own naming
            folder = owning_folder(plan, Path(project_dir)) or folder
        app_label(folder, Path(project_dir))  # refuse a folder that is not <app>/migrations
        number = _next_number(Path(project_dir) / folder)
        return lay_out(plan, lambda step, i: [(folder / f"{number + i:04d}_{step_slug(step)}.py").as_posix()])

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out: list[FileJob] = []
        previous: str | None = None
        label = ""
        engines: list[str] = []
        carrier = state_step(db_steps(plan))
        for i, step in enumerate(db_steps(plan)):
            path = PurePosixPath(laid_files(step, 1, "one 000N_<slug>.py file", lambda f: _django_name(f[0]))[0])
            others: list[tuple[str, str]] = []
            if i == 0:
                label = app_label(path.parent, Path(project_dir))
                previous = latest(read_migrations(Path(project_dir) / path.parent), label)
                others = other_apps_latest(plan, Path(project_dir), label)
                engines = _django_portable.other_engines(Path(project_dir), path.parent.as_posix())
                if not (Path(project_dir) / path.parent / "__init__.py").exists():
                    # Django ignores a migrations folder that is not a package.
                    out.append(FileJob((path.parent / "__init__.py").as_posix(), ""))
            state = None
            if step is carrier:
                done = earlier_state(Path(project_dir) / path.parent, label, db_steps(plan)[0].number)
                state = [op for op in state_operations(plan, Path(project_dir), label) if _same(op) not in done]
            out.append(FileJob(path.as_posix(), render_migration(step, label, previous, state, others, engines)))
            previous = path.stem
        return out

    def deploy_jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        """The migration of state operations only that ships with a plan's first step, its code deploy:
        the models.py edit removes a field (or makes it NOT NULL) there, before any SQL may run."""
        code, steps = (plan.steps[0] if plan.steps else None), db_steps(plan)
        if code is None or not code.is_code or not steps or not steps[0].files:
            return []
        project, folder = Path(project_dir), PurePosixPath(steps[0].files[0]).parent
        label = app_label(folder, project)
        state = state_operations(plan, project, label)
        if not state:
            return []
        here = project / folder
        number = _next_number(here)
        previous = latest(read_migrations(here), label)
        path = folder / f"{number:04d}_{step_slug(code)}.py"
        engines = _django_portable.other_engines(project, folder.as_posix())
        jobs = [] if (here / "__init__.py").exists() else [FileJob((folder / "__init__.py").as_posix(), "")]
        return jobs + [FileJob(path.as_posix(), render_migration(code, label, previous, state,
                                                                 other_apps_latest(plan, project, label), engines))]

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        project = Path(project_dir)
        if not _django_model_find.find_models(project):
            return []  # no models.py with a model: the migrations are the only description of the schema
        results = _django_models.edits(project, plan.operations)
        folder = owning_folder(plan, project)
        out: list[CodeChange] = []
        texts: dict[str, str] = {}
        whys: dict[str, list[str]] = {}
        for op, result in results:
            rel = result.model.rel if result.model else "models.py"
            if result.model and folder and PurePosixPath(result.model.app_dir) != folder.parent:
                # Its state operations would belong in that app's migrations, which this plan does not write.
                out.append(cannot(rel, f"{op.op} on {result.model.table} belongs to app {result.model.label}, while "
                                       f"this plan writes its migrations in {folder}: plan that change on its own"))
                texts.pop(rel, None)
                continue
            if result.cannot:
                out.append(cannot(rel, result.cannot))
            elif result.text is not None:
                texts[rel] = result.text
                whys.setdefault(rel, []).append(result.why)
        for rel, text in texts.items():
            out.append(change(project, rel, text, "; ".join(whys[rel]) + " (the migrations carry the same change "
                                                                       "as state_operations)"))
        return out


def other_apps_latest(plan: Plan, project: Path, label: str) -> list[tuple[str, str]]:
    """(app, latest migration) of each other app whose models' tables the plan's SQL works on
    (saleor's key of product_product widened: the keys into it in attribute, giftcard, discount and
    shipping): the plan's first migration depends on them, so a migrate from an empty database
    makes those tables as they are now before the plan changes them."""
    tables = {f.table for step in db_steps(plan) for stmt in _statements(step.up_sql or "")
              if (f := facts(stmt)).table is not None}
    models = _django_model_find.find_models(project)
    apps = {m.label: m.app_dir for m in models}
    owners = {m.table: m.label for m in models}
    for table in tables - owners.keys():  # a many-to-many field's own table: <app label>_<model>_<field>
        owner = max((a for a in apps if table.startswith(f"{a}_")), key=len, default=None)
        if owner is not None:
            owners[table] = owner
    out = []
    for app in sorted({owners[t] for t in tables if t in owners} - {label}):
        leaf = latest(read_migrations(project / apps[app] / "migrations"), app)
        if leaf is not None:
            out.append((app, leaf))
    return out


def _statements(sql: str) -> list:
    try:
        return split_statements(sql)
    except SqlSyntaxError:  # Flux's own SQL parses; raw SQL a user gave may not: it names no table then
        return []


def owning_folder(plan: Plan, project: Path) -> PurePosixPath | None:
    """<app>/migrations of the app whose model has the plan's first table; for a table no model
    names, the app of the model whose table begins it (a ManyToManyField's `<model table>_<field>`:
    healthchecks' api_channel_checks went to the detected accounts app, and a later rollback of the
    api app, which did not depend on it, failed)."""
    texts = originals(project, plan.code_changes)
    for op in plan.operations:
        model = _django_model_find.op_model(project, op, texts)
        if model is not None:
            return PurePosixPath(model.app_dir) / "migrations"
    models = _django_model_find.find_models(project)
    for op in plan.operations:
        bare = str(getattr(op, "table", "") or "").split(".")[-1]
        through = [m for m in models if bare.startswith(f"{m.table}_")]
        if through:
            return PurePosixPath(max(through, key=lambda m: len(m.table)).app_dir) / "migrations"
    return None


def state_step(steps: list[Step]) -> Step | None:
    """The step whose migration carries the state operations: the last of the steps written now
    (a later write finds them carried by an earlier one: earlier_state)."""
    return steps[-1] if steps else None


def _same(source: str) -> str:
    return ast.unparse(ast.parse(source))


def earlier_state(folder: Path, label: str, first: int) -> set[str]:
    """The state operations already written by this plan's earlier steps: the migrations the
    chain ends with whose docstrings say `Step N` (N counting down below `first`) and flux."""
    migrations = read_migrations(folder) if folder.is_dir() else {}
    name, below, found = (latest(migrations, label) if migrations else None), first, set()
    while name and below > 1 and (folder / f"{name}.py").is_file():
        tree = parse_file(folder / f"{name}.py", "django")
        words = (ast.get_docstring(tree) or "").split()
        if len(words) < 2 or words[0] != "Step" or not words[1].isdigit() or not 0 < int(words[1]) < below \
                or "Written by flux" not in (ast.get_docstring(tree) or ""):
            break
        below = int(words[1])
        for node in ast.walk(tree):
            for kw in node.keywords if isinstance(node, ast.Call) else []:
                if kw.arg == "state_operations" and isinstance(kw.value, ast.List):
                    found |= {ast.unparse(e) for e in kw.value.elts}
        parents = [n for app, n in migrations[name][0] if app == label]
        name = parents[0] if parents else None
    return found


def state_operations(plan: Plan, project: Path, label: str) -> list[str]:
    """The state operations of the plan's operations on this app's models (none where Flux makes no edit,
    nor where the plan asks for none: `flux fix` of a migration the models made, which carries the
    original's state itself, entry/fix_django.py)."""
    if not plan.code_changes:
        return []
    texts = originals(project, plan.code_changes)  # as planned, even when the edit is applied since
    # A cannot carries state too where the database changes whatever the models say (a dropped field's
    # RemoveField): the person removes the field by hand, as the note asks.
    return [op for _, result in _django_models.edits(project, plan.operations, label, texts) for op in result.state]


WRITER = DjangoWriter()
