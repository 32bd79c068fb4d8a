"""`flux fix`'s flow: a migration file read into statements, the unsafe ones turned into typed
operations, planned by the planner `flux plan --op` uses against the schema the project's history
builds before the file, and with --write the file replaced by Flux's files (all or nothing, and
only when no database can have run it yet: entry/fix_applied.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional, Sequence

from ..devdb.sources import history_of_files
from ..errors import FluxInputError, FluxRefused, NothingToFix, one_line
from ..model.fix import FixResult
from ..model.plan import Plan
from ..project.config import load_settings
from ..project.detect import Detection, detect
from ..lint.readers import claimed
from ..schema.migration_order import migration_files
from . import actions
from .fix_applied import recorded, refusal
from .fix_django import carry_state
from ..write.base import FileJob
from ..write.formatter import format_jobs
from .fix_statements import fix_operations, read_statements

# What a copy of the project never needs: history, caches, installed packages (linked instead).
_SKIP = {".git", "__pycache__", ".flux", ".pytest_cache"}
# Tools whose migrations the ORM's models make (makemigrations, alembic's autogenerate): a file fixed
# asks for no model edit; Django's state follows the original (fix_django.py).
_MODELS_SAY_IT = ("django", "alembic")
# The tool's own packages and the project's Python (paperless-ngx's .venv, beside src/manage.py):
# linked into the copy, not copied; the copy's runners found no Python of the project's and used Flux's.
_LINKED = {"node_modules", ".venv", "venv"}


def fix_files(paths: Sequence[str | Path], project_dir: Optional[str] = None, tool: Optional[str] = None,
              write: bool = False, base: Optional[str] = None, database_url: Optional[str] = None,
              pg_version: Optional[int] = None, now: Optional[datetime] = None) -> list[FixResult]:
    """Every file planned before any is written: a later file is planned against the history holding the
    earlier ones as they were, not against their replacements, which are named after it."""
    if not paths:
        raise FluxInputError("nothing to fix: give migration files")
    project = actions.project_path(project_dir)
    settings = load_settings(project, pg_version=pg_version)
    found = detect(project, tool or settings.tool, settings)
    files = [_resolve(project, p) for p in paths]
    if write:  # before any work: a file that may have run is never rewritten, and one such file stops them all
        for file in files:
            why = refusal(file, found.tool, base, database_url)
            if why:
                raise FluxRefused(f"refused: {why}")
    # As validate and trace: a file of a project without migrations follows its own folder's history.
    founds = [history_of_files(project, found, [file]) for file in files]
    results = [_planned(file, project, here, settings, pg_version, now, database_url)
               for file, here in zip(files, founds)]
    return _replace(results, files, project, [here.migrations_dir for here in founds]) if write else results


def fix_file(path: str | Path, project_dir: Optional[str] = None, tool: Optional[str] = None, write: bool = False,
             base: Optional[str] = None, database_url: Optional[str] = None, pg_version: Optional[int] = None,
             now: Optional[datetime] = None) -> FixResult:
    return fix_files([path], project_dir, tool, write, base, database_url, pg_version, now)[0]


def _planned(file: Path, project: Path, found: Detection, settings, pg_version: Optional[int],
             now: Optional[datetime], database_url: Optional[str] = None) -> FixResult:
    with project_before(project, found, file) as (before, migrations_dir):
        found = found.model_copy(update={"migrations_dir": migrations_dir})
        try:
            statements, plan = _plan_on(file, project, before, found, settings, pg_version, now, None)
            notes = []
        except FluxInputError as exc:
            # The history does not build what the file changes (redash's base tables come from the app, not
            # its revisions): the database named, where the file has not run, holds the schema before it.
            if not database_url or isinstance(exc, NothingToFix) or recorded(file, found.tool, database_url) is not None:
                raise
            statements, plan = _plan_on(file, project, before, found, settings, pg_version, now, database_url)
            notes = [f"planned against the schema of --database-url, where {file.name} has not run: the migrations "
                     f"before it did not give what it changes ({' '.join(str(exc).split())})"]
    if found.tool in _MODELS_SAY_IT:  # the models made the file: they say what it does already
        plan = plan.model_copy(update={"code_changes": [c for c in plan.code_changes if c.applied_on_write]})
    shown = file.relative_to(project).as_posix() if file.is_relative_to(project) else str(file)
    return FixResult(path=shown, statements=statements, plan=plan, notes=notes)


def _plan_on(file: Path, project: Path, before: Path, found: Detection, settings, pg_version: Optional[int],
             now: Optional[datetime], url: Optional[str]) -> tuple[list, Plan]:
    """The file's statements and their plan, on the schema of the migrations before it (or of `url`)."""
    schema = actions.current_schema(str(before), found.tool, url, migrations_dir=found.migrations_dir)[0]
    statements = read_statements(file, settings, schema, project, found.tool)
    if statements and all(st.action in ("kept", "dropped") for st in statements) \
            and any(st.action == "kept" for st in statements):
        # Planned as raw SQL it would only lose the file's own down section (hatchet's CONCURRENTLY index).
        raise NothingToFix(f"nothing to fix in {file.name}: every statement is safe as written")
    gone = next((st for st in statements if st.action == "raw" and "destructive-outside-contract" in st.rules), None)
    if gone is not None:  # raw_sql would ask for a contract step and a reason, which only a person can give
        head = one_line(gone.sql)[:60]
        raise FluxInputError(f"cannot fix {file.name}: line {gone.line} ({head}) removes what no operation plans, "
                             "and when that is safe is not Flux's to decide: move it to a migration of its own, "
                             "run once the code no longer uses what it removes")
    ops = fix_operations(statements, settings)
    try:
        plan = actions.plan_migration(ops, str(before), tool=found.tool, pg_version=pg_version, now=now,
                                      migrations_dir=found.migrations_dir, database_url=url)
    except FluxInputError as exc:
        raise FluxInputError(f"cannot fix {file.name}: {exc}") from None
    return statements, plan


