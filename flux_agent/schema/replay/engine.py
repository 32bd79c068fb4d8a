"""Read a schema by replaying PostgreSQL DDL migrations through the Schema model.

What does not change tables, indexes, constraints, enums or views (INSERT, GRANT,
COMMENT, functions, triggers, SET, DO blocks, ...) is skipped. Statements about
objects the history never created are skipped too, since many projects squash or
trim old migrations; only SQL that does not parse is an error. Expressions come
back in the normal form of flux_agent.schema.normal, not as written. The statements
are applied by statements.py, which needs pglast: loaded on the first replay.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable, Optional

from ...errors import FluxError, FluxInputError, FluxInternalError
from ...model.schema import Schema, Table
from ...pg.parse import require_pglast
from ...pg.split import split_many
from ..migration_files import up_section, up_sql_of  # noqa: F401  (up_sql_of: in __all__)
from ..migration_order import migration_files
from ..normal import normalise_schema, normalise_table, normalise_views
from ..partitions import follow_partitions, partition_parents
from .state import State, split_key

if TYPE_CHECKING:
    from .cursor import FileCursor

__all__ = ["replay_sql", "up_sql_of", "read_migrations_dir", "migration_files"]


def _statements() -> ModuleType:
    """The statement handlers, or the one line saying replay needs pglast."""
    require_pglast("reading a schema from SQL migrations (replay)")
    # Imported here, not at the top: the handlers read pglast's trees, and Flux must start without it.
    from . import statements

    return statements


def replay_sql(sql_text: str, schema: Optional[Schema] = None) -> Schema:
    """The schema after running `sql_text` on a copy of `schema` (empty when None)."""
    state = State(schema.model_copy(deep=True) if schema is not None else Schema())
    parents = partition_parents(state.schema)
    _statements().apply_sql(state, sql_text, first_line=1)
    state.end_session()
    follow_partitions(state.schema, parents, state.only_defaults, state.renamed)
    return normalise_schema(state.schema, in_place=True)


def read_migrations_dir(path: Path, tool: Optional[str] = None) -> Schema:
    """Replay every up-migration in `path`, in the order `tool` runs them; the folder must exist."""
    if not Path(path).is_dir():
        raise FluxInputError(f"migrations folder {path} does not exist")
    return replay_folder(path, tool)


def replay_folder(folder: Path, tool: Optional[str] = None, *, skip_broken: bool = False,
                  leave_out: Optional[Callable[[Path], bool]] = None) -> Schema:
    """The schema a migrations folder builds: its files replayed in the order `tool` runs
    them (FolderReplay says what happens to a file that fails)."""
    return FolderReplay(folder, tool, skip_broken=skip_broken, leave_out=leave_out).schema()


AHEAD = 50  # files parsed in one go (FolderReplay.parse_ahead)


def deep_copy(model):
    """A deep copy of a schema model, through its JSON (pydantic's Rust core): about twice as fast
    as model_copy(deep=True) on a large schema, which `flux validate` takes after every file."""
    return type(model).model_validate_json(model.model_dump_json())


def parse_up_parts(files: list[Path], texts: Optional[dict[Path, str]] = None
                   ) -> tuple[dict[Path, tuple[int, str]], dict[str, list]]:
    """The up section (first line, SQL) of each file that reads, and the statements of each section
    that parses, by its SQL: all in one go (pg.split.split_many: four times faster than one by one).
    A file that does not read or parse is left out, to its reader's own errors. `texts`, when given,
    gets each file's text, for what judges it next (read once: opening files was a tenth of judging)."""
    sections, pieces = {}, []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
            if texts is not None:
                texts[file] = text
            first, sql = sections[file] = up_section(file, text)
        except (OSError, UnicodeDecodeError):
            continue
        pieces.append((sql, first - 1))
    return sections, {sql: got for (sql, _), got in zip(pieces, split_many(pieces)) if isinstance(got, list)}


class FolderReplay:
    """A migrations folder replayed file by file, in the order its tool runs them
    (migration_files), each file's up part in a fresh session.

    The one error policy: a file that cannot be read or replayed stops the replay with
    an error naming the file, of the kind the failure was (bad input, or Flux's own gap),
    because a schema silently missing a file would have Flux plan or verify against
    tables that are not there. skip_broken=True is for judging files one by one (`flux
    validate`): a broken file is left out whole, as if it were not in the folder, so the
    files after it are still judged (against what the others build) and the broken one
    gets its own finding when it is judged itself."""

    def __init__(self, folder: Path, tool: Optional[str] = None, *, skip_broken: bool = False,
                 leave_out: Optional[Callable[[Path], bool]] = None):
        self.files = [f for f in migration_files(Path(folder), tool) if leave_out is None or not leave_out(f)]
        self.skip_broken = skip_broken
        self._state = State(Schema())
        self._done = 0
        self._replayed: list[tuple[int, str]] = []  # (first line, up SQL) of each file replayed whole
        # The last snapshot's tables by id of the replayed table: (it, its constraints list, the
        # normalised copy, its JSON as replayed); the replayed table is kept, so its id stays its own.
        self._normal_tables: dict[int, tuple] = {}
        # Statements parsed already, by their SQL: the next files' up parts, parsed AHEAD at a time
        # (parse_ahead), which lint/batch.py's rules read too before the replay takes them.
        self.parsed: dict[str, list] = {}
        self._ahead = 0  # the files before this one were parsed ahead
        self._sections: dict[Path, tuple[int, str]] = {}  # up sections read ahead, taken by the replay
        self.texts: dict[Path, str] = {}  # the texts of the files read ahead, until each is replayed
        self._base: Optional[str] = None  # the saved state resumed from (State.saved), else empty

    def resume(self, position: int, saved: str) -> None:
        """Stand just before the file at `position` as `saved` (State.saved of a replay of the same
        files, standing there) says, the files before it not replayed; only before any is."""
        if self._done:
            raise FluxInternalError("a replay resumes from a saved state before it replays any file")
        self._state, self._base, self._done = State.restored(saved), saved, position

    def saved(self) -> str:
        """The state before the next file (between two files: no cursor open), as JSON."""
        return self._state.saved()

    def advance(self) -> Schema:
        """Replay the next file; the schema after it."""
        self.advance_to(self._done + 1)
        return self.snapshot()

    def advance_to(self, position: int) -> None:
        """Replay the files before `position` not replayed yet."""
        while self._done < min(position, len(self.files)):
            self.parse_ahead(self._done)
            self._replay(self.files[self._done])
            self._done += 1

    def parse_ahead(self, index: int) -> None:
        """Make sure the up part of the file at `index` is parsed: if it was not, it and the files
        after it, AHEAD of them in one go (pg.split.split_many: four times faster than one by one),
        into self.parsed. A file that does not read or parse is left to the replay's own errors."""
        if index < self._ahead or index >= len(self.files):
            return
        sections, parsed = parse_up_parts(self.files[index: index + AHEAD], self.texts)
        self._sections.update(sections)
        for sql, got in parsed.items():
            self.parsed.setdefault(sql, got)
        self._ahead = index + AHEAD

    def begin(self, position: int, file: Path) -> Optional["FileCursor"]:
        """The replay standing just before the file at `position` (`file`), to be applied statement
        by statement (cursor.py), then finished with cursor.finish(); None when the file is not one
        the replay read and parsed ahead (replay it with advance_to)."""
        _statements()  # a missing parser is said in one line, before the cursor loads the handlers
        from .cursor import FileCursor

        self.advance_to(position)
        if not self.skip_broken or self._done != position or position >= len(self.files) \
                or self.files[position] != file:
            return None
        self.parse_ahead(position)
        section = self._sections.get(file)
        statements = self.parsed.get(section[1]) if section is not None else None
        return None if statements is None else FileCursor(self, file, section, statements)

    def finished(self, cursor: "FileCursor") -> None:
        """The cursor's file is replayed (left out when it failed): its session ends, go on after it."""
        self._sections.pop(cursor.file, None)
        self.texts.pop(cursor.file, None)
        self.parsed.pop(cursor.sql, None)
        if not cursor.failed:
            self._state.end_session()
            self._replayed.append((cursor.first_line, cursor.sql))
        self._done += 1

    @property
    def state(self) -> State:
        return self._state

    def rebuild(self) -> None:
        """Stand after the files replayed whole again (a file failed part way)."""
        apply_sql = _statements().apply_sql
        self._state = State(Schema()) if self._base is None else State.restored(self._base)
        for replayed in self._replayed:
            self._run(apply_sql, *replayed)

    def as_replayed(self) -> Schema:
        """The schema as replayed so far, itself: not normalised, not copied. Its names (tables,
        views, columns) are the snapshot's; read it, and only until the replay goes on."""
        return self._state.schema

    def snapshot(self) -> Schema:
        """The schema as replayed so far, normalised, as a copy the replay will not change. A table
        as it was at the last snapshot is that snapshot's normalised table, shared (snapshots are
        read, never changed): after each file of a long history, only the tables it changed are
        copied and normalised again. A table counts as unchanged when no statement since named it
        (State.touched) and its constraints are the same list: the statements that change tables
        they do not name (dropping a table or a column) give the tables pointing at it new lists."""
        raw = self._state.schema
        touched = self._state.touched
        kept, tables = {}, []
        for t in raw.tables:
            before = self._normal_tables.get(id(t))
            if before is not None and before[0] is t and before[1] is t.constraints and touched is not None \
                    and split_key(t.name)[1] not in touched:
                table, text = before[2], before[3]
            else:
                text = t.model_dump_json()
                if before is not None and before[0] is t and before[3] == text:
                    table = before[2]
                else:
                    table = Table.model_validate_json(text)
                    normalise_table(table)
            kept[id(t)] = (t, t.constraints, table, text)
            tables.append(table)
        self._normal_tables = kept
        self._state.touched = set()
        out = deep_copy(raw.model_copy(update={"tables": []}))
        out.tables = tables
        return normalise_views(out)

    def replay_text(self, sql: str) -> None:
        """Replay SQL that is none of the folder's files (an alembic revision read offline) in a
        session of its own, as a file is; raises what replaying it raises (FluxError)."""
        self._run(_statements().apply_sql, 1, sql)

    def schema(self) -> Schema:
        """Replay the files not replayed yet; the schema after every file."""
        self.advance_to(len(self.files))
        return normalise_schema(self._state.schema.model_copy(deep=True), in_place=True)

    def _replay(self, file: Path) -> None:
        apply_sql = _statements().apply_sql  # before the policy below: a missing parser is no file's fault
        section = self._sections.pop(file, None)  # read when it was parsed ahead: not read twice
        self.texts.pop(file, None)
        try:
            text = file.read_text(encoding="utf-8") if section is None else ""
        except (OSError, UnicodeDecodeError) as exc:
            error: FluxError = FluxInputError(f"{file}: cannot read: {exc}")
        else:
            section = section or up_section(file, text)
            try:
                self._run(apply_sql, *section)
                self._replayed.append(section)
                return
            except FluxError as exc:
                error = type(exc)(f"{file}: {exc}")
            if self.skip_broken:  # the file may have been replayed in part: replay the others again
                self.rebuild()
        if not self.skip_broken:
            raise error from None

    def _run(self, apply_sql: Callable[..., None], first_line: int, sql: str) -> None:
        self._state.start_session()
        apply_sql(self._state, sql, first_line, self.parsed.pop(sql, None))
        self._state.end_session()
