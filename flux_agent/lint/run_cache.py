"""A whole `flux validate` run remembered: its output and exit code served again by the `flux`
command's first step (entry/client.py), with the standard library alone, while every file and
folder the run looked at is as it was.

The per-file cache (lint/cache.py) spares the judging, not the start: loading pydantic, the
settings and the detection, and asking after every file, is ~0.3 s on 2,000 files, more than
squawk's whole run. This asks the file system the questions the run asked and compares the answers.

What a run looked at is observed, not declared, so no reader can be forgotten: Python's audit
hooks report every file opened and every folder listed (the import system's too), and os.stat,
os.lstat and os.access are wrapped for the run (pathlib's and os.path's tests go through them); the
source file of every module loaded is looked at too, so an edited or upgraded module is a miss.
The record holds the hash of each file's bytes as well: a file whose times changed and whose bytes
did not (a checkout, a stash popped) is unchanged, as it is for the per-file cache.
A run is remembered only when it is self-contained: no program started (git, a dev database), no
socket, no change of working folder, nothing written outside the cache folder (bytecode aside),
output through sys.stdout and sys.stderr only, and nothing it read changed within _RACY_NS of its
start (a coarse clock could give a second change the same times, as git's index knows).
The key: the arguments, the working folder, the environment (less what a shell changes by itself),
whether each stream is a terminal, and the interpreter with its flags."""

from __future__ import annotations

import hashlib
import marshal
import os
import stat as _stat
import sys
import time
from pathlib import Path
from typing import Optional

from .cache_folder import RACY_NS as _RACY_NS, cache_dir, keep_newest, write_whole

FORMAT = "run-2"  # bump when what a record holds changes
_KEEP = 8  # records kept, the newest (a record holds the run's output: ~4 MB for 10,000 findings)
# Not part of the key: changed by a shell between two identical runs, or this module's own log.
_SHELL_OWN = ("PWD", "OLDPWD", "SHLVL", "_", "FLUX_RUN_CACHE_LOG")
# Events after which the run's result depends on more than files: never remembered.
_UNSEEN = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.forkpty",
           "socket.connect", "socket.bind", "socket.sendto", "os.chdir", "os.fchdir", "sqlite3.connect",
           "urllib.Request", "ctypes.dlopen", "os.chroot")
_WRITES = ("os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime",
           "os.truncate", "os.link", "os.symlink", "os.mkfifo", "os.mknod", "shutil.copyfile",
           "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move", "shutil.rmtree")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_real_stat, _real_lstat, _real_access = os.stat, os.lstat, os.access
