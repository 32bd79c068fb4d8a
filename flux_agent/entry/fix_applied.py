"""Whether `flux fix --write` may replace a migration file: only one no database can have run yet,
as far as Flux can know: not in the git base (committed files may be deployed) and not recorded in
the migrations table of a database the user names. The reason when not, as one line."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from typing import Optional

from ..errors import FluxInputError, one_line

# Where each tool records what ran: (table, column, what of the file it keeps). golang-migrate keeps only
# the last version (`version_at_least`); alembic only its heads (ancestors are looked up in the folder).
_TABLES = {
    "sql": ("schema_migrations", "version", "number"),
    "dbmate": ("schema_migrations", "version", "number"),
    "rails": ("schema_migrations", "version", "number"),
    "golang-migrate": ("schema_migrations", "version", "version_at_least"),
    "goose": ("goose_db_version", "version_id", "number"),
    "flyway": ("flyway_schema_history", "script", "name"),
    "knex": ("knex_migrations", "name", "name"),
    "sequelize": ("SequelizeMeta", "name", "name"),
    "node-pg-migrate": ("pgmigrations", "name", "stem"),
    "typeorm": ("migrations", "timestamp", "number"),
    "django": ("django_migrations", "name", "stem"),
    "prisma": ("_prisma_migrations", "migration_name", "folder"),
    "drizzle": ("drizzle.__drizzle_migrations", "hash", "sha256"),
    "alembic": ("alembic_version", "version_num", "revision"),
}


def refusal(path: Path, tool: str, base: Optional[str], database_url: Optional[str]) -> Optional[str]:
    """Why `path` must not be replaced, or None when it may be."""
    return _committed(path, base) or (_recorded(path, tool, database_url) if database_url else None)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)


def _committed(path: Path, base: Optional[str]) -> Optional[str]:
    where = path.resolve().parent
    try:
        top = _git(where, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git here: nothing says the file was shared
    if top.returncode != 0:
        return None
    rel = path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    if base is None:
        upstream = _git(where, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}")
        base = upstream.stdout.strip() if upstream.returncode == 0 and upstream.stdout.strip() else "HEAD"
        if _git(where, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
            return None  # a repository without commits yet
    elif _git(where, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").returncode != 0:
        raise FluxInputError(f"--base {base!r} is not a commit of the repository at {top.stdout.strip()}")
    if _git(where, "cat-file", "-e", f"{base}:{rel}").returncode == 0:
        return (f"{rel} is committed in {base}, so it may have run somewhere already; change the schema with a "
                f"new migration instead (or name another git base with --base)")
    return None


def _recorded(path: Path, tool: str, url: str) -> Optional[str]:
    import psycopg
    from psycopg import sql

    entry = _TABLES.get(tool)
    if entry is None:
        raise FluxInputError(f"cannot tell whether a {tool} migration is applied: Flux does not know where {tool} "
                             "records them; leave out --database-url to rely on git alone")
    table, column, kind = entry
    key = _key(path, kind)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.read_only = True
            schema, _, name = table.rpartition(".")
            exists = conn.execute("SELECT to_regclass(%s)", [f'{schema or "public"}."{name}"']).fetchone()[0]
            if exists is None:
                return None  # the tool never ran there
            ident = sql.Identifier(*([schema, name] if schema else [name]))
            values = [str(r[0]) for r in conn.execute(
                sql.SQL("SELECT {} FROM {}").format(sql.Identifier(column), ident)).fetchall()]
    except psycopg.Error as exc:
        raise FluxInputError(f"cannot read the migrations table of --database-url: {one_line(exc)}") from None
    if _applied(path, kind, key, values):
        return (f"{path.name} is recorded as applied in {table} of --database-url; change the schema with a new "
                "migration instead")
    return None


def _key(path: Path, kind: str) -> str:
    if kind in ("number", "version_at_least"):
        digits = re.match(r"\D*(\d+)", path.name)
        return digits.group(1) if digits else path.stem
    if kind == "stem":
        return path.name.split(".")[0]
    if kind == "folder":
        return path.parent.name
    if kind == "sha256":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return path.name


def _applied(path: Path, kind: str, key: str, values: list[str]) -> bool:
    if kind == "version_at_least":
        return any(v.isdigit() and int(v) >= int(key) for v in values if key.isdigit())
    if kind == "number":
        return any(v.lstrip("0") == key.lstrip("0") for v in values)
    if kind == "revision":
        return _alembic_applied(path, values)
    return key in values


def _alembic_applied(path: Path, heads: list[str]) -> bool:
    """Alembic keeps the heads it reached: the file ran when its revision is one of them or below one."""
    import ast

    from ..write.tools._py import module_assignments, parse_file
    from ..write.tools.alembic import _strings, read_revisions

    revisions = read_revisions(path.parent)  # revision -> its down_revisions
    own = _strings(module_assignments(parse_file(path, "alembic"), {"revision"}).get("revision", ast.Constant(None)))
    mine = own[0] if own else None
    seen, todo = set(), list(heads)
    while todo:
        rev = todo.pop()
        if rev == mine:
            return True
        if rev not in seen:
            seen.add(rev)
            todo.extend(revisions.get(rev, []))
    return False
