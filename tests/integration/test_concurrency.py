"""Flux under concurrency, two kinds of it.

Concurrent flux writes: two `flux plan --write` runs on one project at the same time give
two ordered, complete migration sets, never interleaved.

Concurrent application writes during a plan: old code and new code write at the same time
while a rename-column and a change-type plan run step by step (backfill included). At the
end every row must hold the last value its writer wrote: no lost or mismatched write."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from flux_agent.verify.runner import connect, run_sql
from flux_agent.plan.planner import build_plan
from flux_agent.entry.actions import parse_operations

from shop import ROOT, SETTINGS, build_shop, shop_schema

STAMP = re.compile(r"^(\d{14})_")


# --------------------------------------------------------------------------
# Concurrent flux writes to one project's files
# --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.pg
def test_two_concurrent_writes_do_not_interleave(tmp_path):
    proj = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", proj)
    before = set(os.listdir(proj / "db" / "migrations"))
    ops_a = [{"op": "add_column", "table": "users", "column": "nickname", "type": "text"},
             {"op": "add_index", "table": "users", "columns": ["nickname"]},
             {"op": "add_column", "table": "users", "column": "locale", "type": "text"}]
    ops_b = [{"op": "add_column", "table": "orders", "column": "channel", "type": "text"},
             {"op": "add_index", "table": "orders", "columns": ["channel"]},
             {"op": "add_check", "table": "orders", "expression": "length(channel) < 40"}]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "flux_agent", "plan", "--project", str(proj), "--op",
                               json.dumps(ops), "--write", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for ops in (ops_a, ops_b)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    new = sorted(set(os.listdir(proj / "db" / "migrations")) - before)
    assert len(new) == 7  # 3 + 4 steps
    stamps = [STAMP.match(n).group(1) for n in new]
    assert len(set(stamps)) == len(stamps)
    # One run's files all come before the other's: tables never alternate.
    owners = ["users" if "users" in n else "orders" for n in new]
    assert owners == sorted(owners, key=owners.index)
    assert owners.count("users") == 3 and owners.count("orders") == 4


@pytest.mark.pg
def test_writes_are_serialised_even_when_they_overlap(tmp_path, monkeypatch):
    """Force the overlap: each write pauses between naming its files and placing
    them. With the project lock the second names its files after the first's."""
    import threading
    import time

    from flux_agent.write import deploy_groups as batches
    from flux_agent.entry import actions as tools

    proj = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", proj)
    real_commit = batches.commit

    def slow_commit(*args, **kwargs):
        time.sleep(0.5)
        return real_commit(*args, **kwargs)

    monkeypatch.setattr(batches, "commit", slow_commit)
    plans = [tools.plan_migration([{"op": "add_column", "table": t, "column": "extra", "type": "text"},
                                   {"op": "add_index", "table": t, "columns": ["extra"]}], str(proj))
             for t in ("users", "orders")]
    results, errors = [], []

    def run(plan):
        try:
            results.append(tools.write_migration(plan, str(proj)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    files = sorted(f for r in results for f in r.files)
    stamps = [STAMP.match(Path(f).name).group(1) for f in files]
    assert len(set(stamps)) == 4
    owners = ["users" if "users" in f else "orders" for f in files]
    assert owners in (["users"] * 2 + ["orders"] * 2, ["orders"] * 2 + ["users"] * 2)


# --------------------------------------------------------------------------
# Concurrent application writes while a plan runs
# --------------------------------------------------------------------------


class Writer(threading.Thread):
    """Updates rows of its own id partition (and inserts new rows) in a loop."""

    def __init__(self, url, table, column, ids, make_value, insert_sql=None):
        super().__init__(daemon=True)
        self.url, self.table, self.column = url, table, column
        self.ids, self.make_value, self.insert_sql = ids, make_value, insert_sql
        self.last: dict[int, object] = {}
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.count = 0

    def run(self):
        rnd = random.Random(hash(self.column))
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                value = self.make_value(self.count)
                try:
                    if self.insert_sql and self.count % 10 == 0:
                        row_id = conn.execute(self.insert_sql, (value,)).fetchone()[0]
                    else:
                        row_id = rnd.choice(self.ids)
                        conn.execute(f'UPDATE "{self.table}" SET "{self.column}" = %s WHERE id = %s',
                                     (value, row_id))
                    self.last[row_id] = value
                except psycopg.Error as exc:  # a lock timeout on our side would show here
                    self.errors.append(str(exc).splitlines()[0])
                self.count += 1
                time.sleep(0.001)

    def finish(self):
        self.stop.set()
        self.join(timeout=10)


def _run_plan_under_writers(pg_url, ops, table, old_col, new_col, old_value, new_value,
                            old_insert, new_insert, final_col):
    schema = shop_schema()
    plan = build_plan(parse_operations(ops), schema, SETTINGS)
    contract = max(s.number for s in plan.steps if s.phase == "contract")
    with connect(pg_url) as conn:
        build_shop(conn)
        ids = [r[0] for r in conn.execute(f'SELECT id FROM "{table}" ORDER BY id').fetchall()]
        old = Writer(pg_url, table, old_col, ids[0::2], old_value, old_insert)
        new = Writer(pg_url, table, new_col, ids[1::2], new_value, new_insert)
        old.start()
        for step in plan.steps:
            if step.number == contract:
                old.finish()  # old code is gone before the contract step
                new.finish()
                time.sleep(0.05)
                mismatched = conn.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{new_col}" IS DISTINCT FROM '
                    f'CAST("{old_col}" AS {plan_type(conn, table, new_col)})').fetchone()[0]
                assert mismatched == 0
            run_sql(conn, step.up_sql, step.transactional)
            if step.number == 1:
                new.start()  # new code starts once the new column exists
            time.sleep(0.2)
        assert old.errors == [] and new.errors == []
        assert old.count > 50 and new.count > 50
        for writer in (old, new):
            for row_id, value in writer.last.items():
                got = conn.execute(f'SELECT "{final_col}" FROM "{table}" WHERE id = %s', (row_id,)).fetchone()[0]
                assert got == value, (writer.column, row_id, got, value)
        return old, new


def plan_type(conn, table, column):
    return conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
        (table, column)).fetchone()[0]


@pytest.mark.slow
def test_rename_column_keeps_every_write(pg_url):
    old, new = _run_plan_under_writers(
        pg_url,
        [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}],
        "users", "email", "email_address",
        lambda i: f"old-{i}-{time.monotonic_ns()}@example.com",
        lambda i: f"new-{i}-{time.monotonic_ns()}@example.com",
        "INSERT INTO users (email) VALUES (%s) RETURNING id",
        "INSERT INTO users (email_address) VALUES (%s) RETURNING id",
        "email_address",
    )
    print(f"rename: old code wrote {old.count} times, new code {new.count} times, no write lost")


def test_change_type_keeps_every_write(pg_url):
    old, new = _run_plan_under_writers(
        pg_url,
        [{"op": "change_column_type", "table": "products", "column": "stock", "type": "bigint"}],
        "products", "stock", "stock_flux",
        lambda i: i % 100000,
        lambda i: 3_000_000 + i,
        "INSERT INTO products (sku, title, stock) VALUES ('s-' || gen_random_uuid(), 't', %s) RETURNING id",
        "INSERT INTO products (sku, title, stock_flux) VALUES ('n-' || gen_random_uuid(), 't', %s) RETURNING id",
        "stock",
    )
    print(f"change type: old code wrote {old.count} times, new code {new.count} times, no write lost")
