"""A migration file's statements as `flux fix` sees them: read in any format `flux validate` reads
(SQL, or program code through lint/readers), judged by the same rules against the schema before the
file, and each turned into typed operations (plan/from_sql) when it is unsafe and one fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, PrivateAttr

from ..errors import FluxInputError
from ..lint.context import FileContext
from ..lint.engine import SYNTAX_ERROR, _assemble, lint_sql
from ..lint.readers import reader_for
from ..lint.rules import BY_ID
from ..model.operations import Operation, RawSql
from ..model.schema import Schema
from ..model.settings import Settings
from ..pg.parse import SqlSyntaxError, ast, split_statements
from ..plan.from_sql import operations_of
from ..plan.from_sql.inverse import inverse, outside_transaction
from ..plan.ops._base import timeouts
from ..schema.migration_files import read_sections

Action = Literal["planned", "kept", "raw", "dropped"]


class FixStatement(BaseModel):
    """One statement of the file and what `flux fix` made of it."""

    line: int = Field(description="line in the file")
    sql: str
    action: Action = Field(description="planned: unsafe, now typed operations; kept: safe, as written (or as "
                                       "its one-step operation, which knows its rollback); raw: unsafe but no "
                                       "operation fits (kept as raw_sql, its findings stay); dropped: session "
                                       "settings Flux's steps set themselves")
    rules: list[str] = Field(default_factory=list, description="the error rules it drew")
    operations: list[Operation] = Field(default_factory=list)
    _node: Any = PrivateAttr(None)  # pglast's tree: what a kept statement's rollback is read from


# SET, RESET, BEGIN, COMMIT: the file's own session plumbing; every step Flux writes sets its own.
_PLUMBING = (ast.VariableSetStmt, ast.TransactionStmt)


def read_statements(path: Path, settings: Settings, schema: Optional[Schema], project: Path,
                    tool: Optional[str]) -> list[FixStatement]:
    """The file's statements in order, each judged and (when unsafe) turned into operations."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    if path.name.lower().endswith(".sql"):
        sec = read_sections(path, text)
        transactional = sec.transactional
        sql, lines = sec.up, {n: n + sec.up_line for n in range(1, sec.up.count("\n") + 2)}
    else:
        reader = reader_for(path, text, tool)
        if reader is None:
            raise FluxInputError(f"{path.name} is neither SQL nor a migration of a tool Flux reads")
        read = reader.read(path, text, project)
        if read.unread:
            first = read.unread[0]
            raise FluxInputError(f"{path.name} line {first.line}: cannot read {first.what}; fix it by hand")
        transactional = read.transactional
        sql, lines = _assemble(read.up)
    if not sql.strip():
        raise FluxInputError(f"{path.name} runs no SQL: nothing to fix")
    ctx = FileContext.for_settings(settings, path=str(path), transactional=transactional, schema=schema)
    found = lint_sql(sql, ctx)
    broken = next((f for f in found if f.rule == SYNTAX_ERROR), None)
    if broken is not None:
        raise FluxInputError(f"{path.name} line {lines.get(broken.line, broken.line)}: {broken.message}")
    try:
        stmts = split_statements(sql)
    except SqlSyntaxError as exc:
        raise FluxInputError(f"{path.name}: cannot parse the SQL: {exc}") from None
    errors: dict[int, list[str]] = {}
    for f in found:  # statement rules only: a whole-file verdict (no down part) is no statement's
        if f.severity == "error" and BY_ID.get(f.rule) is not None and BY_ID[f.rule].check is not None:
            errors.setdefault(f.line, []).append(f.rule)
    out = []
    for st in stmts:
        rules = sorted(set(errors.get(st.line, [])))
        line = lines.get(st.line, st.line)
        if isinstance(st.node, _PLUMBING):
            out.append(FixStatement(line=line, sql=st.text, action="dropped"))
            continue
        ops = operations_of(st.node) if rules or inverse(st.node) is None else None
        if not rules and not _one_safe_step(ops):
            ops = None  # kept as written: its operation would plan more than the statement does
        action: Action = "planned" if ops and rules else ("raw" if rules else "kept")
        out.append(FixStatement(line=line, sql=st.text, action=action, rules=rules, operations=ops or []))
        out[-1]._node = st.node
    return out


def fix_operations(statements: list[FixStatement], settings: Settings) -> list[Operation]:
    """The operations of the whole file, in the statements' order: planned statements as their
    operations, the others as raw_sql (consecutive transactional ones grouped in one step, after
    Flux's own timeouts, which stand for the file's SET statements dropped above)."""
    ops: list[Operation] = []
    group: list[FixStatement] = []

    def flush() -> None:
        if group:
            downs = [inverse(s._node) for s in reversed(group)]
            ops.append(RawSql(up="\n".join([*timeouts(settings), *(_ended(s.sql) for s in group)]),
                              down="\n".join(d for d in downs if d) if None not in downs else None))
            group.clear()

    for st in statements:
        if st.action == "dropped":
            continue
        if st.operations:
            flush()
            ops.extend(st.operations)
            continue
        node = st._node
        if outside_transaction(node):
            flush()
            down = inverse(node)
            ops.append(RawSql(up=_ended(st.sql), down=down, transactional=False))
            continue
        group.append(st)
    flush()
    if not ops:
        raise FluxInputError("the file holds nothing but session settings: nothing to fix")
    return ops


# A safe statement with no obvious rollback is planned as its operation when that is the same one
# catalog step (with Flux's timeouts), which knows its rollback from the schema.
_SAME_STEP = {"set_default", "drop_default", "drop_not_null"}


def _one_safe_step(ops) -> bool:
    return bool(ops) and all(o.op in _SAME_STEP for o in ops)


def _ended(sql: str) -> str:
    sql = sql.strip()
    return sql if sql.endswith(";") else f"{sql};"
