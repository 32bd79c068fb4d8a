"""One Flux at a time on a shared resource (writing a project's files, starting or building
the dev database): an advisory lock on a file outside the project, removed when it is released."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (made if missing) for the block. The file goes when the lock
    is released (one per project written and per build were left behind: 11,000 in a busy /tmp); a
    process that waited on the file removed meanwhile sees it is not the one at `path` and takes anew."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; file creation still never overwrites
        yield
        return
    while True:
        handle = open(path, "a+")
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            same = os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
        except FileNotFoundError:  # removed by the holder before us
            same = False
        if same:
            break
        handle.close()
    try:
        yield
    finally:
        try:
            os.unlink(path)  # while held: a waiter on this file takes the next one
        except FileNotFoundError:
            pass
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
