"""Shared pieces every operation module uses: schema look-ups that fail with a
clear message, step construction with lock/statement timeouts, and the batched
backfill block.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Optional

from ...errors import FluxInputError
from ...model.schema import Column, Schema, Table
from ...model.settings import Settings, duration_ms
from ...model.plan import Batching, LockRetry, Step
from ..lock_retry import BLOCKING
from ...model.terms import Lock, Phase
from ...pg.ddl import create_table_sql
from ...pg.locks import ACCESS_EXCLUSIVE, NO_LOCK, ROW_EXCLUSIVE
from ...pg.types import check_type_known
from ...pg.quote import canonical_table, dollar_quote, ident, literal, qname, shown
from ...pg.parse import column_refs, no_subquery, parse_expr, render


@dataclass
class Ctx:
    schema: Schema
    settings: Settings
    new_tables: set[str] = field(default_factory=set)  # created earlier in this plan: empty, unused

    def is_new(self, table: Table) -> bool:
        return table.name in self.new_tables


def require_table(schema: Schema, name: str) -> Table:
    key = canonical_table(name)
    table = schema.table(key)
    if table is None:
        known = ", ".join(sorted(t.name for t in schema.tables)[:8]) or "none"
        raise FluxInputError(f"unknown table {shown(name)} (known tables: {known})")
    return table


def require_column(table: Table, name: str) -> Column:
    col = table.column(name)
    if col is None:
        known = ", ".join(c.name for c in table.columns[:12])
        raise FluxInputError(f"unknown column {shown(name)} on table {table.name!r} (columns: {known})")
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


def checked_expr(text: str, table: Optional[Table], what: str, subquery: bool = True) -> str:
    """Parse a user expression, check the columns it names exist, return it re-printed.
    subquery=False where PostgreSQL allows none (defaults, checks, index predicates)."""
    node = parse_expr(text, what)
    if not subquery:
        no_subquery(node, text, what)
    if table is not None:
        for ref in sorted(column_refs(node)):
            if table.column(ref) is None:
                raise FluxInputError(f"{what} {text!r} names unknown column {ref!r} of table {table.name!r}")
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


def bare(table_name: str) -> str:
    return table_name.split(".")[-1]


def table_ddl(table: Table, name: str, schema: Optional[Schema] = None) -> str:
    """CREATE TABLE for `table` under `name`, by schema_ddl's rules (an integer key with no
    default comes back as an identity column, so old code inserting without an id keeps
    working) unless PostgreSQL's catalogs in `schema` say which column is an identity; the
    dropped table's sequences are gone."""
    deps = schema.dependencies if schema is not None else None
    if deps is None:
        return create_table_sql(table, name, sequences=False)
    owned = {s.owned_by for s in deps.sequences if s.identity}
    identity = next((c.name for c in table.columns if f"{table.name}.{c.name}" in owned), None)
    return create_table_sql(table, name, sequences=False, identity=identity)


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
# Batched backfill
# --------------------------------------------------------------------------


def batching(ctx: Ctx, table: Table, batch_size: Optional[int] = None, pending: Optional[str] = None) -> Batching:
    """The facts of a batched walk over `table`, from the settings at plan time: batched_update
    generates its block from them and backfill_step records them, so estimates and status read
    the same numbers the block runs with."""
    st = ctx.settings
    return Batching(table=table.name, batch_size=batch_size or st.backfill_batch_size,
                    pause_ms=st.backfill_sleep_ms, target_ms=st.backfill_batch_ms, pending=pending,
                    max_commit_ms=st.backfill_max_commit_ms,
                    # pg_stat_replication's *_lsn columns and pg_wal_lsn_diff arrived in PostgreSQL 10
                    max_lag_bytes=st.backfill_max_lag_bytes if st.pg_version >= 10 else None,
                    max_pause_ms=max(st.backfill_max_pause_ms, st.backfill_sleep_ms),
                    min_rows_per_s=st.backfill_min_rows_per_s,
                    # backend_flush_after arrived in 9.6; settings know majors only
                    flush_after_kb=st.backfill_flush_after_kb if st.pg_version >= 10 else 0)


