"""A migration file's statements as `flux fix` sees them: read in any format `flux validate` reads
(SQL, or program code through lint/readers), judged by the same rules against the schema before the
file, and each turned into typed operations (plan/from_sql) when it is unsafe and one fits."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..errors import FluxInputError, NothingToFix
from ..lint.context import FileContext
from ..lint.engine import _assemble, lint_sql
from ..lint.readers import reader_for
from ..lint.rules import BY_ID
from ..model.fix import Action, FixStatement
from ..model.operations import DropDefault, DropIndex, DropNotNull, Operation, RawSql
from ..model.schema import Schema
from ..model.settings import Settings
from ..pg.parse import ast
from ..pg.split import SqlSyntaxError, split_statements
from ..pg.quote import canonical_table, relation_name
from ..plan.from_sql import operations_of
from ..plan.from_sql.index import concurrent_form
from ..plan.from_sql.inverse import inverse, outside_transaction
from ..plan.ops._base import timeouts
from ..schema.migration_files import read_sections

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
        raise NothingToFix(f"{path.name} runs no SQL: nothing to fix")
    try:
        stmts = split_statements(sql)
    except SqlSyntaxError as exc:
        where = lines.get(exc.line, exc.line)
        raise FluxInputError(f"{path.name} line {where}: cannot parse the SQL: {exc}") from None
    judged, at = sql, [st.line for st in stmts]
    if len(set(at)) < len(at):
        # Statements sharing a line (one query a tool sent) would share their verdicts: each on lines of its own.
        judged, at, n = "", [], 1
        for st in stmts:
            at.append(n)
            judged += _ended(st.text) + "\n"
            n += st.text.count("\n") + 1
    ctx = FileContext.for_settings(settings, path=str(path), transactional=transactional, schema=schema)
    errors: dict[int, list[str]] = {}
    for f in lint_sql(judged, ctx):  # statement rules only: a whole-file verdict (no down part) is no statement's
        if f.severity == "error" and BY_ID.get(f.rule) is not None and BY_ID[f.rule].check is not None:
            errors.setdefault(f.line, []).append(f.rule)
    out: list[FixStatement] = []
    touched: set[tuple[str, str]] = set()  # (table, column) the file altered so far; "*": the whole table
    for st, judged_line in zip(stmts, at):
        rules = sorted(set(errors.get(judged_line, [])))
        line = lines.get(st.line, st.line)
        if isinstance(st.node, _PLUMBING):
            out.append(FixStatement(line=line, sql=st.text, action="dropped",
                                    note="a session setting: Flux's steps set their own timeouts"))
            continue
        ops = operations_of(st.node)
        mine = _columns(st.node)
        # The schema before the file no longer tells what a column is once the file altered it.
        known = schema if not any(c in touched or (c[0], "*") in touched for c in mine) else None
        nothing = _does_nothing(known, ops, getattr(st.node, "missing_ok", False)) if ops else None
        if nothing:
            out.append(FixStatement(line=line, sql=st.text, action="dropped", note=f"changes nothing: {nothing}"))
            continue
        touched |= mine
        if rules and not ops and isinstance(st.node, ast.IndexStmt):
            ops = _built_concurrently(st.node, schema, settings)
        ops = ops if rules else None
        action: Action = "planned" if ops else ("raw" if rules else "kept")
        out.append(FixStatement(line=line, sql=st.text, action=action, rules=rules, operations=ops or []))
        out[-1]._node, out[-1]._down, out[-1]._alone = st.node, inverse(st.node, known), not transactional
    return out


def _built_concurrently(node, schema: Optional[Schema], settings: Settings) -> Optional[list[Operation]]:
    """An index no add_index fits, built CONCURRENTLY as it is written, where that form draws no error."""
    form = concurrent_form(node)
    if form is None:
        return None
    ctx = FileContext.for_settings(settings, path="fix", transactional=False, schema=schema)
    if any(f.severity == "error" for f in lint_sql(form.up, ctx)):
        return None  # a partitioned parent, say, which PostgreSQL cannot index concurrently
    return [form]


def _columns(node) -> set[tuple[str, str]]:
    """The (table, column) pairs an ALTER TABLE changes; (table, "*") for a renamed table or column."""
    if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        table = relation_name(node.relation)
        return {(table, c.name or getattr(c.def_, "colname", None) or "*") for c in node.cmds or ()}
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        return {(relation_name(node.relation), "*")}
    return set()  # rows, indexes and new tables leave the columns as they were


def _does_nothing(schema: Optional[Schema], ops: list[Operation], if_exists: bool) -> Optional[str]:
    """Why the statement's operations change nothing in the schema before the file (PostgreSQL does
    nothing): an ORM redefining a column drops a default or NOT NULL that is not there; Django's
    RemoveIndex drops IF EXISTS an index that is not there. None where they change something."""
    if schema is None:
        return None
    if all(isinstance(o, (DropDefault, DropNotNull)) for o in ops):
        for op in ops:
            table = schema.table(canonical_table(op.table))
            column = table.column(op.column) if table is not None else None
            if column is None or not (column.default is None if isinstance(op, DropDefault) else column.nullable):
                return None
        return "the column has no such default or NOT NULL"
    if if_exists and all(isinstance(o, DropIndex) for o in ops):
        names = {i.name for t in schema.tables for i in t.indexes} | \
            {c.name for t in schema.tables for c in t.constraints}
        if all(o.name.split(".")[-1] not in names for o in ops):
            return "DROP INDEX IF EXISTS of an index that is not there"
    return None


def fix_operations(statements: list[FixStatement], settings: Settings) -> list[Operation]:
    """The operations of the whole file, in the statements' order: planned statements as their
    operations, the others as raw_sql (consecutive transactional ones grouped in one step, after
    Flux's own timeouts, which stand for the file's SET statements dropped above)."""
    ops: list[Operation] = []
    group: list[FixStatement] = []

    def flush() -> None:
        if group:
            downs = [s._down for s in reversed(group)]
            ops.append(RawSql(up="\n".join([*timeouts(settings), *(_ended(s.sql) for s in group)]),
                              down="\n".join(d for d in downs if d) if None not in downs else None))
            group.clear()

    for st in statements:
        if st.action == "dropped":
            continue
        if st.action == "planned":
            flush()
            ops.extend(st.operations)
            continue
        node = st._node
        if outside_transaction(node):
            flush()
            down = st._down
            ops.append(RawSql(up=_ended(st.sql), down=down, transactional=False))
            continue
        group.append(st)
        if st._alone:  # as its file ran it: committed before the next (a NOT VALID add, then its VALIDATE)
            flush()
    flush()
    if not ops:
        raise NothingToFix("the file holds nothing but session settings: nothing to fix")
    return ops


def _ended(sql: str) -> str:
    sql = sql.strip()
    return sql if sql.endswith(";") else f"{sql};"
