"""Alembic revisions, read back into SQL: the revision's own upgrade() (and downgrade() for the
down part) rendered offline through alembic's operations API, with no env.py and no database
(_alembic_render.py). Each statement keeps the line of the revision that issued it.

Where: in Flux's own interpreter when alembic imports there, else with the project's Python
(its .venv, the active virtualenv) as a child process of devdb/runners/_python.py, in the
scrubbed environment whose only database is one that cannot be reached; when neither has
alembic, the file is one not-analysed finding. A revision whose imports fail in Flux's
interpreter is tried again with the project's, when that is another one. `flux validate` renders
a folder's revisions in one go (read_many: one child for all that need the project's Python). While
a revision's code runs, it reaches no network and starts no program (_alembic_render's fence): its
upgrade() runs for real, and redash's deletes keys in Redis.

Transactions: alembic runs a revision in a transaction (transactional DDL on PostgreSQL);
`with op.get_context().autocommit_block():` runs its body outside one (the way Flux's own
alembic writer runs CREATE INDEX CONCURRENTLY). A revision using an autocommit block is read as
non-transactional as a whole: its statements are judged as running outside a transaction.
op.get_bind() (queries on the live connection) and code failing offline are not-analysed
findings at their line.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Optional

from ...devdb.run_memo import memo
from . import Piece, Reader, ReadMigration, Unread
from . import _alembic_render

_MISSING = "alembic is not installed in Flux's or the project's Python"
# The child's only database: a socket folder that does not exist, so any connection fails.
_NOWHERE = "postgresql://flux@/flux_offline?host=/nonexistent-flux-offline-render"


def claims(text: str) -> bool:
    # a merge or empty revision imports nothing of alembic's (dispatch's: `def upgrade(): pass`)
    return ("from alembic" in text or "import alembic" in text or "down_revision" in text) and "def upgrade(" in text


def _ini_dir(path: Path, project: Optional[Path]) -> Optional[Path]:
    """The folder of the alembic.ini (or pyproject.toml) nearest above the revision."""
    for d in path.parents:
        if (d / "alembic.ini").is_file() or (d / "pyproject.toml").is_file():
            return d
        if project is not None and d == project:
            break
    return None


def _have_alembic() -> bool:
    try:
        import alembic  # noqa: F401
    except ImportError:
        return False
    return True


def _in_child(paths: list[Path], python: str, cwd: Path, folders: list[str]) -> dict[Path, dict]:
    """The revisions rendered by the project's Python, in one child process."""
    from ...devdb import program
    from ...devdb.runners import _python

    job = program.tool_run(cwd, "", _NOWHERE, secrets.token_hex(16))
    done = _python.run_child(job, "alembic", python, cwd, {  # cwd last: dispatch's types.py is not Python's
        "module": _alembic_render.__file__, "files": [str(p) for p in paths], "paths": folders}, cwd_last=True)
    if done.get("status") != "ok":
        return {p: done for p in paths}
    return {p: done["renders"].get(str(p), {"status": "failed", "message": "not rendered"}) for p in paths}


# Revisions read in this process, by path, with the stat they were read at: a revision the history of
# another needs (lint/readers/_alembic_history.py) is read once, and again only when it changes (or
# when it could not be loaded: installing what it imports mends that).
_READ: dict[str, tuple[tuple, ReadMigration]] = {}


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return st.st_mtime_ns, st.st_size, st.st_ino


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    return read_many([path], project)[path.resolve()]


def read_many(paths: list[Path], project: Optional[Path]) -> dict[Path, ReadMigration]:
    """Each revision (by its resolved path) as alembic would run it, rendered offline: in Flux's own
    interpreter when alembic imports there, else by the project's Python, all in one child."""
    from ...devdb.runners import _python
    from ...project import places

    paths = [p.resolve() for p in paths]
    project = project.resolve() if project is not None else None
    out: dict[Path, ReadMigration] = {}
    todo = []
    run = memo()  # within one validate, a revision that failed is read once too (read ahead, then judged)
    for path in paths:
        held = _READ.get(str(path)) or (run.worked_out.get(("alembic read", str(path))) if run else None)
        if held is not None and held[0] == _stat_key(path):
            out[path] = held[1]
        else:
            todo.append(path)
    if not todo:
        return out
    ini = _ini_dir(todo[0], project)
    folders = [str(p) for p in dict.fromkeys(x for x in (project, ini) if x is not None)]
    python = places.project_python(*(Path(f) for f in folders)) if folders else sys.executable
    cwd = ini or project or todo[0].parent
    other = _python.other_environment(python)
    results: dict[Path, Optional[dict]] = {p: None for p in todo}
    if _have_alembic():
        results = {p: render_here(p, folders) for p in todo}
        failed = [p for p, r in results.items() if any("could not be loaded" in w for _, w in r.get("unread", []))]
        if failed and other:  # its imports are the project's: its Python may have them
            results.update({p: r for p, r in _in_child(failed, python, cwd, folders).items() if r.get("status") == "ok"})
    elif other:
        results = _in_child(todo, python, cwd, folders)
    for path, result in results.items():
        out[path] = _read_migration(result)
        if result is not None and result.get("status") == "ok" and \
                not any("could not be loaded" in w for _, w in result.get("unread") or []):
            _READ[str(path)] = (_stat_key(path), out[path])  # not a failure: an install may mend it
        elif run is not None:
            run.worked_out[("alembic read", str(path))] = (_stat_key(path), out[path])
    return out


def _read_migration(result: Optional[dict]) -> ReadMigration:
    if result is None or result.get("status") == "missing":
        return ReadMigration(tool="alembic", unread=[Unread(line=1, what=_MISSING)])
    if result.get("status") != "ok":
        return ReadMigration(tool="alembic", unread=[Unread(
            line=1, what=f"the revision could not be rendered offline ({result.get('message')})")])
    down = result.get("down")
    return ReadMigration(
        tool="alembic", up=[Piece(sql=s, line=n) for s, n in result.get("up") or []],
        down=None if down is None else [Piece(sql=s, line=n) for s, n in down],
        transactional=not result.get("autocommit"),
        unread=[Unread(line=n, what=w) for n, w in result.get("unread") or []])


def render_here(path: Path, folders: list[str]) -> dict:
    """The revision rendered in Flux's own interpreter, from the revision's folder."""
    return _alembic_render.render(str(path), folders)


# read_many: validate renders a folder's revisions in one go (one child process where the project's
# Python renders them: redash's 14 revisions each started one, 3-5 s apiece)
READER = Reader(tool="alembic", suffixes=(".py",), claims=claims, read=read, read_many=read_many)
