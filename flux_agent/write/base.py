"""What every writer shares: the Writer interface, what a step's files say the same
way in every tool (its label, its SQL, the note when there is nothing to undo),
slugs, path safety, and the all-or-nothing commit of a plan's files.

A writer lays out a plan (which files each step gets, see _layout.py) and lists
FileJobs: new files, and whole new contents for the few index files a tool
keeps (such as drizzle's journal or sqitch.plan). commit() stages everything,
then moves it into place; on any failure it puts the project back as it was.
Migration files are never overwritten.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import FluxInputError, FluxRefused
from ..model.plan import CodeChange, Plan, Step
from ..pg.split import split_statements
from ..plan.ops._index_guard import HEALS, NO_HEAL
from ..project.git_ignored import ignored

_SLUG_MAX = 50


@dataclass
class FileJob:
    rel: str  # posix path relative to the project
    content: str
    replace: bool = False  # an index file the tool owns: its whole new content


_HASHED = re.compile(r"\b[a-z]{0,4}_?(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{20,}\b", re.I)  # digits and letters


def camel(name: str) -> str:
    """`first_name` -> `firstName`: the property an ORM's model gives a snake_case column (Prisma, TypeORM)."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# Words a cut name should not end on ("..._constraints_on_shares_is.js" said less than "..._constraints.js").
_TRAILING = frozenset({"a", "an", "the", "and", "or", "not", "of", "to", "as", "in", "on", "at", "by", "with", "for",
                       "into", "from", "it", "its"})
_ASIDE = re.compile(r"\s*\([^()]*\)")  # "(rename)", "(proved by the check, no scan)": a title's asides


def _slug_word(word: str) -> str:
    # A camelCase name's words kept apart (firstName: first_name, FirstName in a class name, not Firstname)
    word = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", word).lower()
    return re.sub(r"[^a-z0-9]+", "_", word).strip("_")


def slug(title: str, fallback: str = "migration") -> str:
    """Lowercase ascii `[a-z0-9_]`, at most 50 characters, never empty. A longer title loses its
    asides in parentheses, then is cut after a whole word of the title (a name such as
    shares.is_published is one), not ending on a word like "of" or "the", where that keeps half of
    the characters (a long name is cut within it)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    # A name made of a hash (TypeORM's IDX_9a27ee81fbc0bb9e5260ed6f82) says nothing in a file name, and
    # ran into the class name's timestamp: left out (the step's title keeps it).
    ascii_text = _HASHED.sub(" ", ascii_text)
    words = [w for w in map(_slug_word, ascii_text.split()) if w]
    text = "_".join(words)
    if len(text) <= _SLUG_MAX:
        return text or fallback
    cut = _cut([w for w in map(_slug_word, _ASIDE.sub("", ascii_text).split()) if w] or words)
    if len(cut) < _SLUG_MAX // 2:  # a long name: cut within it, after one of its own words
        cut = _cut(text.split("_"))
    return (cut if len(cut) >= _SLUG_MAX // 2 else text[:_SLUG_MAX].rstrip("_")) or fallback


def _cut(words: list[str]) -> str:
    """The first of `words` joined with `_` that fit in _SLUG_MAX, not ending on a _TRAILING one."""
    kept: list[str] = []
    for word in words:
        if len("_".join(kept + [word])) > _SLUG_MAX:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1] in _TRAILING:
        kept.pop()
    return "_".join(kept)


def clean_dir(migrations_dir: str) -> PurePosixPath:
    # Accept Windows spellings and "./db/migrations/"; the plan stores posix paths.
    raw = migrations_dir.replace("\\", "/")
    if PurePosixPath(raw).is_absolute() or PureWindowsPath(migrations_dir).drive:
        raise FluxInputError(f"migrations folder must be relative to the project: {migrations_dir}")
    path = PurePosixPath(raw)
    if ".." in path.parts:
        raise FluxInputError(f"migrations folder must stay inside the project: {migrations_dir}")
    return path


def db_steps(plan: Plan) -> list[Step]:
    return [s for s in plan.steps if not s.is_code]


def one_line(text: str) -> str:
    return " ".join(text.split())


def step_label(step: Step, title: str | None = None, word: str = "Step") -> str:
    """`Step N (phase): title` on one line: how every file names its step. `title`
    replaces the step's own (already made safe for the file's syntax)."""
    return f"{word} {step.number} ({step.phase}): {one_line(step.title) if title is None else title}"


def sql_header(step: Step) -> str:
    """The label as the first line of a SQL file."""
    return f"-- {step_label(step)}\n"


def up_sql(step: Step) -> str:
    """The step's up SQL as its file holds it (Step.up_file_sql), stripped; a database step
    without any is refused."""
    sql = (step.up_file_sql or "").strip()
    if not sql:
        raise no_sql(step)
    return sql


def guarded_up_sql(step: Step) -> str:
    """What a file runs for the step's up, for tools that run a non-transactional file statement by
    statement: its guard (Step.guard_sql, a statement of its own) then its up SQL."""
    guard = (step.guard_sql or "").strip()
    return f"{guard}\n{up_sql(step)}" if guard else up_sql(step)


def unguarded(plan: Plan, tool: str) -> Plan:
    """`plan` for a tool that sends a file as one query (PostgreSQL runs it as one implicit
    transaction, where CONCURRENTLY fails): a guard cannot share the build's file, so no step
    carries one, and each such step's risk says what to do when its build fails."""
    steps = [s.model_copy(update={"guard_sql": None, "risk": s.risk.replace(HEALS, NO_HEAL.format(tool=tool))})
             if s.guard_sql else s for s in plan.steps]
    return plan.model_copy(update={"steps": steps})


