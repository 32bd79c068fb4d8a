"""Names in a request resolved against the schema: tables by exact name, then
case-insensitively, then ignoring underscores and case (Prisma's `OrderItem`
is `order_items`), then singular/plural; columns and enums the same way but
without plurals. Anything unknown is refused with the closest known names.

The names follow the request: a table created or a column added by an
earlier change in the same request is known to the later ones.
"""

from __future__ import annotations

import re
from typing import Optional

from ..errors import FluxInputError, UnknownName, closest, known_names
from ..model.schema import Schema
from ..pg.quote import canonical_table


def key(name: str) -> str:
    return re.sub(r"[_\s\-]", "", name.lower())


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 2:
        return word[:-1]
    return word


def _pick(name: str, candidates: list[str], levels) -> Optional[str]:
    """The one candidate equal to `name` at the first level that matches any; error if several."""
    for norm in levels:
        target = norm(name)
        hits = [c for c in candidates if norm(c) == target]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise FluxInputError(f"{name!r} is ambiguous: it could be {' or '.join(hits)}")
    return None


_COLUMN_LEVELS = (lambda s: s, str.lower, key)
# ... and last, the name without its schema: dispatch's tables live in dispatch_organization_default
# ("add column incident.note" found no table; two tenants' alike are ambiguous, and said so).
_TABLE_LEVELS = (lambda s: s, str.lower, key, lambda s: singular(key(s)), lambda s: key(s.rpartition(".")[2]))


class Names:
    """The tables, columns, enums and indexes a request may name."""

    def __init__(self, schema: Optional[Schema]):
        self.known = schema is not None
        schema = schema or Schema()
        self.tables: dict[str, list[str]] = {t.name: [c.name for c in t.columns] for t in schema.tables}
        self.pks: dict[str, list[str]] = {t.name: list(t.primary_key) for t in schema.tables}
        self.enums: dict[str, list[str]] = {e.name: list(e.values) for e in schema.enums}
        # PostgreSQL folds unquoted names to lower case; a schema with capitals (Prisma's
        # `User.createdAt`) shows the user means them as written.
        self.folds = not any(n != n.lower() for t in schema.tables for n in [t.name, *(c.name for c in t.columns)])
        self.indexes: dict[str, tuple[str, list[str]]] = {
            i.name: (t.name, list(i.columns)) for t in schema.tables for i in t.indexes if not i.primary}

    def protected(self) -> set[str]:
        """Lower-case names that must never be read as a misspelt keyword."""
        words = set()
        for table, cols in self.tables.items():
            words.add(table.lower())
            words.update(c.lower() for c in cols)
        words.update(e.lower() for e in self.enums)
        return words

    # -- tables ------------------------------------------------------------

    def find_table(self, name: str) -> Optional[str]:
        if not self.known:
            return name
        name = canonical_table(name) if "." in name else name
        return _pick(name, list(self.tables), _TABLE_LEVELS)

    def table(self, name: str) -> str:
        found = self.find_table(name)
        if found is None:
            raise UnknownName(f"unknown table {name!r} {known_names(name, sorted(self.tables), 'tables')}")
        return found

    def new_table(self, name: str) -> str:
        if self.known and self.find_table(name) == name:
            raise FluxInputError(f"a table named {name!r} already exists")
        return name

    # -- columns -----------------------------------------------------------

    def columns(self, table: str) -> list[str]:
        return self.tables.get(table, [])

    def find_column(self, table: str, name: str) -> Optional[str]:
        if not self.known:
            return name
        return _pick(name, self.columns(table), _COLUMN_LEVELS)

    def column(self, table: str, name: str) -> str:
        found = self.find_column(table, name)
        if found is None:
            cols = self.columns(table)
            near = closest(name, cols)
            did = f"did you mean {' or '.join(near)}? " if near else ""
            raise UnknownName(f"unknown column {name!r} on table {table!r} ({did}columns: {', '.join(cols)})")
        return found

    def tables_with(self, column: str) -> list[str]:
        return [t for t in self.tables if self.find_column(t, column) is not None]

    def primary_key(self, table: str) -> list[str]:
        return self.pks.get(table, [])

    # -- enums and indexes ---------------------------------------------------

    def enum(self, name: str) -> str:
        if not self.known:
            return name
        found = _pick(name, list(self.enums), _TABLE_LEVELS)
        if found is None:
            raise UnknownName(f"unknown enum type {name!r} {known_names(name, sorted(self.enums), 'enums')}")
        return found

    def is_enum(self, name: str) -> bool:
        return self.known and _pick(name, list(self.enums), _TABLE_LEVELS) is not None

    def enum_value(self, enum: str, value: str) -> str:
        values = self.enums.get(enum)
        if not self.known or values is None or value in values:
            return value
        raise FluxInputError(f"enum {enum} has no value {value!r} {known_names(value, values, 'values')}")

    def index(self, name: str) -> str:
        if not self.known:
            return name
        found = _pick(name, list(self.indexes), _COLUMN_LEVELS)
        if found is None:
            raise UnknownName(f"unknown index {name!r} {known_names(name, sorted(self.indexes), 'indexes')}")
        return found

    def index_on(self, table: str, columns: list[str]) -> str:
        hits = [n for n, (t, cols) in self.indexes.items() if t == table and cols == columns]
        if len(hits) != 1:
            what = "no index" if not hits else "several indexes"
            raise FluxInputError(f"{what} on {table} ({', '.join(columns)}): name the index to drop")
        return hits[0]

    # -- what earlier changes in the request did ------------------------------

    def note(self, op) -> None:
        kind = op.op
        if kind == "create_table":
            self.tables[op.table] = [c.name for c in op.columns]
            self.pks[op.table] = [c.name for c in op.columns if c.primary_key]
        elif kind == "add_column" and op.table in self.tables:
            self.tables[op.table].append(op.column)
        elif kind == "rename_column" and op.table in self.tables:
            self.tables[op.table] = [op.new_name if c == op.column else c for c in self.tables[op.table]]
        elif kind == "drop_column" and op.table in self.tables:
            self.tables[op.table] = [c for c in self.tables[op.table] if c != op.column]
        elif kind == "rename_table" and op.table in self.tables:
            self.tables[op.new_name] = self.tables.pop(op.table)
            self.pks[op.new_name] = self.pks.pop(op.table, [])
        elif kind == "drop_table":
            self.tables.pop(op.table, None)
        elif kind == "add_enum_value" and op.enum in self.enums:
            self.enums[op.enum].append(op.value)
