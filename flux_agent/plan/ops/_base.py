"""Shared pieces every operation module uses: schema look-ups that fail with a
clear message, step construction with lock/statement timeouts, and words for
descriptions (the batched backfill block is in _batched_update.py).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from ...errors import FluxInputError, UnknownName, known_names
from ...model.schema import Column, Schema, Table
from ...model.settings import Settings, duration_ms
from ...model.plan import LockRetry, Step
from ..lock_retry import BLOCKING
from ...model.terms import Lock, Phase
from ...pg.ddl import create_table_sql, sequence_options
from ...pg.locks import ACCESS_EXCLUSIVE, NO_LOCK
from ...pg.types import check_type_known, type_name
from ...pg.quote import canonical_table, ident, literal, shown
from ...pg.parse import column_refs, no_subquery, parse_expr, render


class RowsCount(BaseModel):
    """The rows of a live database one of an operation's steps fails on, as a query that counts them
    (an operation module's optional `refusing_rows(op, schema)`; plan/live_rows.py runs it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    table: str = Field(description="the table counted (its size decides whether it is counted at all)")
    sql: str = Field(description="SELECT count(*), ...: one row of counts, its first 0 when no row refuses")
    found: str = Field(description="what the counts say: a format string of them, each with its unit ('t: {0} with "
                                   "NULL in c' -> 't: 3 rows with NULL in c')")
    units: list[str] = Field(default_factory=lambda: ["row"], description="each count's unit, singular")
    fails: str = Field(description="which step fails on them and the way out")


@dataclass
class Ctx:
    schema: Schema
    settings: Settings
    new_tables: set[str] = field(default_factory=set)  # created earlier in this plan: empty, unused
    tool: str = "sql"  # the project's migration tool: where it names what a table holds (plan/naming.py)

    def is_new(self, table: Table) -> bool:
        return table.name in self.new_tables


def require_table(schema: Schema, name: str) -> Table:
    key = canonical_table(name)
    table = schema.table(key)
    if table is None:
        view = schema.view(key)
        if view is not None:  # the model keeps no view's columns: nothing here can be planned on one
            kind = "a materialized view" if view.materialized else "a view"
            raise FluxInputError(f"{shown(name)} is {kind}, not a table: Flux plans changes to tables; write "
                                 f"this change of it as SQL and `flux validate` it")
        elsewhere = [t.name for t in schema.tables if t.name.rpartition(".")[2] == key.rpartition(".")[2]]
        if elsewhere:  # the table outside the schema named (dispatch's tenant schemas)
            raise UnknownName(f"unknown table {shown(name)}: did you mean {' or '.join(sorted(elsewhere))}? "
                              "(a table outside the public schema is named with its schema)")
        known = sorted(t.name for t in schema.tables)
        raise UnknownName(f"unknown table {shown(name)} {known_names(key, known, 'tables')}")
    return table


def require_column(table: Table, name: str) -> Column:
    col = table.column(name)
    if col is None:
        raise UnknownName(f"unknown column {shown(name)} on table {table.name!r} "
                          f"{known_names(name, [c.name for c in table.columns], 'columns', limit=12)}")
    return col


def require_primary_key(table: Table) -> None:
    if not table.primary_key:
        raise FluxInputError(f"table {table.name!r} has no primary key; a batched backfill walks the primary key")


def require_new_column_name(table: Table, name: str) -> None:
    ident(name)  # length and emptiness checks
    if table.column(name) is not None:
        raise FluxInputError(f"column {name!r} already exists on table {table.name!r}")


def known_types(schema: Schema) -> set[str]:
    names = {e.name for e in schema.enums}
    names |= {c.type.split("(")[0].rstrip("[]") for t in schema.tables for c in t.columns}
    return names


def checked_type(schema: Schema, type_text: str) -> str:
    return check_type_known(type_text, known_types(schema))


def spelled_type(schema: Schema, type_text: str) -> str:
    """`type_text`, or the schema's own type it names in other letter case, quoted as it must be
    written (enum_Items_state: "enum_Items_state"); unknown, as it is (validate says so)."""
    try:
        resolved = checked_type(schema, type_text)
    except FluxInputError:
        return type_text
    return resolved if resolved != type_name(type_text) else type_text


def checked_expr(text: str, table: Optional[Table], what: str, subquery: bool = True) -> str:
    """Parse a user expression, check the columns it names exist, return it re-printed.
    subquery=False where PostgreSQL allows none (defaults, checks, index predicates)."""
    node = parse_expr(text, what)
    if not subquery:
        no_subquery(node, text, what)
    if table is not None:
        for ref in sorted(column_refs(node)):
            if table.column(ref) is None:
                # PostgreSQL folds an unquoted name to lower case: createdAt::timestamptz reads createdat
                cased = next((c.name for c in table.columns if c.name.lower() == ref and c.name != ref), None)
                hint = f" (did you mean {ident(cased)}? a name with capitals is quoted)" if cased else ""
                raise FluxInputError(f"{what} {text!r} names unknown column {ref!r} of table {table.name!r}{hint}")
    return render(node)


def short_name(*parts: str, suffix: str = "") -> str:
    """A generated identifier within 63 bytes; long names end in a stable hash."""
    base = "_".join(p for p in parts if p)
    full = f"{base}_{suffix}" if suffix else base
    if len(full.encode()) <= 63:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    tail = f"_{digest}_{suffix}" if suffix else f"_{digest}"
    keep = base.encode()[: 63 - len(tail.encode())].decode("utf-8", "ignore")
    return keep + tail


def free_name(table: Table, columns, suffix: str, taken) -> str:
    """The first of <table>_<columns>_<suffix>1, 2, ... `taken` says is free: PostgreSQL's way with a
    name it chooses itself that is in use."""
    return next(name for n in itertools.count(1)
                if not taken(name := short_name(bare(table.name), *columns, suffix=f"{suffix}{n}")))


def constraint_taken(schema: Schema, table: Table):
    """Is a name a constraint's in the table's schema? PostgreSQL chooses a constraint's name free
    of every constraint of the schema (ChooseConstraintName), not only of the table's."""
    space = table.name.rpartition(".")[0]
    tables = [t for t in schema.tables if t.name.rpartition(".")[0] == space]
    return lambda name: any(c.name == name for t in tables for c in t.constraints)


def bare(table_name: str) -> str:
    return table_name.split(".")[-1]


def table_ddl(table: Table, name: str, schema: Optional[Schema] = None, partition_by: str = "") -> str:
    """CREATE TABLE for `table` under `name`, by schema_ddl's rules (an integer key with no
    default comes back as an identity column, so old code inserting without an id keeps
    working) unless PostgreSQL's catalogs in `schema` say which column is an identity; the
    dropped table's sequences are gone."""
    deps = schema.dependencies if schema is not None else None
    if deps is None:
        return create_table_sql(table, name, sequences=False, partition_by=partition_by)
    owned = {s.owned_by: s for s in deps.sequences if s.identity}
    identity = next((c.name for c in table.columns if f"{table.name}.{c.name}" in owned), None)
    seq = owned[f"{table.name}.{identity}"] if identity is not None else None
    return create_table_sql(table, name, sequences=False, identity=identity, partition_by=partition_by,
                            always=seq is not None and seq.always,
                            identity_options=sequence_options(seq) if seq is not None else "")


# --------------------------------------------------------------------------
# Step construction
# --------------------------------------------------------------------------


def timeouts(settings: Settings, statement_timeout: Optional[str] = None,
             retry: Optional[LockRetry] = None) -> list[str]:
    """SET LOCAL keeps the setting to this migration's transaction only. A step retried on a
    lock timeout waits `retry.wait_ms` per try, and its statement (one DO block) may take its
    own time plus every try and pause."""
    st = settings.statement_timeout if statement_timeout is None else statement_timeout
    lock = literal(settings.lock_timeout) if retry is None else f"'{retry.wait_ms}ms'"
    if retry is not None and st != "0":
        st = f"{math.ceil((duration_ms(st) + retry.worst_wait_ms) / 1000)}s"
    return [
        f"SET LOCAL lock_timeout = {lock};",
        f"SET LOCAL statement_timeout = {literal(st) if st != '0' else '0'};",
    ]


def retry_for(settings: Settings, lock: Lock) -> Optional[LockRetry]:
    """How a step taking `lock` retries a lock timeout: None for locks the application does
    not queue behind (see plan/lock_retry.py)."""
    if lock not in BLOCKING:
        return None
    return LockRetry(tries=settings.lock_tries, wait_ms=settings.lock_wait_ms,
                     first_pause_ms=settings.lock_retry_pause_ms,
                     max_pause_ms=max(settings.lock_retry_max_pause_ms, settings.lock_retry_pause_ms))


def join(stmts: list[str]) -> str:
    # A comment stays on one line whatever names it quotes: a line break would end it.
    return "\n".join(" ".join(s.split()) if s.lstrip().startswith("--") else s if s.rstrip().endswith(";")
                     else s + ";" for s in stmts)


def tx_step(
    ctx: Ctx,
    phase: Phase,
    title: str,
    up: list[str],
    down: Optional[list[str]],
    lock: Lock = ACCESS_EXCLUSIVE,
    lock_note: str = "",
    risk: str = "brief lock, catalog change only",
    rollback: str = "",
    data_loss: bool = False,
    statement_timeout: Optional[str] = None,
    down_statement_timeout: Optional[str] = None,
) -> Step:
    """A step run inside one transaction, its timeouts set first; retried on a lock timeout
    when its lock blocks the application."""
    retry = retry_for(ctx.settings, lock)
    pre = timeouts(ctx.settings, statement_timeout, retry)
    return Step(
        phase=phase,
        title=title,
        up_sql=join(pre + up),
        down_sql=join(timeouts(ctx.settings, down_statement_timeout, retry) + down) if down else None,
        lock_retry=retry,
        transactional=True,
        lock=lock,
        lock_note=lock_note,
        risk=risk,
        rollback=rollback,
        data_loss_on_rollback=data_loss,
    )


def solo_step(
    phase: Phase,
    title: str,
    up: str,
    down: Optional[str],
    lock: Lock,
    risk: str,
    rollback: str = "",
    data_loss: bool = False,
    squawk_reason: Optional[str] = None,
    lock_note: str = "",
    guard: Optional[str] = None,
) -> Step:
    """A non-transactional step: exactly one statement, because a migration tool
    that sends a file as one query makes PostgreSQL run it as an implicit
    transaction, where CONCURRENTLY and COMMIT inside DO both fail. `guard`: a
    statement run on its own before it (Step.guard_sql), by the tools that can."""
    if squawk_reason:
        up = f"-- squawk-ignore require-lock-timeout, require-statement-timeout -- {squawk_reason}\n{up}"
    return Step(
        phase=phase,
        title=title,
        guard_sql=guard,
        up_sql=up,
        down_sql=down,
        transactional=False,
        lock=lock,
        lock_note=lock_note,
        risk=risk,
        rollback=rollback,
        data_loss_on_rollback=data_loss,
    )


SOLO_REASON = "one statement per non-transactional file; it waits without blocking reads or writes"


def code_step(title: str, risk: str = "application deploy") -> Step:
    return Step(phase="code", title=title, transactional=False, lock=NO_LOCK, risk=risk,
                rollback="redeploy the previous application version")

# --------------------------------------------------------------------------
# Words for descriptions
# --------------------------------------------------------------------------


def one(text: Optional[str]) -> str:
    return " ".join(str(text).split())


def cols(table: str, columns: list[str]) -> str:
    """`orders.user_id` for one column, `orders (a, b)` for several."""
    return f"{table}.{columns[0]}" if len(columns) == 1 else f"{table} ({', '.join(columns)})"


def where_text(where: Optional[str]) -> str:
    return f" where {one(where)}" if where else ""
