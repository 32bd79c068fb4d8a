"""The dev database's cost: server start, build cold and warm, and `flux plan` latency.

    python benchmarks/devdb.py [--upchieve PATH] [--runs 3]

In a fresh FLUX_DEVDB_DIR (so nothing is cached): the server's first start (initdb and
start), the build of examples/shop and of the upchieve fixture (282 dbmate migrations;
../shared/fixtures/real/dbmate-upchieve by default) cold (nothing built) and warm
(cached), `flux plan` wall time on examples/shop with the dev database and with the
static replay (FLUX_DEVDB=off), and the server's size on disk. Prints medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flux_agent.devdb import server as devserver  # noqa: E402
from flux_agent.devdb.project import project_schema  # noqa: E402
from flux_agent.project.config import load_settings  # noqa: E402
from flux_agent.project.detect import detect  # noqa: E402


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _schema(project: Path, **settings):
    loaded = load_settings(project, **settings)
    return project_schema(project, detect(project, None, loaded), loaded)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upchieve", default=str(ROOT.parent / "shared" / "fixtures" / "real" / "dbmate-upchieve"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    upchieve = Path(args.upchieve)
    rows = []
    for run in range(args.runs):
        home = Path(tempfile.mkdtemp(prefix="flux-devdb-bench-"))
        os.chmod(home, 0o755)
        os.environ["FLUX_DEVDB_DIR"] = str(home)
        try:
            binaries = devserver.find_binaries()[0]
            start = _timed(lambda: devserver.start_owned(binaries))
            shop_cold = _timed(lambda: _schema(ROOT / "examples" / "shop"))
            shop_warm = _timed(lambda: _schema(ROOT / "examples" / "shop"))
            up = dict(tool="dbmate", migrations_dir="database/migrations")
            up_cold = _timed(lambda: _schema(upchieve, **up)) if upchieve.is_dir() else float("nan")
            up_warm = _timed(lambda: _schema(upchieve, **up)) if upchieve.is_dir() else float("nan")
            size = _du(home / f"pg{binaries.major}")
            plan = [sys.executable, "-m", "flux_agent", "plan", "--project", str(ROOT / "examples" / "shop"),
                    "rename column users.email to email_address"]
            env = dict(os.environ)
            on = _timed(lambda: subprocess.run(plan, env=env, capture_output=True, check=True))
            off = _timed(lambda: subprocess.run(plan, env={**env, "FLUX_DEVDB": "off"}, capture_output=True,
                                                check=True))
            rows.append((start, shop_cold, shop_warm, up_cold, up_warm, on, off, size))
        finally:
            devserver.stop_all()
            shutil.rmtree(home, ignore_errors=True)
    med = [statistics.median(col) for col in zip(*rows)]
    print(f"server: PostgreSQL {binaries.major} ({binaries.source}, {binaries.bindir}); {args.runs} runs, medians")
    print(f"{'first start (initdb + start)':<40} {med[0]:7.2f} s")
    print(f"{'examples/shop build, cold':<40} {med[1]:7.2f} s")
    print(f"{'examples/shop build, warm (cached)':<40} {med[2]:7.3f} s")
    print(f"{'upchieve (282 migrations), cold':<40} {med[3]:7.2f} s")
    print(f"{'upchieve (282 migrations), warm':<40} {med[4]:7.3f} s")
    print(f"{'flux plan on shop, dev database (warm)':<40} {med[5]:7.2f} s")
    print(f"{'flux plan on shop, FLUX_DEVDB=off':<40} {med[6]:7.2f} s")
    print(f"{'server data on disk (both builds)':<40} {med[7] / 1e6:7.1f} MB")


if __name__ == "__main__":
    main()
