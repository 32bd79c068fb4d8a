"""Whether a name is in use in a schema being replayed (the names PostgreSQL keeps unique per
schema: tables, views and indexes in one space, constraints beside them), answered from counts
kept per namespace and brought up to date, table by table, for the tables statements changed.

choose_name asks a name or two for each unnamed constraint, index and sequence; scanning every
index and constraint of the schema for each ask was ~10% of replaying the 2,000-file benchmark
set. The counts trust what State.touch is told before each statement (touches.py: the tables it
can change), as FolderReplay.snapshot does: the tables the statement being replayed can change are
read as they are now, every other table from the counts, refreshed once its statement is done."""

from __future__ import annotations

from collections import Counter
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Optional

from . import state as _state  # (state imports this module: its names are read when asked, not now)

if TYPE_CHECKING:
    from ...model.schema import Table
    from .state import State

_NAME, _INDEXES, _CONSTRAINTS = attrgetter("name"), attrgetter("indexes"), attrgetter("constraints")


class _Counts:
    """One namespace's index and constraint names, counted over its tables, and each table's own
    (by its unqualified name: unique in a namespace), as they were when last read."""

    def __init__(self, tables: list[Table]):
        self.indexes: Counter = Counter()
        self.constraints: Counter = Counter()
        self.by_table: dict[str, tuple[list, list]] = {}
        self.usable = True
        for t in tables:
            bare = _state.split_key(t.name)[1]
            if bare in self.by_table:  # two tables of one name (a schema not from PostgreSQL): scan instead
                self.usable = False
                return
            self._add(bare, t)

    def _add(self, bare: str, table: Optional[Table]) -> None:
        own = ([i.name for i in table.indexes], [c.name for c in table.constraints]) if table is not None else ([], [])
        self.by_table[bare] = own
        self.indexes.update(own[0])
        self.constraints.update(own[1])

    def refresh(self, bare: str, table: Optional[Table]) -> None:
        """Table `bare` as it is now (None: there is none of that name)."""
        old = self.by_table.pop(bare, None)
        if old is not None:
            self.indexes.subtract(old[0])
            self.constraints.subtract(old[1])
        self._add(bare, table)


class NameIndex:
    """The counts of each namespace of a State, and which tables they may not hold as they are."""

    def __init__(self) -> None:
        self._counts: dict[str, _Counts] = {}
        # The tables (unqualified names) the statement being replayed can change, read as they are
        # now; None: any table (no counts are read until the next statement).
        self.now: Optional[set[str]] = set()
        # Per namespace, the tables changed since its counts were read.
        self._stale: dict[str, set[str]] = {}

    def statement(self, changes: Optional[set[str]]) -> None:
        """A statement starts that can change these tables (None: any); the one before is done."""
        if self.now is None:
            self._counts.clear()
            self._stale.clear()
        elif self.now:
            for stale in self._stale.values():
                stale |= self.now
        self.now = changes

    def changing(self, bare: str) -> None:
        """The statement being replayed changes table `bare` too (one it does not name)."""
        if self.now is not None:
            self.now.add(bare)

    def taken(self, st: State, ns: str, name: str, relations: bool, constraints: bool) -> bool:
        """Whether `name` is in use in namespace `ns`: as a relation or an index (`relations`), as a
        constraint (`constraints`)."""
        if relations:
            keys = (ns + "." + name,) if ns != "public" else (name, "public." + name)  # tables_in's keys
            if any(_state.in_namespace(key, ns) and st.table_at(key) is not None for key in keys):
                return True
            if any(_state.split_key(v.name)[1] == name or any(i.name == name for i in v.indexes)
                   for v in st.schema.views if _state.in_namespace(v.name, ns)):
                return True  # a view, or a materialized view's index
        counts = self._read(st, ns) if self.now is not None else None
        if counts is None:  # every table scanned, as it is now
            tables = st.tables_in(ns)
            return (relations and name in map(_NAME, chain.from_iterable(map(_INDEXES, tables)))) or (
                constraints and name in map(_NAME, chain.from_iterable(map(_CONSTRAINTS, tables))))
        # The counts less the names the changing tables had when read, and those tables as they are now.
        changing = [t for t in (_table(st, ns, b) for b in self.now) if t is not None] if self.now else []
        read = [counts.by_table[b] for b in self.now if b in counts.by_table] if self.now else []
        return (relations and _held(name, counts.indexes, [r[0] for r in read], map(_INDEXES, changing))) or (
            constraints and _held(name, counts.constraints, [r[1] for r in read], map(_CONSTRAINTS, changing)))

    def _read(self, st: State, ns: str) -> Optional[_Counts]:
        """The namespace's counts, brought up to date for the tables done changing."""
        counts = self._counts.get(ns)
        if counts is None:
            counts = self._counts[ns] = _Counts(st.tables_in(ns))
            self._stale[ns] = set()
        if not counts.usable:
            return None
        stale = self._stale[ns]
        if stale:
            for bare in [b for b in stale if b not in self.now]:
                stale.discard(bare)
                counts.refresh(bare, _table(st, ns, bare))
        return counts


def _held(name: str, counted: Counter, read: list[list[str]], now) -> bool:
    """Whether `name` is among the counted names less those `read` (the changing tables' names
    when counted), or among those tables' objects `now`."""
    if counted[name] - sum(names.count(name) for names in read) > 0:
        return True
    return any(name in map(_NAME, objects) for objects in now)


def _table(st: State, ns: str, bare: str) -> Optional[Table]:
    """The table of namespace `ns` named `bare`, if any (tables_in's keys)."""
    if ns == "public":
        found = st.table_at(bare)
        return found if found is not None else st.table_at("public." + bare)
    return st.table_at(ns + "." + bare)
