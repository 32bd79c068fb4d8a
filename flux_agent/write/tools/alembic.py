"""Alembic revision files, one per database step, chained on the current head.

`<versions>/<12-hex revision>_<slug>.py` with `revision` and `down_revision`, or
the name the project's `file_template` makes (mealie's and dispatch's put the date first).
The first step's parent is the versions folder's only head, read from the
existing files with `ast` (never by running them); each next step's parent is
the step before. A revision id is sha1 of the stamp, the parent and the step,
so one plan laid out at one moment always gets the same ids.

The SQL runs as `op.execute(sa.DDL(...))`, one statement a call (UP_SQL and DOWN_SQL are lists):
SQLAlchemy's asyncpg dialect prepares what it sends, and PostgreSQL refuses a prepared statement
of several commands. A plain string would not do:
alembic turns it into `sa.text()`, which reads `:name` as a bind parameter
(`'{"a":1}'::jsonb` fails: "a value is required for bind parameter '1'").
sa.DDL sends the text unchanged except that it is a %-format, so the file
doubles every `%` right before running it. Verified verbatim with psycopg2,
psycopg 3 and asyncpg (`::regclass`, `:=`, `%` in RAISE NOTICE, `:name` in a literal).
A non-transactional step runs in `op.get_context().autocommit_block()`, its guard (a
statement of its own) first.

Where the project has a script.py.mako (alembic init gives one), each file is rendered through it in
the project's Python, as `alembic revision` renders it (_alembic_template.py); Flux's own layout
(render_revision) is the fallback.

code_changes() edits the SQLAlchemy declarative class of the plan's table
(_sqlalchemy_models.py), so `alembic check` on a database at head finds
nothing new once the application change is deployed.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import re
import tomllib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ...errors import FluxInputError
from ...model.plan import CodeChange, Plan, Step
from .._layout import lay_out, step_slug, utc
from ..base import FileJob, Writer, clean_dir, db_steps, down_sql, laid_files, nothing_to_undo, step_label
from ..code_changes import cannot, change, goes_out, other_databases
from . import _alembic_env, _alembic_template, _sqlalchemy_models, _sqlalchemy_naming, _sqlmodel_models
from ._py import comment_text, doc_text, module_assignments, module_head, parse_file, sql_constants
from ._py import py_literal  # noqa: F401  (its tests import it from here, where it used to live)

# our own file names, not file content: the revision id wherever the project's file_template puts it
_FILE = re.compile(r"(?:.*[^0-9a-f])?([0-9a-f]{12})(?:[^0-9a-f].*)?\.py")
_DEFAULT_TEMPLATE = "%(rev)s_%(slug)s"


# --- reading the existing revisions ----------------------------------------


def _strings(node: ast.expr) -> list[str] | None:
    """None -> [], "a" -> ["a"], ("a", "b") -> ["a", "b"]; anything else -> None."""
    if isinstance(node, ast.Constant) and node.value is None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_strings(e) for e in node.elts]
        if all(i is not None and len(i) == 1 for i in items):
            return [i[0] for i in items]
    return None


def read_revisions(folder: Path) -> dict[str, list[str]]:
    """revision -> its down revisions, for every revision file in `folder`."""
    return {rev: downs for rev, (_, downs) in revision_files(folder).items()}


_DIALECT_CHECKS = {"is_postgres", "is_postgresql", "is_sqlite", "is_mysql"}


def _branches_on_dialect(tree: ast.AST) -> bool:
    """Does the revision do one thing on one database and another elsewhere (`bind.dialect.name`,
    mealie's `is_postgres()`)?"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "name" and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "dialect":
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in _DIALECT_CHECKS:
            return True
    return False


def _other_dialects(project: Path, rel: PurePosixPath) -> CodeChange | None:
    """A note where the project's revisions also run on another database (they branch on the
    dialect: mealie's default is SQLite): Flux's are PostgreSQL's alone, and fail there."""
    found = [path for path, _ in revision_files(project / rel).values()
             if _branches_on_dialect(parse_file(path, "alembic"))]
    if not found:
        return None
    return other_databases(rel.as_posix(), [p.name for p in found], "revisions", "the database's dialect")


def revision_files(folder: Path) -> dict[str, tuple[Path, list[str]]]:
    """revision -> (its file, its down revisions), for every revision file in `folder`."""
    revisions: dict[str, tuple[Path, list[str]]] = {}
    if not folder.is_dir():
        return revisions
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue  # alembic skips these too
        values = module_assignments(parse_file(path, "alembic"), {"revision", "down_revision"})
        if "revision" not in values:
            continue  # a helper module, not a revision
        rev, down = _strings(values["revision"]), _strings(values.get("down_revision", ast.Constant(None)))
        if rev is None or len(rev) != 1 or down is None:
            raise FluxInputError(f"cannot read the revision ids of alembic migration {path.name}")
        if rev[0] in revisions:
            raise FluxInputError(f"alembic revision {rev[0]} is defined twice (again in {path.name})")
        revisions[rev[0]] = (path, down)
    return revisions


def current_head(revisions: dict[str, list[str]]) -> str | None:
    """The one revision no other revision points to; None for an empty folder."""
    if not revisions:
        return None
    pointed = {parent for parents in revisions.values() for parent in parents}
    heads = sorted(r for r in revisions if r not in pointed)
    if len(heads) > 1:
        raise FluxInputError(
            f"alembic has {len(heads)} heads ({', '.join(heads)}); merge them first (alembic merge heads)"
        )
    if not heads:
        raise FluxInputError("alembic revisions have no head (their down_revision links form a cycle)")
    return heads[0]


def file_template(project: Path, migrations_dir: str) -> str:
    """The `file_template` of the project's alembic configuration (mealie's and dispatch's put the
    date first), as alembic reads it; alembic's default where none is set or it cannot be read."""
    from ...devdb.runners.alembic import config_of

    try:
        where = config_of(project, migrations_dir)
        if where.toml:
            found = tomllib.loads(where.file.read_text(encoding="utf-8")).get("tool", {}).get("alembic", {}).get(
                "file_template")
        else:
            parser = configparser.ConfigParser(defaults={"here": str(where.file.parent)}, strict=False)
            parser.read(where.file, encoding="utf-8")
            found = parser.get(where.section, "file_template", fallback=None)
    except (FluxInputError, OSError, ValueError, configparser.Error, AttributeError):
        return _DEFAULT_TEMPLATE
    return found if isinstance(found, str) and found.strip() else _DEFAULT_TEMPLATE


def names_revision(template: str) -> bool:
    """Does the file_template put the revision id in the name (alembic's default does; polar's
    `%%(year)d-%%(month).2d-..._%%(slug)s` does not: the id is then derived, named_revision)?"""
    return "%(rev)s" in template


def file_name(template: str, revision: str, slug_text: str, when: datetime) -> str:
    """A revision file's name (without .py) as alembic's file_template makes it (the slug cut at 40
    characters, alembic's truncate_slug_length)."""
    values = {"rev": revision, "slug": slug_text[:40].rstrip("_"), "epoch": int(when.timestamp()),
              "year": when.year, "month": when.month, "day": when.day, "hour": when.hour,
              "minute": when.minute, "second": when.second}
    try:
        name = template % values
    except (KeyError, ValueError, TypeError):
        name = _DEFAULT_TEMPLATE % values
    fits = not names_revision(template) or _FILE.fullmatch(f"{name}.py")
    return name if fits and name and "/" not in name and not name.startswith(".") else _DEFAULT_TEMPLATE % values


def named_revision(name: str, parent: str | None, taken: set[str]) -> str:
    """The revision id of a file whose name holds none: 12 hex digits of its name and its parent, so
    the layout that names the file and the jobs that write it derive the same id."""
    salt = 0
    while True:
        digest = hashlib.sha1(f"{name}\0{parent or ''}\0{salt}".encode()).hexdigest()[:12]
        if digest not in taken:
            return digest
        salt += 1


def revision_id(step: Step, parent: str | None, stamp: str, taken: set[str]) -> str:
    """12 hex digits from the stamp, the parent and the step; deterministic."""
    parts = [stamp, parent or "", str(step.number), step.phase, step.title,
             step.up_sql or "", step.down_sql or "", str(step.transactional)]
    salt = 0
    while True:
        digest = hashlib.sha1("\0".join(parts + [str(salt)]).encode()).hexdigest()[:12]
        if digest not in taken:
            return digest
        salt += 1


# --- rendering ---------------------------------------------------------------


_RUN = [
    "def _run(*statements: str) -> None:",
    "    # One query a statement (asyncpg prepares each query, and a prepared statement",
    "    # holds one command). sa.DDL sends the text as written (a plain string would",
    "    # become sa.text(), which reads ':name' as a bind parameter); DDL reads % as a",
    "    # format character, so every % is doubled here.",
    "    for sql in statements:",
    '        op.execute(sa.DDL(sql.replace("%", "%%")))',
]


def _how(step: Step) -> str:
    return "runs in alembic's transaction" if step.transactional else "runs outside a transaction (autocommit block)"


def render_revision(step: Step, revision: str, down_revision: str | None) -> str:
    """The revision file for one step, in Flux's own layout."""
    lines = module_head(
        step,
        [f"Revision ID: {revision}", "Revises:" + (f" {down_revision}" if down_revision else ""),
         f"Written by flux; {_how(step)}."],
        ["import sqlalchemy as sa", "from alembic import op", "",
         f"revision = {revision!r}", f"down_revision = {down_revision!r}", "branch_labels = None",
         "depends_on = None"], statements=True)
    lines += ["", *_RUN, "", ""]
    lines += ["def upgrade() -> None:", *(f"    {line}" for line in _body(step, up=True))]
    lines += ["", "", "def downgrade() -> None:", *(f"    {line}" for line in _body(step, up=False))]
    return "\n".join(lines) + "\n"


def _body(step: Step, up: bool) -> list[str]:
    """The lines of upgrade() or downgrade(), unindented."""
    if not up and down_sql(step) is None:
        return [f"# nothing to undo: {comment_text(nothing_to_undo(step))}", "pass"]
    name = "*UP_SQL" if up else "*DOWN_SQL"
    if step.transactional:
        return [f"_run({name})"]
    # Each _run is its own query, so the guard runs in its own transaction before the build.
    return ["with op.get_context().autocommit_block():",
            *(["    _run(GUARD_SQL)"] if up and step.guard_sql else []), f"    _run({name})"]


def template_arguments(step: Step, revision: str, down_revision: str | None) -> tuple[dict, set[str]]:
    """What generate_revision gives the project's script.py.mako for one step (Flux's SQL and helper as
    an autogenerated revision's imports, its calls as the upgrades and downgrades), and the names the
    rendered module must bind for them to run."""
    imports = ["", *sql_constants(step, statements=True), "", *_RUN, ""]
    needs = {"op", "sa", "_run", "UP_SQL"} | ({"GUARD_SQL"} if step.guard_sql else set()) \
        | ({"DOWN_SQL"} if down_sql(step) is not None else set())
    return {"up_revision": revision, "down_revision": down_revision, "branch_labels": None, "depends_on": None,
            "message": f"{step_label(step, doc_text(step.title))}\n\nWritten by flux; {_how(step)}.",
            "imports": "\n".join(imports), "upgrades": "\n    ".join(_body(step, up=True)),
            "downgrades": "\n    ".join(_body(step, up=False))}, needs


class AlembicWriter(Writer):
    tool = "alembic"
    default_dir = "alembic/versions"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        existing = read_revisions(Path(project_dir) / folder)
        parent = current_head(existing)
        stamp = utc(now).replace(microsecond=0).isoformat()
        taken = set(existing)

        template = file_template(Path(project_dir), migrations_dir)
        when = utc(now)

        used = {p.stem for p in (Path(project_dir) / folder).glob("*.py")}

        def files(step: Step, i: int) -> list[str]:
            nonlocal parent  # each step revises the one before
            if names_revision(template):
                parent = revision_id(step, parent, stamp, taken)
                name = file_name(template, parent, step_slug(step), when)
            else:  # the name first (made unique among the folder's), the id from it
                name = base = file_name(template, "", step_slug(step), when)
                name = next(n for n in [base] + [f"{base}_{k}" for k in range(2, len(used) + 3)] if n not in used)
                parent = named_revision(name, parent, taken)
            taken.add(parent)
            used.add(name)
            return [(folder / f"{name}.py").as_posix()]

        return lay_out(plan, files)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out: list[FileJob] = []
        chained: list[tuple[Step, str, str | None]] = []  # (step, its revision, the one it follows)
        parent: str | None = None
        taken: set[str] = set()
        naming = _DEFAULT_TEMPLATE
        for i, step in enumerate(db_steps(plan)):
            file = PurePosixPath(laid_files(step, 1, "one .py revision file", lambda f: f[0].endswith(".py"))[0])
            if i == 0:
                existing = read_revisions(Path(project_dir) / file.parent)
                parent, taken = current_head(existing), set(existing)
                naming = file_template(Path(project_dir), file.parent.as_posix())
            found = _FILE.fullmatch(file.name) if names_revision(naming) else None
            revision = found.group(1) if found else named_revision(file.stem, parent, taken)
            taken.add(revision)
            out.append(FileJob(step.files[0], render_revision(step, revision, parent)))
            chained.append((step, revision, parent))
            parent = revision
        template = _alembic_template.template_of(Path(project_dir), PurePosixPath(out[0].rel).parent.as_posix()) \
            if out else None
        if template is not None:  # the project's own template, as `alembic revision` writes: where it runs
            args = [template_arguments(*c) for c in chained]
            texts = _alembic_template.render(Path(project_dir), template, [a for a, _ in args], [n for _, n in args],
                                            datetime.now(timezone.utc))
            if texts is not None:
                out = [FileJob(job.rel, text, job.replace) for job, text in zip(out, texts)]
        return out

    def naming_convention(self, project_dir: Path) -> dict[str, str] | None:
        return _sqlalchemy_naming.naming_convention(Path(project_dir))

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        project = Path(project_dir)
        steps = [s for s in db_steps(plan) if s.files]
        env = _alembic_env.env_change(project, (PurePosixPath(steps[0].files[0]).parent.parent / "env.py").as_posix()) \
            if steps else None
        note = _other_dialects(project, PurePosixPath(steps[0].files[0]).parent) if steps else None
        return ([env] if env else []) + ([note] if note else []) + self._model_changes(plan, project)

    def _model_changes(self, plan: Plan, project: Path) -> list[CodeChange]:
        if _sqlalchemy_models.find_models(project):
            found = _sqlalchemy_models.edits(project, plan.operations)
        elif _sqlmodel_models.find_models(project):
            found = _sqlmodel_models.edits(project, plan.operations)
        else:
            return []  # no declarative classes: the revisions are the only description of the schema
        out: list[CodeChange] = []
        texts: dict[str, str] = {}
        whys: dict[str, list[str]] = {}
        for _, result in found:
            rel = result.model.rel if result.model else "models.py"
            if result.cannot:
                out.append(cannot(rel, result.cannot))
            elif result.text is not None:
                texts[rel] = result.text
                whys.setdefault(rel, []).append(result.why)
        for rel, text in texts.items():
            out.append(change(project, rel, text, "; ".join(whys[rel]) + f" (deploy it {goes_out(plan)}; "
                                                                       "`alembic check` then finds nothing new)"))
        return out


WRITER = AlembicWriter()
