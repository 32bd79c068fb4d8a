"""`flux validate`'s tool function (re-exported by entry/actions.py): which files, the history each
is judged against, and the judging itself (lint/batch.py: cache and worker processes). Kept apart
from actions.py so the command imports what it needs only, not the planner, the writers or the
dev database (entry/actions.current_schema is imported when a file needs the project's schema)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from ..devdb.run_memo import RunMemo, remembering
from ..errors import FluxInputError
from ..lint.batch import Job, judge_all
from ..lint.cache import Cache, Digests, job_key
from ..lint.cache_folder import cache_dir
from ..lint.replay_cache import ReplayCache
from ..lint.files import expand_paths
from ..model.findings import FileFinding, file_findings
from ..project.config import load_settings
from ..project.detect import detect, migration_folders
from ..project.dialect import not_postgres
from ..schema.migration_files import has_down_sql, history_folder
from ..schema.migration_order import migration_files, same_version

if TYPE_CHECKING:
    from ..model.schema import Schema

# The rules, the replay and the judging are imported where a file is judged, not served from the
# cache: a warm run loads neither.


def project_path(project_dir: Optional[str | Path]) -> Path:
    path = Path(project_dir or ".").resolve()
    if not path.is_dir():
        raise FluxInputError(f"project folder {str(project_dir)!r} does not exist")
    return path


def current_schema(project_dir: Optional[str], tool: Optional[str] = None):
    from .actions import current_schema as read  # the dev database and the schema readers: only when needed

    return read(project_dir, tool)


def validate_paths(paths: Sequence[str | Path], project_dir: Optional[str] = None,
                   tool: Optional[str] = None,
                   include_rules: Sequence[str] = (),
                   since: Optional[str] = None) -> tuple[list[Path], list[FileFinding]]:
    """(the files checked, their findings). A file inside the project's migrations
    folder is judged against the schema the migrations before it build, never
    against its own effects; any other file against the whole folder's schema.
    With `since` (a git ref) only the files added or changed since it are judged (the
    others still build the history); no paths then means the project's migrations folder."""
    project = project_path(project_dir)
    settings = load_settings(project)
    if include_rules:
        from ..lint.rules import BY_ID

        unknown = [r for r in include_rules if r not in BY_ID]
        if unknown:
            raise FluxInputError(f"unknown rule {unknown[0]!r}")
        settings = settings.model_copy(update={"include_rules": sorted(set(settings.include_rules) | set(include_rules))})
    if not paths and since is None:
        raise FluxInputError("nothing to validate: give migration files or folders, or --since GIT_REF")
    resolved = []
    for p in paths:
        path = Path(p)
        if not path.is_absolute() and not path.exists() and (project / path).exists():
            path = project / path  # relative to the project (MCP callers) rather than the working directory
        resolved.append(str(path))
    found = detect(project, tool or settings.tool, settings)
    if not resolved:  # --since alone: the project's own migrations (each Django app's), shown as under the folder given
        resolved = [str(Path(project_dir or ".") / folder) for folder in migration_folders(project, found)]
    files = expand_paths(resolved, found.tool)
    if not files:
        raise FluxInputError(f"no migration files (SQL, or a migration tool's program code) in "
                             f"{', '.join(str(p) for p in paths or resolved)}")
    if since is not None:
        files = _changed_only(files, since, project)
    ours = (project / found.migrations_dir).resolve()
    if not_postgres(found.dialect, found.evidence) and any(ours in f.resolve().parents for f in files):
        raise FluxInputError(not_postgres(found.dialect, found.evidence))
    history = _histories(project, found)
    cache = Cache(cache_dir())
    current: list[Schema] = []  # the project's schema from the dev database, read once if needed

    def current_now() -> Schema:
        if not current:
            current.append(current_schema(str(project), tool)[0])
        return current[0]
    per_file: list[list] = [[] for _ in files]  # FileFindings, or their dumps from the cache
    folders: list[set[Path]] = []

    def own_folders() -> set[Path]:
        """The folders of the project's own migrations (each Django app's, each alembic section's)."""
        if not folders:
            folders.append({(project / f).resolve() for f in migration_folders(project, found)})
        return folders[0]
    jobs: dict[int, tuple[_History, list[Job]]] = {}  # SQL files judged against a folder's history
    memo = RunMemo()  # what reading the program-code files works out once (devdb/run_memo.py)
    _read_ahead([f for f in files if not f.name.lower().endswith(".sql")], project, found.tool, memo)
    for order, file in enumerate(files):
        if not file.name.lower().endswith(".sql"):
            # Program code: judged against the schema before it where its reader gives that (a Node tool's
            # run up to it, Django's walk); else a proposed file against PostgreSQL's schema (read when a rule
            # first asks), one of the project's migrations against the schema its history builds where Flux
            # reads that offline (alembic's: the revisions it follows), else without one.
            proposed = own_folders().isdisjoint(file.resolve().parents)
            schema = current_now if proposed else _history_schema(file, project, found.tool)
            per_file[order] = _validate_program(memo, file, settings, schema, display=str(file),
                                                project=project, tool=found.tool)
            continue
        hist, member = history(file)
        if member is None and hist.files:
            # A change proposed on top of the project: judged against the schema PostgreSQL holds.
            judged = settings if not hist.up_only() else settings.model_copy(update={"require_down": False})
            found_here = _validate_file(file, judged, current_now(), display=str(file))
            per_file[order] = sorted(found_here, key=lambda f: f.line)  # whole-file rules come last otherwise
            continue
        # Judged against the history replayed to just before the file (offline); None: after every file.
        position = len(hist.files) if member is None else hist.index.get(history.resolve(member), len(hist.files))
        jobs.setdefault(id(hist), (hist, []))[1].append(
            Job(order=order, file=file, display=str(file), settings=settings, position=position))
    digests = Digests(cache)
    for hist, todo in jobs.values():
        # Nothing stored by this code yet (its first run, a CI machine's every run): every file is judged,
        # and the digests the cache keys need are worked out while the workers judge (judge_all's meanwhile).
        fresh = cache.folder is not None and not cache.entries
        hashes = digests.history(hist.files) if cache.folder is not None and not fresh else []
        up_only = hist.up_only(digests if hashes else None)  # each file's answer remembered by its inputs
        first = hist.first_down()
        missing = []
        # A folder with no down SQL at all ships up migrations only, on purpose; the files before its first
        # one with down SQL were written before the project kept rollbacks (a Flyway folder that Flux's
        # first U-file made judge its 71 V-files before it for a missing one).
        no_down = settings.model_copy(update={"require_down": False})
        judged = settings if not up_only else no_down
        settings_json = judged.model_dump_json() if cache.folder is not None else ""

        def unjudged(job: Job) -> bool:
            return up_only or (first is not None and job.position < first)

        def keyed(hashes: list[str]) -> None:
            for job in todo:
                job.key = job_key(job.file, job.display, settings_json, hist.tool, hashes[job.position], unjudged(job),
                                  digests)

        def keys_and_states() -> ReplayCache:
            hashes = digests.history(hist.files)
            hist.note_up_only(digests)
            keyed(hashes)
            return ReplayCache(cache.folder, cache.version, hist.tool, hashes)

        for job in todo:
            job.settings = no_down if unjudged(job) else judged
        if hashes:
            keyed(hashes)
        for job in todo:
            hit = cache.get(job.key) if job.key else None
            if hit is not None:
                job.findings = hit
            else:
                missing.append(job)
        if fresh:
            judge_all(hist.folder, hist.tool, missing, meanwhile=keys_and_states)
        elif missing:
            saved = ReplayCache(cache.folder, cache.version, hist.tool, hashes) if cache.folder is not None else None
            judge_all(hist.folder, hist.tool, missing, saved)
        for job in missing:
            if job.key:
                cache.put(job.key, job.findings)
        # Said in the order the tool runs them (flipt's 1_, 2_, ... 11_, not 11_ first as names sort), in
        # the places the history's files hold among those given.
        twice = same_version(hist.files, hist.tool)
        for slot, job in zip(sorted(j.order for j in todo), sorted(todo, key=lambda j: (j.position, j.order))):
            first = twice.get(hist.files[job.position]) if job.position < len(hist.files) else None
            per_file[slot], files[slot] = job.findings, job.file
            if first is not None:  # the folder's, not the file's: said each run, never cached with the file
                per_file[slot] = [_same_version(job.display, first, hist.tool), *job.findings]
    cache.save()
    return files, file_findings([f for found_here in per_file for f in found_here])


