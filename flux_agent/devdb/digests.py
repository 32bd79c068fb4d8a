"""The digests of the files that key the dev databases (devdb/program.py's keys), each worked out
once within one `flux validate`."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator, Optional

from ..errors import FluxInputError

# Within one `flux validate` (entry/validate.py: digests_kept), each input's digest by its path, size and
# mtime: the key of the database before each of a folder's Node files hashes every migration of the folder,
# so N files read N x N files (Infisical's 132 knex files: 35,000 reads, 3 s). Outside one, none is kept: a
# long-lived server must not take a file rewritten within one tick of the clock for the one it hashed.
_DIGESTS: ContextVar[Optional[dict]] = ContextVar("flux_devdb_digests", default=None)


@contextmanager
def digests_kept(kept: dict) -> Iterator[None]:
    """Keep the digests of the files hashed here in `kept` (one validate's)."""
    token = _DIGESTS.set(kept)
    try:
        yield
    finally:
        _DIGESTS.reset(token)


def file_digest(path: Path) -> bytes:
    """The file's SHA-256 (FluxInputError when it cannot be read)."""
    kept = _DIGESTS.get()
    try:
        if kept is None:
            return hashlib.sha256(path.read_bytes()).digest()
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in kept:
            kept[key] = hashlib.sha256(path.read_bytes()).digest()
        return kept[key]
    except OSError as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
