"""Two `flux plan --write` runs on one project at the same time: two ordered,
complete migration sets, never interleaved."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^(\d{14})_")


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
