"""The schema an alembic revision meets: the revisions it follows (its down_revision, theirs, up to
the first) read offline as the reader reads any revision, all in one go, and replayed in alembic's
order, as `flux validate` replays a folder of SQL files before each. Where that history is not
known whole, the revision meets no known schema (None), and is judged as before, without one: a
revision before it not read whole offline (mealie's first asks the live database which tables
exist: none would be known, and every later revision would name "unknown" tables), one that does
not replay, or one not in the folder (a branch kept in another version location)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ...errors import FluxError
from ...model.schema import Schema

# The schema after each revision replayed in this process, by its file and that file's stat (and
# the stats of the revisions before it): judging a folder's revisions in order replays each once.
_AFTER: dict[tuple, Optional[Schema]] = {}


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


def schema_before(path: Path, project: Optional[Path]) -> Optional[Schema]:
    """The schema the revision at `path` is upgraded on, or None where its history is not known."""
    from ...write.tools.alembic import revision_files
    from .alembic import _stat_key, read_many

    path = path.resolve()
    try:
        graph = revision_files(path.parent)
    except (FluxError, SyntaxError, ValueError, OSError):
        return None
    mine = next((rev for rev, (file, _) in graph.items() if file.resolve() == path), None)
    order = _order(graph, mine) if mine is not None else None
    if order is None:
        return None
    files = [graph[rev][0].resolve() for rev in order]
    keys, key = [], ()
    for file in files:  # a revision's schema-after depends on it and on every revision before it
        key = (str(file), _stat_key(file), key)
        keys.append(key)
    start = next((i for i in range(len(files), 0, -1) if keys[i - 1] in _AFTER), 0)
    schema: Optional[Schema] = _AFTER[keys[start - 1]] if start else Schema()
    read = read_many(files[start:], project) if files[start:] and schema is not None else {}
    for file, key in zip(files[start:], keys[start:]):
        if schema is not None:
            schema = _replayed(read[file], schema)
        _AFTER[key] = schema  # None: unknown from here on
    return schema


def _replayed(revision, schema: Schema) -> Optional[Schema]:
    """The schema after the revision's up part, or None where it was not read whole or does not replay."""
    from ...schema.replay.engine import replay_sql

    if revision.unread:
        return None
    # Each piece ends its statement on a line of its own: a piece may end in a comment.
    sql = "\n".join(p.sql.strip() + ("" if p.sql.strip().endswith(";") else "\n;") for p in revision.up if p.sql.strip())
    try:
        return replay_sql(sql, schema) if sql else schema
    except FluxError:
        return None
