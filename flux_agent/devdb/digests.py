"""The digests of the files that key the dev databases (devdb/program.py's keys), each worked out
once within one `flux validate` (run_memo.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, TypeVar

from ..errors import FluxInputError
from .run_memo import memo

T = TypeVar("T")


def file_digest(path: Path) -> bytes:
    """The file's SHA-256 (FluxInputError when it cannot be read)."""
    kept = memo()
    if kept is not None and str(path) in kept.digests:
        return kept.digests[str(path)]
    try:
        digest = hashlib.sha256(path.read_bytes()).digest()
    except OSError as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    if kept is not None:
        kept.digests[str(path)] = digest
    return digest


def kept_once(key: tuple, make: Callable[[], T]) -> T:
    """`make()`, worked out once within one validate (each time outside one)."""
    kept = memo()
    if kept is None:
        return make()
    if key not in kept.worked_out:
        kept.worked_out[key] = make()
    return kept.worked_out[key]
