"""How replay applies parsed statements to the schema being replayed: each statement
kind's handler (ddl.py, objects.py), DDL inside DO blocks, and the one loop over a
text's statements. Statements are parsed with pglast, never matched as text; this
module and the handlers read pglast's trees throughout, so engine.py loads it on the
first replay (Flux starts where pglast has no wheel)."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import pglast
from pglast import ast
from pglast.enums import ObjectType, VariableSetKind

from ...errors import FluxError, FluxInputError, FluxInternalError
from ...pg.parse import parse_sql
from ...pg.split import Statement
from .ddl import alter_table, create_table
from .objects import (
    alter_enum, comment, create_enum, create_extension, create_index, create_table_as, create_view, drop, refresh, rename,
    select_into, set_schema, set_variable,
)
from .state import State
from .touches import touched, union
from .types import create_composite, create_domain, create_range

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
    ast.CreateExtensionStmt: create_extension,
    ast.CreateRangeStmt: create_range,
    ast.CreateDomainStmt: create_domain,
    ast.CompositeTypeStmt: create_composite,
    ast.SelectStmt: select_into,
    ast.RefreshMatViewStmt: refresh,
    ast.CommentStmt: comment,
}


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
    if isinstance(node, ast.SelectStmt) and node.intoClause is None:
        return None  # a query: only SELECT INTO makes a table
    if isinstance(node, ast.CommentStmt) and node.objtype != ObjectType.OBJECT_COLUMN:
        return None  # only a column's comment is kept (a copy of the column takes it)
    handler = _HANDLERS.get(type(node))
    return None if handler is None else (lambda state: handler(state, node))


# --------------------------------------------------------------------------


def _line_at(text: str, offset: int, first_line: int) -> int:
    # Statement offsets include the blank lines before the statement.
    while offset < len(text) and text[offset].isspace():
        offset += 1
    return first_line + text.count("\n", 0, offset)


# Keys followed through a PL/pgSQL tree: blocks, IF branches and a plain LOOP (it runs its body at
# least once: Flux's own lock-timeout retry is one), not WHILE or FOR loops or handlers.
_PLPGSQL_PATH = ("PLpgSQL_function", "action", "PLpgSQL_stmt_block", "body", "PLpgSQL_stmt_if", "then_body",
                 "PLpgSQL_stmt_loop")


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

    handled = []
    for query in queries:
        try:
            stmts = parse_sql(query)
        except pglast.parser.ParseError:
            continue  # e.g. SQL using PL/pgSQL variables
        handled += [(_HANDLERS[type(raw.stmt)], raw.stmt) for raw in stmts if type(raw.stmt) in _HANDLERS]

    def run(state: State, _stmt: ast.Node) -> None:
        for handler, stmt in handled:
            handler(state, stmt)

    run.touches = union(touched(stmt) for _, stmt in handled)  # type: ignore[attr-defined]
    return run if handled else None


def apply_sql(state: State, sql_text: str, first_line: int, parsed: Optional[Sequence[Statement]] = None) -> None:
    """Replay every statement of `sql_text` (its first line is `first_line` of its file) on `state`;
    `parsed`: its statements as pg.split.split_statements cut them already (not parsed again)."""
    if parsed is None:
        try:
            raws = parse_sql(sql_text)
        except pglast.parser.ParseError as exc:
            msg = exc.args[0] if exc.args else str(exc)
            where = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
            line = f" (line {_line_at(sql_text, where, first_line)})" if where is not None else ""
            raise FluxInputError(f"cannot parse SQL{line}: {msg}") from None
        stmts = [(raw.stmt, raw.stmt_location or 0, (raw.stmt_location or 0) + raw.stmt_len if raw.stmt_len else None)
                 for raw in raws]
    else:
        stmts = [(s.node, s.start, s.end) for s in parsed]
    for node, start, end in stmts:
        apply_statement(state, node, sql_text, start, end, first_line)


def apply_statement(state: State, node: ast.Node, sql_text: str, start: int, end: Optional[int],
                    first_line: int) -> None:
    """Replay one parsed statement of `sql_text` (at `start`..`end` in it) on `state`: what replay
    follows of it, a FluxError when it cannot (FluxInternalError for a shape replay does not know)."""
    handler = _HANDLERS.get(type(node))
    if isinstance(node, ast.DoStmt):
        handler = _do_block(sql_text[start: end if end is not None else len(sql_text)])
    if handler is None:
        return
    state.touch(handler.touches if isinstance(node, ast.DoStmt) else touched(node))
    try:
        handler(state, node)
    except FluxError:
        raise
    except Exception as exc:  # a statement shape replay does not know: Flux's gap, not bad input
        line = _line_at(sql_text, start, first_line)
        what = f"{type(exc).__name__}: {exc}"
        raise FluxInternalError(f"cannot replay statement at line {line}: {what}") from None
