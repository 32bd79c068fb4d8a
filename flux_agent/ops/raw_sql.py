"""raw_sql: SQL a model or a person proposes when no typed operation fits.
Flux parses it (so it is at least valid PostgreSQL), describes its lock from
the statements, and the validator judges it like any migration file."""

from __future__ import annotations

from ..analysis import SqlSyntaxError, facts, split_statements
from ..errors import FluxInputError
from ..models import RawSql, Schema, Step
from ..schema.replay import replay_sql
from .base import Ctx

_ORDER = ["none", "brief", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
          "ACCESS EXCLUSIVE"]


def _statements(sql: str, what: str):
    try:
        stmts = split_statements(sql)
    except SqlSyntaxError as exc:
        raise FluxInputError(f"raw_sql {what} does not parse (line {exc.line}): {exc}") from None
    if not stmts:
        raise FluxInputError(f"raw_sql {what} holds no statement")
    return stmts


def validate(op: RawSql, schema: Schema) -> None:
    ups = _statements(op.up, "up")
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
    return [Step(
        phase=op.phase, title=f"proposed SQL: {stmts[0].text.splitlines()[0][:60]}"
        + (f" (+{len(stmts) - 1} more)" if len(stmts) > 1 else ""),
        up_sql=op.up.strip(), down_sql=op.down.strip() if op.down and op.down.strip() else None,
        transactional=op.transactional, lock=lock,
        risk="may scan or rewrite the table; see the findings" if scans else "as proposed; see the findings",
        rollback="run the proposed down SQL" if op.down else "")]


def apply(op: RawSql, schema: Schema) -> None:
    # Replaying keeps the working schema true for the operations after this one.
    new = replay_sql(op.up, schema)
    schema.tables, schema.enums, schema.views = new.tables, new.enums, new.views