def batched_update(
    ctx: Ctx,
    table: Table,
    assignments: list[tuple[str, str]],
    where: Optional[str],
    batch_size: Optional[int] = None,
    label: str = "",
) -> str:
    """A DO block updating `table` in primary-key order, one batch per commit.

    It must run outside a transaction block (COMMIT inside DO needs that) and
    is safe to run again after an interruption: finished batches stay done, and
    with a `where` (the rows still to do: `col IS NULL`, a copy that differs) a run
    again starts at the first row still to do instead of walking (batch by batch,
    with its pauses) the rows it did.

    It paces itself (issue 25): a batch slower than max_commit_ms, replica lag over
    max_lag_bytes or sessions waiting on its locks double the pause (up to max_pause_ms,
    never below the floor rate) with one NOTICE saying why; waiters also halve the batch.
    """
    require_primary_key(table)
    b = batching(ctx, table, batch_size)
    size, target_ms = b.batch_size, b.target_ms
    t = qname(table.name)
    pk = table.primary_key
    last = [f"flux_last_{i}" for i in range(len(pk))]
    nxt = [f"flux_next_{i}" for i in range(len(pk))]
    pk_cols = ", ".join(ident(c) for c in pk)
    k_cols = ", ".join(f"k.{ident(c)}" for c in pk)
    k_desc = ", ".join(f"k.{ident(c)} DESC" for c in pk)

    def tup(names: list[str]) -> str:
        return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"

    pk_tuple = tup([ident(c) for c in pk])
    stop = [f"flux_stop_{i}" for i in range(len(pk))]
    after_last = f"({last[0]} IS NULL OR {pk_tuple} > {tup(last)})"
    decls = "\n".join(
        f"  {v} {qname(table.name)}.{ident(c)}%TYPE;"
        for i, c in enumerate(pk) for v in (last[i], nxt[i], stop[i])
    )
    sets = ", ".join(f"{ident(col)} = {value}" for col, value in assignments)
    extra = f" AND ({where})" if where else ""
    name = literal(label or table.name)
    # Lag: bytes of WAL written before this batch that the slowest replica has not replayed
    # (its own batch left out: the standby reports replay progress only as new WAL arrives,
    # so the last report always trails the batch just sent). NULL, never over the bound,
    # without pg_monitor, with no replica, or before PostgreSQL 10.
    lag = (
        "    SELECT max(pg_wal_lsn_diff(flux_lsn, coalesce(replay_lsn, flush_lsn)))\n"
        "      INTO flux_lag FROM pg_stat_replication;\n"
        f"    IF flux_lag > {b.max_lag_bytes} THEN\n"
        f"      flux_why := concat_ws('; ', flux_why, format('replica lag %s over %s', "
        f"pg_size_pretty(flux_lag), pg_size_pretty({b.max_lag_bytes}::numeric)));\n"
        "    END IF;\n"
    ) if b.max_lag_bytes is not None else ""
    # The walk ends at the last key present when it starts: rows inserted later
    # already get their value from a default, a trigger or the deployed code, and
    # chasing them would keep a busy table's backfill running for ever.
    # Run again after an interruption, the walk starts just before the first row still to do (`where`
    # says which): the finished rows are passed over once, not batch by batch with pauses. (Filtering
    # the walk itself by `where` instead cost 8x: every key visited fetched its row.)
    resume = "" if not where else (
        f"  SELECT {pk_cols} INTO {', '.join(nxt)} FROM {t} WHERE ({where}) ORDER BY {pk_cols} LIMIT 1;\n"
        "  IF NOT FOUND THEN\n"
        "    RETURN;\n"
        "  END IF;\n"
        f"  SELECT {pk_cols} INTO {', '.join(last)} FROM {t} WHERE {pk_tuple} < {tup(nxt)} "
        f"ORDER BY {', '.join(f'{ident(c)} DESC' for c in pk)} LIMIT 1;\n")
    body = (
        "\n"
        "DECLARE\n"
        f"{decls}\n"
        "  flux_rows bigint;\n"
        "  flux_total bigint := 0;\n"
        f"  flux_size integer := {min(size, 500)};\n"
        "  flux_t timestamptz;\n"
        "  flux_ms double precision;\n"
        f"  flux_pause double precision := {b.pause_ms};\n"
        "  flux_waiters integer;\n"
        "  flux_lag numeric;\n"
        + ("  flux_lsn pg_lsn;\n" if b.max_lag_bytes is not None else "")
        + 
        "  flux_why text;\n"
        "BEGIN\n"
        f"  SELECT {pk_cols} INTO {', '.join(stop)} FROM {t} ORDER BY {', '.join(f'{ident(c)} DESC' for c in pk)} LIMIT 1;\n"
        "  IF NOT FOUND THEN\n"
        "    RETURN;\n"
        "  END IF;\n"
        + resume
        + "  LOOP\n"
        f"    SET LOCAL lock_timeout = {literal(ctx.settings.lock_timeout)};\n"
        + (f"    SET LOCAL backend_flush_after = {literal(f'{b.flush_after_kb}kB')};\n" if b.flush_after_kb else "")
        + f"    SELECT {k_cols} INTO {', '.join(nxt)}\n"
        f"      FROM (SELECT {pk_cols} FROM {t} WHERE {after_last} AND {pk_tuple} <= {tup(stop)}\n"
        f"            ORDER BY {pk_cols} LIMIT flux_size) AS k\n"
        f"      ORDER BY {k_desc} LIMIT 1;\n"
        "    EXIT WHEN NOT FOUND;\n"
        "    flux_t := clock_timestamp();\n"
        + ("    flux_lsn := pg_current_wal_lsn();\n" if b.max_lag_bytes is not None else "")
        + f"    UPDATE {t} SET {sets}\n"
        f"      WHERE {after_last} AND {pk_tuple} <= {tup(nxt)}{extra};\n"
        "    GET DIAGNOSTICS flux_rows = ROW_COUNT;\n"
        "    flux_total := flux_total + flux_rows;\n"
        + "".join(f"    {a} := {b_};\n" for a, b_ in zip(last, nxt))
        # Sessions queued behind this batch's locks, counted while it still holds them.
        + "    SELECT count(DISTINCT pid) INTO flux_waiters FROM pg_locks\n"
        "      WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid));\n"
        "    COMMIT;\n"
        # The batch's time includes its COMMIT: under synchronous commit that is the WAL
        # flush the application's commits queue behind too.
        "    flux_ms := extract(epoch FROM clock_timestamp() - flux_t) * 1000;\n"
        # Size the next batch so it holds its row locks about target_ms: app writes
        # to rows of the current batch wait that long at most.
        f"    flux_size := greatest(100, least({size}, flux_size * 2, "
        f"(flux_size * {target_ms} / greatest(flux_ms, 1))::integer));\n"
        f"    RAISE NOTICE 'flux backfill %: % rows updated', {name}, flux_total;\n"
        "    flux_why := NULL;\n"
        f"    IF flux_ms > {b.max_commit_ms} THEN\n"
        f"      flux_why := format('batch took %s ms over %s', round(flux_ms::numeric), {b.max_commit_ms});\n"
        "    END IF;\n"
        + lag
        + "    IF flux_waiters > 0 THEN\n"
        "      flux_why := concat_ws('; ', flux_why, format('%s session(s) waiting on its locks', flux_waiters));\n"
        "      flux_size := greatest(100, flux_size / 2);\n"
        "    END IF;\n"
        "    IF flux_why IS NOT NULL THEN\n"
        # Never slower than the floor rate: the next batch and its pause take at most
        # flux_size / min_rows_per_s seconds, so the backfill always finishes.
        f"      flux_pause := least(greatest(flux_pause * 2, 10), {b.max_pause_ms},\n"
        f"        greatest({b.pause_ms}, flux_size * 1000.0 / {b.min_rows_per_s} - flux_ms));\n"
        f"      RAISE NOTICE 'flux backfill %: throttled (%): next batch % rows after % ms', {name}, flux_why, "
        "flux_size, round(flux_pause::numeric);\n"
        f"    ELSIF flux_pause > {b.pause_ms} THEN\n"
        # Halving eases back without jumping; within 5 ms of the usual pause it is back.
        "      flux_pause := flux_pause / 2;\n"
        f"      IF flux_pause < {b.pause_ms} + 5 THEN\n"
        f"        flux_pause := {b.pause_ms};\n"
        f"        RAISE NOTICE 'flux backfill %: back to pace (% ms pauses)', {name}, {b.pause_ms};\n"
        "      END IF;\n"
        "    END IF;\n"
        "    PERFORM pg_sleep(flux_pause / 1000);\n"
        "  END LOOP;\n"
        "END\n"
    )
    return f"DO {dollar_quote(body)};"


