"""The WAL of Flux's batched walks, and the two rates the estimate's WAL line divides by.

    python benchmarks/walk_wal.py [--rows 1000000]

Starts a server of its own (benchmarks/downtime_server.py: fsync on, max_wal_size 8GB so no
checkpoint falls inside a walk) and builds the downtime benchmark's tables with --rows rows
(orders, about 115 bytes a row; accounts, about 60; and its two referencing tables with a
tenth of the rows), VACUUM (ANALYZE, FREEZE)d. For each of those cases whose plan has a
batched walk (a backfill, or the copy of a column), it runs the plan's database steps on a
fresh copy of the tables after a CHECKPOINT, as a deployment would find them, and measures
the WAL each walk writes (pg_current_wal_lsn before and after).

A walk's WAL follows its rows more than its bytes: each row's new version carries a record
header and an entry in every index, however narrow the row; full-page images follow the
pages. So the estimate models it as rows x wal_per_row + table bytes x wal_per_table_byte,
and this fits both by least squares over the walks, printing each walk's WAL beside the
fitted model's and the old one-rate model's (3.2 per byte).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402
import psycopg.sql  # noqa: E402

from downtime_cases import CASES, FILL, SCHEMA  # noqa: E402
from downtime_server import durable_server  # noqa: E402
from flux_agent.entry.actions import parse_operations  # noqa: E402
from flux_agent.model.settings import Settings  # noqa: E402
from flux_agent.plan.planner import build_plan  # noqa: E402
from flux_agent.schema.readers.live import read_live  # noqa: E402
from flux_agent.verify.sandbox import _with  # noqa: E402

TEMPLATE = "walk_wal_template"


def build(admin: str, rows: int) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    url = _with(admin, dbname=TEMPLATE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(FILL.format(rows=rows, users=max(30_000, rows // 10)))
        for schema, fill in dict.fromkeys((c.schema, c.fill) for c in CASES if c.schema):
            conn.execute(schema)
            conn.execute(fill.format(rows=rows))
        conn.execute("VACUUM (ANALYZE, FREEZE)")
    return url


def walks(admin: str, template: str) -> list[tuple[str, int, int, int]]:
    """(walk, rows it updated, table bytes, WAL bytes) of every batched walk the cases' plans make
    that updates any row."""
    schema = read_live(template)
    out = []
    for n, case in enumerate(CASES):
        plan = build_plan(parse_operations([case.op]), schema, Settings(pg_version=15))
        if not any(s.batching is not None for s in plan.steps):
            continue
        name = f"walk_wal_{n}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                psycopg.sql.Identifier(name), psycopg.sql.Identifier(TEMPLATE)))
            conn.execute("CHECKPOINT")
        with psycopg.connect(_with(admin, dbname=name), autocommit=True) as conn:
            for step in plan.steps:
                if step.is_code or not step.up_sql:
                    continue
                if step.batching is None:
                    conn.execute(step.up_sql)
                    continue
                table = schema.table(step.batching.table)
                updated = [0]  # the block's last NOTICE says how many rows it updated

                def count(diag, updated=updated):
                    words = (diag.message_primary or "").split()
                    if words[-2:] == ["rows", "updated"]:
                        updated[0] = int(words[-3])

                conn.add_notice_handler(count)
                lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
                conn.execute(step.up_sql)
                wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,)).fetchone()[0]
                conn.remove_notice_handler(count)
                if not updated[0]:  # nothing to do (no NULLs to fill): no WAL to model
                    continue
                out.append((f"{case.name}: {step.title}", updated[0], table.size_bytes, int(wal)))
                print(f"  {out[-1][0][:80]}: {int(wal) / 1e6:,.0f} MB", file=sys.stderr, flush=True)
    return out


def fit(points: list[tuple[str, int, int, int]]) -> tuple[float, float]:
    """(per row, per byte) minimising the squared relative error of rows x a + bytes x b."""
    # Relative error: a small table's walk counts as much as a large one's.
    srr = sum((r / w) ** 2 for _, r, _, w in points)
    sbb = sum((b / w) ** 2 for _, _, b, w in points)
    srb = sum(r * b / w ** 2 for _, r, b, w in points)
    sr = sum(r / w for _, r, _, w in points)
    sb = sum(b / w for _, _, b, w in points)
    det = srr * sbb - srb ** 2
    return (sr * sbb - sb * srb) / det, (sb * srr - sr * srb) / det


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in orders and accounts (default 1,000,000)")
    args = ap.parse_args()
    with durable_server("on", lambda text: print(text, file=sys.stderr), ["max_wal_size=8GB"]) as admin:
        t0 = time.perf_counter()
        template = build(admin, args.rows)
        print(f"tables built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        points = walks(admin, template)
    per_row, per_byte = fit(points)
    head = f"{'walk':<78} {'updated':>10} {'table MB':>9} {'WAL MB':>7} {'fit MB':>7} {'3.2/byte':>8}"
    print(head)
    print("-" * len(head))
    for walk, rows, nbytes, wal in points:
        model = rows * per_row + nbytes * per_byte
        print(f"{walk[:78]:<78} {rows:>10,} {nbytes / 1e6:>9,.0f} {wal / 1e6:>7,.0f} {model / 1e6:>7,.0f} "
              f"{nbytes * 3.2 / 1e6:>8,.0f}")
    print(f"\nfitted: wal_per_row {per_row:,.0f} bytes, wal_per_table_byte {per_byte:.2f}")
    worst = max(abs(r * per_row + b * per_byte - w) / w for _, r, b, w in points)
    print(f"worst error of the fit: {worst:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
