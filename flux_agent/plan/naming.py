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


def pg_object_name(name1: str, name2: str, label: str) -> str:
    """The name PostgreSQL gives an object it names itself (makeObjectName): `name1_name2_label`, the
    longer of the two names cut a character at a time until the whole fits in 63 bytes."""
    avail = _MAX - (len(label) + 1 if label else 0) - (1 if name2 else 0)
    n1, n2 = len(name1), len(name2)
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    return name1[:n1] + (f"_{name2[:n2]}" if name2 else "") + (f"_{label}" if label else "")


def _default_names(table: str, columns: list[str], ref_table: Optional[str], ref_columns: list[str]):
    """Makers of the names each tool gives, unasked, an index or constraint of `table` on `columns`:
    PostgreSQL's own (<table>_<columns>_key, _idx, _fkey, _check, _excl; Prisma's are these),
    SQLAlchemy's index=True (ix_<table>_<column>), Rails', Knex's, Drizzle's and TypeORM's."""
    t = _table(table)
    makers = [lambda cs, sfx=sfx: pg_object_name(t, "_".join(cs), sfx) for sfx in ("key", "idx", "fkey", "check", "excl")]
    makers += [lambda cs: f"ix_{t}_{'_'.join(cs)}", lambda cs: f"{t}_{'_'.join(cs)}_unique",
               lambda cs: index_name("rails", t, cs) or "", lambda cs: foreign_key_name("rails", t, cs),
               *(lambda cs, kind=kind: _knex(t, cs, kind) or "" for kind in ("index", "unique", "foreign")),
               lambda cs: index_name("typeorm", t, cs), lambda cs: foreign_key_name("typeorm", t, cs),
               lambda cs: _unique_name(t, cs)]
    if ref_table:  # Drizzle's foreign key: <table>_<columns>_<referenced table>_<its columns>_fk
        makers.append(lambda cs: f"{t}_{'_'.join(cs)}_{_table(ref_table)}_{'_'.join(ref_columns)}_fk")
    return makers


def renamed_default_name(name: str, table: str, columns: list[str], old: str, new: str,
                         ref_table: Optional[str] = None, ref_columns: Optional[list[str]] = None) -> str:
    """The name an index or constraint of `table` on `columns` (an index's INCLUDE columns among
    them, as PostgreSQL names it) takes when column `old` is renamed to `new`: where `name` is the
    one a tool gave it unasked for those columns (_default_names; PostgreSQL's with the number it
    adds to a name taken: t_a_key1), the one it gives them renamed, as Rails' rename_column and
    TypeORM's next diff have it; a name someone chose is kept (PostgreSQL's RENAME COLUMN, Django's
    RenameField and pgroll keep every name), so the ORM model that spells it agrees with the
    database (redash's Index('items_name'), netbox's UniqueConstraint name, Django's Meta indexes)."""
    if old not in columns:
        return name
    renamed = [new if c == old else c for c in columns]
    base = name.rstrip("0123456789")
    number = name[len(base):]
    for make in _default_names(table, columns, ref_table, ref_columns or []):
        if make(columns) == name or (number and make(columns) == base):
            made = make(renamed) + (number if make(columns) == base and number else "")
            return made if made and len(made.encode()) <= _MAX else name
    return name
