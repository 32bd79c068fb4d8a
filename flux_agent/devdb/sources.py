"""Which SQL builds a project's schema in the dev database, by its migration tool:
SQL-history tools run their migration files in the tool's order; a dump (structure.sql,
db/schema.sql) is loaded as it is; a schema file (schema.prisma, schema.rb) with no SQL
history is read by its static reader and loaded as DDL. Program-code tools (alembic,
django, knex, typeorm, sequelize, node-pg-migrate) have no source here: None (their own
tool runs every file of the folder, pending ones included).

A dump or schema file does not show the migrations Flux wrote that the tool has not applied
yet, so those run on top of it (pending_scripts): for Rails, the SQL of Flux's own `execute`
heredocs in db/migrate files whose version the dump does not list (schema.rb's
`define(version:)`, structure.sql's schema_migrations rows); for Prisma on schema.prisma, the
migrations Flux wrote after the last one prisma made. So a second plan right after `--write`
sees the first."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Sequence

from ..errors import FluxInputError
from ..pg.ddl import schema_ddl
from ..pg.parse import ast
from ..pg.split import SqlSyntaxError, split_statements
from ..project.detect import Detection
from ..schema.migration_files import FLYWAY_NAME, FLYWAY_REPEATABLE, history_folder, read_sections, version_key
from ..schema.migration_order import flyway_code_migrations, goose_go_migrations, migration_files, number_then_name
from ..schema.project import read_project_schema
from .build import Script

SQL_HISTORY = {"sql", "dbmate", "golang-migrate", "goose", "flyway", "sqitch", "drizzle", "prisma"}


def project_scripts(project: Path, found: Detection) -> Optional[list[Script]]:
    """The scripts that build the project's current schema, or None where this tool's
    schema is not built from files (yet)."""
    folder = project / found.migrations_dir
    if found.tool in SQL_HISTORY:
        files = migration_files(folder, found.tool)
        if found.tool == "prisma" and files and all(_by_flux(f) for f in files):
            try:  # no migration of prisma's own yet: schema.prisma holds the rest of the schema
                return schema_file_scripts(project, "prisma") + pending_scripts(project, found)
            except FluxInputError:
                pass
        if files:
            scripts = [(f, _script(project, f)) for f in files]
            if found.tool == "goose":
                scripts += [(f, Script(_rel(project, f), "", not_run=_GO_NOT_RUN)) for f in goose_go_migrations(folder)]
                scripts.sort(key=lambda pair: number_then_name(pair[0]))
            elif found.tool == "flyway":
                return [s for _, s in _with_flyway_code(project, scripts)]
            return [s for _, s in scripts]
        if found.tool == "prisma":
            return schema_file_scripts(project, "prisma")
    if found.tool == "rails":
        structure = project / "db" / "structure.sql"
        if structure.is_file():
            return [_dump(project, structure)] + pending_scripts(project, found)
        return schema_file_scripts(project, "rails") + pending_scripts(project, found)
    if found.tool in SQL_HISTORY or found.tool == "sql":
        dump = project / "db" / "schema.sql"
        if dump.is_file():
            return [_dump(project, dump)]
        return []
    return None


def history_of_files(project: Path, found: Detection, files: Sequence[Path]) -> Detection:
    """`found` with the migrations folder the files belong to: the project's, or where the project
    has none, the first file's own history folder (migration_files.history_folder). validate judges
    a folder given without a project so (entry/validate._histories); trace and fix follow it too."""
    if found.tool not in SQL_HISTORY or not files or migration_files(project / found.migrations_dir, found.tool):
        return found
    folder = Path(history_folder(Path(files[0]).resolve()))
    return found.model_copy(update={"migrations_dir": _rel(project.resolve(), folder)})


_GO_NOT_RUN = "a goose Go migration (Flux runs SQL only): what it changes is missing from the dev database"
_JAVA_NOT_RUN = "a Flyway Java migration (Flux runs SQL only): what it changes is missing from the dev database"


def _with_flyway_code(project: Path, scripts: list) -> list:
    """The SQL files' scripts with a not-run note for each Java migration, in Flyway's order: a
    versioned one before the first SQL file of a higher version, a repeatable one last."""
    out = list(scripts)
    for version, path in flyway_code_migrations(project):
        note = (path, Script(_rel(project, path), "", not_run=_JAVA_NOT_RUN))
        at = len(out) if version is None else next(
            (i for i, (f, _) in enumerate(out) if (m := FLYWAY_NAME.match(f.name)) and version_key(m.group(2)) > version
             or FLYWAY_REPEATABLE.match(f.name)), len(out))
        out.insert(at, note)
    return out


def _script(project: Path, path: Path) -> Script:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    sections = read_sections(path, text)
    return Script(_rel(project, path), sections.up, sections.transactional, sections.up_line)


def _dump(project: Path, path: Path) -> Script:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    # psql runs a dump: its backslash meta-commands (pg_dump's `\restrict`, `\connect`) are for
    # psql, not the server.
    sql = "\n".join("" if line.startswith("\\") else line for line in text.split("\n"))
    return Script(_rel(project, path), sql, transactional=False)


def schema_file_scripts(project: Path, tool: str, extensions: Sequence[str] = ()) -> list[Script]:
    """A schema file's model, as DDL: the static reader's understanding, made real; with
    `extensions` besides its own (those a history that could not build created)."""
    schema = read_project_schema(project, tool, "")
    schema.extensions = sorted(set(schema.extensions) | set(extensions))
    ddl = [s for s in schema_ddl(schema) if not s.startswith("--")]
    return [Script(f"{tool} schema file (as DDL)", ";\n".join(ddl) + ";" if ddl else "", transactional=False)]


def created_extensions(scripts: Sequence[Script]) -> list[str]:
    """The extensions these scripts create (CREATE EXTENSION), read from their parse trees."""
    names: set[str] = set()
    for script in scripts:
        try:
            stmts = split_statements(script.sql)
        except SqlSyntaxError:
            continue
        names |= {s.node.extname for s in stmts if isinstance(s.node, ast.CreateExtensionStmt)}
    return sorted(names - {"plpgsql"})


def _rel(project: Path, path: Path) -> str:
    try:
        return path.relative_to(project).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------
# Flux's written-but-unapplied migrations, on top of a dump or schema file
# --------------------------------------------------------------------------

# Ruby and file names, not SQL: Flux's Rails files (write/tools/rails.py) and the dumps' versions.
_RAILS_FILE = re.compile(r"(\d+)_[a-z0-9_]+\.rb$")
_FLUX_HEADER = re.compile(r"(?:#|--) Step \d+ \([a-z]+\): ")  # the first line of every file Flux writes
_HEREDOC = re.compile(r"^\s*execute <<~'([A-Z0-9_]+)'\s*$")
_SCHEMA_RB_VERSION = re.compile(r"\.define\(\s*version:\s*([\d_]+)")
_STRUCTURE_VERSIONS = re.compile(r"INSERT INTO \"?schema_migrations\"? \(version\) VALUES([^;]*);")


def pending_scripts(project: Path, found: Detection) -> list[Script]:
    """The migrations Flux wrote that the project's dump or schema file does not show yet."""
    if found.tool == "rails":
        return _rails_pending(project, project / found.migrations_dir)
    if found.tool == "prisma":
        files = migration_files(project / found.migrations_dir, "prisma")
        theirs = [i for i, f in enumerate(files) if not _by_flux(f)]
        return [_script(project, f) for f in files[(theirs[-1] + 1 if theirs else 0):]]
    return []