def _resolve(project: Path, path: str | Path) -> Path:
    given = Path(path)
    if not given.is_absolute() and not given.exists() and (project / given).exists():
        given = project / given  # relative to the project (MCP callers) rather than the working directory
    if not given.is_file():
        raise FluxInputError(f"no such file: {path}")
    return given.resolve()


@contextmanager
def project_before(project: Path, found: Detection, file: Path) -> Iterator[tuple[Path, str]]:
    """The project as it was before `file`, and its migrations folder there: a temporary copy without
    it and the migrations after it (the schema Flux plans against must not hold the file's own effects);
    the project itself for a file outside its migrations folder (a change proposed on top of it)."""
    folder = _history_of(project, found, file)
    if folder is None:
        yield project, found.migrations_dir
        return
    gone = _from(file, folder, found.tool)
    if project.resolve() not in folder.parents:  # the file's own history, outside the project: it alone
        with tempfile.TemporaryDirectory(prefix="flux-fix-") as tmp:
            shutil.copytree(folder, Path(tmp) / folder.name, symlinks=True)
            for path in gone:
                (Path(tmp) / folder.name / path.relative_to(folder)).unlink(missing_ok=True)
            yield Path(tmp), folder.name
        return
    with tempfile.TemporaryDirectory(prefix="flux-fix-") as tmp:
        copy = Path(tmp) / project.name
        linked: list[Path] = []

        def ignore(folder: str, names: list[str]) -> set[str]:
            linked.extend(Path(folder) / n for n in names if n in _LINKED)
            return {n for n in names if n in _SKIP or n in _LINKED}

        shutil.copytree(project, copy, symlinks=True, ignore=ignore)
        for path in linked:
            os.symlink(path.resolve(), copy / path.relative_to(project))
        for path in gone:
            (copy / path.relative_to(project)).unlink(missing_ok=True)
        yield copy, found.migrations_dir


def _history_of(project: Path, found: Detection, file: Path) -> Optional[Path]:
    """The migrations folder `file` is one of: the project's, or for Django another app's (each app
    has its own; healthchecks' api app, where the detected folder was accounts': the file's own index
    was read as already made). None for a file in no migrations folder."""
    folder = (project / found.migrations_dir).resolve()
    if folder in file.parents:
        return folder
    own = file.parent
    if found.tool == "django" and own.name == "migrations" and project.resolve() in own.parents \
            and claimed(file, found.tool):
        return own
    return None


def _from(file: Path, folder: Path, tool: str) -> list[Path]:
    """`file` and the migrations that run after it."""
    ordered = [p.resolve() for p in migration_files(folder, tool)]
    if file in ordered:
        return ordered[ordered.index(file):]
    if tool == "alembic":
        return [file, *_alembic_after(file, folder)]
    # program code: the tools run their migrations (not __init__.py, helpers) in name order (timestamps, numbers)
    later = [p for p in sorted(file.parent.iterdir()) if p.is_file() and p.name > file.name and claimed(p, tool)]
    return [file, *(p.resolve() for p in later)]


def _formatted_again(path: Path, project: Path) -> None:
    """A written Django migration given the original's state after the write formatted it (black's
    double quotes and line breaks; healthchecks' `black --check` failed on it), formatted again."""
    job = FileJob(path.relative_to(project).as_posix(), path.read_text(encoding="utf-8"))
    done, _, _ = format_jobs([job], project, "django")
    path.write_text(done[0].content, encoding="utf-8")


