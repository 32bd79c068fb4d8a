"""raw_sql: SQL a model or a person proposes when no typed operation fits.
Flux parses it (so it is at least valid PostgreSQL), describes its lock from
the statements, and the validator judges it like any migration file. All of
that reads pglast's trees: where pglast is missing, raw_sql is refused in one line."""

from __future__ import annotations

from typing import Optional

from ...lint.context import FileContext
from ...lint.engine import lint_sql
from ...lint.rules import BY_ID
from ...pg.parse import ast, require_pglast
from ...pg.split import SqlSyntaxError, split_statements
from ...pg.locks import facts
from ...errors import FluxInputError
from ...pg.quote import canonical_table
from ...model.operations import RawSql
from ...model.schema import Schema
from ...model.plan import Step
from ...schema.replay.engine import replay_sql
from ._base import Ctx
from ._ignores import ignore_lines

_ORDER = ["none", "brief", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
          "ACCESS EXCLUSIVE"]


def _statements(sql: str, what: str):
    require_pglast("a raw_sql operation (its SQL is judged by PostgreSQL's parser)")
    try:
        stmts = split_statements(sql)
    except SqlSyntaxError as exc:
        raise FluxInputError(f"raw_sql {what} does not parse (line {exc.line}): {exc}") from None
    if not stmts:
        raise FluxInputError(f"raw_sql {what} holds no statement")
    return stmts


def _refuse_dangerous(stmts) -> None:
    rule = BY_ID["dangerous-statement"]
    for stmt in stmts:
        verdict = rule.check(stmt, FileContext())
        if verdict is not None:
            raise FluxInputError(f"raw_sql refused: {verdict.message or rule.message}")


def _destructive(stmts) -> list:
    check = BY_ID["destructive-outside-contract"].check
    return [s for s in stmts if check(s, FileContext()) is not None]


def _reason(op: RawSql) -> str:
    text = " ".join((op.confirm or "").split())  # one line: a newline would end the SQL comment
    return text[:200]


def validate(op: RawSql, schema: Schema) -> None:
    ups = _statements(op.up, "up")
    _refuse_dangerous(ups)
    if _destructive(ups):
        if op.phase not in ("contract", "backfill") or not _reason(op):
            raise FluxInputError(
                "raw_sql holds a destructive statement: put it in a contract (or backfill) step and say why it "
                "is safe in confirm, e.g. \"confirm\": \"nothing reads this column since the last deploy\"")
    if op.down is not None and op.down.strip():
        _statements(op.down, "down")
    if not op.transactional and len(ups) != 1:
        raise FluxInputError(
            "non-transactional raw_sql must hold exactly one statement (a tool sends the file as one query, "
            "which PostgreSQL runs as a transaction); split it into several raw_sql operations")


def plan(op: RawSql, ctx: Ctx) -> list[Step]:
    stmts = _statements(op.up, "up")
    locks = [facts(s).lock for s in stmts]
    lock = max(locks, key=lambda l: _ORDER.index(l) if l in _ORDER else 0)
    scans = any(facts(s).scans or facts(s).rewrites for s in stmts)
    # Named by its first statement that does something: SET lock_timeout first says nothing of it.
    shown = [s for s in stmts if not isinstance(s.node, ast.VariableSetStmt)] or stmts
    return [Step(
        phase=op.phase, title=f"proposed SQL: {shown[0].text.splitlines()[0][:60]}"
        + (f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""),
        up_sql=_confirmed(op, op.up.strip()), down_sql=op.down.strip() if op.down and op.down.strip() else None,
        transactional=op.transactional, lock=lock,
        risk="may scan or rewrite the table; see the findings" if scans else "as proposed; see the findings",
        rollback="run the proposed down SQL" if op.down else "")]


def _confirmed(op: RawSql, up: str) -> str:
    """The confirmation, written above each destructive statement as ignore
    comments (squawk's and flux's) carrying the requester's reason."""
    reason = _reason(op)
    if not reason:
        return up
    targets = {s.text for s in _destructive(_statements(up, "up"))}
    out, last = [], 0
    for st in _statements(up, "up"):
        start, text = st.start, st.text
        if text not in targets:
            continue
        rules = sorted({f.rule for f in lint_sql(text, FileContext(phase=op.phase, transactional=op.transactional))
                        if f.severity == "error"})
        lines = ignore_lines(rules, f"confirmed: {reason}") or [f"-- confirmed destructive: {reason}"]
        out.append(up[last:start])
        out.append("\n".join(lines) + "\n")
        last = start
    out.append(up[last:])
    return "".join(out)


def apply(op: RawSql, schema: Schema) -> None:
    # Replaying keeps the working schema true for the operations after this one; what it drops is
    # no dependent of theirs any more (hatchet drops a trigger and its function, then the table
    # the function named: the drop was refused for the function).
    new = replay_sql(op.up, schema)
    schema.tables, schema.enums, schema.views = new.tables, new.enums, new.views
    if schema.dependencies is not None:
        for stmt in split_statements(op.up):
            for kind, name, table in _dropped(stmt.node):
                schema.dependencies.forget(kind, name, table)


# By name: this module loads where pglast is missing (raw_sql is refused there in one line).
_DROPPED_KINDS = {"OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "function", "OBJECT_TRIGGER": "trigger",
                  "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "materialized_view", "OBJECT_POLICY": "policy",
                  "OBJECT_RULE": "rule"}


def _dropped(node) -> list[tuple[str, str, Optional[str]]]:
    """(dependent kind, name, table or None) of each object a DROP statement drops."""
    kind = _DROPPED_KINDS.get(node.removeType.name) if isinstance(node, ast.DropStmt) else None
    if kind is None:
        return []
    out = []
    for obj in node.objects or ():
        names = [s.sval for s in (obj.objname if isinstance(obj, ast.ObjectWithArgs) else obj)]
        if kind in ("trigger", "policy", "rule"):  # ON table: the table's name first, its own last
            out.append((kind, names[-1], canonical_table(".".join(names[:-1]))))
        else:
            out.append((kind, canonical_table(".".join(names)), None))
    return out


def describe(op: RawSql) -> str:
    return f"run raw SQL ({op.phase} step)"
