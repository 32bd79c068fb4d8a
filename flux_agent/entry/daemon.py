"""`flux daemon start|stop|status`: a background process that keeps Flux's modules loaded, so a
`flux validate` run again and again (a pre-commit hook, an editor on save) skips Python's and the
libraries' start. Each request runs in a fork of it, on the client's own standard streams (passed
over the socket), working folder and environment, exactly as `flux validate` runs without it; the
daemon itself runs nothing, so no run can leave anything behind for the next.

It listens on a Unix socket only its user can reach (entry/client.py says where), serves no other
user (the peer's uid is checked), stops when Flux's source changes under it (a request then gets
"stale" and the client runs the command itself), and after `FLUX_DAEMON_IDLE_S` (1,800) seconds
without a request."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import time
from pathlib import Path

from ..errors import FluxInputError
from .client import DAEMON_COMMANDS, IDLE_S, frame, socket_path, spawn

_ROOT = Path(__file__).resolve().parent.parent  # the flux_agent package
_MAX_REQUEST = 16 * 1024 * 1024


def code_stamp() -> str:
    """Python's version and the stat of every source file of Flux: what the loaded modules were
    read from (a changed file, an upgrade, a new module all change it)."""
    from ..lint.cache import python_files, source_stats

    stats = source_stats(_ROOT, sorted(python_files(os.fspath(_ROOT))))
    return hashlib.sha256(repr((sys.version, stats)).encode()).hexdigest()


def serve(path: Path, idle_s: float) -> None:
    """Load what the daemon's commands use, then serve requests until idle for `idle_s` seconds,
    asked to stop, or stale."""
    from . import cli, report_formats, validate  # noqa: F401  (loaded once here, used in each fork)
    from ..lint import cache, engine, rules  # noqa: F401
    from ..schema.replay import statements  # noqa: F401

    cache.code_version()  # each fork inherits it
    stamp = code_stamp()
    # What is loaded lives as long as the daemon: frozen, a fork's collections do not walk it (nor
    # copy the pages they would touch).
    gc.freeze()
    os.chdir("/")  # hold no folder of the caller's open (each fork goes to its caller's own)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path.unlink(missing_ok=True)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(16)
    server.settimeout(idle_s)
    path.with_suffix(".starting").unlink(missing_ok=True)  # client.spawn's mark: listening now
    try:
        while True:
            try:
                conn, _ = server.accept()
            except socket.timeout:
                return
            with conn:
                conn.settimeout(10)  # a client that connects and says nothing holds up no one for long
                if _peer_uid(conn) not in (None, os.getuid()):
                    continue
                if code_stamp() != stamp:
                    conn.sendall(b"stale\n")
                    return
                got = _request(conn)
                if got is None:
                    continue  # a probe (`flux daemon status`), or a request cut short
                request, fds = got
                if request.get("stop"):
                    return
                argv = request.get("argv") or []
                if len(fds) == 3 and argv[:1] and argv[0] in DAEMON_COMMANDS:
                    _fork_run(server, conn, request, fds)
                for fd in fds:
                    os.close(fd)
    finally:
        server.close()
        path.unlink(missing_ok=True)


def _peer_uid(conn: socket.socket):
    """The connecting process's user id (Linux); None where the system does not say (the socket's
    0600 mode in a 0700 folder still keeps others out)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _request(conn: socket.socket):
    """(the request, the file descriptors sent with it): a 4-byte length, then that much JSON."""
    fds: list[int] = []
    try:
        data, fds, _, _ = socket.recv_fds(conn, _MAX_REQUEST, 3)
        size = int.from_bytes(data[:4], "big") if len(data) >= 4 else -1
        while 0 <= size and len(data) - 4 < size:
            more = conn.recv(size + 4 - len(data))
            if not more:
                break
            data += more
        request = json.loads(data[4:4 + size]) if size >= 0 and len(data) - 4 == size else None
        if isinstance(request, dict):
            return request, fds
    except (OSError, ValueError):
        pass
    for fd in fds:
        os.close(fd)
    return None


def _fork_run(server: socket.socket, conn: socket.socket, request: dict, fds: list[int]) -> None:
    """Run the request in a fork, on the client's streams, folder and environment; the fork
    reports its pid, then its exit code."""
    if os.fork():
        return
    code = 3
    try:
        server.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the run's own worker processes are waited for
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin, sys.stdout, sys.stderr = (os.fdopen(0, "r", closefd=False), os.fdopen(1, "w", closefd=False),
                                             os.fdopen(2, "w", closefd=False))
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        conn.sendall(f"pid {os.getpid()}\n".encode())
        from ..lint.run_cache import Recorder
        from .cli import main

        # Remembered as the command remembers its own run (entry/client.py serves it next time).
        recorder = Recorder.start(request["argv"]) if request["argv"][:1] == ["validate"] else None
        code = None
        try:
            code = main(request["argv"])
        finally:
            if recorder is not None:
                recorder.finish(code)
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - the fork must report and exit whatever happened
        code = 3
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # the reader went away (| head): nothing more to say
                pass
        try:
            conn.sendall(f"exit {code}\n".encode())
        finally:
            os._exit(code if isinstance(code, int) else 3)


# -- the command -------------------------------------------------------------------


def command(action: str) -> str:
    """`flux daemon start|stop|status`: the line to print."""
    path = socket_path()
    if path is None:
        raise FluxInputError("flux daemon needs Unix sockets and fork, and a socket path under 104 bytes "
                             "(set FLUX_DAEMON_DIR to a shorter folder)")
    running = _answers(path)
    if action == "status":
        return f"running ({path})" if running else "not running"
    if action == "stop":
        if not running:
            return "not running"
        _stop(path)
        return "stopped"
    if running:
        return f"already running ({path})"
    path.with_suffix(".starting").unlink(missing_ok=True)  # asked for by name: start it now
    spawn()
    idle = os.environ.get("FLUX_DAEMON_IDLE_S", IDLE_S)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if _answers(path):
            return f"started ({path}); `flux validate` runs in it until {idle} s pass without one"
        time.sleep(0.05)
    raise TimeoutError(f"the daemon did not start listening on {path} within 15 s")


def _answers(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(path))
        return True
    except OSError:
        return False


def _stop(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(path))
        conn.sendall(frame({"stop": True}))
    deadline = time.monotonic() + 5
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), float(sys.argv[2]))
