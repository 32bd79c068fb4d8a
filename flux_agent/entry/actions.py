"""The tool functions. The CLI, the MCP server and the agent all call these,
so each behaves the same everywhere. Data flows one way:
request -> operations -> (detect, schema) -> plan -> validate -> write -> summary.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml
from pydantic import TypeAdapter, ValidationError

from ..write.deploy_groups import PlanRecord, WriteOutcome, continue_plan, write_first
from ..write.formatter import format_code_changes
from ..project.detect import Detection, ddl_folders, detect
from ..project.dialect import not_postgres
from ..errors import FluxInputError, UnknownName
from ..model.plan import FileFinding, Finding, Plan
from ..model.operations import Operation
from ..model.schema import Schema
from ..plan import live_rows
from ..plan.estimate import annotate
from ..schema.replay.steps import schemas_before_each
from ..devdb import probe
from ..devdb.build import Built, MissingExtension
from ..devdb.program import explains_schema
from ..devdb.project import project_schema
from ..plan.planner import build_plan
from ..schema.project import read_migrations_history, read_project_schema
from ..project.config import load_settings
from ..lint.engine import validate_plan
from ..write.tools import get_writer

from .validate import validate_paths  # noqa: F401 (the tool function lives there: light imports)

_OPS = TypeAdapter(list[Operation])


def project_path(project_dir: Optional[str | Path]) -> Path:
    path = Path(project_dir or ".").resolve()
    if not path.is_dir():
        raise FluxInputError(f"project folder {str(project_dir)!r} does not exist")
    return path


def parse_operations(data: Any) -> list[Operation]:
    """One operation object or a list of them, already decoded from JSON/YAML."""
    if isinstance(data, dict) and "operations" in data and "op" not in data:
        data = data["operations"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise FluxInputError("operations must be an object with an 'op' field or a non-empty list of them")
    try:
        return _OPS.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise FluxInputError(f"operation {where}: {err['msg']}") from None


def load_operations(text: str) -> list[Operation]:
    """`--op` value: inline JSON, or @FILE with .json, .yaml or .yml."""
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise FluxInputError(f"operations file {str(path)!r} not found")
        raw = path.read_text(encoding="utf-8")
        loader = yaml.safe_load if path.suffix in (".yaml", ".yml") else json.loads
    else:
        raw, loader = text, json.loads
    try:
        data = loader(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise FluxInputError(f"operations are not valid JSON/YAML: {first}") from None
    return parse_operations(data)


def detect_tooling(project_dir: Optional[str] = None, tool: Optional[str] = None) -> Detection:
    project = project_path(project_dir)
    settings = load_settings(project)
    return detect(project, tool or settings.tool, settings)


def read_schema(project_dir: Optional[str] = None, tool: Optional[str] = None,
                database_url: Optional[str] = None) -> Schema:
    """The project's current schema, from the reader its migration tool calls for."""
    return current_schema(project_dir, tool, database_url)[0]


def current_schema(project_dir: Optional[str] = None, tool: Optional[str] = None,
                   database_url: Optional[str] = None,
                   migrations_dir: Optional[str] = None) -> tuple[Schema, list[str]]:
    """(the project's current schema, notes on how it was read). PostgreSQL is the truth:
    the dev database built from the project's own files, read from its catalogs; the
    static readers where the dev database cannot hold the project (an extension the
    server lacks, a tool whose migrations are program code) or FLUX_DEVDB=off."""
    return _read_schema(project_dir, tool, database_url, migrations_dir)[:2]


def _read_schema(project_dir: Optional[str], tool: Optional[str], database_url: Optional[str],
                 migrations_dir: Optional[str]) -> tuple[Schema, list[str], Optional[Built]]:
    """current_schema's, with the dev database build it was read from (None: read otherwise)."""
    project = project_path(project_dir)
    settings = load_settings(project, migrations_dir=migrations_dir)
    found = detect(project, tool or settings.tool, settings)
    if not_postgres(found.dialect, found.evidence):
        raise FluxInputError(not_postgres(found.dialect, found.evidence))
    if database_url:
        return read_project_schema(project, found.tool, found.migrations_dir, database_url), [], None
    schema, notes, built = None, [], None
    if os.environ.get("FLUX_DEVDB", "").lower() not in ("off", "0", "no"):
        try:
            built = project_schema(project, found, settings)
        except MissingExtension as exc:
            built, notes = None, [f"{exc}; the schema is read without PostgreSQL meanwhile"]
            # Prisma's static reader reads schema.prisma; its migrations, replayed, are what the database
            # holds (formbricks' pgvector: a column its migrations add, names PostgreSQL truncated).
            schema = read_migrations_history(project, found.tool, found.migrations_dir)
        if built is not None:
            schema, notes = built.schema, built.notes
    if schema is None:
        schema = read_project_schema(project, found.tool, found.migrations_dir)
    if not (schema.tables or schema.views or schema.enums):
        _refuse_silent_empty(project, found)
    return schema, notes, built


