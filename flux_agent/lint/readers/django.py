"""Django migrations, read back into SQL: what `manage.py sqlmigrate` prints, one operation at a
time (_django_sql.py), run with the project's Python and settings on Flux's dev database server,
fenced in exactly as devdb/runners/django.py runs `migrate` (scrubbed environment,
DATABASES['default'] pointed at the dev database, every connection checked for the dev
database's marker).

`flux validate` reads the project's migrations ahead in one walk (read_many): the project's own
`migrate` runs once on a scratch database, and just before each migration asked about it is
rendered on the database as the migrations before it left it, in migrate's order (Django's
schema editor introspects it: the constraint unique=False drops is found by its real name), and
the database's catalogs are read there: the schema the file is judged against. A file the walk
does not reach (a squashed migration's originals, a file outside the migration graph, any after
a migration that failed) is rendered alone on an empty database (read), as is a file read
outside validate, and judged without a schema.

Lines: each operation of the file's `operations = [...]` list (found with `ast`) is the line of
its SQL. migrations.RunPython (any operation that does not reduce to SQL) is a not-analysed
finding at its line, as is an operation Django could not render. RunSQL gives its SQL, each
statement at its own line where the file writes it as a string literal.
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

from . import Irreversible, Piece, Reader, ReadMigration, Unread
from . import _django_sql

_DATABASE = "fluxreader_django"  # an empty database on the dev server (not flux_*: builds prune those)


def claims(text: str) -> bool:
    return "django" in text and "class Migration" in text and "migrations.Migration" in text


def _operations(text: str) -> tuple[Optional[list[ast.expr]], int]:
    """The items of the Migration class's `operations` list (None when it is not a literal list),
    and the line of the class (of the list, where it is not literal)."""
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
                return list(node.value.elts), cls.lineno
            return None, node.lineno
    return None, cls.lineno


def _sql_literals(text: str, item: ast.expr) -> list[tuple[str, int]]:
    """The forward SQL of the RunSQLs an operation is or holds (SeparateDatabaseAndState's
    database_operations: netbox's, whose 74 findings all stood at its line) as the file writes it:
    each string literal (value, the line its first character stands on), in the file's order, where
    the literal's source is its value (no escapes, no joins)."""
    calls = sorted((n for n in ast.walk(item) if isinstance(n, ast.Call)
                    and getattr(n.func, "attr", getattr(n.func, "id", None)) == "RunSQL"),
                   key=lambda n: (n.lineno, n.col_offset))
    return [found for call in calls for found in _run_sql_literals(text, call)]


def _run_sql_literals(text: str, item: ast.Call) -> list[tuple[str, int]]:
    sql = item.args[0] if item.args else next((k.value for k in item.keywords if k.arg == "sql"), None)
    out = []
    for node in (sql.elts if isinstance(sql, (ast.List, ast.Tuple)) else [sql]):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            source = ast.get_source_segment(text, node) or ""
            body = source.lstrip("rRuU")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            if body[len(quote):len(body) - len(quote)] == node.value:  # each character where the file has it
                out.append((node.value, node.lineno))
    return out


def _statement_pieces(sqls: list[str], literals: list[tuple[str, int]], line: int) -> list[Piece]:
    """The statements Django rendered from a RunSQL, each at the line of the file it stands on, where
    the SQL is found in the operation's literals (in order), else at the operation's `line`
    (order/0134's 11 findings all stood at `RunSQL(`). Django sends a string as one query when
    sqlparse is not installed: its statements are cut here, as PostgreSQL reads them."""
    from ...pg.split import SqlSyntaxError, split_statements

    out, at = [], (0, 0)
    for sql in sqls:
        text = sql.strip()
        head = text.splitlines()[0].rstrip(";") if text else ""
        base = None
        for k in range(at[0], len(literals)):
            value, first = literals[k]
            pos = value.find(head, at[1] if k == at[0] else 0) if head else -1
            if pos >= 0:
                base, at = first + value.count("\n", 0, pos), (k, pos + len(head))
                break
        if base is None:
            out.append(Piece(sql=text, line=line))
            continue
        try:
            out += [Piece(sql=st.text, line=base + st.line - 1) for st in split_statements(text)]
        except SqlSyntaxError:
            out.append(Piece(sql=text, line=base))  # said by the rules, at the statement's first line
    return out


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


def _server(project: Optional[Path]):
    from ...devdb.server import dev_server
    from ...model.settings import Settings
    from ...project.config import load_settings

    settings = load_settings(project) if project is not None else Settings()
    return dev_server(settings.dev_url, settings.pg_version)


def _run(server, project: Optional[Path], manage: Path, database: str, config: dict, pause=None) -> dict:
    """The Django runner's child on `database` of the dev server (made where missing, marked as the
    dev server's), with the project's manage.py, settings and interpreter: how _render and _walk
    both start it."""
    import psycopg
    from psycopg import sql as psql

    from ...devdb import program
    from ...devdb.runners import _python
    from ...project import places
    from ...devdb.runners import django as runner
    from ...devdb.server import check_identity

    url = server.database_url(database)
    with psycopg.connect(server.url, autocommit=True) as admin:
        check_identity(server, admin)
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            admin.execute(psql.SQL("CREATE DATABASE {} TEMPLATE template0").format(psql.Identifier(database)))
        marker = program.mark(server, admin, url)
    job = program.tool_run(project or manage.parent, "", url, marker, server)
    python = places.project_python(manage.parent, *([project] if project is not None else []))
    return _python.run_child(job, "django", python, manage.parent, {
        "manage": str(manage), "settings_module": runner._settings_module(manage) or "", **config}, pause=pause)


def _render(path: Path, project: Optional[Path], manage: Path) -> dict:
    """The child's result: the migration rendered operation by operation on the shared empty database."""
    from ...devdb.runners import django as runner
    from ...devdb.server import base_dir
    from ...project.lock import file_lock

    server = _server(project)
    with file_lock(base_dir() / "builds" / f"{_DATABASE}.lock"):
        return _run(server, project, manage, _DATABASE, {
            "module": _django_sql.__file__, "runner": runner.__file__, "file": str(path)})


def _walk(paths: list[Path], project: Optional[Path], manage: Path) -> tuple[dict[Path, tuple[dict, object]], Optional[list]]:
    """The files among `paths` that the project's `migrate` reaches, each rendered on the database
    as the migrations before it (in migrate's order) leave it, with that database's schema read
    from its catalogs: one run of the Django runner on a scratch database of the dev server,
    pausing before each (devdb/runners/django.py's _Walk). Files it does not reach (a squashed
    migration's originals, a file outside the migration graph, any after a migration that
    failed) are not in the answer; where the run failed before any migration (the settings, a
    package missing), each file has that failure (and no schema). With them, the Python files the
    run loaded (None where the child did not say)."""
    from ...devdb.build import as_built, drop_database
    from ...schema.readers.live import read_live

    server = _server(project)
    scratch = f"flux_verify_walk_{secrets.token_hex(6)}"  # flux_verify_*: never pruned as a build
    schemas: dict[str, object] = {}

    def read(file: str) -> None:
        schemas[file] = as_built(read_live(server.database_url(scratch)))

    try:
        result = _run(server, project, manage, scratch, {
            "walk": {"reader": _django_sql.__file__, "files": [str(p) for p in paths]}}, pause=read)
    finally:
        drop_database(server, scratch)
    renders = result.get("renders") or {}
    walked = {Path(f): (renders[f], schemas[f]) for f in renders if f in schemas}
    failed = _failed_file(result, walked)
    if failed is not None:  # rendered, then refused where migrate applied it: said at the file
        walked[failed] = ({**walked[failed][0], "fails": result["message"]}, walked[failed][1])
    if result.get("status") in ("missing", "stopped") or result.get("settings"):
        # Before any migration ran (the settings, a package missing): each file alone would fail the same way.
        walked.update({p: (result, None) for p in paths if p not in walked})
    loaded = result.get("loaded")
    return walked, loaded if isinstance(loaded, list) else None


def _failed_file(result: dict, walked: dict) -> Optional[Path]:
    """The file of the migration the walk's `migrate` failed on ("migration app.0002_x failed: ..."),
    where it is one the walk rendered."""
    from ...devdb.runners._python import _UNREACHED

    message = result.get("message") or ""
    if result.get("status") != "failed" or not message.startswith("migration ") \
            or any(sign in message for sign in _UNREACHED):  # a service the code needs is not up here: not the file's fault
        return None
    label = message[len("migration "):].partition(" ")[0]
    app, _, name = label.partition(".")
    return next((p for p in walked if p.stem == name and app in (p.parent.parent.name, "")), None)


# Files read ahead by read_many (lint/readers/__init__.read_ahead), by path, with the stat they were
# read at: read() takes each once. Not kept longer: a file's reading depends on the files before it.
_AHEAD: dict[str, tuple[tuple, ReadMigration]] = {}


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return st.st_mtime_ns, st.st_size, st.st_ino


def read_many(paths: list[Path], project: Optional[Path]) -> None:
    """Read the migrations of `paths` in one walk of the project's migrations (_walk), for read()
    to take: each against the schema the migrations before it make. Files the walk does not reach
    are read by read() alone, as ever (rendered on an empty database, no schema before)."""
    from ...errors import FluxError

    paths = [p.resolve() for p in paths]
    project = project.resolve() if project is not None else None
    manage = _manage(paths[0], project) if paths else None
    if manage is None or _devdb_off():
        return
    from ...project import places
    from . import _django_kept

    mine = [p for p in paths if _manage(p, project) == manage]
    python = places.project_python(manage.parent, *([project] if project is not None else []))
    base = _django_kept.walk_key(project, manage, python)
    key = _django_kept.answers_key(base) if base else None
    walked = {}  # what a walk of the same inputs rendered before, else what this one renders
    for path in mine:
        found = _django_kept.kept(key, path) if key else None
        if found is not None:
            walked[path] = found
    todo = [p for p in mine if p not in walked]
    if todo:
        try:
            fresh, loaded = _walk(todo, project, manage)
        except FluxError:  # no dev server, or the run could not start: each file read alone
            fresh, loaded = {}, None
        if base and loaded is not None:
            _django_kept.keep(base, fresh, _django_kept.loaded_sources(project or manage.parent, loaded))
        walked.update(fresh)
    for path, (result, schema) in walked.items():
        try:
            _AHEAD[str(path)] = (_stat_key(path), _read_migration(result, path.read_text(encoding="utf-8"), schema))
        except (OSError, UnicodeDecodeError):
            continue


def _devdb_off() -> bool:
    return os.environ.get("FLUX_DEVDB", "").lower() in ("off", "0", "no")


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    from ...errors import FluxInputError

    path = path.resolve()
    ahead = _AHEAD.pop(str(path), None)
    if ahead is not None and ahead[0] == _stat_key(path):
        return ahead[1]
    project = project.resolve() if project is not None else None
    manage = _manage(path, project)
    if manage is None:
        return ReadMigration(tool="django", unread=[Unread(line=1, what=(
            "no manage.py found above the migration: Django's sqlmigrate needs the project's settings "
            "(give --project)"))])
    if _devdb_off():
        return ReadMigration(tool="django", unread=[Unread(line=1, what=(
            "the dev database is off (FLUX_DEVDB): Django's sqlmigrate needs a PostgreSQL connection"))])
    try:
        result = _render(path, project, manage)
    except FluxInputError as exc:  # no dev database server
        return ReadMigration(tool="django", unread=[Unread(line=1, what=f"sqlmigrate could not run: {exc}")])
    return _read_migration(result, text)


def _refuse_unusable(result: dict) -> None:
    """One line (exit 2) where the project's Python cannot load its settings or Django at all: no
    migration of it can be read, and a not-analysed warning on each (exit 0) let CI pass with nothing
    judged (netbox validated without its packages installed)."""
    from ...errors import FluxInputError

    message = result.get("message") or ""
    if result.get("settings") and result.get("status") == "missing" or message.startswith("cannot import django"):
        raise FluxInputError(f"cannot read the project's Django migrations with {result.get('python') or 'its Python'}: "
                             f"{message}; install the project's dependencies there (or in the project's .venv, or "
                             "point VIRTUAL_ENV at its virtualenv): nothing was judged")
    if result.get("settings"):
        advice = ("; a setting they read from the environment may be missing: set it where Flux runs"
                  if " raised " in message else "")
        raise FluxInputError(f"cannot read the project's Django migrations: {message}{advice}: nothing was judged")


def _read_migration(result: dict, text: str, schema=None) -> ReadMigration:
    """The reader's answer from the child's rendering of the migration (`text`: its source)."""
    status = result.get("status")
    _refuse_unusable(result)
    if status != "ok":
        what = result.get("message") or "unknown failure"
        if status == "missing":
            what = f"Django or the project's packages are not importable with {result.get('python')}: {what}"
        elif status == "stopped":
            what = f"the project's code connected to {what}, not Flux's dev database, and was stopped"
        return ReadMigration(tool="django", unread=[Unread(line=1, what=f"sqlmigrate could not run: {what}")])
    items, class_line = _operations(text)
    ops = result["ops"]
    if items is None or len(items) != len(ops):
        items, lines = [None] * len(ops), [class_line] * len(ops)
    else:
        lines = [e.lineno for e in items]
    up: list[Piece] = []
    unread: list[Unread] = []
    for op, line, item in zip(ops, lines, items):
        if op["python"]:
            unread.append(Unread(line=line, what=f"{op['describe']}: runs Python (RunPython), whose effect on the "
                                                 "database is no SQL Flux can read"))
        elif op["error"]:
            unread.append(Unread(line=line, what=f"{op['describe']}: Django could not render it as SQL "
                                                 f"({op['error']})"))
        elif op["sql"]:
            sqls = [s for s in op["sql"] if s.strip()]
            literals = _sql_literals(text, item) if item is not None else []
            up += _statement_pieces(sqls, literals, line)
    down: Optional[list[Piece]] = []
    irreversible = None
    for op in result["down"]:
        if not op["reversible"]:
            # Django refuses to unapply the migration (IrreversibleError): its down part is empty, truly
            down = []
            irreversible = Irreversible(
                line=lines[op["index"]], what=f"{ops[op['index']]['describe']} has no reverse, so Django refuses "
                                              "to unapply the migration (IrreversibleError)",
                hint="give it a reverse: RunPython(forward, reverse_code=...), RunSQL(sql, reverse_sql=...), "
                     "or migrations.RunPython.noop where nothing needs undoing")
            break
        if op["error"] or (not op["sql"] and not op["python"] and ops[op["index"]]["sql"]):
            # Not rendered: the schema editor reads the database as it stands before the migration, so an
            # index the forward SQL makes is not there to drop (healthchecks' AlterField(db_index=True) came
            # out with an empty rollback, a false missing-rollback). Not judged, rather than judged empty.
            down = None
            break
        if op["sql"]:
            down.append(Piece(sql="\n".join(s for s in op["sql"] if s.strip()), line=lines[op["index"]]))
    fails = Unread(line=class_line, what=f"Django's migrate fails here, on the database the migrations before it "
                                         f"made: {result['fails'].partition(' failed: ')[2] or result['fails']}") \
        if result.get("fails") else None
    return ReadMigration(tool="django", up=up, down=down, transactional=bool(result["atomic"]), unread=unread,
                         schema_before=schema, irreversible=irreversible, fails=fails)


READER = Reader(tool="django", suffixes=(".py",), claims=claims, read=read, read_many=read_many)
