"""Time `flux validate` against `squawk` on 2,000 generated migration files.

    python benchmarks/validate_vs_squawk.py [--files 2000] [--seed 7] [--runs 3] [--keep DIR]

The files are dbmate migrations (`-- migrate:up` / `-- migrate:down`) with
varied, realistic DDL and data changes against the examples/shop tables
(users, products, orders, order_items, legacy_events) and tables the files
create themselves; the same seed always writes the same files.

Timed, wall clock, best of --runs:
  flux (in-process)  flux_agent.entry.actions.validate_paths(folder, project=examples/shop)
  flux (CLI)         python -m flux_agent validate FOLDER --project examples/shop --json
  squawk             squawk --pg-version 16 --reporter json FOLDER/*.sql

--folder DIR instead times a folder of real migration files (e.g. the 2,000 that
/work/shared/bench/real-2000.sh builds), flux with no project, as a user runs it:
  flux cold   python -m flux_agent validate DIR --json   (an empty cache each run)
  flux warm   the same again: the run served whole from its record (lint/run_cache.py)
  flux touch  the same after touching a file (same bytes and times, a new change time, as a
              checkout can): its bytes are compared, the run served from its record
  flux edited a copy of DIR whose newest file is edited before each run: it is judged again, the
              others served from the cache, the history's replay resumed before it
  flux one    one file of DIR alone in a folder, no cache
  squawk      squawk --reporter json DIR/*.sql, and on the one file
and the three again with a `flux daemon` running (the same command, run in a fork of it), with
the ratio flux/squawk of each (best of --runs, wall clock).

flux reads the up section of each file and judges it against the shop schema
(unknown tables and columns included); squawk reads each whole file, down
sections too, so its finding count is not comparable. After the timing, the
up sections go to squawk once more (not timed) for a side-by-side count of the
findings under rule ids both tools have.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flux_agent.entry import actions as tools  # noqa: E402
from flux_agent.pg.split import split_statements  # noqa: E402
from flux_agent.lint.engine import read_sections  # noqa: E402

SHOP = ROOT / "examples" / "shop"

TABLES = {
    "users": ["email", "name", "created_at"],
    "products": ["sku", "title", "price", "stock"],
    "orders": ["user_id", "status", "total", "note", "created_at"],
    "order_items": ["order_id", "product_id", "quantity"],
    "legacy_events": ["kind", "payload"],
}
NEW_COLUMNS = ["archived_at", "locale", "nickname", "external_ref", "discount_cents", "priority", "region",
               "tracking_code", "vat_rate", "source", "score", "last_seen_at", "channel", "tier", "notes"]
TYPES = ["text", "bigint", "timestamptz", "boolean", "numeric(12,2)", "jsonb", "uuid", "varchar(64)",
         "integer", "timestamp", "smallint", "char(3)", "text[]"]
NEW_TABLES = ["coupons", "refunds", "shipments", "carts", "cart_items", "wishlists", "reviews", "invoices",
              "payouts", "webhooks", "api_keys", "sessions", "inventory_moves", "price_changes", "gift_cards"]
TIMEOUTS = "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\n"



def _installed_env() -> dict:
    """The environment of a user's run: bytecode caches on (an installed package has them; with
    PYTHONDONTWRITEBYTECODE every run compiles Flux's modules again, about 0.1 s more)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env