# A finding of the folder's, not of a rule's: two migrations of one version, which the tool refuses.
DUPLICATE_VERSION = "duplicate-version"


def _same_version(display: str, first: Path, tool: str) -> FileFinding:
    return FileFinding(path=display, line=1, rule=DUPLICATE_VERSION, severity="error",
                       message=f"{first.name} has this migration's version too: {tool} refuses a folder holding one "
                               "version twice, and runs none of it",
                       hint="give this migration the next free version (branches merged each with its own new one)")


def _history_schema(file: Path, project: Path, tool: str):
    """A function giving the schema a program-code migration of the project meets (called when a
    rule reads it), or None where Flux does not read that offline: Alembic's from the revisions
    before it, Rails' from the dump Rails keeps (lint/readers/_rails_history.py)."""
    if tool not in ("alembic", "rails"):
        return None

    def made():
        if tool == "rails":
            from ..lint.readers._rails_history import schema_before
        else:
            from ..lint.readers._alembic_history import schema_before

        return schema_before(file, project)
    return made


def _read_ahead(files: list[Path], project: Path, tool: str, memo: RunMemo) -> None:
    """The program-code migrations among `files` read in one go where the project's tool's reader
    can (Django: one walk of `migrate`, each read against the schema before it in its order; the
    Node tools: one run of the tool), what it works out kept in this validate's `memo`."""
    if files:
        from ..lint.readers import read_ahead

        with remembering(memo):
            read_ahead(files, project, tool)


