"""Whether `flux fix --write` may replace a migration file: only one no database can have run yet,
as far as Flux can know: not in the git base (committed files may be deployed) and not recorded in
the migrations table of a database the user names. The reason when not, as one line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional

from ..errors import FluxInputError, one_line
from ..project.applied import TABLES, is_recorded, read_runs, runs_table


def refusal(path: Path, tool: str, base: Optional[str], database_url: Optional[str]) -> Optional[str]:
    """Why `path` must not be replaced, or None when it may be."""
    return _committed(path, base) or (recorded(path, tool, database_url) if database_url else None)


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


def recorded(path: Path, tool: str, url: str) -> Optional[str]:
    """Why `path` counts as applied in the database at `url` (its tool's table records it), or None."""
    import psycopg

    if tool not in TABLES:
        raise FluxInputError(f"cannot tell whether a {tool} migration is applied: Flux does not know where {tool} "
                             "records them; leave out --database-url to rely on git alone")
    # drizzle's config, in the package above its migrations folder, may name its own table; Flyway's
    # configuration, in the migrations folder or above it, too
    folder = path.resolve().parent
    table = runs_table(tool, folder.parent, folder.name)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.read_only = True
            runs = read_runs(conn, tool, table)
    except psycopg.Error as exc:
        raise FluxInputError(f"cannot read the migrations table of --database-url: {one_line(exc)}") from None
    if runs is not None and is_recorded(path, tool, runs):
        return (f"{path.name} is recorded as applied in {table} of --database-url; change the schema with "
                "a new migration instead")
    return None
