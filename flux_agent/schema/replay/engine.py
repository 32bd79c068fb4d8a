"""Read a schema by replaying PostgreSQL DDL migrations through the Schema model.

Statements are parsed with pglast, never matched as text. What does not change
tables, indexes, constraints, enums or views (INSERT, GRANT, COMMENT, functions,
triggers, SET, DO blocks, ...) is skipped. Statements about objects the history
never created are skipped too, since many projects squash or trim old
migrations; only SQL that does not parse is an error. Expressions come back in
the normal form of flux_agent.schema.normal, not as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import pglast
from pglast import ast
from pglast.enums import VariableSetKind

from ...errors import FluxError, FluxInputError, FluxInternalError
from ...model.schema import Schema
from ..migration_files import migration_files, up_section, up_sql_of  # noqa: F401  (up_sql_of: in __all__)
from ..normal import normalise_schema
from .ddl import alter_table, create_table
from .objects import (
    alter_enum, create_enum, create_index, create_table_as, create_view, drop, rename, set_schema, set_variable,
)
from .state import State

__all__ = ["replay_sql", "replay_step", "up_sql_of", "read_migrations_dir", "migration_files"]

_HANDLERS: dict[type, Callable[[State, ast.Node], None]] = {
    ast.CreateStmt: create_table,
    ast.AlterTableStmt: alter_table,
    ast.IndexStmt: create_index,
    ast.DropStmt: drop,
    ast.RenameStmt: rename,
    ast.AlterObjectSchemaStmt: set_schema,
    ast.CreateEnumStmt: create_enum,
    ast.AlterEnumStmt: alter_enum,
    ast.ViewStmt: create_view,
    ast.CreateTableAsStmt: create_table_as,
    ast.VariableSetStmt: set_variable,
}


def replay_sql(sql_text: str, schema: Optional[Schema] = None) -> Schema:
    """The schema after running `sql_text` on a copy of `schema` (empty when None)."""
    state = State(schema.model_copy(deep=True) if schema is not None else Schema())
    _apply(state, sql_text, first_line=1)
    return normalise_schema(state.schema, in_place=True)


def replay_step(node: ast.Node, text: str) -> Optional[Callable[[State], None]]:
    """How replay advances a State past one parsed statement (`text`, its SQL, is read for a
    DO block): a function of the State, or None when the statement changes nothing replay
    follows (a caller can then skip copying its schema). The step raises what the replay
    handlers raise, unwrapped."""
    if isinstance(node, ast.DoStmt):
        return _do_block(text)
    if isinstance(node, ast.VariableSetStmt) and node.kind != VariableSetKind.VAR_RESET_ALL \
            and (node.name or "").lower() != "search_path":
        return None  # only the search path matters to replay
    handler = _HANDLERS.get(type(node))
    return None if handler is None else (lambda state: handler(state, node))


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

    def advance(self) -> Schema:
        """Replay the next file; the schema after it."""
        self._replay(self.files[self._done])
        self._done += 1
        return normalise_schema(self._state.schema.model_copy(deep=True), in_place=True)

    def schema(self) -> Schema:
        """Replay the files not replayed yet; the schema after every file."""
        for file in self.files[self._done:]:
            self._replay(file)
        self._done = len(self.files)
        return normalise_schema(self._state.schema.model_copy(deep=True), in_place=True)

    def _replay(self, file: Path) -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            error: FluxError = FluxInputError(f"{file}: cannot read: {exc}")
        else:
            section = up_section(file, text)
            try:
                self._run(*section)
                self._replayed.append(section)
                return
            except FluxError as exc:
                error = type(exc)(f"{file}: {exc}")
            if self.skip_broken:  # the file may have been replayed in part: replay the others again
                self._state = State(Schema())
                for replayed in self._replayed:
                    self._run(*replayed)
        if not self.skip_broken:
            raise error from None

    def _run(self, first_line: int, sql: str) -> None:
        self._state.search_path = ["public"]  # each migration starts a fresh session
        _apply(self._state, sql, first_line)


# --------------------------------------------------------------------------


def _line_at(text: str, offset: int, first_line: int) -> int:
    # Statement offsets include the blank lines before the statement.
    while offset < len(text) and text[offset].isspace():
        offset += 1
    return first_line + text.count("\n", 0, offset)


# Keys followed through a PL/pgSQL tree: blocks and IF branches, not loops or handlers.
_PLPGSQL_PATH = ("PLpgSQL_function", "action", "PLpgSQL_stmt_block", "body", "PLpgSQL_stmt_if", "then_body")


def _do_block(do_text: str) -> Optional[Callable[[State, ast.Node], None]]:
    """DDL inside `DO $$ BEGIN ... EXCEPTION ... END $$` (drizzle wraps CREATE TYPE and
    foreign keys this way) is replayed; conditions are assumed true, loops and
    dynamic EXECUTE are skipped, and a body that does not parse is ignored."""
    try:
        tree = pglast.parse_plpgsql(do_text)
    except Exception:  # another language, or PL/pgSQL this parser rejects
        return None
    queries: list[str] = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "PLpgSQL_stmt_execsql" in node:
                queries.append(node["PLpgSQL_stmt_execsql"]["sqlstmt"]["PLpgSQL_expr"]["query"])
                return
            for key in _PLPGSQL_PATH:
                if key in node:
                    walk(node[key])

    walk(tree)

    def run(state: State, _stmt: ast.Node) -> None:
        for query in queries:
            try:
                stmts = pglast.parse_sql(query)
            except pglast.parser.ParseError:
                continue  # e.g. SQL using PL/pgSQL variables
            for raw in stmts:
                handler = _HANDLERS.get(type(raw.stmt))
                if handler is not None:
                    handler(state, raw.stmt)

    return run if queries else None


def _apply(state: State, sql_text: str, first_line: int) -> None:
    try:
        stmts = pglast.parse_sql(sql_text)
    except pglast.parser.ParseError as exc:
        msg = exc.args[0] if exc.args else str(exc)
        where = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        line = f" (line {_line_at(sql_text, where, first_line)})" if where is not None else ""
        raise FluxInputError(f"cannot parse SQL{line}: {msg}") from None
    for raw in stmts:
        handler = _HANDLERS.get(type(raw.stmt))
        if isinstance(raw.stmt, ast.DoStmt):
            end = raw.stmt_location + raw.stmt_len if raw.stmt_len else len(sql_text)
            handler = _do_block(sql_text[raw.stmt_location : end])
        if handler is None:
            continue
        try:
            handler(state, raw.stmt)
        except FluxError:
            raise
        except Exception as exc:  # a statement shape replay does not know: Flux's gap, not bad input
            line = _line_at(sql_text, raw.stmt_location or 0, first_line)
            what = f"{type(exc).__name__}: {exc}"
            raise FluxInternalError(f"cannot replay statement at line {line}: {what}") from None