def _validate_file(*args, **kwargs) -> list[FileFinding]:
    from ..lint.engine import validate_file

    return validate_file(*args, **kwargs)


def _validate_program(memo: RunMemo, *args, **kwargs) -> list[FileFinding]:
    """A program-code migration judged, what reading it works out kept in this validate's `memo`."""
    with remembering(memo):
        return _validate_file(*args, **kwargs)


def _changed_only(files: list[Path], since: str, project: Path) -> list[Path]:
    """The files git says were added or changed since the ref; the rest are not judged at all."""
    from ..project.git_changes import changed_since  # a git subprocess: only for --since

    changed = {os.fspath(p) for p in changed_since(since, project).files}
    resolve = _Resolver()
    return [f for f in files if resolve(f.absolute()) in changed]


def _histories(project: Path, found):
    """A function file -> (the history it belongs to, the file as a member of it, or None for
    "after the whole history"). A file of the project's migrations folder follows that folder's
    history; any other file is a change proposed on top of the project's schema, unless the
    project has no migrations, where the file's own folder is its history (a folder validated
    without --project; for a migration in a folder of its own, the folder above:
    migration_files.history_folder). `found`: what detect() found in the project."""
    folder = project / found.migrations_dir
    resolve = _Resolver()
    project_history = _History(folder, found.tool, resolve)
    in_project = project_history.index
    histories: dict[str, _History] = {}

    def history_of(file: Path) -> tuple[_History, Optional[Path]]:
        real = resolve(file)
        if real in in_project or project_history.files:
            return project_history, file if real in in_project else None
        here = history_folder(file)
        parent = resolve.folder(here)
        if parent not in histories:
            histories[parent] = _History(Path(here or "."), found.tool, resolve)
        return histories[parent], file

    history_of.project_files = project_history.files  # type: ignore[attr-defined]
    history_of.resolve = resolve  # type: ignore[attr-defined]
    return history_of


