"""The names of the indexes and foreign keys an operation makes without a name given, as the
project's migration tool would give them, so that its next diff of the models finds them where it
expects them: TypeORM's DefaultNamingStrategy (IDX_ and FK_ with a SHA-1 of the table and its
sorted columns: `migration:generate` otherwise drops Flux's index and builds its own, blocking),
Rails' index_<table>_on_<a>_and_<b> and fk_rails_<SHA-256>, Knex's <table>_<a>_<b>_index (_unique,
_foreign), lower case: a later `table.dropIndex(['userId'])` looks for that name. Other tools, and a name too long,
keep PostgreSQL's own <table>_<columns>_idx / _key / _fkey (plan/ops/add_index, add_foreign_key)."""

from __future__ import annotations

import hashlib
from typing import Optional

from ..model.operations import AddForeignKey, AddIndex, Operation
from ..pg.quote import canonical_table

_MAX = 63  # PostgreSQL's identifier length in bytes


def _table(name: str) -> str:
    return canonical_table(name).rsplit(".", 1)[-1]


def index_name(tool: Optional[str], table: str, columns: list[str], where: Optional[str] = None,
               unique: bool = False) -> Optional[str]:
    """The tool's name for an index of `table` on `columns`; None: PostgreSQL's, as Flux names it."""
    if not all(c.isidentifier() for c in columns):
        return None  # an expression: no tool names it from its text the way Flux could repeat
    if tool == "typeorm" and where is None:  # a partial index's key holds its predicate as the entity writes it
        key = f"{_table(table)}_{'_'.join(sorted(columns))}"
        return "IDX_" + hashlib.sha1(key.encode()).hexdigest()[:26]
    if tool == "rails":
        name = f"index_{_table(table)}_on_{'_and_'.join(columns)}"
        return name if len(name.encode()) <= _MAX else None
    if tool == "knex":
        return _knex(table, columns, "unique" if unique else "index")
    return None


def _knex(table: str, columns: list[str], kind: str) -> Optional[str]:
    """Knex's name: (table_columns_kind).toLowerCase() with `-` and `.` made `_` (Infisical's secrets_userid_index)."""
    name = f"{_table(table)}_{'_'.join(columns)}_{kind}".lower().replace("-", "_").replace(".", "_")
    return name if len(name.encode()) <= _MAX else None


def foreign_key_name(tool: Optional[str], table: str, columns: list[str]) -> Optional[str]:
    """The tool's name for a foreign key of `table` on `columns`; None: PostgreSQL's."""
    if tool == "typeorm":
        key = f"{_table(table)}_{'_'.join(sorted(columns))}"
        return "FK_" + hashlib.sha1(key.encode()).hexdigest()[:27]
    if tool == "rails" and len(columns) == 1:
        return "fk_rails_" + hashlib.sha256(f"{_table(table)}_{columns[0]}_fk".encode()).hexdigest()[:10]
    if tool == "knex":
        return _knex(table, columns, "foreign")
    return None


def is_tool_index_name(name: Optional[str], table: str, columns: list[str], where: Optional[str] = None,
                       unique: bool = False) -> bool:
    """Is `name` what a tool names an index of `table` on `columns` (tool_named gave it, or the user
    asked for that very name)? Then the index was asked for by its columns: one the table has is the answer."""
    return name is not None and name in {index_name(t, table, columns, where, unique)
                                         for t in ("typeorm", "rails", "knex")}


def tool_named(op: Operation, tool: Optional[str]) -> Operation:
    """`op` with the name its tool would give what it makes, where none is given and the tool names it."""
    if isinstance(op, AddIndex) and op.name is None:
        name = index_name(tool, op.table, list(op.columns), op.where, op.unique)
    elif isinstance(op, AddForeignKey) and op.name is None:
        name = foreign_key_name(tool, op.table, list(op.columns))
    else:
        return op
    return op if name is None else op.model_copy(update={"name": name})


def _unique_name(table: str, columns: list[str]) -> str:
    return "UQ_" + hashlib.sha1(f"{_table(table)}_{'_'.join(sorted(columns))}".encode()).hexdigest()[:27]


def renamed_hash_name(name: str, table: str, columns: list[str], old: str, new: str) -> Optional[str]:
    """For a rename of column `old` to `new`: the name an index or constraint on `columns` takes
    where its name is TypeORM's hash of them (IDX_, FK_, UQ_), the hash of the renamed columns, as
    TypeORM's next diff expects it (else it drops the copy and builds its own); None for any other."""
    renamed = [new if c == old else c for c in columns]
    for make in (lambda cs: index_name("typeorm", table, cs), lambda cs: foreign_key_name("typeorm", table, cs),
                 lambda cs: _unique_name(table, cs)):
        if name == make(columns):
            return make(renamed)
    return None


def primary_key_name(table: str, columns: list[str]) -> str:
    return "PK_" + hashlib.sha1(f"{_table(table)}_{'_'.join(sorted(columns))}".encode()).hexdigest()[:27]


def renamed_table_hash_name(name: str, old: str, new: str, columns: list[str]) -> Optional[str]:
    """For a rename of table `old` to `new`: the name an index or constraint of it on `columns` takes
    where its name is TypeORM's hash of the table and columns (IDX_, UQ_, FK_, PK_), as TypeORM's own
    renameTable renames it and its next diff expects it; None for any other name."""
    for make in (lambda t: index_name("typeorm", t, columns), lambda t: foreign_key_name("typeorm", t, columns),
                 lambda t: _unique_name(t, columns), lambda t: primary_key_name(t, columns)):
        if name == make(old):
            return make(new)
    return None
