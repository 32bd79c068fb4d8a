"""`flux daemon`: `flux validate` run in a fork of a process that has Flux loaded gives what the
command gives without it, byte for byte and with the same exit code, on the caller's own
streams, working folder and environment; a daemon whose source changed, that was stopped, or that
sat idle serves nothing, and the command runs as before."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flux_agent.entry import client

pytestmark = pytest.mark.skipif(client.socket_path() is None, reason="no Unix sockets and fork here")

ROOT = Path(__file__).resolve().parents[3]
UNSAFE = "-- migrate:up\nCREATE INDEX orders_note ON orders (note);\n-- migrate:down\nDROP INDEX orders_note;\n"
SAFE = ("-- migrate:up\nCREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"
        "-- migrate:down\nDROP TABLE orders;\n")


def flux(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flux_agent", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch):
    """A daemon of its own (its socket under tmp_path), stopped afterwards; yields the environment
    that reaches it."""
    env = dict(os.environ, FLUX_DAEMON_DIR=str(tmp_path / "sock"), FLUX_DAEMON_IDLE_S="120",
               FLUX_VALIDATE_CACHE=str(tmp_path / "cache"))
    env.pop("FLUX_DAEMON", None)
    for key in ("FLUX_DAEMON_DIR", "FLUX_VALIDATE_CACHE"):
        monkeypatch.setenv(key, env[key])
    started = flux("daemon", "start", env=env, cwd=tmp_path)
    assert started.returncode == 0 and started.stdout.startswith("started ("), started.stderr
    yield env
    flux("daemon", "stop", env=env, cwd=tmp_path)


def dbmate_project(tmp_path: Path) -> Path:
    """A project of two dbmate migrations, the second an index that blocks writes."""
    folder = tmp_path / "app" / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_orders.sql").write_text(SAFE, encoding="utf-8")
    (folder / "002_index.sql").write_text(UNSAFE, encoding="utf-8")
    return tmp_path / "app"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return dbmate_project(tmp_path)


@pytest.mark.parametrize("args", [
    ["db/migrations"], ["db/migrations", "--json"], ["db/migrations", "--format", "github"],
    ["db/migrations/001_orders.sql"], ["no/such/folder"], ["db/migrations", "--include", "no-such-rule"],
])
def test_the_daemon_gives_what_the_command_gives(daemon, project, args):
    served = flux("validate", *args, env=daemon, cwd=project)
    alone = flux("validate", *args, env=dict(daemon, FLUX_DAEMON="off"), cwd=project)
    assert (served.returncode, served.stdout, served.stderr) == (alone.returncode, alone.stdout, alone.stderr)
    assert served.returncode in (0, 1, 2)


def test_the_run_is_the_daemons_with_the_callers_folder_and_environment(daemon, project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    code = client.through_daemon(["validate", "db/migrations", "--json"])  # None: not served
    assert code == 1  # the unsafe index
    assert (tmp_path / "cache").is_dir()  # the run used the caller's FLUX_VALIDATE_CACHE


def test_a_run_in_the_daemon_is_remembered_for_the_command(daemon, project):
    """The daemon's fork records its run as the command does (lint/run_cache.py): once the daemon
    has stopped, the same command is served from that record, byte for byte."""
    wait = max(p.stat().st_ctime_ns for p in [project, *project.rglob("*")]) + 3_100_000_000 - time.time_ns()
    time.sleep(max(0.0, wait / 1e9))  # a file changed within 3 s of a run is not remembered
    logged = dict(daemon, FLUX_RUN_CACHE_LOG="1")
    in_daemon = flux("validate", "db/migrations", "--json", env=logged, cwd=project)
    assert in_daemon.stderr.splitlines()[-1] == "flux: run cache: recorded", in_daemon.stderr
    assert flux("daemon", "stop", env=daemon, cwd=project).stdout.strip() == "stopped"
    again = flux("validate", "db/migrations", "--json", env=logged, cwd=project)
    assert again.stderr.splitlines() == ["flux: run cache: served"]
    assert (again.stdout, again.returncode) == (in_daemon.stdout, in_daemon.returncode) and again.returncode == 1


def test_a_stopped_or_idle_daemon_serves_nothing(daemon, project, monkeypatch):
    monkeypatch.chdir(project)
    assert flux("daemon", "status", env=daemon, cwd=project).stdout.startswith("running")
    assert flux("daemon", "stop", env=daemon, cwd=project).stdout.strip() == "stopped"
    assert client.through_daemon(["validate", "db/migrations"]) is None
    assert flux("validate", "db/migrations", env=daemon, cwd=project).returncode == 1  # run without it
    idle = dict(daemon, FLUX_DAEMON_IDLE_S="0.5")
    assert flux("daemon", "start", env=idle, cwd=project).returncode == 0
    deadline = time.monotonic() + 30
    while flux("daemon", "status", env=idle, cwd=project).stdout.strip() != "not running":
        assert time.monotonic() < deadline, "the idle daemon did not stop"
        time.sleep(0.5)


def test_a_daemon_whose_source_changed_stops_and_the_command_runs_here(daemon, project, monkeypatch):
    probe = ROOT / "flux_agent" / "_daemon_stamp_probe.py"  # a new module: the loaded code is not the installed
    try:
        probe.write_text("# written by test_daemon.py, removed by it\n", encoding="utf-8")
        monkeypatch.chdir(project)
        assert client.through_daemon(["validate", "db/migrations"]) is None
    finally:
        probe.unlink(missing_ok=True)
    assert flux("daemon", "status", env=daemon, cwd=project).stdout.strip() == "not running"


def test_auto_starts_one_in_the_background_for_the_next_run(tmp_path, project, monkeypatch):
    env = dict(os.environ, FLUX_DAEMON="auto", FLUX_DAEMON_DIR=str(tmp_path / "auto"), FLUX_DAEMON_IDLE_S="60")
    monkeypatch.setenv("FLUX_DAEMON_DIR", env["FLUX_DAEMON_DIR"])
    monkeypatch.chdir(project)
    try:
        assert client.through_daemon(["validate", "db/migrations"]) is None  # none yet
        assert flux("validate", "db/migrations", env=env, cwd=project).returncode == 1  # run here, one started
        deadline = time.monotonic() + 30
        while client.through_daemon(["validate", "db/migrations"]) is None:
            assert time.monotonic() < deadline, "no daemon started"
            time.sleep(0.2)
        assert not list((tmp_path / "auto").glob("*.starting"))
    finally:
        flux("daemon", "stop", env=env, cwd=project)


def test_a_reader_that_goes_away_is_no_error(daemon, tmp_path):
    """`flux validate ... | head -c 10`: the run's writes fail once the reader has gone (its output is
    well over a pipe's 64 kB), and that is no error: the exit code is the command's own."""
    many = tmp_path / "many"
    many.mkdir()
    for i in range(400):
        (many / f"{i:04d}_index.sql").write_text(UNSAFE, encoding="utf-8")
    served = subprocess.run(f"{sys.executable} -m flux_agent validate many; echo \" exit $?\" >&2",
                            shell=True, capture_output=True, text=True, env=daemon, cwd=tmp_path, timeout=300)
    assert len(served.stdout) > 65536 and served.stderr.strip() == "exit 1"
    cut = subprocess.run(f"{sys.executable} -m flux_agent validate many | head -c 10",
                         shell=True, capture_output=True, text=True, env=daemon, cwd=tmp_path, timeout=300)
    assert cut.stderr == "" and len(cut.stdout) == 10


def test_a_socket_path_too_long_is_said_in_one_line(tmp_path, project):
    env = dict(os.environ, FLUX_DAEMON_DIR=str(tmp_path / ("d" * 120)))
    started = flux("daemon", "start", env=env, cwd=project)
    assert started.returncode == 2 and "FLUX_DAEMON_DIR" in started.stderr and started.stderr.count("\n") == 1
    assert flux("validate", "db/migrations", env=dict(env, FLUX_DAEMON="auto"), cwd=project).returncode == 1
