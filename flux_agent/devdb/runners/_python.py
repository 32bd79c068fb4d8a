"""What the Django and Alembic runners share: the project's Python, and the child process in
which it runs the project's code fenced in, every database connection checked to reach the dev
database before anything runs on it.

This file is also that child's program: run by path with the project's interpreter (which may
not have Flux installed), so everything above the parent's part uses the standard library only.
The child installs its guards (psycopg2's and psycopg's connect, SQLAlchemy's engine "connect"
event; the Django runner adds Django's connection_created signal), then runs the tool module's
`child(config, check, tolerated)` and writes its result as JSON where the parent reads it. A connection
that does not answer the dev database's marker ends the process on the spot (exit 70): nothing
else runs, on that connection or anywhere.
"""

from __future__ import annotations

import json
import os
import runpy
import sys

STOPPED_EXIT = 70  # a connection reached another database: the child stopped itself there
_CONFIG = "FLUX_RUNNER"  # the child's configuration (JSON) in its environment
_state: dict = {}  # the child's marker and result file


# --------------------------------------------------------------------------
# The child
# --------------------------------------------------------------------------


def first_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


# Where a database error's classes live: the drivers, Django's database layer, SQLAlchemy.
_DATABASE_MODULES = ("psycopg", "psycopg2", "asyncpg", "pg8000", "django.db", "sqlalchemy")


def database_error(exc, depth: int = 0) -> bool:
    """Is `exc`, or what it was raised from or while handling, an error of the database layer?"""
    if exc is None or depth > 4:
        return False
    if any(c.__module__.startswith(_DATABASE_MODULES) for c in type(exc).__mro__):
        return True
    return database_error(exc.__cause__, depth + 1) or database_error(exc.__context__, depth + 1)


# The words of the note on migrations left out that sent no query, here and in node_tolerant.cjs's
# untouchedNote (program.explains_schema tells it by them).
UNTOUCHED = "failed before sending any query, so the schema is the same"


class Tolerated:
    """The migrations whose code failed without a database error (a data migration importing the
    app, reading a file a checkout does not have): the run goes on past them, as the Node tools'
    does (node_tolerant.cjs), each said in a note in the same words. A database error still stops
    the run: the schema after it would not be the project's. Handed to each tool's `child`."""

    def __init__(self) -> None:
        self.untouched: list[tuple[str, str]] = []  # (migration, why) of those that sent no query
        self.part_way: list[str] = []

    def run(self, name: str, fn, sent):
        """fn(), or None once it failed without a database error; `sent()` counts the queries sent."""
        before = sent()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - the project's code may raise anything
            if database_error(exc):
                raise
            count = sent() - before
            if count:
                self.part_way.append(f"{name} failed part-way without a database error and the tool went on "
                                     f"({first_line(exc)}); the {count} statement{'' if count == 1 else 's'} it ran "
                                     "before that stand")
            else:
                self.untouched.append((name, first_line(exc)))
            return None

    def notes(self) -> list:
        notes = list(self.part_way)
        if self.untouched:
            names = [n for n, _ in self.untouched]
            shown = ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:2])} and {len(names) - 2} more"
            many = len(names) != 1
            notes.append(f"left out {len(names)} migration{'s' if many else ''} that {UNTOUCHED} without "
                         f"{'them' if many else 'it'}: {shown} ({self.untouched[0][1]})")
        return notes


def _write(result: dict) -> None:
    with open(_state["result"], "w", encoding="utf-8") as fh:
        json.dump(result, fh)


def _where(conn) -> str:
    info = getattr(conn, "info", None)  # psycopg 3 and psycopg2 (2.8+) both have .info
    try:
        return f"database {info.dbname!r} at {info.host or 'localhost'}:{info.port}"
    except Exception:  # noqa: BLE001 - a driver without .info
        return "a database that is not the dev database"


def check(conn) -> None:
    """Return when the DBAPI connection `conn` is on the dev database (its marker setting answers
    the marker); otherwise end the process here, before anything runs on it."""
    try:
        cur = conn.cursor()
        cur.execute("SELECT current_setting('flux.dev_marker', true)")
        got = cur.fetchone()[0]
        cur.close()
        if not getattr(conn, "autocommit", True):
            conn.rollback()  # leave the connection as the driver made it: no transaction open
    except Exception:  # noqa: BLE001 - a connection that cannot answer is not the dev database
        got = None
    if got != _state["marker"]:
        _stop(_where(conn))


def _stop(where: str) -> None:
    _write({"status": "stopped", "message": where})
    sys.stderr.write(f"flux: stopped: the project's code connected to {where}, not Flux's dev database\n")
    sys.stderr.flush()
    os._exit(STOPPED_EXIT)


async def _acheck(conn) -> None:
    try:
        cur = conn.cursor()
        await cur.execute("SELECT current_setting('flux.dev_marker', true)")
        got = (await cur.fetchone())[0]
        await cur.close()
        if not conn.autocommit:
            await conn.rollback()
    except Exception:  # noqa: BLE001 - as in check()
        got = None
    if got != _state["marker"]:
        _stop(_where(conn))


