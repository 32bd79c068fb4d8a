"""The batched backfill: the DO block that updates a table in primary-key order, one paced
batch per commit (batched_update), the facts it runs with (batching), and its step."""

from __future__ import annotations

from typing import Optional

from ...model.plan import Batching, Step
from ...model.schema import Table
from ...pg.locks import ROW_EXCLUSIVE
from ...pg.parse import column_refs, parse_expr
from ...pg.types import is_volatile
from ...pg.quote import dollar_quote, ident, literal, qname
from ._base import Ctx, require_primary_key, solo_step

__all__ = ["backfill_step", "batched_update", "batching"]


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
                  batch_size: Optional[int] = None, pending: Optional[str] = None,
                  sets: Optional[tuple[str, str]] = None) -> Step:
    """The step that runs a batched_update block; `batch_size` as given to batched_update, `pending`
    its `where` when that holds exactly for the rows still to do, `sets` the (column, value) it
    writes into a column that exists already."""
    est = _rows_text(table) + (one_value_clash(table, *sets) if sets is not None else "")
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


def one_value_clash(table: Table, column: str, value: str) -> str:
    """What the risk adds when `value` is one value for every row (no column in it, nothing
    volatile, not NULL) and a unique index of `column` alone refuses a second row holding it:
    the walk stops at its first batch of two rows (outline's teams.subdomain backfilled with 'x')."""
    if value.upper() == "NULL" or column_refs(parse_expr(value, "value")) or is_volatile(value):
        return ""  # `value` as checked_expr printed it
    if table.row_estimate is not None and table.row_estimate < 2:
        return ""
    keys = [i.name for i in table.indexes if (i.unique or i.primary) and i.columns == [column] and not i.where]
    keys += [c.name for c in table.constraints
             if c.kind in ("unique", "primary_key") and c.columns == [column] and c.name not in keys]
    if not keys:
        return ""
    return (f"; fails at its second row with a duplicate key: {value} is one value for every row and "
            f"{keys[0]} allows each value of {column} once; give a value that differs per row "
            f"(from the primary key, say)")


def _rows_text(table: Table) -> str:
    if table.row_estimate is None:
        return "size unknown"
    return f"~{table.row_estimate:,} rows"