def _by_flux(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return bool(_FLUX_HEADER.match(fh.readline()))
    except OSError:
        return False


def _applied_rails_versions(project: Path) -> tuple[set[int], int]:
    """(the versions db/structure.sql lists, the version db/schema.rb is at): what the dump shows."""
    structure, schema_rb = project / "db" / "structure.sql", project / "db" / "schema.rb"
    if structure.is_file():
        text = structure.read_text(encoding="utf-8", errors="replace")
        return {int(v) for block in _STRUCTURE_VERSIONS.findall(text) for v in re.findall(r"'(\d+)'", block)}, 0
    if schema_rb.is_file():
        m = _SCHEMA_RB_VERSION.search(schema_rb.read_text(encoding="utf-8", errors="replace"))
        return set(), int(m.group(1).replace("_", "")) if m else 0
    return set(), 0


def _rails_pending(project: Path, folder: Path) -> list[Script]:
    """The up SQL of Flux's Rails migrations the dump does not list, in version order; a file
    of the project's own (Ruby, not SQL) cannot be run here and is left to the dump."""
    if not folder.is_dir():
        return []
    listed, upto = _applied_rails_versions(project)
    found = sorted((int(m.group(1)), name) for name in os.listdir(folder) if (m := _RAILS_FILE.match(name)))
    scripts = []
    for version, name in found:
        if version in listed or version <= upto or not _by_flux(folder / name):
            continue
        scripts += rails_up_scripts(project, folder / name)
    return scripts


def rails_up_scripts(project: Path, path: Path) -> list[Script]:
    """The `execute <<~'SQL'` heredocs of a Flux Rails migration's `up`, as Ruby reads them
    (the squiggly heredoc drops its common indent), one script each."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    transactional = not any(line.strip() == "disable_ddl_transaction!" for line in lines)
    scripts, i, in_up = [], 0, False
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith("def "):
            in_up = stripped == "def up"
        m = _HEREDOC.match(lines[i])
        if m and in_up:
            end = next((k for k in range(i + 1, len(lines)) if lines[k].strip() == m.group(1)), len(lines))
            body = lines[i + 1:end]
            indent = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
            sql = "\n".join(x[indent:] for x in body)
            scripts.append(Script(_rel(project, path), sql, transactional, i + 1))
            i = end
        i += 1
    return scripts
