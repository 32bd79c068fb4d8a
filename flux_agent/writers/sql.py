"""Plain SQL files in dbmate's format, for the `sql` and `dbmate` tools.

One file per database step, `<dir>/YYYYMMDDHHMMSS_<slug>.sql`, with
`-- migrate:up` / `-- migrate:down` blocks. Writing is all-or-nothing and
never overwrites: a half-written migration set is worse than none.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import FluxInputError, FluxRefused
from ..models import Plan, Step

_STAMP = re.compile(r"(\d{14})(?!\d)")
_SLUG_MAX = 50


def slug(title: str, fallback: str = "migration") -> str:
    """Lowercase ascii `[a-z0-9_]`, at most 50 characters, never empty."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    return text[:_SLUG_MAX].rstrip("_") or fallback


def _clean_dir(migrations_dir: str) -> PurePosixPath:
    # Accept Windows spellings and "./db/migrations/"; the plan stores posix paths.
    raw = migrations_dir.replace("\\", "/")
    if PurePosixPath(raw).is_absolute() or PureWindowsPath(migrations_dir).drive:
        raise FluxInputError(f"migrations folder must be relative to the project: {migrations_dir}")
    path = PurePosixPath(raw)
    if ".." in path.parts:
        raise FluxInputError(f"migrations folder must stay inside the project: {migrations_dir}")
    return path


def _after_existing(folder: Path) -> datetime | None:
    """The earliest stamp that sorts after every stamp already in `folder`."""
    if not folder.is_dir():
        return None
    stamps = [m.group(1) for name in os.listdir(folder) if (m := _STAMP.match(name))]
    if not stamps:
        return None
    top = max(stamps)
    try:
        return datetime.strptime(top, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc) + timedelta(seconds=1)
    except ValueError:
        # Not a real date (month 13, say) but it still sorts by its digits:
        # the next year's first second sorts after it.
        return datetime(int(top[:4]) + 1, 1, 1, tzinfo=timezone.utc)


def layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
    """A copy of `plan` whose database steps each get one new file name."""
    folder = _clean_dir(migrations_dir)
    now = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    stamp = now.replace(microsecond=0)
    floor = _after_existing(Path(project_dir) / folder)
    if floor is not None and floor > stamp:
        stamp = floor
    out = plan.model_copy(deep=True)
    for step in out.steps:
        if step.phase == "code":
            step.files = []
            continue
        name = f"{stamp:%Y%m%d%H%M%S}_{slug(step.title, f'step_{step.number}')}.sql"
        step.files = [(folder / name).as_posix()]
        stamp += timedelta(seconds=1)
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_file(step: Step) -> str:
    """The file for one step: up block, down block, ending with a newline."""
    if not (step.up_sql or "").strip():
        raise FluxInputError(f"step {step.number} has no SQL to write")
    switch = "" if step.transactional else " transaction:false"
    if step.down_sql and step.down_sql.strip():
        down = step.down_sql.strip()
    else:
        why = _one_line(step.rollback).removeprefix("nothing to undo: ") or "this step changes no data"
        down = f"-- nothing to undo: {why}"
    return (
        f"-- migrate:up{switch}\n"
        f"-- Step {step.number} ({step.phase}): {_one_line(step.title)}\n"
        f"{step.up_sql.strip()}\n"
        "\n"
        f"-- migrate:down{switch}\n"
        f"{down}\n"
    )


def _target(root: Path, rel: str) -> Path:
    """The absolute target for `rel`, refused when it could land outside `root`."""
    raw = rel.replace("\\", "/")
    pure = PurePosixPath(raw)
    if not raw or pure.is_absolute() or PureWindowsPath(rel).drive or ".." in pure.parts:
        raise FluxInputError(f"refusing to write outside the project: {rel}")
    target = root / pure
    # resolve() follows symlinked folders, so a link pointing elsewhere shows up here.
    if not target.resolve().is_relative_to(root):
        raise FluxInputError(f"refusing to write outside the project (symlinked folder): {rel}")
    if os.path.lexists(target):
        raise FluxInputError(f"refusing to overwrite existing file: {rel}")
    return target


def _errors_line(plan: Plan) -> str | None:
    errors = [f for f in plan.findings if f.severity == "error"]
    if not errors:
        return None
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"plan refused, nothing written: {first.rule}: {_one_line(first.message)}{more}"


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


def write(plan: Plan, project_dir: Path) -> list[Path]:
    """Write every step's file, or none of them. Returns the written paths."""
    refused = _errors_line(plan)
    if refused:
        raise FluxRefused(refused)
    project_dir = Path(project_dir)
    root = project_dir.resolve()
    if not root.is_dir():
        raise FluxInputError(f"project folder not found: {project_dir}")

    jobs: list[tuple[str, Path, str]] = []
    for step in plan.steps:
        if step.phase == "code":
            continue
        if len(step.files) != 1:
            raise FluxInputError(f"step {step.number} needs exactly one file; lay the plan out first")
        jobs.append((step.files[0], _target(root, step.files[0]), render_file(step)))
    if not jobs:
        return []
    if len({t for _, t, _ in jobs}) != len(jobs):
        raise FluxInputError("two steps name the same file")
    folders = {t.parent for _, t, _ in jobs}
    if len(folders) != 1:
        raise FluxInputError("all files of one plan must go into one migrations folder")
    folder = folders.pop()

    created: list[Path] = []
    moved: list[Path] = []
    staging = None
    try:
        _make_dirs(folder, root, created)
        # Re-check after mkdir: a folder created by someone else could be a link.
        if not folder.resolve().is_relative_to(root):
            raise FluxInputError(f"refusing to write outside the project: {jobs[0][0]}")
        # Staging beside the migrations folder keeps it on the same filesystem
        # (hard links need that) and out of the tool's view of the folder.
        # (When the project root is the migrations folder, stage inside it.)
        parent = folder.parent if folder != root else folder
        staging = Path(tempfile.mkdtemp(prefix=".flux-staging-", dir=parent))
        staged = []
        for i, (_, _, text) in enumerate(jobs):
            path = staging / f"{i}.sql"
            path.write_text(text, encoding="utf-8", newline="\n")
            staged.append(path)
        for (rel, target, _), src in zip(jobs, staged):
            try:
                _place(src, target)
            except FileExistsError:
                raise FluxInputError(f"refusing to overwrite existing file: {rel}") from None
            moved.append(target)
    except BaseException as exc:
        if staging is not None:  # before rmdir: staging may sit in a folder we created
            shutil.rmtree(staging, ignore_errors=True)
        for target in moved:
            target.unlink(missing_ok=True)
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
    return [project_dir / rel.replace("\\", "/") for rel, _, _ in jobs]


class SqlWriter:
    """The writer object the registry hands out; `tool` is `sql` or `dbmate`."""

    def __init__(self, tool: str = "sql") -> None:
        self.tool = tool

    default_dir = "db/migrations"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        return layout(plan, project_dir, migrations_dir, now)

    def render_file(self, step: Step) -> str:
        return render_file(step)

    def write(self, plan: Plan, project_dir: Path) -> list[Path]:
        return write(plan, project_dir)