def _refuse_silent_empty(project: Path, found: Detection) -> None:
    """An empty schema is right for a new project, and wrong when the migrations are
    somewhere Flux did not look: then say where it looked and how to point it there."""
    elsewhere = ddl_folders(project, skip=found.migrations_dir)
    if not elsewhere:
        return
    looked = project / found.migrations_dir
    state = "has no migration files" if looked.is_dir() else "does not exist"
    shown = ", ".join(f"{f}/" for f in elsewhere[:3]) + (f" and {len(elsewhere) - 3} more" if len(elsewhere) > 3 else "")
    raise FluxInputError(
        f"read no tables: {found.tool} migrations were looked for in {found.migrations_dir}/, which {state}, "
        f"but SQL creating tables is in {shown}; point flux there with migrations_dir (and tool) in .flux.yaml "
        f"or [tool.flux] in pyproject.toml, or pass --tool")


def plan_migration(operations: Sequence[Operation] | Any, project_dir: Optional[str] = None,
                   tool: Optional[str] = None, pg_version: Optional[int] = None,
                   now: Optional[datetime] = None, database_url: Optional[str] = None,
                   migrations_dir: Optional[str] = None) -> Plan:
    """Plan the operations against the project's schema (or a live database's, which
    also gives the table sizes for duration estimates); lay out the files it would write."""
    ops = list(operations) if _is_ops(operations) else parse_operations(operations)
    project = project_path(project_dir)
    settings = load_settings(project, pg_version=pg_version, migrations_dir=migrations_dir)
    found = detect(project, tool or settings.tool, settings)
    schema, notes, built = _read_schema(str(project), found.tool, database_url, migrations_dir)
    writer = get_writer(found.tool)
    try:
        plan = build_plan(ops, schema, settings, tool=found.tool, convention=writer.naming_convention(project))
    except FluxInputError as exc:
        why = [n for n in notes if explains_schema(n)]
        if not why or not isinstance(exc, UnknownName):
            raise
        # The schema lacks what the history failed to make: say why with the refusal.
        raise FluxInputError(f"{exc} (the project's migrations do not build cleanly on PostgreSQL: "
                             f"{why[0]}{f'; and {len(why) - 1} more' if len(why) > 1 else ''})") from None
    refused = probe.refused(built, settings, plan.operations) if built is not None else None
    if refused:  # the names are right (build_plan checked them); a type or a value is not
        raise FluxInputError(refused)
    plan = writer.layout(plan, project, found.migrations_dir, now or datetime.now(timezone.utc))
    changes = format_code_changes(writer.code_changes(plan, project), project, settings.format_files)
    plan = plan.model_copy(update={"code_changes": changes})
    before = schemas_before_each([s.up_sql for s in plan.steps], schema)  # each step replayed once
    # How the schema was read belongs to the plan's findings: a statement of the history skipped
    # on the dev database means the plan starts from a schema the history alone does not make.
    read = [Finding(rule="dev-database", severity="warning", message=n) for n in notes]
    if database_url:  # production's rows a step would fail on (duplicates, NULLs), counted where cheap
        read += live_rows.refusing(database_url, plan.operations, schema)
    if found.ambiguous:  # planned for the first candidate; the user may mean another
        others = ", ".join(c for c in found.candidates if c != found.tool)
        read.insert(0, Finding(rule="ambiguous-tool", severity="warning", message=(
            f"planned for {found.tool}, but {others} also claim this project; choose with --tool or `tool:` in "
            ".flux.yaml")))
    plan = plan.model_copy(update={"findings": read + plan.findings + validate_plan(plan, schema, settings, before)})
    return annotate(plan, schema, before=before)  # estimates from table statistics


def validate_migration(paths: Sequence[str | Path], project_dir: Optional[str] = None,
                       tool: Optional[str] = None, since: Optional[str] = None) -> list[FileFinding]:
    """Findings for migration files (or folders of them), judged against the
    project's schema; empty when clean (DESIGN.md section 3). `since`: a git ref,
    only the files added or changed since it judged."""
    return validate_paths(paths, project_dir, tool, since=since)[1]


def write_migration(plan: Plan, project_dir: Optional[str] = None,
                    migrations_dir: Optional[str] = None) -> WriteOutcome:
    """Write the steps up to the first code deploy; the rest wait for `flux continue`."""
    project = project_path(project_dir)
    settings = load_settings(project, migrations_dir=migrations_dir)
    found = detect(project, plan.tool, settings)
    return write_first(plan, project, found.migrations_dir)


def pending_plan(project_dir: Optional[str], record: Optional[str]) -> Plan:
    """The plan kept in a plan record (relative path), for showing its summary again."""
    if not record:
        raise FluxInputError("no plan record")
    path = project_path(project_dir) / record
    return PlanRecord.model_validate_json(path.read_text(encoding="utf-8")).plan


def continue_migration(project_dir: Optional[str] = None, plan_id: Optional[str] = None) -> WriteOutcome:
    """Write the next group of a plan's steps, after its code deploy has happened."""
    return continue_plan(project_path(project_dir), plan_id)


def _is_ops(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(hasattr(v, "op") and not isinstance(v, dict) for v in value)
