"""Which SQL builds a project's schema in the dev database, by its migration tool:
SQL-history tools run their migration files in the tool's order; a dump (structure.sql,
db/schema.sql) is loaded as it is; a schema file (schema.prisma, schema.rb) with no SQL
history is read by its static reader and loaded as DDL. Program-code tools (alembic,
django, knex, typeorm, sequelize, node-pg-migrate) have no source here yet: None."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ..errors import FluxInputError
from ..pg.ddl import schema_ddl
from ..pg.parse import SqlSyntaxError, ast, split_statements
from ..project.detect import Detection
from ..schema.migration_files import migration_files, read_sections
from ..schema.project import read_project_schema
from .build import Script

SQL_HISTORY = {"sql", "dbmate", "golang-migrate", "goose", "flyway", "sqitch", "drizzle", "prisma"}


def project_scripts(project: Path, found: Detection) -> Optional[list[Script]]:
    """The scripts that build the project's current schema, or None where this tool's
    schema is not built from files (yet)."""
    folder = project / found.migrations_dir
    if found.tool in SQL_HISTORY:
        files = migration_files(folder, found.tool)
        if files:
            return [_script(project, f) for f in files]
        if found.tool == "prisma":
            return schema_file_scripts(project, "prisma")
    if found.tool == "rails":
        structure = project / "db" / "structure.sql"
        if structure.is_file():
            return [_dump(project, structure)]
        return schema_file_scripts(project, "rails")
    if found.tool in SQL_HISTORY or found.tool == "sql":
        dump = project / "db" / "schema.sql"
        if dump.is_file():
            return [_dump(project, dump)]
        return []
    return None


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
