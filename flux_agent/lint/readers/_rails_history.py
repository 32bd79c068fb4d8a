"""The schema a Rails migration meets, from the dump Rails writes after each migration it runs
(db/structure.sql or db/schema.rb, read as `flux schema` reads them): a migration the dump holds
(its version at most the dump's) meets the dump with it and every later migration undone, their
down parts (as the reader reads them: the `down` method, or what Rails inverts of `change`) replayed
newest first; a pending migration meets the dump with the pending ones before it done, their up
parts replayed. Where a migration on the way is not read whole offline (Ruby Flux does not run, a
`change` Rails cannot invert, a down part that does not replay), the migrations beyond it meet no
schema from the dump. From the first migration on, each read whole, the history is replayed forward
on an empty database too, as Alembic's is (a project without a dump; the oldest files, where the walk
back stopped), as far as that goes: real projects' oldest migrations are the least likely to read
whole (their own helpers, Ruby that computes names), so the dump is where most of the knowing starts.
A migration neither reaches meets no known schema (None) and is judged without one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ...errors import FluxError
from ...model.schema import Schema
from . import joined_sql

# the dump (schema.rb) -> (the key of what it was worked out from, {resolved migration file: the schema it meets})
_KNOWN: dict[str, tuple[tuple, dict[str, Schema]]] = {}


def schema_before(path: Path, project: Optional[Path]) -> Optional[Schema]:
    """The schema the migration at `path` runs on, or None where Flux does not know it offline."""
    if project is None:
        return None
    path = path.resolve()
    try:
        return _schemas(path.parent, Path(project)).get(str(path))
    except (FluxError, OSError, UnicodeDecodeError):  # a dump Flux cannot read: no schema, as before
        return None


def history_folders(folder: Path) -> tuple[list[Path], tuple[Path, Path]]:
    """The folders whose migrations make one database's history with `folder`'s, and the dump Rails
    writes of it (structure.sql, schema.rb): db/migrate with db/post_migrate (mastodon's and GitLab's
    post-deployment migrations, run in version order with the others), dumped to db/schema.rb; another
    database's db/<name>_migrate alone, dumped to db/<name>_schema.rb (Rails' multiple databases)."""
    db, name = folder.parent, folder.name
    prefix = name[:-len("migrate")].rstrip("_") if name.endswith("migrate") else ""
    if prefix in ("", "post"):
        return [db / "migrate", db / "post_migrate"], (db / "structure.sql", db / "schema.rb")
    return [folder], (db / f"{prefix}_structure.sql", db / f"{prefix}_schema.rb")


def _versioned(folders: list[Path]) -> list[tuple[int, Path]]:
    """(version, file) of each migration of the folders, in the order Rails runs them."""
    found = []
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    head = e.name.partition("_")[0]
                    if e.name.endswith(".rb") and head.isdigit() and e.is_file():
                        found.append((int(head), folder / e.name))
        except OSError:  # no post_migrate: the usual project
            continue
    return sorted(found)


def _stat(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return ()
    return (str(path), st.st_mtime_ns, st.st_size)


def _schemas(folder: Path, project: Path) -> dict[str, Schema]:
    """Each migration's schema that the dump gives (see the module's docstring), worked out once
    per history and dump as they are."""
    folders, dumps = history_folders(folder)
    migrations = _versioned(folders)
    key = (tuple(_stat(f) for _, f in migrations), *map(_stat, dumps))
    held = _KNOWN.get(str(dumps[1]))
    if held is not None and held[0] == key:
        return held[1]
    from ...schema.readers.pg_dump import read_pg_dump
    from ...schema.readers.rails import dump_version, read_schema_rb

    out: dict[str, Schema] = {}
    dump = next((d for d in dumps if d.is_file()), None)  # structure.sql first, as Rails loads it
    version = dump_version(dump) if dump is not None else None
    if version is not None:
        schema = read_pg_dump(dump) if dump.suffix == ".sql" else read_schema_rb(dump)
        _undo(schema, [f for v, f in migrations if v <= version], project, out)
        _do(schema, [f for v, f in migrations if v > version], project, out)
    # And from the first migration on, each read whole, on an empty database, as far as that goes: a
    # project without a dump (or the oldest files, where the walk back from it stopped) as Alembic's.
    _do(Schema(), [f for _, f in migrations], project, out)
    _KNOWN[str(dumps[1])] = (key, out)
    return out


def _undo(schema: Schema, applied: list[Path], project: Path, out: dict[str, Schema]) -> None:
    """Down from the dump: each applied migration, newest first, undone by its down part, where its up
    part replayed on what that leaves gives back the schema it was undone from (a down part that
    misses a change, as real ones do, would have the migration judged against its own result)."""
    for file in reversed(applied):
        up, _, down = _sql(file, project)  # the up part read, whole or not: the replay says if it undoes
        if down is None:
            return
        try:
            before = _replayed(down, schema)
            if not _redoes(up, before, schema):
                return
        except FluxError:
            return
        out[str(file.resolve())] = schema = before


def _do(schema: Schema, pending: list[Path], project: Path, out: dict[str, Schema]) -> None:
    """Up from `schema` (the dump, or an empty database): each migration meets what the ones before it
    made, each read whole; where a migration has its schema already (the walk back), that one stays."""
    for file in pending:
        out.setdefault(str(file.resolve()), schema)
        up, whole, _ = _sql(file, project)
        if not whole:
            return
        try:
            schema = _replayed(up, schema)
        except FluxError:
            return


# The statements that change what the rules read of a table: on the schema before a migration each
# changes something, or the down part left it done (Rails' rollback of a `change_column_null` that a
# hand-written `down` forgot: SET NOT NULL again changes nothing, and the round trip alone agrees).
_SHAPING = ("AlterTableStmt", "CreateStmt", "IndexStmt", "DropStmt", "RenameStmt", "CreateEnumStmt",
            "AlterEnumStmt")


def _redoes(up: str, before: Schema, after: Schema) -> bool:
    """Does the up part, replayed on `before`, change something with each statement that shapes a
    table and give back `after` (as far as _shape sees)?"""
    from ...schema.normal import normalise_schema
    from ...schema.replay.engine import _statements
    from ...schema.replay.state import State
    from ...pg.split import SqlSyntaxError, split_statements

    try:
        stmts = split_statements(up)
    except SqlSyntaxError:
        return False
    state = State(before.model_copy(deep=True))
    apply, shape = _statements().apply_statement, _shape(state.schema, texts=True)
    for s in stmts:
        apply(state, s.node, up, s.start, s.end, 1)
        if type(s.node).__name__ in _SHAPING:
            now = _shape(state.schema, texts=True)
            if now == shape:
                return False
            shape = now
    state.end_session()
    return _shape(normalise_schema(state.schema, in_place=True)) == _shape(after)


def _replayed(sql: str, schema: Schema) -> Schema:
    from ...schema.replay.engine import replay_sql

    return replay_sql(sql, schema) if sql else schema


def _shape(schema: Schema, texts: bool = False) -> tuple:
    """What of a schema the rules judge by, whatever order its parts were made in (a column dropped
    and added back comes last): tables, columns, keys, indexes, constraints and enums by name and
    kind; with `texts`, expressions' texts too (defaults, CHECKs, ...), which a schema from the dump
    and one replayed from migrations do not share: the dump has them as PostgreSQL prints them, with
    the casts it adds, the migration as it was written."""
    def text(value):
        return value if texts else value is not None

    def key_name(name: str) -> str:
        # schema.rb leaves out a foreign key's name Rails made (fk_rails_<10 hex digits of a hash of the
        # table's name when made>), and its reader makes it again from the table's name now: a table
        # renamed since (mastodon's tmp_account_summaries) has another. Either is Rails' own.
        tail = name[len("fk_rails_"):]
        return "fk_rails_" if name.startswith("fk_rails_") and len(tail) == 10 and all(
            ch in "0123456789abcdef" for ch in tail) else name

    def indexes(relation) -> list:
        return sorted((i.name, i.unique, i.primary, i.method, tuple(i.columns) if texts else len(i.columns),
                       text(i.where)) for i in relation.indexes)

    def table(t) -> tuple:
        return (t.name, tuple(t.primary_key),
                sorted((c.name, c.type, c.nullable, text(c.default), text(c.generated)) for c in t.columns),
                indexes(t),
                sorted((key_name(c.name), c.kind, tuple(c.columns), c.ref_table or "", tuple(c.ref_columns), c.validated,
                        c.on_delete or "", c.on_update or "", c.deferrable or "", c.match_full, text(c.expression))
                       for c in t.constraints))
    return (sorted(map(table, schema.tables)), sorted((e.name, tuple(e.values)) for e in schema.enums),
            sorted((v.name, v.materialized, indexes(v)) for v in schema.views))


def _sql(file: Path, project: Path) -> tuple[str, bool, Optional[str]]:
    """The migration's up part as SQL, whether that is all of it, and its down part, None where it is
    not read whole (Ruby of the up part not read matters to the down part only where its inverse is
    not known: ReadMigration.down_unread); an empty down part is empty, whether it undoes the up part
    is _undo's."""
    from .rails import read_rails_migration

    read = read_rails_migration(file, file.read_text(encoding="utf-8"), project)
    up = joined_sql(read.up)
    whole = all(u.rows_only for u in read.unread)  # rows changed through the migration's own model: no table
    if read.down is None or read.down_unread:  # (an empty one, irreversible or not: the round trip says)
        return up, whole, None
    return up, whole, joined_sql(read.down)
