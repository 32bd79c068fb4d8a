"""The dev server Flux owns listens on 127.0.0.1 for program code (a settings class that checks a
URL wants a host and a port, not a socket folder): by a password of its own, kept where only the
user reads it, on a free port, another where a program took the one it had; where no port can be
had, by its socket alone. A Flux from before keeps its own server (pg<major>, port 5432's socket)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg import conninfo

from flux_agent.devdb import server as devserver
from flux_agent.devdb.server import dev_server, find_binaries, stop_all

pytestmark = pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")


def _tcp_url(server) -> str:
    return server.for_programs(server.database_url("postgres"))


def test_programs_reach_the_owned_server_by_tcp_with_its_password():
    server = dev_server()
    assert server.tcp is not None
    port, password = server.tcp
    info = conninfo.conninfo_to_dict(_tcp_url(server))
    assert (info["host"], info["port"], info["password"]) == ("127.0.0.1", str(port), password)
    with psycopg.connect(_tcp_url(server), autocommit=True) as conn:
        assert conn.execute("SELECT inet_server_addr()::text").fetchone()[0] == "127.0.0.1/32"
        devserver.check_identity(server, conn)
    wrong = conninfo.make_conninfo(_tcp_url(server), password="not-it")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)
    home = devserver.server_home(server.major)
    assert stat.S_IMODE(os.stat(home / "tcp.json").st_mode) == 0o600
    # Flux's own connections keep the socket, which needs no password.
    assert conninfo.conninfo_to_dict(server.url)["host"].endswith("sock")


def test_a_port_taken_by_another_program_is_given_up_for_a_free_one(monkeypatch):
    home = Path(tempfile.mkdtemp(prefix="flux-devdb-tcp-"))  # not pytest's 0700 tree: the server's user reads it
    os.chmod(home, 0o755)
    monkeypatch.setenv("FLUX_DEVDB_DIR", str(home))
    binaries = find_binaries()[0]
    devserver.server_home(binaries.major).mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (devserver.server_home(binaries.major) / "tcp.json").write_text(json.dumps({"port": port, "password": "x"}))
        try:
            server = devserver.start_owned(binaries)
            assert server.tcp is not None and server.tcp[0] != port and server.tcp[1] != "x"
            with psycopg.connect(_tcp_url(server), autocommit=True) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            stop_all()
            shutil.rmtree(home, ignore_errors=True)


def test_a_server_started_without_tcp_is_reached_by_its_socket(tmp_path):
    """postmaster.pid of a server started on its socket alone (no port could be had): no listen address."""
    home = tmp_path / "pg16"
    (home / "data").mkdir(parents=True)
    (home / "tcp.json").write_text(json.dumps({"port": 5432, "password": "pw"}))
    pid = ["4242", str(home / "data"), "1700000000", "5432", str(home / "sock"), "", "  1  2", "ready"]
    (home / "data" / "postmaster.pid").write_text("\n".join(pid) + "\n")
    assert devserver._listening(home) == (5432, None)
    pid[5] = "127.0.0.1"
    (home / "data" / "postmaster.pid").write_text("\n".join(pid) + "\n")
    assert devserver._listening(home) == (5432, (5432, "pw"))
    old = devserver.Server("host=/x/sock port=5432 user=postgres dbname=postgres", 16, "old", True, "1")
    assert old.for_programs(old.database_url("app")) == old.database_url("app")


def test_a_server_that_gets_no_tcp_port_listens_on_its_socket(monkeypatch):
    """Where no port of 127.0.0.1 can be had (here: every one it tries is taken), the server starts
    on its socket alone, and program code is given the socket, as before TCP."""
    home = Path(tempfile.mkdtemp(prefix="flux-devdb-tcp-"))
    os.chmod(home, 0o755)
    monkeypatch.setenv("FLUX_DEVDB_DIR", str(home))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(devserver, "_tcp_settings", lambda tcp, fresh: (port, "pw"))
        try:
            server = devserver.start_owned(find_binaries()[0])
            assert server.tcp is None
            url = server.database_url("postgres")
            assert server.for_programs(url) == url
            with psycopg.connect(url, autocommit=True) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            stop_all()
            shutil.rmtree(home, ignore_errors=True)


def test_the_dev_server_compiles_no_jit():
    """Its catalog reads and migrations pass JIT's cost threshold on their estimates and run in far
    less time than compiling takes."""
    with psycopg.connect(dev_server().url) as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
