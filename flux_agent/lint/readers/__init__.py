"""Migration files in any format, read back into the SQL PostgreSQL will run, so the same rules
judge them all: one module per migration tool that keeps migrations as program code
(alembic.py, django.py, rails.py, knex.py, typeorm.py, sequelize.py, node_pg_migrate.py), each
declaring `READER = Reader(...)`. A reader gives the SQL in pieces, each with the line of the
user's file it comes from, the tool's transaction mode, and what it could not read; SQL files
keep their own reading (schema/migration_files.py)."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, Field

from ...errors import FluxInternalError
from ...model.schema import Schema
from ..files import CODE_SUFFIXES


class Piece(BaseModel):
    """SQL the migration sends, and the line of the user's file that sends it."""

    sql: str
    line: int


def joined_sql(pieces: list[Piece]) -> str:
    """The pieces' SQL as one text to replay, each ending its statement on a line of its own (a
    piece may end in a comment)."""
    return "\n".join(p.sql.strip() + ("" if p.sql.strip().endswith(";") else "\n;") for p in pieces if p.sql.strip())


class Unread(BaseModel):
    """Part of a migration a reader could not turn into SQL: judged by nobody, so said."""

    line: int
    what: str = Field(description="what was not analysed, and why")
    rows_only: bool = Field(False, description=(
        "Ruby that changes rows through a model the migration defines for itself, not tables: the schema "
        "after it is the schema before it"))


class Irreversible(BaseModel):
    """The call that leaves a migration's down part empty where its tool derives that part (Rails'
    `change`, Django's operations): a rollback of it is refused by the tool."""

    line: int
    what: str = Field(description="what cannot be inverted, and what the tool does on a rollback")
    hint: str = Field(description="how to give the tool its inverse, in the tool's words")


class ReadMigration(BaseModel):
    """A migration file as its tool would run it."""

    tool: str
    up: list[Piece] = Field(default_factory=list)
    down: Optional[list[Piece]] = Field(None, description="None: the format has no down part")
    transactional: bool = True  # the tool wraps the up part in a transaction
    one_query: bool = False  # the tool sends the up part as one query
    unread: list[Unread] = Field(default_factory=list)
    fails: Optional[Unread] = Field(None, description=(
        "where the tool's own run of the migration failed on the database the migrations before it made "
        "(Django's walk), and what it said"))
    down_unread: bool = Field(False, description=(
        "Ruby in the down part the reader did not read (Rails): the down SQL may not undo the up part whole"))
    irreversible: Optional[Irreversible] = Field(None, description=(
        "the call that leaves the down part empty, where the tool derives it (Rails' change, Django's "
        "operations)"))
    schema_before: Optional[Schema] = Field(None, description=(
        "the schema just before the migration, read from PostgreSQL's catalogs where the reader ran the "
        "project's tool up to it (the Node tools); None where it did not"))


@dataclass(frozen=True)
class Reader:
    tool: str
    suffixes: tuple[str, ...]  # file name endings it reads (".py", ".rb", ".js", ...)
    claims: Callable[[str], bool]  # does this text look like this tool's migration?
    read: Callable[[Path, str, Optional[Path]], ReadMigration]  # (file, its text, the project or None)
    # Read many files of a project ahead, in one go, for `read` to give (the Django reader's walk).
    read_many: Optional[Callable[[list[Path], Optional[Path]], None]] = None
    # Has the file (its name, its text) the tool's migration shape alone (an `up`)? Claimed so where the
    # project uses the tool and no reader claims it: outline's sequelize migrations that only run a script
    # name no queryInterface.
    shaped: Optional[Callable[[str, str], bool]] = None


def _load() -> list[Reader]:
    readers = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        reader = getattr(mod, "READER", None)
        if not isinstance(reader, Reader) or reader.tool.replace("-", "_") != info.name:
            raise FluxInternalError(f"reader module {info.name} declares no READER for tool {info.name}")
        if not set(reader.suffixes) <= set(CODE_SUFFIXES):  # a folder's walk would pass its files over
            raise FluxInternalError(f"reader {info.name} reads {reader.suffixes}: lint/files.py CODE_SUFFIXES "
                                    f"has {CODE_SUFFIXES}")
        readers.append(reader)
    return readers


READERS: list[Reader] = _load()


def reader_for(path: Path, text: str, tool: Optional[str] = None) -> Optional[Reader]:
    """The reader of the project's tool when it claims the file, else the first that does."""
    name = path.name.lower()
    fits = [r for r in READERS if name.endswith(r.suffixes) and r.claims(text)]
    if not fits and tool is not None:
        fits = [r for r in READERS if r.tool == tool and name.endswith(r.suffixes) and r.shaped and r.shaped(name, text)]
    return next((r for r in fits if r.tool == tool), fits[0] if fits else None)


def claimed(path: Path, tool: Optional[str] = None) -> bool:
    """Is `path` a migration file some reader reads (for walking a folder)?"""
    if not path.name.lower().endswith(CODE_SUFFIXES):
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return reader_for(path, text, tool) is not None


def read_ahead(paths: list[Path], project: Optional[Path], tool: Optional[str]) -> None:
    """Let the project's tool's reader read `paths` (its own migrations, in order) ahead in one
    go where it can (Reader.read_many); `read` then gives each as that reading left it."""
    reader = next((r for r in READERS if r.tool == tool), None)
    if reader is None or reader.read_many is None:
        return
    mine = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if path.name.lower().endswith(reader.suffixes) and reader_for(path, text, tool) is reader:
            mine.append(path)
    if mine:
        reader.read_many(mine, project)
