"""The dev database as a project's program-code migrations leave it before some of its files: for a
Node tool (knex, typeorm, sequelize, node-pg-migrate) its run up to one file, in its order, cached as
every dev database is (devdb/build.py) and keyed by the migrations and config but that file (and
those given after it); for alembic and Django (built_without) their runs leaving the files out.
lint's readers run a file on a copy of the one before it; verify runs a written plan, and trace a
migration of the history, on a copy of the one before their files."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Sequence

import psycopg

from ..errors import FluxInputError
from ..model.settings import Settings
from ..project.config import load_settings
from ..project.detect import Detection
from .build import Built, _complete, build_with, cached, database_name
from .digests import kept_once
from .program import Runner, _key, mark, program_schema, runner_for, tool_run
from .server import Server, binaries_major, dev_server

# The tools whose Node driver builds the database before a file (node_driver.cjs's capture).
NODE_TOOLS = ("knex", "typeorm", "sequelize", "node-pg-migrate")


@dataclass
class BeforeFile:
    """Where a file's tool runs: the project's root (its package.json), the file's folder in it,
    the server and the key of the database the migrations before the file make there."""

    tool: str
    root: Path
    folder: str
    file: Path
    runner: Runner
    server: Server
    key: str
    out: Path  # where the Node driver writes what it records (capture)

    def run(self, url: str, marker: str, phase: str) -> None:
        """The tool on the database at `url`: "before", the migrations before the file; "capture",
        the file alone, recording what it sends (node_driver.cjs)."""
        job = replace(tool_run(self.root, self.folder, url, marker, self.server),
                      capture={"target": str(self.file), "phase": phase, "out": str(self.out)})
        self.runner.run(job)


def before_key(tool: str, root: Path, file: Path, leave_out: Sequence[Path] = ()) -> str:
    """The key of the database before `file`: its tool's inputs but the file (and `leave_out`, the
    ones after it), worked out without the dev server."""
    file = file.resolve()
    folder = file.parent.relative_to(root).as_posix()
    settings = load_settings(root)
    unused = {file, *(Path(p).resolve() for p in leave_out)}
    names = {p.name for p in unused}  # (resolving only a file of such a name: a folder's files each key one)
    listed = kept_once(("inputs", tool, str(root), folder), lambda: runner_for(tool).inputs(root, folder))
    inputs = [f for f in listed if f.name not in names or f.resolve() not in unused]
    return _key(root, f"{tool} before {file.name}", inputs, binaries_major(settings), settings.dev_url)


def before_file(tool: str, root: Path, file: Path, out: Path, leave_out: Sequence[Path] = (),
                key: Optional[str] = None) -> BeforeFile:
    """The place to build the database before `file` (a migration of `root`'s `tool`); the files
    `leave_out` (the ones after it) are no input of its key either. `key`: before_key's, where the
    caller worked it out already. FluxInputError: the project's settings or the dev server are wanting."""
    file = file.resolve()
    settings = load_settings(root)
    key = key or before_key(tool, root, file, leave_out)
    server = dev_server(settings.dev_url, binaries_major(settings) or settings.pg_version)
    return BeforeFile(tool, root, file.parent.relative_to(root).as_posix(), file, runner_for(tool), server, key, out)


def build_before(place: BeforeFile) -> Built:
    """The database before the file (cached, or built now; from a copy of the database built
    before an earlier file of the folder in this process, where the tool can go on from it)."""
    with psycopg.connect(place.server.url, autocommit=True) as admin:
        done = _complete(admin, database_name(place.key), place.key)
    built = cached(place.key) if done is not None else None
    if built is None:  # built now, or read from the database built earlier
        fill = lambda admin, url: place.run(url, mark(place.server, admin, url), "before") or []  # noqa: E731
        where = (place.tool, place.server.url, str(place.root), place.folder)
        template = _earlier(where, place.file)
        try:
            built = build_with(place.server, place.key, fill, template=template)
        except FluxInputError:
            if template is None:
                raise
            built = build_with(place.server, place.key, fill)  # the copy would not do (TypeORM's order): whole
    _BUILT_BEFORE[(place.tool, place.server.url, str(place.root), place.folder)] = (place.file, place.key)
    return built


def built_without(project: Path, found: Detection, settings: Settings, files: Sequence[Path]) -> Optional[Built]:
    """The dev database the project's tool makes from its migrations without `files` (a plan's, or
    the ones traced) and what comes after them: a Node tool's run up to the first of them in its
    order; alembic upgraded to the revision the first follows; Django's migrate passing over them
    and the later migrations of their folders; no files, the whole history. The database itself, on
    the server (it is copied). None where the tool has no runner."""
    files = sorted({Path(f).resolve() for f in files if Path(f).is_file()}, key=lambda f: f.name.encode("utf-16-be"))
    if found.tool in NODE_TOOLS and files:
        with tempfile.TemporaryDirectory(prefix="flux-before-") as tmp:
            return build_before(before_file(found.tool, project.resolve(), files[0], Path(tmp) / "out.json",
                                            leave_out=files[1:]))
    if found.tool == "django":  # a migration after one left out may build on it: out too
        files = sorted({later for f in files for later in f.parent.glob("[0-9]*.py") if later.name >= f.name})
    return program_schema(project, found, settings, leave_out=tuple(files), on_server=True)


# The database last built before a file, by (tool, server, project, folder): the next file's is
# built from a copy of it, the tool running only the migrations between the two (each one once
# when a folder is validated, not once per file after it). Only where the earlier file runs first
# in the tool's order (runs_before: certain for knex and sequelize, a guess TypeORM's driver checks):
# the copy must hold no migration that comes after the file.
_BUILT_BEFORE: dict[tuple[str, str, str, str], tuple[Path, str]] = {}


def _earlier(where: tuple[str, str, str, str], path: Path) -> Optional[str]:
    """The key of the database built before a file that comes before `path` in the tool's order,
    `where` (tool, server, project, folder) as _BUILT_BEFORE keys it."""
    last = _BUILT_BEFORE.get(where)
    if last is None or not runs_before(where[0], last[0].name, path.name):
        return None
    return last[1]


def runs_before(tool: str, first: str, then: str) -> bool:
    """Does migration file `first` run before `then`, and can the tool go on from a copy? knex and
    sequelize-cli sort the file names as JavaScript compares strings (UTF-16 code units). TypeORM
    orders by its classes' timestamps, which the names usually carry: said from the names, and the
    driver refuses a copy holding a migration that runs at or after the file (the database is then
    built whole, capture). Never for node-pg-migrate, whose driver runs `up N`, N counted from an
    empty database (its `up NAME` runs that one migration alone)."""
    return tool in ("knex", "sequelize", "typeorm") and first.encode("utf-16-be") < then.encode("utf-16-be")
