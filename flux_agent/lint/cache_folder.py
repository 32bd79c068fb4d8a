"""Where `flux validate`'s caches live (the user's cache folder, never the project) and how their
files are written: whole, atomically, the newest few kept. Standard library only: the `flux`
command's first step asks it before importing anything else."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Optional

# A file changed this recently is not trusted by its stat: a coarse clock could give a second
# change the same times (git's index knows it as "racily clean").
RACY_NS = 3_000_000_000


def cache_dir() -> Optional[Path]:
    """The user's cache folder for validate (keys hold the path and bytes, so projects can share
    it); None when turned off (FLUX_VALIDATE_CACHE=off), the variable's value when it names one."""
    env = os.environ.get("FLUX_VALIDATE_CACHE", "")
    if env.lower() in ("off", "0", "no", "false"):
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flux" / "validate"


def write_whole(path: Path, data: bytes) -> bool:
    """Write `data` to `path` through a file of its own renamed over it, so a reader sees the old
    file or the new, never part of one; False when it cannot be written (a cache that cannot be
    written costs a later run time, never a result)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{time.time_ns()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


def keep_newest(folder: Path, kind: Callable[[str], bool], keep: int) -> None:
    """Remove the files of `folder` whose name is of `kind`, all but the `keep` newest."""
    try:
        files = sorted((e for e in os.scandir(folder) if kind(e.name)), key=lambda e: e.stat().st_mtime_ns,
                       reverse=True)
        for old in files[keep:]:
            os.remove(old.path)
    except OSError:
        pass
