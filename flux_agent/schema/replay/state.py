"""The schema being replayed, with PostgreSQL's name resolution over it.

Keys follow `flux_agent.pg.quote.canonical_table` (unqualified in public, else
`schema.name`) but are built from parser parts, never from re-split text, so a
quoted name holding a dot cannot be misread.
"""

from __future__ import annotations

from itertools import chain
from operator import attrgetter
from typing import Iterable, Optional, Union

from pydantic import BaseModel

from ...model.schema import EnumType, Index, Schema, Table, View
from ...pg.parse import ast
from ...pg.types import BUILTIN_TYPES, canonical_type
from ...pg.quote import ident
from .names_taken import NameIndex


def make_key(ns: str, name: str) -> str:
    return name if ns == "public" else f"{ns}.{name}"


# Attribute getters for scans in C (map over many objects) instead of a Python frame per object
_REF_TABLE, _CONSTRAINTS, _NAME = attrgetter("ref_table"), attrgetter("constraints"), attrgetter("name")


def split_key(key: str) -> tuple[str, str]:
    ns, dot, name = key.partition(".")
    return (ns, name) if dot else ("public", key)


def in_namespace(key: str, ns: str) -> bool:
    """split_key(key)[0] == ns, read off the text without splitting it (replay asks for every
    table of the schema, many times per statement)."""
    if ns == "public":
        return "." not in key or key.startswith("public.")
    return "." not in ns and key.startswith(ns + ".")


def bare_names(keys: Iterable[str]) -> set[str]:
    """{split_key(k)[1] for k in keys}, without a call per key."""
    return {k.partition(".")[2] if "." in k else k for k in keys}


def type_text(key: str) -> str:
    """How format_type() prints the user type stored under `key`."""
    ns, name = split_key(key)
    return ident(name) if ns == "public" else f"{ident(ns)}.{ident(name)}"


def names_of(nodes: Iterable) -> list[str]:
    return [n.sval for n in nodes]


class SavedState(BaseModel):
    """A State between two files (its session ended), as lint/replay_cache.py keeps it: the schema as
    replayed (not normalised) and the notes the statements keep beside it."""

    replayed: Schema
    only_defaults: list[tuple[str, str]] = []
    renamed: list[tuple[str, str, str]] = []