def backfill_step(ctx: Ctx, table: Table, title: str, sql: str, data_loss: bool = False,
                  rollback: str = "nothing to undo: the rows keep their values",
                  batch_size: Optional[int] = None, pending: Optional[str] = None) -> Step:
    """The step that runs a batched_update block; `batch_size` as given to batched_update, `pending`
    its `where` when that holds exactly for the rows still to do."""
    est = _rows_text(table)
    b = batching(ctx, table, batch_size, pending)
    lag = f", replica lag over {b.max_lag_bytes // (1024 * 1024)} MB" if b.max_lag_bytes is not None else ""
    return solo_step(
        "backfill",
        title,
        sql,
        None,
        lock=ROW_EXCLUSIVE,
        lock_note="per batch",
        risk=f"batches sized to hold row locks ~{b.target_ms} ms (at most "
             f"{b.batch_size} rows) with {b.pause_ms} ms pauses, longer (up to {b.max_pause_ms} ms, "
             f"at least {b.min_rows_per_s} rows/s) while a batch takes over {b.max_commit_ms} ms{lag} "
             f"or sessions wait on its locks; {est}",
        rollback=rollback,
        data_loss=data_loss,
    ).model_copy(update={"batching": b})


def _rows_text(table: Table) -> str:
    if table.row_estimate is None:
        return "size unknown"
    return f"~{table.row_estimate:,} rows"


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