def _guard() -> None:
    """Check every connection the drivers and SQLAlchemy open, whoever opens it."""
    try:
        import psycopg2
    except ImportError:
        pass
    else:
        connect2 = psycopg2.connect

        def guarded2(*args, **kwargs):
            conn = connect2(*args, **kwargs)
            check(conn)
            return conn

        psycopg2.connect = guarded2
    try:
        import psycopg
    except ImportError:
        pass
    else:
        connect3 = psycopg.Connection.connect.__func__
        aconnect3 = psycopg.AsyncConnection.connect.__func__

        def guarded3(cls, *args, **kwargs):
            conn = connect3(cls, *args, **kwargs)
            check(conn)
            return conn

        async def aguarded3(cls, *args, **kwargs):
            conn = await aconnect3(cls, *args, **kwargs)
            await _acheck(conn)
            return conn

        psycopg.Connection.connect = classmethod(guarded3)
        psycopg.AsyncConnection.connect = classmethod(aguarded3)
        psycopg.connect = psycopg.Connection.connect
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        return
    event.listen(Engine, "connect", lambda dbapi_connection, record: check(dbapi_connection))


def _main() -> None:
    config = json.loads(os.environ.pop(_CONFIG))
    _state.update(marker=config["marker"], result=config["result"])
    _guard()
    try:
        tool = runpy.run_path(config["module"], run_name=f"flux_runner_{config['tool']}")
        result = tool["child"](config, check, Tolerated())
    except BaseException as exc:  # noqa: BLE001 - the project's code may raise anything, SystemExit too
        # Raised in Flux's own runner code (not in the project's, nor in its tool's, which that code calls):
        # Flux's failure, not the project's (redash's SQLAlchemy 1.3 had no URL.create).
        last, tb = None, exc.__traceback__
        while tb is not None:
            last, tb = tb.tb_frame.f_code.co_filename, tb.tb_next
        ours = {os.path.abspath(config["module"]), os.path.abspath(__file__)}
        result = {"status": "internal" if last and os.path.abspath(last) in ours else "failed",
                  "message": first_line(exc)}
    _write(result)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # done: a thread the project's code left running must not keep the process (and Flux) waiting


if __name__ == "__main__":
    _main()


# --------------------------------------------------------------------------
# The parent (Flux)
# --------------------------------------------------------------------------

if __package__:  # imported by Flux, not run as the child
    import subprocess
    import tempfile
    from pathlib import Path
    from typing import Callable, Optional

    from ...errors import FluxInputError, FluxInternalError

TIMEOUT_S = 900
# The project's code iterates sets and dicts of strings (Django re-creates the foreign keys to a renamed
# model in a set's order): one hash seed, so the same files render the same SQL in the same order
# every run (saleor's findings swapped places between two runs).
_SEEDED = {"PYTHONHASHSEED": "0"}


def other_environment(python: str) -> bool:
    """Is `python` another environment than Flux's own? Its folder, not the file it resolves to: a
    virtualenv's python links to the same base interpreter (mealie's .venv and Flux's both resolve to
    pyenv's python3.11) and has packages of its own."""
    return os.path.dirname(os.path.abspath(python)) != os.path.dirname(os.path.abspath(sys.executable))


def url_names(job) -> dict:
    """The dev database under more of the names a project's settings read it by (an unset name
    would fall back to the project's own default, and a .env file fills only unset names)."""
    p = job.params
    names = {k: job.url for k in ("DATABASE_URI", "DB_URL", "POSTGRES_URL", "POSTGRESQL_URL",
                                  "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_DATABASE_URL")}
    names.update({"POSTGRES_HOST": p["host"], "POSTGRES_SERVER": p["host"], "POSTGRES_PORT": str(p["port"]),
                  "POSTGRES_USER": p["user"], "POSTGRES_PASSWORD": p["password"], "POSTGRES_DB": p["database"]})
    return names


