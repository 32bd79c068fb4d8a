"""A real PgBouncer (the Debian package) in front of the test PostgreSQL, in transaction
pooling mode, for the tests that run plans through it. Its ini and user list live in a
folder of its own; it listens on a free local port and is stopped afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import psycopg
from psycopg import conninfo


def pgbouncer_binary() -> Optional[str]:
    # Debian installs it in /usr/sbin, which a non-root PATH often lacks
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")
    return found


@dataclass
class Bouncer:
    host: str
    port: int
    folder: Path

    def url(self, user: str, password: str, dbname: str) -> str:
        return conninfo.make_conninfo(host=self.host, port=str(self.port), user=user, password=password,
                                      dbname=dbname)

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@contextmanager
def pgbouncer(admin_url: str, users: dict[str, str], databases: dict[str, str],
              pool_mode: str = "transaction", settings: Optional[dict[str, str]] = None) -> Iterator[Bouncer]:
    """PgBouncer in front of the server `admin_url` names: `users` name -> password (it logs in to
    PostgreSQL with them), `databases` alias -> extra connect options (`pool_size=1`, `dbname=x`);
    every other database name passes through (`*`); `settings` more [pgbouncer] lines."""
    binary = pgbouncer_binary()
    assert binary, "pgbouncer is not installed"
    info = conninfo.conninfo_to_dict(admin_url)
    host, port = info.get("host") or "/tmp", info.get("port") or "5432"
    folder = Path(tempfile.mkdtemp(prefix="flux-pgbouncer-"))
    os.chmod(folder, 0o777)  # PgBouncer writes its log here as the user it switches to
    (folder / "userlist.txt").write_text("".join(f"{_quote(u)} {_quote(p)}\n" for u, p in users.items()))
    listen = _free_port()
    target = f"host={host} port={port}"
    lines = ["[databases]", *(f"{alias} = {target} {extra}".rstrip() for alias, extra in databases.items()),
             f"* = {target}", "", "[pgbouncer]", "listen_addr = 127.0.0.1", f"listen_port = {listen}",
             "unix_socket_dir =", "auth_type = trust", f"auth_file = {folder / 'userlist.txt'}",
             f"pool_mode = {pool_mode}", f"logfile = {folder / 'pgbouncer.log'}", "max_client_conn = 200",
             "default_pool_size = 10", "server_reset_query =",
             *(f"{k} = {v}" for k, v in (settings or {}).items()), ""]
    (folder / "pgbouncer.ini").write_text("\n".join(lines))
    for f in folder.iterdir():
        os.chmod(f, 0o644)
    cmd = [binary]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: run it as the one who owns the server's socket
        owner = pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else "nobody"
        cmd += ["-u", owner]
    # Its own log on stderr too: into a file, since an unread pipe fills and stops PgBouncer mid-test.
    out = open(folder / "stderr.log", "wb")
    proc = subprocess.Popen(cmd + [str(folder / "pgbouncer.ini")], stdout=out, stderr=subprocess.STDOUT)
    bouncer = Bouncer("127.0.0.1", listen, folder)
    try:
        _wait(proc, listen, bouncer)
        yield bouncer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait(proc: subprocess.Popen, port: int, bouncer: Bouncer) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = (bouncer.folder / "stderr.log").read_text(errors="replace")
            raise RuntimeError(f"pgbouncer exited ({proc.returncode}): {out}{bouncer.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port}: {bouncer.log()}")


def server_settings(url: str, names: tuple[str, ...]) -> dict[str, str]:
    """The settings the server connection behind `url` has now (through the pooler)."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        return {n: conn.execute("SELECT current_setting(%s)", (n,)).fetchone()[0] for n in names}