def _up_down(rng: random.Random, n: int) -> tuple[str, str, bool]:
    """One migration: (up SQL, down SQL, runs in a transaction?)."""
    kind = rng.choices(
        ["add_column", "index", "create_table", "fk", "check", "rename", "type", "update", "drop", "default",
         "not_null", "enum", "view", "backfill", "mixed"],
        weights=[14, 10, 12, 6, 6, 4, 5, 6, 4, 6, 4, 4, 3, 4, 12])[0]
    table = rng.choice(list(TABLES))
    col = rng.choice(TABLES[table])
    new_col = f"{rng.choice(NEW_COLUMNS)}_{n}"
    typ = rng.choice(TYPES)
    timeouts = TIMEOUTS if rng.random() < 0.6 else ""
    if kind == "add_column":
        default = rng.choice(["", "", " DEFAULT 0" if typ in ("bigint", "integer", "smallint") else "",
                              " DEFAULT now()" if typ in ("timestamptz", "timestamp") else "",
                              " DEFAULT gen_random_uuid()" if typ == "uuid" else ""])
        null = " NOT NULL" if default and rng.random() < 0.5 else ""
        return (f"{timeouts}ALTER TABLE {table} ADD COLUMN {new_col} {typ}{default}{null};",
                f"ALTER TABLE {table} DROP COLUMN {new_col};", True)
    if kind == "index":
        name = f"{table}_{col}_{n}_idx"
        if rng.random() < 0.7:
            return (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({col});",
                    f"DROP INDEX CONCURRENTLY IF EXISTS {name};", False)
        return f"{timeouts}CREATE INDEX {name} ON {table} ({col});", f"DROP INDEX {name};", True
    if kind == "create_table":
        name = f"{rng.choice(NEW_TABLES)}_{n}"
        ref = rng.choice(["users", "orders", "products"])
        cols = [f"    id {rng.choice(['bigint GENERATED ALWAYS AS IDENTITY', 'bigserial', 'serial'])} PRIMARY KEY",
                f"    {ref[:-1]}_id bigint NOT NULL REFERENCES {ref} (id)"]
        for i in range(rng.randint(1, 6)):
            cols.append(f"    {rng.choice(NEW_COLUMNS)}_{i} {rng.choice(TYPES)}{rng.choice(['', ' NOT NULL'])}")
        cols.append("    created_at timestamptz NOT NULL DEFAULT now()")
        body = ",\n".join(cols)
        index = f"\nCREATE INDEX {name}_{ref[:-1]}_id_idx ON {name} ({ref[:-1]}_id);" if rng.random() < 0.5 else ""
        return f"{timeouts}CREATE TABLE {name} (\n{body}\n);{index}", f"DROP TABLE {name};", True
    if kind == "fk":
        valid = " NOT VALID" if rng.random() < 0.6 else ""
        return (f"{timeouts}ALTER TABLE orders ADD COLUMN coupon_{n} bigint;\n"
                f"ALTER TABLE orders ADD CONSTRAINT orders_coupon_{n}_fkey FOREIGN KEY (coupon_{n}) "
                f"REFERENCES users (id){valid};",
                f"ALTER TABLE orders DROP COLUMN coupon_{n};", True)
    if kind == "check":
        valid = " NOT VALID" if rng.random() < 0.6 else ""
        target = rng.choice([("products", "price >= 0"), ("order_items", "quantity < 10000"),
                             ("orders", "total >= 0"), ("products", "stock IS NULL OR stock >= 0")])
        return (f"{timeouts}ALTER TABLE {target[0]} ADD CONSTRAINT {target[0]}_check_{n} CHECK ({target[1]}){valid};",
                f"ALTER TABLE {target[0]} DROP CONSTRAINT {target[0]}_check_{n};", True)
    if kind == "rename":
        return (f"{timeouts}ALTER TABLE {table} RENAME COLUMN {col} TO {col}_v{n};",
                f"ALTER TABLE {table} RENAME COLUMN {col}_v{n} TO {col};", True)
    if kind == "type":
        return (f"{timeouts}ALTER TABLE {table} ALTER COLUMN {col} TYPE {rng.choice(['text', 'bigint', 'varchar(500)'])};",
                "-- irreversible without a backup", True)
    if kind == "update":
        where = rng.choice(["", f" WHERE id = {rng.randint(1, 9999)}", " WHERE created_at < now() - interval '1 year'"])
        table = rng.choice(["users", "orders", "products"])
        return (f"{timeouts}UPDATE {table} SET {rng.choice(TABLES[table][:2])} = "
                f"{rng.choice(TABLES[table][:2])}{where};", "-- irreversible", True)
    if kind == "drop":
        return rng.choice([
            (f"{timeouts}ALTER TABLE {table} DROP COLUMN IF EXISTS {new_col};", "-- irreversible", True),
            (f"{timeouts}DROP TABLE IF EXISTS {rng.choice(NEW_TABLES)}_{n};", "-- irreversible", True),
            (f"{timeouts}TRUNCATE legacy_events;", "-- irreversible", True),
        ])
    if kind == "default":
        return (f"{timeouts}ALTER TABLE orders ALTER COLUMN status SET DEFAULT '{rng.choice(['new', 'open', 'draft'])}';",
                "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';", True)
    if kind == "not_null":
        c = rng.choice([("orders", "note"), ("products", "stock"), ("users", "name")])
        if rng.random() < 0.5:
            return (f"{timeouts}ALTER TABLE {c[0]} ALTER COLUMN {c[1]} SET NOT NULL;",
                    f"ALTER TABLE {c[0]} ALTER COLUMN {c[1]} DROP NOT NULL;", True)
        return (f"{timeouts}ALTER TABLE {c[0]} ADD CONSTRAINT {c[0]}_{c[1]}_nn_{n} CHECK ({c[1]} IS NOT NULL) NOT VALID;",
                f"ALTER TABLE {c[0]} DROP CONSTRAINT {c[0]}_{c[1]}_nn_{n};", True)
    if kind == "enum":
        values = ", ".join(f"'{v}'" for v in rng.sample(["web", "ios", "android", "pos", "phone", "b2b"], 3))
        return (f"CREATE TYPE channel_{n} AS ENUM ({values});\n{timeouts}"
                f"ALTER TABLE orders ADD COLUMN channel_{n} channel_{n};",
                f"ALTER TABLE orders DROP COLUMN channel_{n};\nDROP TYPE channel_{n};", True)
    if kind == "view":
        return (f"CREATE VIEW recent_orders_{n} AS\nSELECT o.id, o.user_id, o.total FROM orders o "
                f"WHERE o.created_at > now() - interval '{rng.randint(1, 90)} days';",
                f"DROP VIEW recent_orders_{n};", True)
    if kind == "backfill":
        return ("DO $$\nDECLARE\n  last_id bigint := 0;\n  next_id bigint;\nBEGIN\n  LOOP\n"
                "    SELECT max(id) INTO next_id FROM (SELECT id FROM orders WHERE id > last_id ORDER BY id LIMIT "
                f"{rng.choice([1000, 5000, 10000])}) AS b;\n    EXIT WHEN next_id IS NULL;\n"
                "    UPDATE orders SET status = lower(status) WHERE id > last_id AND id <= next_id;\n"
                "    last_id := next_id;\n    COMMIT;\n  END LOOP;\nEND\n$$;", "-- nothing to undo", False)
    # mixed: several changes in one file
    parts_up, parts_down = [], []
    for i in range(rng.randint(2, 5)):
        c = f"{rng.choice(NEW_COLUMNS)}_{n}_{i}"
        t = rng.choice(list(TABLES))
        parts_up.append(f"ALTER TABLE {t} ADD COLUMN {c} {rng.choice(TYPES)};")
        parts_down.append(f"ALTER TABLE {t} DROP COLUMN {c};")
        if rng.random() < 0.3:
            parts_up.append(f"COMMENT ON COLUMN {t}.{c} IS 'added in migration {n}';")
    return timeouts + "\n".join(parts_up), "\n".join(reversed(parts_down)), True