def run_child(job, tool: str, python: str, cwd: Path, extra: dict, cwd_last: bool = False,
              pause: Optional[Callable[[str], None]] = None, also: Optional[Path] = None) -> dict:
    """Run `tool`'s child with `python` in `cwd`; its result (status ok, stopped, missing or
    failed; message; notes) with the process's output. `cwd_last`: `cwd` is searched for modules
    after the interpreter's own (alembic's command does not search it at all; dispatch keeps a
    types.py beside its alembic.ini, which took the place of Python's own `types`). `pause`: called
    with each line the child sends on its pause pipe (config "pause_fds": the child's write and read
    ends) while the child waits; the child goes on when it returns (the Django reader's walk reads
    the database's catalogs there, the child holding still). `also`: a folder searched for modules
    last (the project's root, where a Flask-Migrate env.py imports the app from, as `flask db` runs it)."""
    with tempfile.TemporaryDirectory(prefix="flux-runner-") as tmp:
        result_file = Path(tmp) / "result.json"
        config = {"tool": tool, "module": str(Path(__file__).with_name(f"{tool}.py")), "marker": job.marker,
                  "result": str(result_file), "url": job.url, "params": job.params, **extra}
        code = f"import runpy; runpy.run_path({str(Path(__file__))!r}, run_name='__main__')"
        if cwd_last:  # `python -c` searches the working folder first: before runpy imports anything
            code = "import sys; sys.path.append(sys.path.pop(0)) if sys.path[:1] == [''] else None; " + code
        if also is not None:
            code = f"import sys; sys.path.append({str(also)!r}); " + code
        try:
            if pause is None:
                env = {**job.env, **url_names(job), **_SEEDED, _CONFIG: json.dumps(config)}
                done = subprocess.run([python, "-c", code], check=False, cwd=cwd, env=env, capture_output=True,
                                      text=True, timeout=TIMEOUT_S)
            else:
                done = _run_pausing([python, "-c", code], cwd, job, config, Path(tmp), pause)
        except subprocess.TimeoutExpired:
            raise FluxInputError(f"the project's {tool} migrations did not finish on the dev database in "
                                 f"{TIMEOUT_S} s; give --database-url") from None
        except OSError as exc:
            raise FluxInputError(f"cannot run {python} for the project's {tool} migrations ({exc}); "
                                 "give --database-url") from None
        try:
            result = json.loads(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = {"status": "failed", "message": None}
    if done.returncode == STOPPED_EXIT:
        result["status"] = "stopped"
    elif done.returncode != 0 and result.get("status") == "ok":
        result["status"] = "failed"
    if not result.get("message") and result.get("status") != "ok":  # the child could not say: its output does
        result["message"] = (result.get("prefix") or "") + (_last_line(done.stderr) or _last_line(done.stdout)
                                                            or f"exit status {done.returncode}")
    result.update(python=python, stdout=done.stdout, stderr=done.stderr)
    return result


def _run_pausing(argv: list[str], cwd: Path, job, config: dict, tmp: Path,
                 pause: Callable[[str], None]) -> subprocess.CompletedProcess:
    """The child run with a pause pipe each way: each line it sends is handed to `pause`, then
    "go" is sent back. Its output goes to files (a pipe it filled would stall it mid-pause)."""
    import selectors
    import time

    from_child, child_out = os.pipe()
    child_in, to_child = os.pipe()
    config = {**config, "pause_fds": [child_out, child_in]}
    env = {**job.env, **url_names(job), **_SEEDED, _CONFIG: json.dumps(config)}
    deadline = time.monotonic() + TIMEOUT_S
    with open(tmp / "stdout", "w+", encoding="utf-8", errors="replace") as out, \
            open(tmp / "stderr", "w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, text=True,
                                pass_fds=(child_out, child_in))
        os.close(child_out)
        os.close(child_in)
        try:
            with os.fdopen(from_child, "rb") as lines, os.fdopen(to_child, "wb", buffering=0) as answers, \
                    selectors.DefaultSelector() as sel:
                sel.register(lines, selectors.EVENT_READ)
                while True:
                    if not sel.select(max(0.0, deadline - time.monotonic())):
                        raise subprocess.TimeoutExpired(argv, TIMEOUT_S)
                    line = lines.readline()
                    if not line:  # the child is done (or gone)
                        break
                    pause(line.decode("utf-8").rstrip("\n"))
                    try:
                        answers.write(b"go\n")
                    except BrokenPipeError:
                        break
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, code, out.read(), err.read())


def outcome(result: dict, label: str) -> list[str]:
    """The notes of a run that went through; one line (FluxInputError) for one that did not."""
    status, message = result.get("status"), result.get("message")
    if status == "ok":
        return list(result.get("notes") or [])
    if status == "stopped":
        raise FluxInputError(f"stopped the project's {label} migrations: its code connected to {message} instead "
                             "of Flux's dev database, and was stopped before running anything there; Flux runs the "
                             "project's migrations only where it can check them: give --database-url to read the "
                             "schema from a database instead")
    if status == "internal":
        raise FluxInternalError(f"Flux's {label} runner failed in the project's Python ({result.get('python')}): "
                                f"{message}")
    if status == "missing":
        raise FluxInputError(f"cannot run the project's {label} migrations with {result['python']}: {message}; "
                             "install the project's dependencies there (or in the project's .venv), "
                             "or give --database-url")
    if result.get("settings"):  # before any migration: often a setting read from the environment
        raise FluxInputError(f"the project's {label} settings failed to load: {message}; a setting they read from "
                             "the environment may be missing (Flux passes on its own environment without database "
                             "settings): set it where Flux runs, or give --database-url")
    if any(sign in (message or "") for sign in _UNREACHED):
        # Not the migration's fault: a service the project's code talks to as it migrates (paperless's
        # cache in Redis, invalidated on every write) is not running where Flux runs it.
        raise FluxInputError(f"the project's {label} migrations failed on the dev database: {message}; the "
                             "project's code could not reach a service it needs (a cache, a queue): start it as for "
                             "the project's own runs, or give --database-url")
    raise FluxInputError(f"the project's {label} migrations failed on the dev database: {message}; "
                         "fix the migration, or give --database-url")


_UNREACHED = ("Connection refused", "ECONNREFUSED", "Name or service not known", "getaddrinfo ENOTFOUND")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