# Windows' st_ctime is the creation time, not the last change's: a file rewritten in place with its
# modification time put back would look unchanged there.
_HERE = os.name == "posix"
_INSTALLED = tuple(os.path.join(p, "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})  # code: stats


def steady_environment() -> list[tuple[str, str]]:
    """The environment, sorted, less what a shell changes by itself between two identical runs."""
    return sorted((k, v) for k, v in os.environ.items() if k not in _SHELL_OWN)


def _key(argv: list[str]) -> str:
    env = steady_environment()
    streams = [s.isatty() if s is not None else None for s in (sys.stdin, sys.stdout, sys.stderr)]
    if streams[1]:  # a terminal's width can shape text (no environment variable says it changed)
        try:
            streams.append(tuple(os.get_terminal_size(sys.stdout.fileno())))
        except (OSError, ValueError, AttributeError):
            streams.append(None)
    parts = (FORMAT, sys.version, sys.executable, sys.prefix, repr(sys.flags), repr(sorted(sys._xoptions.items())),
             repr(sys.warnoptions), os.getcwd(), repr(argv), repr(env), repr(streams))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _record_path(folder, argv: list[str]) -> str:
    return os.path.join(os.fspath(folder), "runs", _key(argv) + ".marshal")


def _seen(path: str, follow: bool = True) -> tuple:
    """What os.stat (lstat) says of a path, as much as a reader could have learned from it: a
    folder's type and mode (its entries are a listing's business), a file's identity, size and times."""
    try:
        st = _real_stat(path, follow_symlinks=follow)
    except OSError as exc:
        return ("error", exc.errno)
    return _as_seen(st)


def _as_seen(st: os.stat_result) -> tuple:
    if _stat.S_ISDIR(st.st_mode):
        return ("dir", st.st_mode)
    return ("file", st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _listing(path: str) -> tuple:
    try:
        with os.scandir(path) as entries:
            return tuple(sorted((e.name, e.is_dir(), e.is_symlink()) for e in entries))
    except OSError as exc:
        return ("error", exc.errno)


def log(line: str) -> None:
    """FLUX_RUN_CACHE_LOG=1: one line on stderr of what the run cache did, and why."""
    if os.environ.get("FLUX_RUN_CACHE_LOG"):
        print(f"flux: run cache: {line}", file=sys.stderr)


def served(argv: list[str]) -> Optional[int]:
    """The exit code of a remembered run of `argv`, its output written again; None when there is
    none, or anything it looked at differs now (the caller runs the command)."""
    folder = cache_dir()
    if folder is None or not _HERE or "-" in argv:
        return None
    try:
        with open(_record_path(folder, argv), "rb") as f:
            record = marshal.loads(f.read())
        fmt, stats, accesses, listings, digests, code, out, err = record
    except (OSError, ValueError, EOFError, TypeError):
        log("miss (no record)")
        return None
    changed = _changed(fmt, stats, accesses, listings, digests)
    if changed is not None:
        log(f"miss ({changed})")
        return None
    try:
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (| head), as the command itself takes it
        return 0
    log("served")
    return code


def _digest(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).digest()
    except OSError:
        return None


def _changed(fmt: str, stats: dict, accesses: dict, listings: dict, digests: dict) -> Optional[str]:
    """What differs from the record (the first thing found), or None. A file whose times or inode
    changed (a checkout, a stash popped, a touch) and whose mode, size and bytes did not is unchanged:
    a run's output depends on the bytes it read, the times only said whether to read them again."""
    if fmt != FORMAT:
        return "another format"
    for (path, follow), seen in stats.items():
        now = _seen(path, follow)
        if now != seen and not (now[0] == seen[0] == "file" and now[1] == seen[1] and now[4] == seen[4]
                                and path in digests and _digest(path) == digests[path]):
            return f"{path} changed"
    for (path, mode), allowed in accesses.items():
        if _real_access(path, mode) != allowed:
            return f"{path} access changed"
    for path, names in listings.items():
        if _listing(path) != names:
            return f"folder {path} changed"
    return None


def note_digest(path: str, st: os.stat_result, digest: bytes) -> None:
    """A reader of the run hashed a file's bytes (sha256) with this stat then (the per-file cache's
    digests, lint/cache.py): the record takes the digest instead of reading the file again."""
    rec = Recorder._active
    if rec is not None:
        where = rec._path(path)
        if where is not None:
            rec.noted[where] = (_as_seen(st), digest)


class _Tee:
    """A standard stream that keeps a copy of what is written to it; reaching past it (its buffer,
    its file descriptor) writes what the copy would miss, so the run is not remembered."""

    def __init__(self, stream, recorder: "Recorder"):
        self._stream, self._recorder, self.copy = stream, recorder, []

    def write(self, text: str) -> int:
        self.copy.append(text)
        try:
            return self._stream.write(text)
        except BaseException:  # a reader gone (| head): the command's exit code is no longer its own
            self._recorder.unseen = "output not written whole"
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BaseException:
            self._recorder.unseen = "output not written whole"
            raise

    def __getattr__(self, name: str):
        if name in ("buffer", "fileno"):
            self._recorder.unseen = f"sys stream {name}"
        return getattr(self._stream, name)


class Recorder:
    """Watches one run from its start to `finish`, which keeps the record when the run qualifies."""

    _active: Optional["Recorder"] = None  # the audit hook cannot be removed: it looks here

    def __init__(self, argv: list[str]):
        self.argv, self.folder = argv, cache_dir()
        self.start_ns = time.time_ns()
        self.cwd = os.getcwd()
        self.stats: dict[tuple, tuple] = {}
        self.accesses: dict[tuple, bool] = {}
        self.digests: dict[str, Optional[bytes]] = {}  # the bytes of the files the run saw, by hash
        self.noted: dict[str, tuple] = {}  # path -> (its stat, its digest) as a reader hashed it
        self.listed: set[str] = set()
        self.unseen: Optional[str] = None  # why the run cannot be remembered
        self._paths: dict[str, Optional[str]] = {}  # each path as the run named it, made absolute once
        self._inside = (os.path.join(os.path.realpath(self.folder), ""), os.path.join(os.path.abspath(self.folder), "")) \
            if self.folder is not None else ()

    @classmethod
    def start(cls, argv: list[str]) -> Optional["Recorder"]:
        """Watch this process's run of `argv` (a `flux validate` with a cache folder), or None."""
        if cache_dir() is None or not _HERE or "-" in argv or cls._active is not None:
            return None
        rec = cls._active = cls(argv)
        if not getattr(cls, "_hooked", False):
            sys.addaudithook(_hook)
            os.register_at_fork(after_in_child=_forget)
            cls._hooked = True
        os.stat, os.lstat, os.access = _stat_watched, _lstat_watched, _access_watched
        sys.stdout, sys.stderr = _Tee(sys.stdout, rec), _Tee(sys.stderr, rec)
        return rec

    def _path(self, path) -> Optional[str]:
        """The absolute path of an event's argument; None for a descriptor or the cache's own files."""
        if isinstance(path, int) or path is None:
            return None
        if isinstance(path, str):
            known = self._paths.get(path, False)
            if known is not False:
                return known
        name = os.fsdecode(os.fspath(path))
        joined = os.path.join(self.cwd, name)  # as the run named it: a/../b may be a link's
        norm = os.path.normpath(joined)
        where = None if norm.startswith(self._inside) or norm + os.sep in self._inside else joined
        self._paths[name] = where
        return where

    def event(self, name: str, args: tuple) -> None:
        if name == "open":
            path, mode, flags = (args + (None, None))[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                (isinstance(flags, int) and flags & _WRITE_FLAGS)
            if isinstance(path, int):
                return
            where = self._path(path)
            if where is None:
                return
            if writes:
                if os.path.basename(os.path.dirname(where)) != "__pycache__":  # bytecode is no output
                    self.unseen = f"writes {where}"
            else:  # looked at now, as it is read, and again at the end: a change in between is seen
                self.saw_stat(where, True, None)
        elif name in ("os.listdir", "os.scandir"):
            path = args[0] if args else "."
            if isinstance(path, int):
                self.unseen = "lists a folder by descriptor"
                return
            where = self._path("." if path is None else path)
            if where is not None:
                self.listed.add(where)
        elif name == "ctypes.dlopen" and args[:1] == (None,):
            pass  # ctypes imported (its `pythonapi`: the running process's own symbols), no library loaded
        elif name.startswith(_UNSEEN):
            self.unseen = name
        elif name in _WRITES:
            for arg in args[:2]:
                if isinstance(arg, (str, bytes, os.PathLike)) and self._path(arg) is not None \
                        and not self._is_cache_ancestor(arg):
                    self.unseen = f"{name} {arg}"

    def _is_cache_ancestor(self, path) -> bool:  # the cache folder's parents made on its first use
        where = os.path.join(os.path.normpath(os.path.join(self.cwd, os.fsdecode(os.fspath(path)))), "")
        return any(inside.startswith(where) for inside in self._inside)

    def saw_stat(self, path, follow: bool, dir_fd, seen: Optional[tuple] = None) -> None:
        """Remember the first answer to a stat of `path` (`seen`, or asked now)."""
        if dir_fd is not None:
            self.unseen = "stat relative to a folder descriptor"
            return
        where = self._path(path)
        if where is not None and (where, follow) not in self.stats:
            self.stats[(where, follow)] = seen if seen is not None else _seen(where, follow)

    def finish(self, code: object) -> None:
        """Stop watching; keep the record when the run was self-contained and nothing it looked at
        is newer than its start (less _RACY_NS). `unseen` says why not, where not."""
        Recorder._active = None
        os.stat, os.lstat, os.access = _real_stat, _real_lstat, _real_access
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out._stream, err._stream  # type: ignore[attr-defined]
        if self.unseen is None:
            self.unseen = self._unstable(code)
        if self.unseen is None:
            record = (FORMAT, self.stats, self.accesses, {path: _listing(path) for path in self.listed}, self.digests, code,
                      "".join(out.copy), "".join(err.copy))
            path = Path(_record_path(self.folder, self.argv))
            if write_whole(path, marshal.dumps(record)):
                keep_newest(path.parent, lambda name: name.endswith(".marshal"), _KEEP)
        log("recorded" if self.unseen is None else f"not recorded ({self.unseen})")

    def _unstable(self, code: object) -> Optional[str]:
        if code not in (0, 1) or self.folder is None:
            return f"exit code {code}"
        seen_during = dict(self.stats)
        for module in list(sys.modules.values()):  # an edited or upgraded module is a miss
            source = getattr(module, "__file__", None)
            if isinstance(source, str):
                self.saw_stat(source, True, None)
        recent = self.start_ns - _RACY_NS
        for (path, follow), seen in self.stats.items():
            if (path, follow) in seen_during and _seen(path, follow) != seen:
                return f"{path} changed during the run"
            if seen[0] == "file" and max(seen[5], seen[6]) >= recent:
                return f"{path} changed just before the run"
        for (path, follow), seen in seen_during.items():  # installed code aside: its stats are enough
            if follow and seen[0] == "file" and "__pycache__" not in path and not path.startswith(_INSTALLED):
                noted = self.noted.get(path)
                self.digests[path] = noted[1] if noted is not None and noted[0] == seen else _digest(path)
                if _seen(path, follow) != seen:  # hashed as the run saw it, or not kept
                    return f"{path} changed during the run"
        for path in self.listed:  # a folder changed while (or just before) the run listed it
            try:
                st = _real_stat(path)
            except OSError:
                continue
            if max(st.st_mtime_ns, st.st_ctime_ns) >= recent:
                return f"folder {path} changed just before the run"
        return None


def _forget() -> None:
    """A worker process forked by the run watches nothing: what it reads, the run read first (its
    cache keys hold every input of a file's findings), and its answers would only cost it time."""
    if Recorder._active is not None:
        Recorder._active = None
        os.stat, os.lstat, os.access = _real_stat, _real_lstat, _real_access


def _hook(name: str, args: tuple) -> None:
    rec = Recorder._active
    if rec is not None:
        rec.event(name, args)


def _stat_watched(path, *, dir_fd=None, follow_symlinks=True):
    rec = Recorder._active
    if rec is None or (dir_fd is None and (rec._paths.get(path), follow_symlinks) in rec.stats):
        return _real_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)  # seen already: asked alone
    try:
        st = _real_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    except OSError as exc:
        rec.saw_stat(path, follow_symlinks, dir_fd, ("error", exc.errno))
        raise
    rec.saw_stat(path, follow_symlinks, dir_fd, _as_seen(st))
    return st


def _lstat_watched(path, *, dir_fd=None):
    return _stat_watched(path, dir_fd=dir_fd, follow_symlinks=False)


def _access_watched(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True):
    rec = Recorder._active
    allowed = _real_access(path, mode, dir_fd=dir_fd, effective_ids=effective_ids, follow_symlinks=follow_symlinks)
    if rec is not None:
        where = rec._path(path)
        if dir_fd is not None or effective_ids or not follow_symlinks:
            rec.unseen = "access with options"
        elif where is not None:
            rec.accesses.setdefault((where, mode), allowed)
    return allowed