def generate(folder: Path, count: int, seed: int) -> int:
    """Write `count` migration files; returns the number of up statements."""
    rng = random.Random(seed)
    statements = 0
    for n in range(count):
        up, down, tx = _up_down(rng, n)
        opt = "" if tx else " transaction:false"
        stamp = f"2025{(n // 86400) % 12 + 1:02d}{(n // 3600) % 28 + 1:02d}{(n // 60) % 24:02d}{n % 60:02d}00"
        name = folder / f"{stamp}{n:05d}_migration_{n}.sql"
        name.write_text(f"-- migrate:up{opt}\n{up}\n\n-- migrate:down{opt}\n{down}\n", encoding="utf-8")
        statements += len(split_statements(up))
    return statements


def agreement(folder: Path, squawk: str, findings) -> tuple[int, int, dict[str, list[int]]]:
    """Side by side on the generated files: every (statement, rule) squawk reports on an
    up section under a rule id flux also has, and how many of them flux reports too.
    (Not timed: squawk is run twice, on up-section copies, split by transaction mode.)"""
    from flux_agent.lint.rules import BY_ID

    ups = {True: folder.parent / "up-tx", False: folder.parent / "up-notx"}
    starts: dict[str, list[int]] = {}
    offsets: dict[str, int] = {}
    for d in ups.values():
        d.mkdir(exist_ok=True)
    for f in sorted(folder.glob("*.sql")):
        sec = read_sections(f, f.read_text(encoding="utf-8"))
        (ups[sec.transactional] / f.name).write_text(sec.up, encoding="utf-8")
        starts[f.name] = [st.line for st in split_statements(sec.up, sec.up_line)]
        offsets[f.name] = sec.up_line

    def stmt_of(name: str, line: int) -> int:
        return max([i for i, s in enumerate(starts[name]) if s <= line] or [0])

    ours = {(Path(f.path).name, stmt_of(Path(f.path).name, f.line), f.rule) for f in findings}
    total, agreed, per_rule = 0, 0, {}
    for tx, d in ups.items():
        names = sorted(p.name for p in d.glob("*.sql"))
        if not names:
            continue
        cmd = [squawk, "--reporter", "json", "--pg-version", "16"] + (["--assume-in-transaction"] if tx else [])
        proc = subprocess.run(cmd + names, capture_output=True, text=True, cwd=d)
        for r in json.loads(proc.stdout or "[]"):
            if r["rule_name"] not in BY_ID:
                continue
            name = Path(r["file"]).name
            key = (name, stmt_of(name, r["line"] + 1 + offsets[name]), r["rule_name"])
            counts = per_rule.setdefault(r["rule_name"], [0, 0])
            total += 1
            counts[0] += 1
            if key in ours:
                agreed += 1
                counts[1] += 1
    return total, agreed, per_rule


