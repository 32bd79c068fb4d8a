"""A PostgreSQL server of the downtime benchmark's own, durable as production runs (fsync and
full-page writes on, unlike the dev database's cache server): the machine's binaries as the
dev database finds them (flux_agent.devdb.server), in a temporary folder, stopped at the end;
and the machine line the table ends with."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg

from flux_agent.devdb.server import _run_as, _tool, find_binaries

PORT = 5497


@contextmanager
def durable_server(synchronous_commit: str, say, extra: list[str] = ()) -> Iterator[str]:
    """The URL of a fresh server's `postgres` database, as its superuser; `extra`: NAME=VALUE
    server settings on top of the defaults below (later ones win)."""
    found = find_binaries()
    if not found:
        raise SystemExit("no PostgreSQL server binaries found (initdb, pg_ctl): install PostgreSQL or pgserver")
    bins = found[0]
    home = Path(tempfile.mkdtemp(prefix="flux-downtime-"))
    os.chmod(home, 0o755)
    sock, data = home / "sock", home / "data"
    sock.mkdir()
    _, ids = _run_as()
    if ids:
        for d in (home, sock):
            os.chown(d, *ids)
    try:
        made = _tool(bins, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--locale=C", "-E", "UTF8")
        if made.returncode != 0:
            raise SystemExit(f"initdb failed: {made.stderr.strip()[-300:]}")
        # Production-like durability; the sizes of the earlier pgserver runs (shared_buffers 128MB)
        opts = " ".join(f"-c {o}" for o in (
            "listen_addresses=''", f"unix_socket_directories='{sock}'", f"port={PORT}", "fsync=on",
            "full_page_writes=on", f"synchronous_commit={synchronous_commit}", "shared_buffers=128MB",
            "max_wal_size=1GB", "max_connections=60", "logging_collector=on", "log_directory=log", *extra))
        started = _tool(bins, "pg_ctl", "-D", str(data), "-l", str(home / "server.log"), "-o", opts, "-w",
                        "start", timeout=120)
        if started.returncode != 0:
            raise SystemExit(f"the benchmark's server did not start: {started.stderr.strip()[-300:]}")
        say(f"server: PostgreSQL {bins.major} ({bins.bindir}), fsync on, synchronous_commit {synchronous_commit}"
            + (f", {', '.join(extra)}" if extra else ""))
        url = psycopg.conninfo.make_conninfo(host=str(sock), port=str(PORT), user="postgres", dbname="postgres")
        yield url
    finally:
        if (data / "postmaster.pid").exists():
            _tool(bins, "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(home, ignore_errors=True)


def machine(url: str, rows: int, users: int) -> dict:
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0) if Path("/proc/meminfo").exists() else 0
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    with psycopg.connect(url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('orders'))").fetchone()[0]
        conf = {k: conn.execute(f"SHOW {k}").fetchone()[0]
                for k in ("shared_buffers", "max_wal_size", "synchronous_commit")}
    return {"cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1), "cpu": cpu,
            "system": f"{platform.system()} {platform.release()}", "postgresql": version, "rows": rows,
            "users_rows": users, "orders_size": size, **conf}