def single_statement(step: Step, tool: str, sql: str) -> str:
    """`sql`, refused for a non-transactional step unless it is exactly one statement: for
    tools that send a whole file as one query, which PostgreSQL runs as one implicit
    transaction (where CONCURRENTLY or a COMMIT fails)."""
    if not step.transactional and len(split_statements(sql)) != 1:
        raise FluxInputError(
            f"step {step.number} must run outside a transaction but holds several statements; "
            f"{tool} runs a file as one implicit transaction, so it needs one statement per file"
        )
    return sql


def no_sql(step: Step) -> FluxInputError:
    return FluxInputError(f"step {step.number} has no SQL to write")


def down_sql(step: Step) -> str | None:
    """The step's down SQL as its file holds it, stripped, or None when there is nothing to undo."""
    sql = step.down_file_sql
    return sql.strip() if sql and sql.strip() else None


def nothing_to_undo(step: Step) -> str:
    """Why a step has no down SQL, in one line."""
    return one_line(step.rollback).removeprefix("nothing to undo: ") or "this step changes no data"


def undo_note(step: Step) -> str:
    """`nothing to undo: <why>`, said where a down section would be."""
    return f"nothing to undo: {nothing_to_undo(step)}"


def down_or_note(step: Step) -> str:
    """A SQL file's down part: the down SQL, or a comment saying there is nothing to undo."""
    return down_sql(step) or f"-- {undo_note(step)}"


def laid_files(step: Step, count: int | None = 1, what: str = "exactly one file", fits=None) -> list[str]:
    """The step's files as the tool's layout() named them; refused when the plan was not laid
    out for this tool (`count` files, or at least one when None, and `fits(files)` when given)."""
    counted = len(step.files) == count if count is not None else bool(step.files)
    if not counted or (fits is not None and not fits(step.files)):
        raise FluxInputError(f"step {step.number} needs {what}; lay the plan out first")
    return step.files


def target_path(root: Path, rel: str) -> Path:
    """The absolute target for `rel`, refused when it could land outside `root`."""
    raw = rel.replace("\\", "/")
    pure = PurePosixPath(raw)
    if not raw or pure.is_absolute() or PureWindowsPath(rel).drive or ".." in pure.parts:
        raise FluxInputError(f"refusing to write outside the project: {rel}")
    target = root / pure
    # resolve() follows symlinked folders, so a link pointing elsewhere shows up here.
    if not target.resolve().is_relative_to(root):
        raise FluxInputError(f"refusing to write outside the project (symlinked folder): {rel}")
    return target


def _errors_line(plan: Plan) -> str | None:
    errors = [f for f in plan.findings if f.severity == "error"]
    if not errors:
        return None
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"plan refused, nothing written: {first.rule}: {one_line(first.message)}{more}"


def _place(staged: Path, target: Path) -> None:
    """Move one staged file into place; fails rather than overwrite."""
    try:
        os.link(staged, target)  # atomic, and raises FileExistsError if taken
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # filesystem without hard links: fall back to an exclusive create
    data = staged.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _make_dirs(folder: Path, root: Path, created: list[Path]) -> None:
    """Create `folder` and missing parents, recording each so a failure can undo it."""
    missing = []
    p = folder
    while not p.exists() and p != root:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir()
        created.append(d)