class _Resolver:
    """The real path (os.path.realpath, as Path.resolve gives it) of many files in few folders, as
    a string: each folder resolved and listed once (a file that is itself a symlink is resolved
    whole). Strings, not Paths: a warm run asks this of every file several times, and a Path's
    parsing, hashing and comparing was most of that run's time."""

    def __init__(self):
        self._folders: dict[str, str] = {}
        self._links: dict[str, frozenset] = {}  # the symlinks of each folder, by name
        self._done: dict[str, str] = {}  # each file is asked for more than once

    def folder(self, path) -> str:
        key = os.fspath(path) or "."
        real = self._folders.get(key)
        if real is None:
            real = self._folders[key] = self._real_folder(key)
        return real

    def _real_folder(self, path: str) -> str:
        """Its parent's real path and its name, unless it is a link: one lstat, not one per part of
        the path as realpath asks (a Prisma history is 800 folders side by side)."""
        parent, name = os.path.split(path)
        if name in ("", ".", "..") or not parent:
            return os.path.realpath(path)
        try:
            link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            link = True  # realpath says what it says of a path that is not there
        return os.path.realpath(path) if link else os.path.join(self.folder(parent), name)

    def __call__(self, path) -> str:
        key = os.fspath(path)
        done = self._done.get(key)
        if done is None:
            done = self._done[key] = self._resolve(key)
        return done

    def _resolve(self, path: str) -> str:
        parent, name = os.path.split(path)
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        parent = parent or "."
        links = self._links.get(parent)
        if links is None:
            try:
                with os.scandir(parent) as entries:
                    links = frozenset(e.name for e in entries if e.is_symlink())
            except OSError:
                links = frozenset()
            self._links[parent] = links
        if name in links:
            return os.path.realpath(path)
        return os.path.join(self.folder(parent), name)


class _History:
    """A folder of migrations as a history: its files in its tool's order (lint/batch.py replays
    them, leaving a broken file out so the files after it are still judged)."""

    def __init__(self, folder: Path, tool: str, resolve=None):
        self.folder, self.tool = folder, tool
        self.files = migration_files(folder, tool)
        resolve = resolve or _Resolver()
        self.index = {resolve(f): i for i, f in enumerate(self.files)}  # by real path
        self._first_down: Optional[int] = -1  # -1: not read yet
        self._read: dict[Path, bool] = {}  # the answers up_only read without the digests

    def up_only(self, digests: Optional[Digests] = None) -> bool:
        """No file of the folder has down SQL (and there are files)."""
        return bool(self.files) and self.first_down(digests) is None

    def first_down(self, digests: Optional[Digests] = None) -> Optional[int]:
        """The place of the folder's first file with down SQL; None where none has. With the cache's
        digests, each file's answer is remembered by its inputs: after one file changed, that one is
        read again, not the folder (a Flyway folder of 295 files: 0.3 s)."""
        if self._first_down == -1:
            self._first_down = next((i for i, f in enumerate(self.files) if self._has_down(f, digests)), None)
        return self._first_down

    def note_up_only(self, digests: Digests) -> None:
        """Remember, by the files' inputs, the answers up_only read without the digests (a run whose
        digests are worked out while it judges: validate_paths)."""
        for file, known in self._read.items():
            digests.cache.set_flag(_down_key(file, digests), known)

    def _has_down(self, file: Path, digests: Optional[Digests]) -> bool:
        if digests is None:
            known = self._read[file] = has_down_sql(file)
            return known
        key = _down_key(file, digests)
        known = digests.cache.flag(key)
        if known is None:
            known = has_down_sql(file)
            digests.cache.set_flag(key, known)
        return known


def _down_key(file: Path, digests: Digests) -> str:
    return "down " + digests.inputs(file).hex()  # the file's bytes and its down file's, its config's