class State:
    def __init__(self, schema: Schema):
        self.schema = schema
        # Unqualified names resolve through this, as in a fresh session.
        self.search_path: list[str] = ["public"]
        # Unqualified names of the tables replayed statements may have changed since the last
        # FolderReplay snapshot (touches.py); None: any table.
        self.touched: Optional[set[str]] = set()
        # (table, column) whose default was set or dropped ON ONLY the table: partitions keep theirs
        # (schema/partitions.follow_partitions).
        self.only_defaults: set[tuple[str, str]] = set()
        # (table, column name before the statements) -> its name now: partitions follow renames
        # by these, not by guessing from the columns gone and come.
        self.renamed: dict[tuple[str, str], str] = {}
        # (the tables list, its length, key -> table) for table_at; remade when the list is another
        # or its length changed, and dropped (reindex) where a table is renamed in place.
        self._index: Optional[tuple[list, int, dict[str, Table]]] = None
        # (the tables list, its length, namespace -> its tables) for tables_in; remade as _index is.
        self._by_ns: Optional[tuple[list, int, dict[str, list[Table]]]] = None
        self.temporary: list[str] = []  # keys of the temporary tables this session made
        self.names = NameIndex()  # the names in use, counted per namespace (NamesTaken asks it)

    def saved(self) -> str:
        """This state between two files, as JSON (SavedState)."""
        return SavedState(replayed=self.schema, only_defaults=sorted(self.only_defaults),
                          renamed=sorted((t, c, now) for (t, c), now in self.renamed.items())).model_dump_json()

    @classmethod
    def restored(cls, saved: str) -> "State":
        """The state saved() gave; every table counts as touched (the snapshot normalises them all)."""
        data = SavedState.model_validate_json(saved)
        state = cls(data.replayed)
        state.touched = None
        state.only_defaults = {tuple(p) for p in data.only_defaults}
        state.renamed = {(t, c): now for t, c, now in data.renamed}
        return state

    def add_table(self, table: Table, rv: ast.RangeVar) -> None:
        """A table a statement made (named by `rv`): in the schema, and among this session's
        temporary tables when it is one (end_session drops them)."""
        self.schema.tables.append(table)
        if rv.relpersistence == "t":
            self.temporary.append(table.name)

    def start_session(self) -> None:
        """A session starts (each migration file runs in one): the search path is the server's."""
        self.search_path = ["public"]

    def end_session(self) -> None:
        """The session ends: its temporary tables go with it."""
        if self.temporary:
            names = frozenset(split_key(k)[1] for k in self.temporary)
            self.touch((names, names))
            for key in self.temporary:
                if self.table_at(key) is not None:
                    self.drop_relation(key, cascade=True)
            self.temporary = []

    def touch(self, touch) -> None:
        """Note, before it is replayed, what a statement can change (a touches.Touch)."""
        self.names.statement(None if touch is None else set(touch[0]))
        if touch is None:
            self.touched = None
        elif self.touched is not None:
            self.touched.update(touch[0])
            # The tables whose foreign keys point at them, found before the keys change (none when
            # no table has the name yet: a CREATE TABLE of a new name, the usual case).
            names = touch[1]
            if names and not names.isdisjoint(bare_names(t.name for t in self.schema.tables)):
                # split_key(ref)[1], inlined: every constraint of every table is asked
                self.touched.update(split_key(t.name)[1] for t in self.schema.tables
                                    if any((c.ref_table.partition(".")[2] or c.ref_table) in names
                                           for c in t.constraints if c.ref_table))

    def referenced(self, key: str) -> bool:
        """Does any foreign key point at table `key`? Asked of every constraint at once, a scan in C:
        a loop over the tables asking each was ~0.05 s of the 2,000-file set's replay (its drops)."""
        return key in map(_REF_TABLE, chain.from_iterable(map(_CONSTRAINTS, self.schema.tables)))

    def lose_keys(self, table: Table, keep) -> None:
        """`table` keeps only the constraints `keep` accepts: the foreign keys a drop elsewhere takes
        (a table the statement does not name: the name counts are told)."""
        table.constraints = [c for c in table.constraints if keep(c)]
        self.names.changing(split_key(table.name)[1])

    # -- resolution ---------------------------------------------------------

    def resolve(self, schemaname: Optional[str], name: str, exists) -> Optional[str]:
        """The key `schemaname.name` names (through search_path when unqualified) where `exists`."""
        if schemaname:
            key = make_key(schemaname, name)
            return key if exists(key) else None
        for ns in self.search_path:
            key = make_key(ns, name)
            if exists(key):
                return key
        return None

    def creation_key(self, schemaname: Optional[str], name: str) -> str:
        ns = schemaname or (self.search_path[0] if self.search_path else "public")
        return make_key(ns, name)

    def table_at(self, key: str) -> Optional[Table]:
        """self.schema.table(key), through an index: replay asks many times per statement, and a
        scan of every table each time made replaying a long history quadratic. The replay's handlers
        change the list by appending or by making a new one, and rename in place (then reindex)."""
        tables = self.schema.tables
        index = self._index
        if index is None or index[0] is not tables or index[1] != len(tables):
            # The same list grown: tables were appended (add_table; the list is changed no other way
            # in place), only they are indexed (remade for every CREATE TABLE, the index of a long
            # history's thousand tables cost ~0.05 s of the benchmark set's replay)
            grown = index is not None and index[0] is tables and index[1] < len(tables)
            by_key: dict[str, Table] = index[2] if grown else {}
            for t in tables[index[1]:] if grown else tables:
                by_key.setdefault(t.name, t)
            index = self._index = (tables, len(tables), by_key)
        found = index[2].get(key)
        if found is not None and found.name != key:  # renamed in place without reindex: not trusted
            self._index = None
            return next((t for t in tables if t.name == key), None)
        return found

    def reindex(self) -> None:
        """A table's key changed in place: the index is remade when next asked."""
        self._index = None
        self._by_ns = None

    def table(self, rv: ast.RangeVar) -> Optional[Table]:
        key = self.resolve(rv.schemaname, rv.relname, lambda k: self.table_at(k) is not None)
        return self.table_at(key) if key else None

    def view(self, rv: ast.RangeVar) -> Optional[View]:
        key = self.resolve(rv.schemaname, rv.relname, lambda k: self.schema.view(k) is not None)
        return self.schema.view(key) if key else None

    def relation_key(self, rv: ast.RangeVar) -> str:
        """Key of the table or view `rv` names; where it would be created when unknown."""
        found = self.resolve(
            rv.schemaname,
            rv.relname,
            lambda k: self.table_at(k) is not None or self.schema.view(k) is not None,
        )
        return found or self.creation_key(rv.schemaname, rv.relname)

    def enum_key(self, names: list[str], create: bool = False) -> Optional[str]:
        schemaname, name = (names[-2], names[-1]) if len(names) > 1 else (None, names[0])
        if create:
            return self.creation_key(schemaname, name)
        return self.resolve(schemaname, name, lambda k: self.enum(k) is not None)

    def enum(self, key: Optional[str]) -> Optional[EnumType]:
        return next((e for e in self.schema.enums if e.name == key), None)

    def column_type(self, tn: ast.TypeName) -> str:
        """canonical_type, schema-qualifying an unqualified enum found via search_path."""
        names = names_of(tn.names)
        if len(names) == 1 and canonical_type(tn).split("(")[0].rstrip("[]") not in BUILTIN_TYPES:
            key = self.enum_key(names)
            if key and "." in key:
                ns, name = split_key(key)
                tn = ast.TypeName(
                    names=(ast.String(sval=ns), ast.String(sval=name)),
                    typmods=tn.typmods,
                    arrayBounds=tn.arrayBounds,
                )
        return canonical_type(tn)

    # -- namespaces: names PostgreSQL keeps unique per schema -------------------

    def tables_in(self, ns: str) -> list[Table]:
        """The tables of a schema (read, never changed: the list is kept until the tables are others,
        as table_at's index is, since every constraint or index named asks it)."""
        tables = self.schema.tables
        kept = self._by_ns
        if kept is not None and kept[0] is tables and kept[1] < len(tables):  # grown: as table_at's index
            added = tables[kept[1]:]
            grown = {name: found + [t for t in added if in_namespace(t.name, name)] for name, found in kept[2].items()}
            kept = self._by_ns = (tables, len(tables), grown)
        elif kept is None or kept[0] is not tables or kept[1] != len(tables):
            kept = self._by_ns = (tables, len(tables), {})
        found = kept[2].get(ns)
        if found is None:
            if ns == "public":  # in_namespace, inlined for the usual case
                found = [t for t in tables if "." not in t.name or t.name.startswith("public.")]
            elif "." in ns:
                found = []
            else:
                prefix = ns + "."  # in_namespace, inlined: asked of every table
                found = [t for t in tables if t.name.startswith(prefix)]
            kept[2][ns] = found
        return found

    def names_taken(self, ns: str, relations: bool = True, constraints: bool = False) -> "NamesTaken":
        """The names in use in a schema, asked one at a time: its tables, views and indexes (one
        name space in PostgreSQL), and with `constraints` its constraints' names too."""
        return NamesTaken(self, ns, relations, constraints)

    def find_index(self, schemaname: Optional[str], name: str) -> Optional[tuple[Union[Table, View], Index]]:
        """The table or materialized view holding index `name`, and the index."""
        for ns in [schemaname] if schemaname else self.search_path:
            for t in chain(self.tables_in(ns), (v for v in self.schema.views if v.indexes and in_namespace(v.name, ns))):
                for i in t.indexes:
                    if i.name == name:
                        return t, i
        return None

    # -- cross-object bookkeeping ---------------------------------------------

    def retarget(self, old: str, new: str) -> None:
        """A table or view changed key: follow it in foreign keys and view dependencies."""
        for t in self.schema.tables:
            for c in t.constraints:
                if c.ref_table == old:
                    c.ref_table = new
        for v in self.schema.views:
            v.depends_on = sorted({new if d == old else d for d in v.depends_on})
        if self.schema.dependencies is not None:
            self.schema.dependencies.retarget(old, new)

    def drop_relation(self, key: str, cascade: bool, keep_keys: bool = False) -> None:
        """Remove a table or view; foreign keys into it go too (unless `keep_keys`: a table made
        again under its name, whose keys name the new one), and with CASCADE its views."""
        found = self.table_at(key)
        if found is not None:  # found by identity in C: a comprehension asking each name cost more
            tables = self.schema.tables
            at = list(map(id, tables)).index(id(found))
            rest = tables[at + 1:]
            if key in map(_NAME, rest):  # a second of the key (a schema not from PostgreSQL) goes too
                rest = [t for t in rest if t.name != key]
            self.schema.tables = tables[:at] + rest
        self.schema.views = [v for v in self.schema.views if v.name != key]
        if not keep_keys and self.referenced(key):
            for t in self.schema.tables:
                # A table keeps its list unless a key goes: FolderReplay.snapshot takes the same list
                # for an unchanged table (a new list for every table had it copy them all again).
                if key in map(_REF_TABLE, t.constraints):
                    self.lose_keys(t, lambda c: c.ref_table != key)
        if cascade:
            for v in [v for v in self.schema.views if key in v.depends_on]:
                self.drop_relation(v.name, cascade)


class NamesTaken:
    """Whether a name is in use in a schema (State.names_taken), asked one name at a time:
    choose_name asks one or two (names_taken.py answers)."""

    def __init__(self, state: State, ns: str, relations: bool, constraints: bool):
        self.state, self.ns, self.relations, self.constraints = state, ns, relations, constraints

    def __contains__(self, name) -> bool:
        if name is None:  # an index given no name (CREATE INDEX ON t ...)
            return False
        return self.state.names.taken(self.state, self.ns, name, self.relations, self.constraints)
