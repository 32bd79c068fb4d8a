"""Alembic revisions, read back into SQL: the revision's own upgrade() (and downgrade() for the
down part) rendered offline through alembic's operations API, with no env.py and no database
(_alembic_render.py). Each statement keeps the line of the revision that issued it.

Where: in Flux's own interpreter when alembic imports there, else with the project's Python
(its .venv, the active virtualenv) as a child process of devdb/runners/_python.py, in the
scrubbed environment whose only database is one that cannot be reached; when neither has
alembic, the file is one not-analysed finding. A revision whose imports fail in Flux's
interpreter is tried again with the project's, when that is another one.

Transactions: alembic runs a revision in a transaction (transactional DDL on PostgreSQL);
`with op.get_context().autocommit_block():` runs its body outside one (the way Flux's own
alembic writer runs CREATE INDEX CONCURRENTLY). A revision using an autocommit block is read as
non-transactional as a whole: its statements are judged as running outside a transaction.
op.get_bind() (queries on the live connection) and code failing offline are not-analysed
findings at their line.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Optional

from . import Piece, Reader, ReadMigration, Unread
from . import _alembic_render

_MISSING = "alembic is not installed in Flux's or the project's Python"
# The child's only database: a socket folder that does not exist, so any connection fails.
_NOWHERE = "postgresql://flux@/flux_offline?host=/nonexistent-flux-offline-render"


def claims(text: str) -> bool:
    return ("from alembic" in text or "import alembic" in text) and "def upgrade(" in text


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


def _in_child(path: Path, python: str, cwd: Path, paths: list[str]) -> dict:
    from ...devdb import program
    from ...devdb.runners import _python

    job = program.tool_run(cwd, "", _NOWHERE, secrets.token_hex(16))
    return _python.run_child(job, "alembic", python, cwd,
                             {"module": _alembic_render.__file__, "file": str(path), "paths": paths})


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    from ...devdb.runners import _python

    path = path.resolve()
    project = project.resolve() if project is not None else None
    ini = _ini_dir(path, project)
    folders = [str(p) for p in dict.fromkeys(x for x in (project, ini) if x is not None)]
    python = _python.project_python(*(Path(f) for f in folders)) if folders else sys.executable
    cwd = ini or project or path.parent
    result: Optional[dict] = None
    if _have_alembic():
        result = render_here(path, folders)
        failed = any("could not be loaded" in what for _, what in result.get("unread", []))
        if failed and os.path.realpath(python) != os.path.realpath(sys.executable):
            other = _in_child(path, python, cwd, folders)
            if other.get("status") == "ok":
                result = other
    elif os.path.realpath(python) != os.path.realpath(sys.executable):
        result = _in_child(path, python, cwd, folders)
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


READER = Reader(tool="alembic", suffixes=(".py",), claims=claims, read=read)