def best_of(runs: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def folder_mode(folder: Path, squawk: str, runs: int) -> int:
    """Both tools on a folder of real files: flux cold, warm (cache) and on one file, beside squawk."""
    files = sorted(folder.glob("*.sql"))
    if not files:
        print(f"no .sql files in {folder}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="flux-bench-"))
    try:
        cwd = work / "cwd"  # no project: each file judged against the history of its own folder
        one = work / "one"
        cwd.mkdir()
        one.mkdir()
        shutil.copy(files[0], one / files[0].name)
        cache = work / "cache"
        env = dict(_installed_env(), FLUX_VALIDATE_CACHE=str(cache), FLUX_DAEMON="off")

        def flux(target: Path, fresh_cache: bool):
            def go():
                if fresh_cache:
                    shutil.rmtree(cache, ignore_errors=True)
                proc = subprocess.run([sys.executable, "-m", "flux_agent", "validate", str(target), "--json"],
                                      capture_output=True, text=True, env=env, cwd=cwd)
                assert proc.returncode in (0, 1), proc.stderr
                return json.loads(proc.stdout)
            return go

        def squawk_on(paths: list[Path]):
            def go():
                proc = subprocess.run([squawk, "--reporter", "json", *map(str, paths)], capture_output=True,
                                      text=True, cwd=cwd)
                assert proc.returncode in (0, 1), proc.stderr
                return json.loads(proc.stdout or "[]")
            return go

        t_cold, cold = best_of(runs, flux(folder, fresh_cache=True))
        flux(folder, fresh_cache=True)()  # fill the cache
        t_warm, warm = best_of(runs, flux(folder, fresh_cache=False))

        def touched():
            st = files[0].stat()
            os.utime(files[0], ns=(st.st_atime_ns, st.st_mtime_ns))  # the run's record no longer holds
            return flux(folder, fresh_cache=False)()
        t_touch, touch = best_of(runs, touched)

        # A copy of the folder whose newest file is edited before each run (the usual case: the
        # migration being written), the rest served from the cache and the history resumed.
        copy = work / "copy"
        shutil.copytree(folder, copy)
        newest = sorted(copy.glob("*.sql"))[-1]
        time.sleep(3.1)  # files older than the caches' racy window, as a project's are
        flux(copy, fresh_cache=True)()

        def edited():
            with open(newest, "a", encoding="utf-8") as out:
                out.write("\n-- edited\n")
            return flux(copy, fresh_cache=False)()
        t_edit, _ = best_of(runs, edited)
        t_one, _ = best_of(runs, flux(one, fresh_cache=True))
        t_sq, sq = best_of(runs, squawk_on(files))
        t_sq_one, _ = best_of(runs, squawk_on([one / files[0].name]))
        # The same with a daemon of its own running (its socket in the work folder).
        env.pop("FLUX_DAEMON")
        env["FLUX_DAEMON_DIR"] = str(work / "daemon")
        start = subprocess.run([sys.executable, "-m", "flux_agent", "daemon", "start"], capture_output=True,
                               text=True, env=env, cwd=cwd)
        assert start.returncode == 0, start.stderr
        try:
            t_dcold, dcold = best_of(runs, flux(folder, fresh_cache=True))
            flux(folder, fresh_cache=True)()
            t_dwarm, dwarm = best_of(runs, flux(folder, fresh_cache=False))
            t_dtouch, dtouch = best_of(runs, touched)
            t_done, _ = best_of(runs, flux(one, fresh_cache=True))
        finally:
            subprocess.run([sys.executable, "-m", "flux_agent", "daemon", "stop"], capture_output=True, env=env, cwd=cwd)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert dcold == dwarm == dtouch == cold, "the daemon's runs must give the command's findings"
    assert warm == touch == cold, "the cached runs must give the cold run's findings"
    size = sum(f.stat().st_size for f in files)
    print(f"folder:       {folder} ({len(files)} files, {size / 1e6:.1f} MB); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"findings:     flux {len(cold)}, squawk {len(sq)}")
    print(f"{'':16}{'flux':>9} {'squawk':>9} {'ratio':>8}")
    for name, ours, theirs in (("cold", t_cold, t_sq), ("warm (cache)", t_warm, t_sq), ("touched", t_touch, t_sq),
                               ("newest edited", t_edit, t_sq), ("one file", t_one, t_sq_one),
                               ("daemon cold", t_dcold, t_sq),
                               ("daemon warm", t_dwarm, t_sq), ("daemon touched", t_dtouch, t_sq),
                               ("daemon one", t_done, t_sq_one)):
        print(f"{name:16}{ours:8.3f}s {theirs:8.3f}s {ours / theirs:7.1f}x")
    print(f"(best of {runs}, wall clock; flux: python -m flux_agent validate DIR --json, no project)")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", help="write the files here and keep them")
    ap.add_argument("--folder", type=Path, help="time a folder of real migration files instead (cold, warm, one file)")
    args = ap.parse_args(argv)

    squawk = shutil.which("squawk")
    if squawk is None:
        print("squawk is not on PATH (pip install squawk-cli)", file=sys.stderr)
        return 2
    if args.folder is not None:
        return folder_mode(args.folder, squawk, args.runs)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="flux-bench-"))
    folder = work / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        statements = generate(folder, args.files, args.seed)
        files = sorted(folder.glob("*.sql"))

        t_inproc, (_, findings) = best_of(args.runs, lambda: tools.validate_paths([str(folder)], str(SHOP)))

        env = _installed_env()
        flux_cmd = [sys.executable, "-m", "flux_agent", "validate", str(folder), "--project", str(SHOP), "--json"]

        def run_flux():
            proc = subprocess.run(flux_cmd, capture_output=True, text=True, env=env)
            assert proc.returncode in (0, 1), proc.stderr
            return json.loads(proc.stdout)

        t_cli, cli_findings = best_of(args.runs, run_flux)

        squawk_cmd = [squawk, "--pg-version", "16", "--reporter", "json", *[f.name for f in files]]

        def run_squawk():
            proc = subprocess.run(squawk_cmd, capture_output=True, text=True, cwd=folder)
            assert proc.returncode in (0, 1), proc.stderr
            return json.loads(proc.stdout or "[]")

        t_squawk, squawk_findings = best_of(args.runs, run_squawk)
        shared, agreed, per_rule = agreement(folder, squawk, findings)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"files:                 {len(files)} (seed {args.seed})")
    print(f"up statements:         {statements}")
    print(f"flux findings:         {len(findings)} (CLI: {len(cli_findings)})")
    print(f"squawk findings:       {len(squawk_findings)}")
    print(f"flux validate, in-process: {t_inproc:7.3f} s   ({t_inproc / len(files) * 1000:.2f} ms/file)")
    print(f"flux validate, CLI:        {t_cli:7.3f} s   ({t_cli / len(files) * 1000:.2f} ms/file)")
    print(f"squawk:                    {t_squawk:7.3f} s   ({t_squawk / len(files) * 1000:.2f} ms/file)")
    print(f"ratio flux/squawk: in-process {t_inproc / t_squawk:.1f}x, CLI {t_cli / t_squawk:.1f}x "
          f"(best of {args.runs}, wall clock)")
    print(f"side by side on the up sections: squawk findings with shared ids: {shared}, flux agreed: {agreed}")
    for rule, (n, ok) in sorted(per_rule.items()):
        if ok < n:
            print(f"  {rule}: flux agreed on {ok} of {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
