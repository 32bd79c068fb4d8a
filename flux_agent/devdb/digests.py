"""The digests of the files that key the dev databases (devdb/program.py's keys), each worked out
once within one `flux validate`."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

from ..errors import FluxInputError

T = TypeVar("T")

# Within one `flux validate` (entry/validate.py: digests_kept), each input's digest by its path, and each
# runner's list of inputs: the key of the database before each of a folder's Node files hashes every
# migration of the folder, so N files read and listed N x N files (Infisical's 132 knex files: 35,000
# reads, 3 s; misskey's 340 TypeORM files, each key worked out twice: 486,000 stats, 10 s of a 12 s warm
# run). Within one run a file is taken to keep its bytes. Outside one, nothing is kept: a long-lived
# server must not take a file rewritten since for the one it hashed.
_DIGESTS: ContextVar[Optional[dict]] = ContextVar("flux_devdb_digests", default=None)


@contextmanager
def digests_kept(kept: dict) -> Iterator[None]:
    """Keep the digests (and input lists) worked out here in `kept` (one validate's)."""
    token = _DIGESTS.set(kept)
    try:
        yield
    finally:
        _DIGESTS.reset(token)


def file_digest(path: Path) -> bytes:
    """The file's SHA-256 (FluxInputError when it cannot be read)."""
    kept = _DIGESTS.get()
    if kept is not None and str(path) in kept:
        return kept[str(path)]
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    if kept is not None:
        kept[str(path)] = digest
    return digest


def kept_once(key: tuple, make: Callable[[], T]) -> T:
    """`make()`, worked out once within one validate (each time outside one)."""
    kept = _DIGESTS.get()
    if kept is None:
        return make()
    if key not in kept:
        kept[key] = make()
    return kept[key]