def commit(plan: Plan, project_dir: Path, jobs: list[FileJob]) -> list[Path]:
    """Write every job or none. New files never overwrite; replaced index files
    are restored from a copy if anything fails."""
    refused = _errors_line(plan)
    if refused:
        raise FluxRefused(refused)
    project_dir = Path(project_dir)
    root = project_dir.resolve()
    if not root.is_dir():
        raise FluxInputError(f"project folder not found: {project_dir}")
    if not jobs:
        return []
    targets = [target_path(root, j.rel) for j in jobs]
    if len(set(targets)) != len(targets):
        raise FluxInputError("two steps name the same file")
    for job, target in zip(jobs, targets):
        if not job.replace and os.path.lexists(target):
            raise FluxInputError(f"refusing to overwrite existing file: {job.rel}")
    hidden = ignored(root, [j.rel for j in jobs if not j.rel.startswith(".flux/")])
    if hidden is not None:
        raise FluxInputError(f"refusing to write {hidden[0]}: git ignores it ({hidden[1]}), so it would never be "
                             "committed; set migrations_dir (.flux.yaml or [tool.flux]) to the folder the "
                             "migrations are kept in")

    created: list[Path] = []
    moved: list[Path] = []
    backups: list[tuple[Path, Path | None]] = []
    staging = None
    try:
        for target in targets:
            _make_dirs(target.parent, root, created)
            # Re-check after mkdir: a folder created by someone else could be a link.
            if not target.parent.resolve().is_relative_to(root):
                raise FluxInputError(f"refusing to write outside the project: {target}")
        # Staging inside the project keeps it on one filesystem (hard links need that).
        staging = Path(tempfile.mkdtemp(prefix=".flux-staging-", dir=targets[0].parent))
        staged = []
        for i, job in enumerate(jobs):
            path = staging / str(i)
            path.write_text(job.content, encoding="utf-8", newline="\n")
            staged.append(path)
        for job, target, src in zip(jobs, targets, staged):
            if job.replace:
                keep = None
                if target.exists():
                    keep = staging / f"{len(backups)}.orig"
                    shutil.copy2(target, keep)
                    shutil.copymode(target, src)  # an executable env.py stays one
                backups.append((target, keep))
                os.replace(src, target)
                continue
            try:
                _place(src, target)
            except FileExistsError:
                raise FluxInputError(f"refusing to overwrite existing file: {job.rel}") from None
            moved.append(target)
    except BaseException as exc:
        for target, keep in reversed(backups):
            if keep is not None:
                os.replace(keep, target)
            else:
                target.unlink(missing_ok=True)
        for target in moved:
            target.unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for d in reversed(created):
            try:
                d.rmdir()
            except OSError:
                pass  # someone else put something there; leave it
        if isinstance(exc, OSError):
            raise FluxInputError(f"could not write migration files, nothing written: {exc}") from exc
        raise
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return [project_dir / j.rel for j in jobs]


class Writer:
    """One migration tool's file conventions. Subclasses set `tool` and
    `default_dir` and implement layout() and jobs()."""

    tool = "sql"
    default_dir = "db/migrations"
    # The tool applies every pending migration in one transaction (drizzle-kit migrate; knex's
    # migrate:latest where each uses one; TypeORM's default transaction mode "all"): writing
    # stops where one step's lock would be held through a later step's scan (deploy_groups._stop).
    one_transaction = False

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        raise NotImplementedError

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        raise NotImplementedError

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        """The edits to the ORM's model files that make it agree with the database after the plan
        (none for tools whose migrations are the only description of the schema)."""
        return []

    def naming_convention(self, project_dir: Path) -> dict[str, str] | None:
        """The project's own patterns for the names of what it declares without one (SQLAlchemy's
        MetaData naming_convention), for the planner to name by (plan/naming_convention.py)."""
        return None

    def deploy_jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        """Files `plan --write` writes for a plan that starts with its code deploy, to ship with it (no
        database step may be written before that deploy): none, but where the ORM's own record of the
        schema must move with the models edit the deploy ships (Django's migration state)."""
        return []

    def write(self, plan: Plan, project_dir: Path) -> list[Path]:
        return commit(plan, project_dir, self.jobs(plan, Path(project_dir)))


class OneFilePerStep(Writer):
    """A tool whose database steps get one file each, made from the step alone by render_file()."""

    def render_file(self, step: Step) -> str:
        raise NotImplementedError

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        return [FileJob(laid_files(s)[0], self.render_file(s)) for s in db_steps(plan)]