def _alembic_after(file: Path, folder: Path) -> list[Path]:
    """The revisions of `folder` that follow `file`'s, at any distance (write/tools/alembic's graph)."""
    from ..write.tools.alembic import revision_files

    revs = {path.resolve(): (rev, downs) for rev, (path, downs) in revision_files(folder).items()}
    after, todo = [], [revs[file][0]] if file in revs else []
    while todo:
        parent = todo.pop()
        for path, (rev, downs) in revs.items():
            if parent in downs and path not in after:
                after.append(path)
                todo.append(rev)
    return after


def _replace(results: list[FixResult], files: list[Path], project: Path, dirs: list[str]) -> list[FixResult]:
    """Flux's files in place of each file whose plan has no error finding, all or nothing: the originals
    are set aside under hidden names in their folders while the new files are written (a writer that
    chains onto the newest migration, alembic's down_revision or django's dependencies, must not chain
    onto one, nor find a later original pointing at an earlier one), and on any failure what was
    written is removed and the originals come back."""
    out, todo = [], []
    for result, file in zip(results, files):
        errors = [f for f in result.plan.findings if f.severity == "error"]
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            out.append(result.model_copy(update={"refused": f"plan refused, nothing written: {errors[0].rule}: "
                                                            f"{one_line(errors[0].message)}{more}"}))
        else:
            out.append(result)
            todo.append((len(out) - 1, file))
    aside = {file: file.with_name(f".{file.name}.flux-fix") for _, file in todo}
    taken = next((a for a in aside.values() if a.exists()), None)
    if taken is not None:
        raise FluxInputError(f"{taken} exists (left by an interrupted flux fix?): restore or remove it first")
    moved: list[Path] = []
    written: list[str] = []
    try:
        originals = {file: file.read_text(encoding="utf-8") for file in aside}
        for file in aside:
            os.rename(file, aside[file])
            moved.append(file)
        for i, file in todo:
            outcome = actions.write_migration(out[i].plan, str(project), migrations_dir=dirs[i])
            written += outcome.files + ([outcome.record] if outcome.record else [])
            if out[i].plan.tool == "django":
                carried = carry_state(originals[file], [project / f for f in outcome.files])
                if carried is not None and outcome.formatted_with:  # formatted as its siblings were
                    _formatted_again(carried, project)
            out[i] = out[i].model_copy(update={"plan": outcome.plan or out[i].plan, "written": outcome.files,
                                               "removed": True, "next": outcome.next,
                                               "formatted_with": outcome.formatted_with,
                                               "notes": out[i].notes + outcome.notes,
                                               "record": outcome.record if outcome.remaining_steps else None})
    except BaseException:
        for rel in written:
            (project / rel).unlink(missing_ok=True)
        for file in moved:
            os.rename(aside[file], file)
        raise
    for file in moved:
        os.unlink(aside[file])
    return out


def text_lines(results: list[FixResult], width: Optional[int] = None) -> list[str]:
    """`flux fix` for a person: each statement's fate, the plan's summary and findings, what was written."""
    from ..plan import summary as render

    out: list[str] = []
    for r in results:
        out.append(f"{r.path}:")
        for s in r.statements:
            what = {"planned": "-> " + ", ".join(o.op for o in s.operations), "kept": "kept as written (safe)",
                    "raw": f"kept as raw SQL: no operation fits ({', '.join(s.rules)})",
                    "dropped": f"dropped ({s.note})"}[s.action]
            sql = " ".join(s.sql.split())
            sql = sql if len(sql) <= 70 else sql[:69] + "…"  # cut, and said to be: `DEFAULT '` read as written
            out.append(f"  line {s.line}: {sql} {what}")
        out.append(render.summary(r.plan, width=width))
        out += [f"{f'step {f.step}: ' if f.step is not None else ''}{f.severity} {f.rule}: {f.message}"
                for f in r.plan.findings]
        out += [f"note: {note}" for note in r.notes]  # the schema it was planned on; the project's formatter
        if r.removed:
            by = f" (formatted as the project does: {'; '.join(r.formatted_with)})" if r.formatted_with else ""
            out += ["", f"Replaced {r.path} by{by}:", *(f"  {path}" for path in r.written)]
            out += ["  no file yet: the plan starts with an application deploy"] if not r.written else []
            if r.record:
                out.append(f"Next: {r.next}. The plan is kept in {r.record}: commit it with the migrations.")
        elif not r.refused:
            out += ["", f"Nothing written (dry run): add --write to replace {r.path} by these steps."]
    return out
