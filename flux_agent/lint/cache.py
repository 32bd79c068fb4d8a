"""`flux validate`'s content-hash cache: the findings of a file whose inputs are unchanged, served
without judging it again.

The key of a file's findings is the hash of everything they depend on: the source of the code that
reads, replays and judges SQL (lint, pg, schema, model), the tool, the settings, the path shown in
the findings, the file's bytes and those of the files read with it (its down file, a Flyway .conf,
drizzle's journal: migration_files.side_files), and the schema it is judged against, given by what
builds it: the names and inputs of every history file before it (and whether the folder ships down
SQL at all, keyed on all of them). A change to any of them is a different key: a stale result is
never served.

A file's bytes are hashed at most once a run, and not read at all when its stat is the one
remembered with its digest (as git's index does): device, inode, size, modification and change
times. The change time is the kernel's, set on every write and never by a user's tools, so a file
rewritten in place is read again; a file changed within _RACY_NS of being hashed is not remembered
(a coarse clock could give a second change the same times).

Each code version has a file of its own (an entry of other code can never be served, so it is not
loaded either), and the few newest files are kept: two installed versions sharing the folder do not
throw each other's entries away. The cache lives in the user's cache folder, never in the project
(validate writes nothing there); FLUX_VALIDATE_CACHE=off turns it off, any other value is the
folder to use."""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

from ..schema.migration_files import side_files
from .cache_folder import RACY_NS as _RACY_NS, cache_dir, write_whole
from .run_cache import note_digest

if TYPE_CHECKING:
    from ..model.findings import FileFinding

