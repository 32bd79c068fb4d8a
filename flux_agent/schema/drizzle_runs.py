"""Which files of a drizzle migrations folder `drizzle-kit migrate` runs: the tags its journal
(`meta/_journal.json`) lists, and Flux's by-hand files between them; read on every SQL file judged
or replayed, so the journal is stat'ed each time and read again only when it changed."""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from pathlib import Path
from typing import Optional

__all__ = ["BY_HAND", "drizzle_listed", "in_journal", "journal_path"]


@functools.lru_cache(maxsize=64)
def journal_path(folder: str) -> str:
    """drizzle's journal beside a folder's files."""
    return os.path.join(folder, "meta", "_journal.json")


def in_journal(path: Path) -> bool:
    """Does drizzle-kit migrate run this file (as an entry of the journal beside it)?"""
    found, listed = _journal_read(os.path.dirname(os.fspath(path)))
    if listed is None:  # a journal Flux cannot read: judge as drizzle would run a listed file
        return found
    return path.stem in listed


def _journal_read(folder: str) -> tuple[bool, Optional[frozenset[str]]]:
    """(is there a journal file beside the folder's files, the tags it lists: None where it cannot be
    read). Asked of every SQL file judged or replayed: one stat each, the journal read and parsed
    again only when it changed (it was read, or failed to open, for every file)."""
    journal = journal_path(folder)
    try:
        st = os.stat(journal)
    except (OSError, ValueError):
        return False, None
    if not stat.S_ISREG(st.st_mode):
        return False, None
    return True, _journal_tags(journal, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _journal_tags(journal: str, mtime_ns: int, size: int) -> Optional[frozenset[str]]:
    """The tags a journal lists, read when it is as its stat says (the cache's key)."""
    try:
        entries = json.loads(Path(journal).read_text(encoding="utf-8")).get("entries")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    if not isinstance(entries, list):
        return None
    return frozenset(e["tag"] for e in entries if isinstance(e, dict) and isinstance(e.get("tag"), str))


# Flux's by-hand files beside drizzle's journal (write/tools/_drizzle_journal.py): run with psql
# between the two entries their number sits between.
BY_HAND = re.compile(r"^\d{4}-\d{2}_manual_")


def drizzle_listed(folder: Path) -> Optional[frozenset[str]]:
    """The tags drizzle's journal lists: the only files `drizzle-kit migrate` runs (a file left
    beside them, dokploy's 0130_abandoned_dagger.sql after a merge, never ran); None where the
    folder has no journal Flux can read (then every file counts)."""
    return _journal_read(str(folder))[1]
