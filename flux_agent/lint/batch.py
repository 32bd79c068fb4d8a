"""`flux validate` over many SQL files: each file judged against the schema its folder's history
builds before it, files whose inputs are unchanged served from a content-hash cache, the rest
judged in worker processes where that pays (each worker replays the history itself, up to its
share of the files; the findings are put back in the files' order, so the output is the same as
one process judging them one by one).

The cache key of a file is the hash of everything its findings depend on: the source of the code that reads, replays and judges SQL (lint, pg, schema, model), the tool,
the settings, the path shown in the findings, the file's bytes and those of the files read with
it (its down file, a Flyway .conf, drizzle's journal: migration_files.side_files), and the
schema it is judged against, given by what builds it: the names and inputs of every history
file before it (and whether the folder ships down SQL at all, keyed on all of them). A change to any of them is a different key: a stale
result is never served. Each code version has a file of its own (an entry of other code can never be
served, so it is not loaded either), and the few newest files are kept: two installed versions
sharing the folder do not throw each other's entries away. The cache lives in the user's cache folder, never in the project (validate
writes nothing there); FLUX_VALIDATE_CACHE=off turns it off, any other value is the folder to use.
FLUX_VALIDATE_JOBS sets the number of worker processes (1: judge in this process)."""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..model.findings import FileFinding
from ..model.settings import Settings
from ..schema.migration_files import side_files

CACHE_FORMAT = "1"  # bump when what an entry holds changes
_CACHE_PREFIX = f"validate-py{sys.version_info[0]}{sys.version_info[1]}-"  # marshal's format is Python's own
_KEEP = 100_000  # entries kept; the ones this run used first
_KEEP_FILES = 3  # cache files of code versions kept (this one's, and the two newest others)
_CODE_DIRS = ("lint", "pg", "schema", "model")
MIN_PER_WORKER = 50  # fewer files than this per worker: not worth starting processes


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The source of every module that reads, replays or judges SQL (what a version number would
    stand for, read more cheaply): an entry written by other code (an upgrade, an edited rule)
    is never read."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"flux-validate {CACHE_FORMAT}\n".encode())
    for sub in _CODE_DIRS:
        for path in sorted((root / sub).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_dir() -> Optional[Path]:
    """The user's cache folder for validate (keys hold the path and bytes, so projects can share
    it); None when turned off."""
    env = os.environ.get("FLUX_VALIDATE_CACHE", "")
    if env.lower() in ("off", "0", "no", "false"):
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flux" / "validate"


class Cache:
    """Findings by key, one JSON file; written whole (atomically) when something was added."""

    def __init__(self, folder: Optional[Path]):
        self.folder = folder
        self.name = f"{_CACHE_PREFIX}{code_version()[:16]}.marshal"
        self.entries: dict[str, list[dict]] = {}
        self.flags: dict[str, bool] = {}
        self.used: set[str] = set()
        self.added = False
        if folder is not None:
            try:
                data = marshal.loads((folder / self.name).read_bytes())
                if data.get("format") == CACHE_FORMAT:
                    self.entries, self.flags = data["entries"], data["flags"]
            except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError):
                self.entries, self.flags = {}, {}

    def flag(self, key: str) -> Optional[bool]:
        return self.flags.get(key)

    def set_flag(self, key: str, value: bool) -> None:
        if self.folder is not None:
            self.flags[key] = value
            self.added = True

    def get(self, key: str) -> Optional[list[dict]]:
        """The findings stored under `key`, as stored: the caller makes them FileFindings, all of a
        run's at once (model/findings.file_findings; one by one costs twice the time)."""
        found = self.entries.get(key)
        if found is not None:
            self.used.add(key)
        return found

    def put(self, key: str, findings: list[FileFinding]) -> None:
        if self.folder is None:
            return
        self.entries[key] = [f.model_dump() for f in findings]
        self.used.add(key)
        self.added = True

    def save(self) -> None:
        if self.folder is None or not self.added:
            return
        keep = {k: self.entries[k] for k in self.used}
        for k, v in self.entries.items():
            if len(keep) >= _KEEP:
                break
            keep.setdefault(k, v)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Flux's caches: nothing here to commit\n*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".validate-", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                flags = dict(list(self.flags.items())[-1000:])
                out.write(marshal.dumps({"format": CACHE_FORMAT, "entries": keep, "flags": flags}))
            os.replace(tmp, self.folder / self.name)
            self._prune()
        except OSError:
            pass  # a cache that cannot be written costs time, never a result

    def _prune(self) -> None:
        """Remove the files of code versions but the newest few (and those of older formats)."""
        old = [p for p in self.folder.glob("validate*") if p.name != self.name and p.suffix in (".marshal", ".json")]
        old.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for path in old[_KEEP_FILES - 1:]:
            path.unlink(missing_ok=True)


@dataclass
class Job:
    """One SQL file judged against a folder's history: `position` files of it replayed first."""

    order: int  # where its findings go among the files checked
    file: Path
    display: str
    settings: Settings
    position: int
    key: str = ""
    findings: list = field(default_factory=list)  # FileFindings, or their dumps when served from the cache


def file_digest(path: Path) -> bytes:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError as exc:
        return f"unreadable {exc}".encode()


