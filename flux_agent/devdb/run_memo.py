"""What one `flux validate` works out once and keeps to its end, never longer: the digests of the
files keying the dev databases, each runner's list of inputs, where a Node tool could not build the
database a file runs on, and the files a batch run saw fail.

Outside a validate nothing is kept (memo() is None): a long-lived server (the MCP server, the
daemon) must not take a file rewritten since for the one it hashed, nor remember a failure its
user has since fixed."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional


@dataclass
class RunMemo:
    # A file's SHA-256 by its path (devdb/digests.file_digest): the key of the database before each of
    # a folder's Node files hashes every migration of the folder, so N files read N x N files
    # (Infisical's 132 knex files: 35,000 reads, 3 s). Within one run a file is taken to keep its bytes.
    digests: dict[str, bytes] = field(default_factory=dict)
    # What is worked out once by its key (digests.kept_once): a runner's list of inputs (misskey's 340
    # TypeORM files, each key listing and stat'ing the folder: 486,000 stats, 10 s of a 12 s warm run).
    worked_out: dict[tuple, Any] = field(default_factory=dict)
    # (tool, project, folder) -> (the file's name, why): the project's tool failed building the
    # database that file runs on; the files after it fail the same way and are not run again
    # (ever-gauzy's 278 TypeORM migrations, their modules missing, took 2 to 4 minutes to say so).
    unbuilt: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    # A file -> how it failed in a batch run (lint/readers/_node.py's _Failed arguments), as reading
    # it alone fails: never kept past the run.
    failed_reads: dict[str, tuple] = field(default_factory=dict)


_MEMO: ContextVar[Optional[RunMemo]] = ContextVar("flux_run_memo", default=None)


@contextmanager
def remembering(memo: RunMemo) -> Iterator[RunMemo]:
    """Keep what is worked out here in `memo` (one validate's); as it was on leaving."""
    token = _MEMO.set(memo)
    try:
        yield memo
    finally:
        _MEMO.reset(token)


def memo() -> Optional[RunMemo]:
    """The memo of the validate running here, or None outside one."""
    return _MEMO.get()