CACHE_FORMAT = "2"  # bump when what the file holds changes
_CACHE_PREFIX = f"validate-py{sys.version_info[0]}{sys.version_info[1]}-"  # marshal's format is Python's own
_KEEP = 100_000  # entries kept; the ones this run used first
_KEEP_STATS = 200_000  # remembered file digests kept; the ones this run used first
_KEEP_FLAGS = 20_000  # facts about files kept (whether one has down SQL: one per file of an up-only folder)
_KEEP_FILES = 3  # cache files of code versions kept (this one's, and the two newest others)
CODE_DIRS = ("lint", "pg", "schema", "model")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The source of every module that reads, replays or judges SQL (what a version number would
    stand for, read more cheaply): an entry written by other code (an upgrade, an edited rule)
    is never read. Remembered by the files' stats, as the migration files' digests are: reading
    the ~150 files takes ~5 ms a run, their stats ~1 ms."""
    return source_version(Path(__file__).resolve().parent.parent, CODE_DIRS, cache_dir())


def source_version(root: Path, subdirs: tuple[str, ...], memo_folder: Optional[Path]) -> str:
    """The hash of the .py files under root/subdirs (their paths and bytes), remembered in
    memo_folder by their stats (device, inode, size, modification and change times)."""
    files = sorted(f for sub in subdirs for f in python_files(os.path.join(root, sub)))
    stats = source_stats(root, files)
    now = time.time_ns()
    racy = any(now - max(s[4], s[5]) <= _RACY_NS for s in stats)
    by_stat = hashlib.sha256(repr(stats).encode()).hexdigest()
    cut = len(os.fspath(root)) + 1
    memo = memo_folder / "code-version.marshal" if memo_folder is not None else None  # not validate*: _prune's
    known = _read_marshal(memo) if memo is not None else {}
    if isinstance(known.get(by_stat), str):
        return known[by_stat]
    digest = hashlib.sha256(f"flux-validate {CACHE_FORMAT}\n".encode())
    for f in files:
        with open(f, "rb") as fh:
            digest.update(f[cut:].encode() + b"\0" + fh.read() + b"\0")
    version = digest.hexdigest()
    if memo is not None and not racy:
        _write_marshal(memo, {by_stat: version})  # one installed code at a time: the last one seen
    return version


def source_stats(root: Path, files: list[str]) -> list[tuple]:
    """(name under root, device, inode, size, modification and change times) of each file: what
    tells a source file changed without reading it (also `flux daemon`'s staleness check)."""
    cut = len(os.fspath(root)) + 1  # relative names by slicing: os.path.relpath costs ~10 us a call
    out = []
    for f in files:
        st = os.stat(f)
        out.append((f[cut:], st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return out


def python_files(folder: str) -> list[str]:
    """The .py files under `folder`, __pycache__ aside."""
    out = []
    with os.scandir(folder) as entries:
        for e in entries:
            if e.is_dir(follow_symlinks=False) and e.name != "__pycache__":
                out.extend(python_files(e.path))
            elif e.name.endswith(".py"):
                out.append(e.path)
    return out


def _read_marshal(path: Path) -> dict:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_marshal(path: Path, data) -> None:
    """Written whole, atomically, in a folder git ignores; a cache that cannot be written costs
    time, never a result."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Flux's caches: nothing here to commit\n*\n", encoding="utf-8")
    except OSError:
        return
    write_whole(path, marshal.dumps(data))


class Cache:
    """Findings by key and file digests by stat, one marshal file per code version; written whole
    (atomically) when something was added."""

    def __init__(self, folder: Optional[Path]):
        self.folder = folder
        self.version = code_version() if folder is not None else ""  # reads ~150 source files: only for a cache
        self.name = f"{_CACHE_PREFIX}{self.version[:16]}.marshal"
        self.entries: dict[str, list[dict]] = {}
        self.flags: dict[str, bool] = {}
        self.stats: dict[tuple, tuple] = {}  # (device, inode) -> (size, mtime_ns, ctime_ns, digest)
        self.used: set[str] = set()
        self.stats_used: set[tuple] = set()
        self.added = False
        if folder is not None:
            data = _read_marshal(folder / self.name)
            if data.get("format") == CACHE_FORMAT and {"entries", "flags", "stats"} <= data.keys():
                self.entries, self.flags, self.stats = data["entries"], data["flags"], data["stats"]

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

    def put(self, key: str, findings: list[Union[FileFinding, dict]]) -> None:
        """Store a file's findings: FileFindings, or their dumps (a worker's: lint/batch.py)."""
        if self.folder is None:
            return
        self.entries[key] = [f if isinstance(f, dict) else f.model_dump() for f in findings]
        self.used.add(key)
        self.added = True

    def save(self) -> None:
        if self.folder is None or not self.added:
            return
        _write_marshal(self.folder / self.name, {"format": CACHE_FORMAT,
                                                 "entries": _newest(self.entries, self.used, _KEEP),
                                                 "flags": dict(list(self.flags.items())[-_KEEP_FLAGS:]),
                                                 "stats": _newest(self.stats, self.stats_used, _KEEP_STATS)})
        try:
            self._prune()
        except OSError:
            pass

    def _prune(self) -> None:
        """Remove the files of code versions but the newest few (and those of older formats)."""
        old = [p for p in self.folder.glob("validate*") if p.name != self.name and p.suffix in (".marshal", ".json")]
        old.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for path in old[_KEEP_FILES - 1:]:
            path.unlink(missing_ok=True)


def _newest(items: dict, used: set, keep: int) -> dict:
    """At most `keep` of `items`: the ones this run used, then the others in their order."""
    out = {k: items[k] for k in used if k in items}
    for k, v in items.items():
        if len(out) >= keep:
            break
        out.setdefault(k, v)
    return out


class Digests:
    """The digests of the files a run reads (the module's docstring says when a file is read)."""

    def __init__(self, cache: Cache):
        self.cache = cache
        self._files: dict[str, bytes] = {}
        self._inputs: dict[str, bytes] = {}
        self._listings: dict[str, frozenset] = {}
        self._exists: dict[str, bool] = {}  # side files outside their migration's folder

    def file(self, path: Path) -> bytes:
        name = os.fspath(path)
        found = self._files.get(name)
        if found is None:
            found = self._files[name] = self._digest(name)
        return found

    def _digest(self, name: str) -> bytes:
        try:
            st = os.stat(name)
            ident, stat = (st.st_dev, st.st_ino), (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            known = self.cache.stats.get(ident)
            if known is not None and known[:3] == stat:
                self.cache.stats_used.add(ident)
                note_digest(name, st, known[3])
                return known[3]
            with open(name, "rb") as fh:
                digest = hashlib.sha256(fh.read()).digest()
        except OSError as exc:
            return f"unreadable {exc}".encode()
        note_digest(name, st, digest)  # the run's record (run_cache.py) takes it as it is
        if self.cache.folder is not None and time.time_ns() - max(stat[1], stat[2]) > _RACY_NS:
            self.cache.stats[ident] = stat + (digest,)
            self.cache.stats_used.add(ident)
            self.cache.added = True
        return digest

    def inputs(self, path: Path) -> bytes:
        """The bytes of a migration file and of the files read with it (its down file, its tool's
        settings beside it: migration_files.side_files), missing ones included."""
        name = os.fspath(path)
        found = self._inputs.get(name)
        if found is None:
            digest = hashlib.sha256(self.file(name))
            own = os.path.dirname(name)
            for side in side_files(name):
                folder, base = os.path.split(side)
                # The file's own folder is listed (once): most side files beside it do not exist. A
                # file elsewhere (a Flyway config in a folder above) is asked for alone: listing /tmp
                # or a home folder would make the run depend on everything in it (lint/run_cache.py).
                there = base in self._names_in(folder) if folder == own else self._there(side)
                digest.update(base.encode() + b"\0" + (self.file(side) if there else b"missing"))
            found = self._inputs[name] = digest.digest()
        return found

    def _there(self, path: str) -> bool:
        found = self._exists.get(path)
        if found is None:
            found = self._exists[path] = os.path.lexists(path)
        return found

    def _names_in(self, folder: str) -> frozenset:
        """The names in a folder, listed once a run: most side files do not exist, and asking
        for each one costs a failed open."""
        found = self._listings.get(folder)
        if found is None:
            try:
                found = frozenset(os.listdir(folder or "."))
            except OSError:
                found = frozenset()
            self._listings[folder] = found
        return found

    def history(self, files: list[Path]) -> list[str]:
        """hashes[i]: the names and inputs of files[:i], in order (what the schema before file i
        is built from, and whether the folder ships down SQL)."""
        digest = hashlib.sha256()
        out = [digest.hexdigest()]
        for f in files:
            digest.update(f.name.encode() + b"\0" + self.inputs(f) + b"\0")
            out.append(digest.hexdigest())
        return out


def job_key(file: Path, display: str, settings_json: str, tool: str, schema_hash: str, up_only: bool,
            digests: Digests) -> str:
    """The cache key of a file's findings (the module's docstring says what goes in)."""
    digest = hashlib.sha256(f"{code_version()}\0{tool}\0{display}\0{schema_hash}\0{up_only}\0".encode())
    digest.update(settings_json.encode() + b"\0")
    digest.update(digests.inputs(file))
    return digest.hexdigest()
