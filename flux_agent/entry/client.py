"""The `flux` command's first step: `flux validate` is served from the record of the same run when
nothing it looked at changed (lint/run_cache.py), else handed to a running `flux daemon`
(entry/daemon.py) when there is one for this installation, else every command runs here
(entry/cli.py). Only the standard library is imported before that choice: the point of both is
that a run skips loading pydantic, pglast and the rules (~0.2 s of a one-file run)."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import signal
import sys
import time
import types
from pathlib import Path
from typing import Optional, Sequence

from ..lint import run_cache

# The commands a daemon runs: validate only (a pre-commit hook's and an editor's, run again and
# again); the others start their own work (a dev database, a plan) that dwarfs the start.
DAEMON_COMMANDS = ("validate",)
IDLE_S = "1800"  # a daemon stops after this many seconds without a request (FLUX_DAEMON_IDLE_S)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """FLUX_DAEMON: off (or 0) never uses a daemon; auto also starts one, in the background, when
    none runs (the run itself goes on here); anything else uses one that runs."""
    args = list(sys.argv[1:] if argv is None else argv)
    mode = os.environ.get("FLUX_DAEMON", "").lower()
    validate = args[:1] == ["validate"]
    if validate:
        code = run_cache.served(args)  # the same run remembered, nothing it looked at changed
        if code is not None:
            return code
    if args[:1] and args[0] in DAEMON_COMMANDS and mode not in ("off", "0"):
        code = through_daemon(args)
        if code is not None:
            return code
        if mode == "auto":
            spawn()
    if validate:  # its start loads ~1M objects that live to its end: no collection walks them (~10 ms
        gc.disable()  # of a one-file run); the judging collects its own garbage (lint/batch.py)
    recorder = run_cache.Recorder.start(args) if validate else None  # before the imports: they look too
    code = None
    _pydantic_plugins_off()
    try:
        from .cli import main as run

        code = run(args)
    finally:
        if recorder is not None:
            recorder.finish(code)
    # The interpreter's exit runs the collector over every object the command made, to free what
    # the process's end frees anyway: ~20 ms of a one-file validate. main ends the process.
    gc.freeze()
    return code


def _pydantic_plugins_off() -> None:
    """pydantic looks for plugins (installed packages' `pydantic` entry points) the first time it
    builds a model: it loads importlib.metadata and reads every installed package's metadata, ~20 ms
    of a one-file validate's 0.2 s. The command's models want none (as PYDANTIC_DISABLE_PLUGINS=__all__
    says), so the module that looks for them is one that finds none, before pydantic loads its own
    (tests/unit/entry/test_client_plugins.py holds the stand-in to pydantic's). Only in the command's
    process: a program that imports flux_agent keeps its plugins."""
    if "pydantic.plugin._loader" not in sys.modules:
        stand_in = types.ModuleType("pydantic.plugin._loader")
        stand_in.get_plugins = tuple  # type: ignore[attr-defined]  # get_plugins() -> no plugins
        sys.modules["pydantic.plugin._loader"] = stand_in


def spawn() -> Optional[Path]:
    """Start this installation's daemon in the background (it removes its `.starting` mark once it
    listens); None when one is starting already (a mark younger than 30 s) or cannot be here."""
    path = socket_path()
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    mark = path.with_suffix(".starting")
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        try:
            if time.time() - mark.stat().st_mtime < 30:
                return None
        except OSError:
            return None
        mark.touch()
    import subprocess

    idle = os.environ.get("FLUX_DAEMON_IDLE_S", IDLE_S)
    subprocess.Popen([sys.executable, "-m", "flux_agent.entry.daemon", str(path), idle], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def socket_path() -> Optional[Path]:
    """Where this installation's daemon listens (one per environment, Python version and Flux
    source folder, so two installations never serve each other; `python`, `python3` and the
    `flux` script of one environment share it), in a folder only this user can enter; None where
    there are no Unix sockets or the path would be too long for one."""
    if os.name != "posix" or not hasattr(os, "fork"):  # Unix sockets and fork (socket: imported when used)
        return None
    base = os.environ.get("FLUX_DAEMON_DIR") or (
        os.path.join(os.environ["XDG_RUNTIME_DIR"], "flux") if os.environ.get("XDG_RUNTIME_DIR")
        else os.path.join(os.path.expanduser("~"), ".cache", "flux", "daemon"))
    here = Path(__file__).resolve().parent.parent
    key = hashlib.sha256(f"{sys.prefix}\0{sys.version}\0{here}".encode()).hexdigest()[:16]
    path = Path(base) / f"daemon-{key}.sock"
    # A Unix socket's path has room for 104 bytes on macOS, 108 on Linux: a longer one cannot be.
    return path if len(os.fsencode(path)) < 104 else None


def frame(request: dict) -> bytes:
    """A request to the daemon as sent: its length in 4 bytes, then its JSON."""
    body = json.dumps(request).encode()
    return len(body).to_bytes(4, "big") + body


def through_daemon(argv: list[str]) -> Optional[int]:
    """Run `argv` in the daemon, on this process's standard streams, working folder and
    environment; its exit code, or None when no daemon takes it (none running, or one running
    other code: the caller runs the command itself then)."""
    path = socket_path()
    if path is None or not path.exists():
        return None
    import socket  # here: a run with no daemon running spends no 4 ms on it

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        socket.send_fds(conn, [frame({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)})], [0, 1, 2])
        reply = conn.makefile("rb")
        first = reply.readline().decode().split()
    except OSError:
        conn.close()
        return None  # gone, or not answering: run here
    if first[:1] != ["pid"]:
        conn.close()
        return None  # "stale": the daemon runs other code than this installation now holds, and stops
    child = int(first[1])
    try:
        last = reply.readline().decode().split()
    except KeyboardInterrupt:  # Ctrl-C reaches this process, not the daemon's: pass it on
        os.kill(child, signal.SIGINT)
        last = reply.readline().decode().split()
    finally:
        conn.close()
    if last[:1] == ["exit"]:
        return int(last[1])
    print("flux: internal error: the daemon's run ended without an exit code (FLUX_DAEMON=off runs "
          "without it)", file=sys.stderr)
    return 3
