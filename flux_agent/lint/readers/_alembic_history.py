"""The schema an alembic revision meets: the revisions it follows (its down_revision, theirs, up to
the first) read offline as the reader reads any revision, all in one go, and replayed in alembic's
order, as `flux validate` replays a folder of SQL files before each. Where that history is not
known whole, the revision meets no known schema (None), and is judged as before, without one: a
revision before it not read whole offline (mealie's first asks the live database which tables
exist: none would be known, and every later revision would name "unknown" tables), one that does
not replay, or one not in the folder (a branch kept in another version location)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ...errors import FluxError
from ...model.schema import Schema
from . import joined_sql


@dataclass
class _Chain:
    """One replay going forward through a folder's revisions, as validate judges them in order:
    each revision replayed once, a snapshot taken before each judged one (unchanged tables shared)."""

    keys: list = field(default_factory=list)  # (file, stat) of each revision replayed, in order
    replay: object = None  # a FolderReplay of no files, fed the revisions' SQL
    known: bool = True  # False once a revision was not read whole or did not replay


_CHAIN = _Chain()  # the one going on; a new one where a revision asked about does not follow it
_GRAPHS: dict[str, tuple[tuple, tuple]] = {}  # folder -> (its .py files' stats, _graph's answer)


def _order(graph: dict[str, tuple[Path, list[str]]], revision: str) -> Optional[list[str]]:
    """The revisions `revision` follows, parents before children; None when one is not in `graph`."""
    done: list[str] = []
    seen: set[str] = set()
    stack = [(down, False) for down in reversed(graph[revision][1])]
    while stack:
        rev, expanded = stack.pop()
        if rev not in graph:
            return None
        if expanded:
            done.append(rev)
            continue
        if rev in seen:
            continue
        seen.add(rev)
        stack.append((rev, True))
        stack += [(down, False) for down in reversed(graph[rev][1]) if down not in seen]
    return done


def _graph(folder: Path) -> tuple[dict, dict[str, str]]:
    """The folder's revision graph (write/tools/alembic.revision_files, each file resolved) and each
    resolved file's revision; read again only when a file of the folder changed."""
    from ...write.tools.alembic import revision_files

    with os.scandir(folder) as entries:
        stats = tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries
                             if e.name.endswith(".py")))
    held = _GRAPHS.get(str(folder))
    if held is None or held[0] != stats:
        graph = {rev: (file.resolve(), downs) for rev, (file, downs) in revision_files(folder).items()}
        held = (stats, (graph, {str(file): rev for rev, (file, _) in graph.items()}))
        _GRAPHS[str(folder)] = held
    return held[1]


def schema_before(path: Path, project: Optional[Path]) -> Optional[Schema]:
    """The schema the revision at `path` is upgraded on, or None where its history is not known."""
    global _CHAIN
    from ...schema.replay.engine import FolderReplay
    from .alembic import _stat_key, read_many

    path = path.resolve()
    try:
        graph, revision_of = _graph(path.parent)
    except (FluxError, SyntaxError, ValueError, OSError):
        return None
    mine = revision_of.get(str(path))
    order = _order(graph, mine) if mine is not None else None
    if order is None:
        return None
    files = [graph[rev][0] for rev in order]
    keys = [(str(f), _stat_key(f)) for f in files]
    if _CHAIN.replay is None or _CHAIN.keys != keys[:len(_CHAIN.keys)]:
        # the first, another folder's, one with a revision edited, or one judged out of order
        _CHAIN = _Chain(replay=FolderReplay(path.parent, "sql", leave_out=lambda _: True))
    todo = files[len(_CHAIN.keys):]
    read = read_many(todo, project) if todo and _CHAIN.known else {}
    for file, key in zip(todo, keys[len(_CHAIN.keys):]):
        _CHAIN.keys.append(key)
        if _CHAIN.known:
            _CHAIN.known = _replayed(read[file], _CHAIN.replay)
    return _CHAIN.replay.snapshot() if _CHAIN.known else None


def _replayed(revision, replay) -> bool:
    """Replay the revision's up part; False where it was not read whole or does not replay."""
    if revision.unread:
        return False
    sql = joined_sql(revision.up)
    try:
        if sql:
            replay.replay_text(sql)
    except FluxError:
        return False
    return True
