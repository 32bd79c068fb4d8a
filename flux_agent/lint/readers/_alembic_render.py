"""An Alembic revision rendered offline: its own upgrade() and downgrade() run through alembic's
operations API against a MigrationContext in as_sql mode (dialect postgresql, an output buffer),
with no env.py and no database. Each statement alembic emits is kept with the line of the
revision file that issued it (the outermost frame of the call stack in that file, so a helper
the file defines is seen at the line of upgrade() that calls it).

This file runs in Flux's own interpreter (lint/readers/alembic.py imports it) or, where Flux's
has no alembic, by path in the project's interpreter as a child of devdb/runners/_python.py (its
`child` function): so it uses the standard library, SQLAlchemy and alembic only. The result is
plain JSON: {"status", "message", "up": [[sql, line]], "down": [[sql, line]] | None,
"autocommit": bool, "unread": [[line, what]]}.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import sys
import uuid
from contextlib import contextmanager, redirect_stdout


def _first_line(exc: BaseException) -> str:
    """The exception as one line, without the memory addresses of objects' default reprs (`<... at
    0x7fcc...>`), which differ from run to run: the same revision must read the same every time."""
    lines = [" ".join(line.split()) for line in str(exc).strip().splitlines() if line.strip()]
    return _ADDRESS.sub(" at 0x…", f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
# What rendering a revision offline must never do: reach another machine or service, or start a
# program. Its upgrade() runs for real (redash's e5c7a4e2df4d deletes keys in Redis): these raise
# inside it instead, and what it did not render is said at that line like any failure.
_FENCED = ("socket.connect", "socket.sendto", "socket.sendmsg", "subprocess.Popen",
           "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty")
_OFFLINE = {"on": False}


def _fence(event: str, args) -> None:
    if _OFFLINE["on"] and event.startswith(_FENCED):
        raise PermissionError(f"{event} blocked")


@contextmanager
def _offline():
    """The revision's code run with no network and no programs (_FENCED): process-wide while it runs,
    so a thread the revision starts is fenced too (Flux judges in one thread meanwhile)."""
    if not getattr(_fence, "installed", False):
        sys.addaudithook(_fence)  # cannot be removed: it acts only while _OFFLINE is on
        _fence.installed = True
    _OFFLINE["on"] = True
    try:
        yield
    finally:
        _OFFLINE["on"] = False


def _compiling(exc: BaseException) -> bool:
    """Did SQLAlchemy's SQL compiler raise it (the statement cannot be written for any database)?"""
    return any(c.__name__ == "CompileError" and c.__module__.startswith("sqlalchemy") for c in type(exc).__mro__)


def _outermost_line(filename: str, default: int) -> int:
    """The line of the outermost frame running code of `filename` (the revision file)."""
    frame = sys._getframe(1)
    found = default
    while frame is not None:
        if os.path.normcase(os.path.abspath(frame.f_code.co_filename)) == filename:
            found = frame.f_lineno
        frame = frame.f_back
    return found


def _load(path: str, extra_paths: list, forget: bool = True):
    """The revision module, imported by path; with the project's folders on sys.path when its own
    imports fail without them. A new module each time; with `forget`, the project's modules it
    imported go with it (a long-lived process sees edits to them). The child, which ends after its
    revisions, keeps them: redash's app, imported again for each, registered its types twice."""
    name = f"flux_alembic_revision_{uuid.uuid4().hex}"
    before_path = list(sys.path)
    before_modules = set(sys.modules)
    tries = [[], [p for p in extra_paths if p not in sys.path]]
    error: BaseException | None = None
    try:
        for add in tries:
            if error is not None and not add:
                continue
            sys.path[:0] = add
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
                return module, None, 1
            except ImportError as exc:
                error = exc
                sys.path[:] = before_path
            except BaseException as exc:  # noqa: BLE001 - the file's own code may raise anything
                line = exc.lineno if isinstance(exc, SyntaxError) and exc.lineno else 1
                return None, f"importing the revision raised {_first_line(exc)}", line
        return None, f"its imports fail ({_first_line(error)})", 1
    finally:
        sys.path[:] = before_path
        roots = tuple(os.path.abspath(p) + os.sep for p in extra_paths) if forget else ()
        for key in set(sys.modules) - before_modules:
            file = getattr(sys.modules.get(key), "__file__", None) or ""
            if key == name or (roots and os.path.abspath(file).startswith(roots)):
                sys.modules.pop(key, None)


def _run(module, fn_name: str, filename: str) -> dict:
    """Render module.<fn_name>() offline: the pieces with their lines, what was not read, and
    whether an autocommit block was used."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    buf = io.StringIO()
    # paramstyle named, as alembic's own env.py renders offline: else every % comes out doubled
    ctx = MigrationContext.configure(dialect_name="postgresql", dialect_opts={"paramstyle": "named"},
                                     opts={"as_sql": True, "output_buffer": buf, "literal_binds": True})
    pieces: list = []
    unread: list = []
    state = {"autocommit": False, "depth": 0}
    fn = getattr(module, fn_name, None)
    fn_line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 1)
    impl = ctx.impl
    exec_ = impl._exec

    def _exec(construct, *args, **kwargs):
        state["depth"] += 1
        at = buf.tell()
        try:
            return exec_(construct, *args, **kwargs)
        finally:
            state["depth"] -= 1
            if state["depth"] == 0:
                text = buf.getvalue()[at:].strip()
                if text:
                    pieces.append([text, _outermost_line(filename, fn_line)])

    impl._exec = _exec
    block = ctx.autocommit_block

    @contextmanager
    def autocommit_block():
        state["autocommit"] = True
        with block():
            yield

    ctx.autocommit_block = autocommit_block
    if not callable(fn):
        return {"pieces": None, "unread": [], "autocommit": False}
    with Operations.context(ctx) as ops:
        get_bind = ops.get_bind

        def bind():
            unread.append([_outermost_line(filename, fn_line),
                           "op.get_bind(): what the code does with the live connection (queries, reading rows) "
                           "is not rendered offline"])
            return get_bind()

        ops.get_bind = bind
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - the file's own code may raise anything
            line = fn_line
            tb = exc.__traceback__
            while tb is not None:
                if os.path.normcase(os.path.abspath(tb.tb_frame.f_code.co_filename)) == filename:
                    line = tb.tb_lineno
                tb = tb.tb_next
            # SQLAlchemy's compiler fails alike with a database (dispatch's autogenerated
            # op.drop_constraint(None, ...)): that part fails when run, not only here
            why = "it fails so when run against a database too" if _compiling(exc) else \
                "when rendered offline (no database)"
            unread.append([line, f"{fn_name}() raised {_first_line(exc)} {why}: the rest of it was not read"])
    return {"pieces": pieces, "unread": unread, "autocommit": state["autocommit"]}


def render(path: str, extra_paths: list, forget: bool = True) -> dict:
    """The revision at `path` rendered offline (the module's docstring says the result's shape);
    `forget` as _load's."""
    try:
        import alembic  # noqa: F401
    except ImportError as exc:
        return {"status": "missing", "message": f"alembic is not importable ({_first_line(exc)})"}
    filename = os.path.normcase(os.path.abspath(path))
    # What the revision prints ("Starting data migration...", Netflix's dispatch) is not Flux's output:
    # rendered in Flux's own process it went into `flux validate --json`'s stdout.
    with redirect_stdout(io.StringIO()), _offline():
        module, why, line = _load(path, extra_paths, forget)
        if module is None:
            return {"status": "ok", "up": [], "down": None, "autocommit": False,
                    "unread": [[line, f"the revision could not be loaded: {why}"]]}
        up = _run(module, "upgrade", filename)
        down = _run(module, "downgrade", filename)
    unread = up["unread"]
    if up["pieces"] is None:
        unread.append([1, "the revision has no upgrade() function"])
    # A downgrade() that raised part way (op.drop_constraint(None, ...), a helper wanting a connection)
    # has a rollback Flux did not read: said, and not judged as an empty one (redash's e7004224f284).
    unread += down["unread"]
    return {"status": "ok", "up": up["pieces"] or [], "down": None if down["unread"] else down["pieces"],
            "autocommit": up["autocommit"], "unread": unread}


def child(config: dict, check, tolerated) -> dict:
    """The child process's part (devdb/runners/_python.py runs it with the project's Python): the
    revisions of `files` (one, or those a revision follows), read in one process; `tolerated` goes
    unused: nothing is migrated here."""
    renders = {f: render(f, config["paths"], forget=False) for f in config["files"]}
    missing = next((r for r in renders.values() if r.get("status") == "missing"), None)
    return missing or {"status": "ok", "renders": renders}
