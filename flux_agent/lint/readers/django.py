"""Django migrations, read back into SQL: what `manage.py sqlmigrate` prints, one operation at a
time (_django_sql.py), run with the project's Python and settings against an empty database on
Flux's dev database server, fenced in exactly as devdb/runners/django.py runs `migrate` (scrubbed
environment, DATABASES['default'] pointed at the dev database, every connection checked for
the dev database's marker). Rendering runs no SQL there: Django's backend only introspects and
quotes.

Lines: each operation of the file's `operations = [...]` list (found with `ast`) is the line of
its SQL. migrations.RunPython (any operation that does not reduce to SQL) is a not-analysed
finding at its line, as is an operation Django could not render. RunSQL gives its SQL.
`atomic = False` on the Migration class makes the migration non-transactional (where
AddIndexConcurrently's CREATE INDEX CONCURRENTLY belongs). Down: the operations' reverse SQL,
last first (sqlmigrate --backwards); nothing when one of them cannot be reversed.
"""

from __future__ import annotations

import ast
import os
import secrets
from pathlib import Path
from typing import Optional

from . import Piece, Reader, ReadMigration, Unread
from . import _django_sql

_DATABASE = "fluxreader_django"  # an empty database on the dev server (not flux_*: builds prune those)


def claims(text: str) -> bool:
    return "django" in text and "class Migration" in text and "migrations.Migration" in text


def operation_lines(text: str) -> tuple[Optional[list[int]], int]:
    """The line of each item of the Migration class's `operations` list (None when it is not a
    literal list), and the line of the class."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None, 1
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None)
    if cls is None:
        return None, 1
    for node in cls.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "operations" for t in targets):
            if isinstance(node.value, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred)
                                                                        for e in node.value.elts):
                return [e.lineno for e in node.value.elts], cls.lineno
            return None, node.lineno
    return None, cls.lineno


def _manage(path: Path, project: Optional[Path]) -> Optional[Path]:
    for d in path.parents:
        if (d / "manage.py").is_file():
            return d / "manage.py"
        if project is not None and d == project:
            break
    if project is not None:
        found = sorted(project.glob("manage.py")) + sorted(project.glob("*/manage.py"))
        return found[0] if found else None
    return None


def _render(path: Path, project: Optional[Path], manage: Path) -> dict:
    """The child's result: the migration rendered operation by operation on the dev database."""
    import psycopg
    from psycopg import sql as psql

    from ...devdb import program
    from ...devdb.runners import _python
    from ...devdb.runners import django as runner
    from ...devdb.server import base_dir, check_identity, dev_server
    from ...model.settings import Settings
    from ...project.config import load_settings
    from ...project.lock import file_lock

    settings = load_settings(project) if project is not None else Settings()
    server = dev_server(settings.dev_url, settings.pg_version)
    python = _python.project_python(manage.parent, *([project] if project is not None else []))
    marker = secrets.token_hex(16)
    with file_lock(base_dir() / "builds" / f"{_DATABASE}.lock"):
        with psycopg.connect(server.url, autocommit=True) as admin:
            check_identity(server, admin)
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (_DATABASE,)).fetchone() is None:
                admin.execute(psql.SQL("CREATE DATABASE {} TEMPLATE template0").format(psql.Identifier(_DATABASE)))
            admin.execute(psql.SQL("ALTER DATABASE {} SET {} = {}").format(
                psql.Identifier(_DATABASE), psql.Identifier(*program.MARKER_SETTING.split(".")),
                psql.Literal(marker)))
        job = program.tool_run(project or manage.parent, "", server.database_url(_DATABASE), marker, server)
        return _python.run_child(job, "django", python, manage.parent, {
            "module": _django_sql.__file__, "runner": runner.__file__, "manage": str(manage),
            "settings_module": runner._settings_module(manage) or "", "file": str(path)})


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    from ...errors import FluxInputError

    path = path.resolve()
    project = project.resolve() if project is not None else None
    lines, class_line = operation_lines(text)
    manage = _manage(path, project)
    if manage is None:
        return ReadMigration(tool="django", unread=[Unread(line=1, what=(
            "no manage.py found above the migration: Django's sqlmigrate needs the project's settings "
            "(give --project)"))])
    if os.environ.get("FLUX_DEVDB", "").lower() in ("off", "0", "no"):
        return ReadMigration(tool="django", unread=[Unread(line=1, what=(
            "the dev database is off (FLUX_DEVDB): Django's sqlmigrate needs a PostgreSQL connection"))])
    try:
        result = _render(path, project, manage)
    except FluxInputError as exc:  # no dev database server
        return ReadMigration(tool="django", unread=[Unread(line=1, what=f"sqlmigrate could not run: {exc}")])
    status = result.get("status")
    if status != "ok":
        what = result.get("message") or "unknown failure"
        if status == "missing":
            what = f"Django or the project's packages are not importable with {result.get('python')}: {what}"
        elif status == "stopped":
            what = f"the project's code connected to {what}, not Flux's dev database, and was stopped"
        return ReadMigration(tool="django", unread=[Unread(line=1, what=f"sqlmigrate could not run: {what}")])
    ops = result["ops"]
    if lines is None or len(lines) != len(ops):
        lines = [class_line] * len(ops)
    up: list[Piece] = []
    unread: list[Unread] = []
    for op, line in zip(ops, lines):
        if op["python"]:
            unread.append(Unread(line=line, what=f"{op['describe']}: runs Python (RunPython), whose effect on the "
                                                 "database is no SQL Flux can read"))
        elif op["error"]:
            unread.append(Unread(line=line, what=f"{op['describe']}: Django could not render it as SQL "
                                                 f"({op['error']})"))
        elif op["sql"]:
            up.append(Piece(sql="\n".join(s for s in op["sql"] if s.strip()), line=line))
    down: Optional[list[Piece]] = []
    for op in result["down"]:
        if not op["reversible"] or op["error"]:
            down = []
            break
        if op["sql"]:
            down.append(Piece(sql="\n".join(s for s in op["sql"] if s.strip()), line=lines[op["index"]]))
    return ReadMigration(tool="django", up=up, down=down, transactional=bool(result["atomic"]), unread=unread)


READER = Reader(tool="django", suffixes=(".py",), claims=claims, read=read)