def inputs_digest(path: Path, digests: dict[Path, bytes]) -> bytes:
    """The bytes of a migration file and of the files read with it (its down file, its tool's
    settings beside it: migration_files.side_files), missing ones included; kept in `digests`."""
    if path not in digests:
        digest = hashlib.sha256(file_digest(path))
        for side in side_files(path):
            present = _names_in(side.parent, digests)
            digest.update(side.name.encode() + b"\0" + (file_digest(side) if side.name in present else b"missing"))
        digests[path] = digest.digest()
    return digests[path]


def _names_in(folder: Path, digests: dict) -> frozenset:
    """The names in a folder, listed once per run (kept in `digests` under the folder's key):
    most side files do not exist, and asking for each one costs a failed open."""
    key = ("listing", folder)
    if key not in digests:
        try:
            digests[key] = frozenset(os.listdir(folder))
        except OSError:
            digests[key] = frozenset()
    return digests[key]


def history_hashes(files: list[Path], digests: dict[Path, bytes]) -> list[str]:
    """hashes[i]: the names and inputs (inputs_digest) of files[:i], in order (what the schema
    before file i is built from, and whether the folder ships down SQL)."""
    digest = hashlib.sha256()
    out = [digest.hexdigest()]
    for f in files:
        digest.update(f.name.encode() + b"\0" + inputs_digest(f, digests) + b"\0")
        out.append(digest.hexdigest())
    return out


def job_key(job: Job, tool: str, schema_hash: str, up_only: bool, digests: dict[Path, bytes],
            settings_json: dict) -> str:
    """The cache key of a file's findings (the module's docstring says what goes in)."""
    settings = settings_json.get(id(job.settings))
    if settings is None:
        settings = settings_json[id(job.settings)] = job.settings.model_dump_json()
    digest = hashlib.sha256(f"{code_version()}\0{tool}\0{job.display}\0{schema_hash}\0{up_only}\0".encode())
    digest.update(settings.encode() + b"\0")
    digest.update(inputs_digest(job.file, digests))
    return digest.hexdigest()


def jobs_wanted(count: int) -> int:
    env = os.environ.get("FLUX_VALIDATE_JOBS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, count // MIN_PER_WORKER))


def judge(folder: Path, tool: str, jobs: list[Job]) -> list[list[FileFinding]]:
    """The findings of each job (given in history order), replaying the folder's history once:
    only as far as the jobs need, and copying the schema only for the files judged."""
    from ..schema.replay.engine import FolderReplay
    from .engine import validate_file

    replay = FolderReplay(folder, tool, skip_broken=True)
    out = []
    for job in jobs:
        while replay._done < min(job.position, len(replay.files)):
            replay._replay(replay.files[replay._done])
            replay._done += 1
        # The schema is made only if a rule asks for it (FileContext.schema), while the replay
        # stands just before this file; the file's statements are left to the replay, which
        # replays this file next (parsed once, not twice).
        replay.parsed.clear()
        found = validate_file(job.file, job.settings, replay.snapshot, display=job.display, keep=replay.parsed,
                              names=replay.as_replayed)
        out.append(sorted(found, key=lambda f: f.line))  # whole-file rules come last otherwise
    return out


# What replaying a file costs (parsing it too), as a share of judging it and replaying it once
# parsed (measured on the 2,000-file real set: ~1.35 ms against ~3.35 ms per file).
REPLAY_SHARE = 0.4


def _chunks(jobs: list[Job], workers: int) -> list[list[Job]]:
    """Contiguous runs of the jobs, one per worker, sized so that the workers finish together: a
    later run's worker first replays the history up to it, so each run is (1 - REPLAY_SHARE) times
    the one before it (two workers: 62% and 38% of the files)."""
    weights = [(1 - REPLAY_SHARE) ** k for k in range(workers)]
    out, start, total = [], 0, sum(weights)
    for k, w in enumerate(weights):
        end = len(jobs) if k == workers - 1 else min(len(jobs), start + max(1, round(len(jobs) * w / total)))
        if end > start:
            out.append(jobs[start:end])
        start = end
    return out


def _judge_chunk(args) -> list[list[FileFinding]]:
    folder, tool, jobs = args
    return judge(folder, tool, jobs)


def judge_all(folder: Path, tool: str, jobs: list[Job]) -> None:
    """Fill in each job's findings: in this process, or split into contiguous runs of the
    history over worker processes when there are enough of them."""
    import threading

    from ..schema.replay import engine as _replay  # noqa: F401  (loaded before forking: the workers share them)
    from . import engine as _lint  # noqa: F401

    jobs = sorted(jobs, key=lambda j: (j.position, j.order))
    workers = jobs_wanted(len(jobs))
    # Worker processes are forked (cheap: the modules are loaded); a process with threads (the MCP
    # server) and a platform without fork judge in-process: forking threads is unsafe, and spawned
    # workers would import everything again.
    if workers <= 1 or threading.active_count() > 1 or not sys.platform.startswith("linux"):
        results = judge(folder, tool, jobs)
    else:
        import multiprocessing

        chunks = _chunks(jobs, workers)
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.map(_judge_chunk, [(folder, tool, c) for c in chunks], chunksize=1)
        results = [r for part in parts for r in part]
    for job, found in zip(jobs, results):
        job.findings = found
