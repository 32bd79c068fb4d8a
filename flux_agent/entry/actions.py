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
from ..project.detect import Detection, ddl_folders, detect
from ..errors import FluxInputError
from ..model.plan import FileFinding, Finding, Plan
from ..model.operations import Operation
from ..model.schema import Schema
from ..plan.estimate import annotate
from ..schema.replay.steps import schemas_before_each
from ..devdb.build import MissingExtension
from ..devdb.project import project_schema
from ..plan.planner import build_plan
from ..schema.project import read_project_schema
from ..schema.migration_files import has_down_sql
from ..schema.replay.engine import FolderReplay
from ..project.config import load_settings
from ..lint.engine import expand_paths, validate_file, validate_plan
from ..lint.rules import BY_ID
from ..write.tools import get_writer

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
                   database_url: Optional[str] = None) -> tuple[Schema, list[str]]:
    """(the project's current schema, notes on how it was read). PostgreSQL is the truth:
    the dev database built from the project's own files, read from its catalogs; the
    static readers where the dev database cannot hold the project (an extension the
    server lacks, a tool whose migrations are program code) or FLUX_DEVDB=off."""
    project = project_path(project_dir)
    settings = load_settings(project)
    found = detect(project, tool or settings.tool, settings)
    if database_url:
        return read_project_schema(project, found.tool, found.migrations_dir, database_url), []
    schema, notes = None, []
    if os.environ.get("FLUX_DEVDB", "").lower() not in ("off", "0", "no"):
        try:
            built = project_schema(project, found, settings)
        except MissingExtension as exc:
            built, notes = None, [f"{exc}; the schema is read without PostgreSQL meanwhile"]
        if built is not None:
            schema, notes = built.schema, built.notes
    if schema is None:
        schema = read_project_schema(project, found.tool, found.migrations_dir)
    if not (schema.tables or schema.views or schema.enums):
        _refuse_silent_empty(project, found)
    return schema, notes


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
                   now: Optional[datetime] = None, database_url: Optional[str] = None) -> Plan:
    """Plan the operations against the project's schema (or a live database's, which
    also gives the table sizes for duration estimates); lay out the files it would write."""
    ops = list(operations) if _is_ops(operations) else parse_operations(operations)
    project = project_path(project_dir)
    settings = load_settings(project, pg_version=pg_version)
    found = detect(project, tool or settings.tool, settings)
    schema, notes = current_schema(str(project), found.tool, database_url)
    try:
        plan = build_plan(ops, schema, settings, tool=found.tool)
    except FluxInputError as exc:
        if not notes:
            raise
        # The schema lacks what the history failed to make: say why with the refusal.
        raise FluxInputError(f"{exc} (the project's migrations do not build cleanly on PostgreSQL: "
                             f"{notes[0]}{f'; and {len(notes) - 1} more' if len(notes) > 1 else ''})") from None
    writer = get_writer(found.tool)
    plan = writer.layout(plan, project, found.migrations_dir, now or datetime.now(timezone.utc))
    plan = plan.model_copy(update={"code_changes": writer.code_changes(plan, project)})
    before = schemas_before_each([s.up_sql for s in plan.steps], schema)  # each step replayed once
    # How the schema was read belongs to the plan's findings: a statement of the history skipped
    # on the dev database means the plan starts from a schema the history alone does not make.
    read = [Finding(rule="dev-database", severity="warning", message=n) for n in notes]
    if found.ambiguous:  # planned for the first candidate; the user may mean another
        others = ", ".join(c for c in found.candidates if c != found.tool)
        read.insert(0, Finding(rule="ambiguous-tool", severity="warning", message=(
            f"planned for {found.tool}, but {others} also claim this project; choose with --tool or `tool:` in "
            ".flux.yaml")))
    plan = plan.model_copy(update={"findings": read + plan.findings + validate_plan(plan, schema, settings, before)})
    return annotate(plan, schema, before=before)  # estimates from table statistics


def validate_migration(paths: Sequence[str | Path], project_dir: Optional[str] = None,
                       tool: Optional[str] = None) -> list[FileFinding]:
    """Findings for migration files (or folders of them), judged against the
    project's schema; empty when clean (DESIGN.md section 3)."""
    return validate_paths(paths, project_dir, tool)[1]


def validate_paths(paths: Sequence[str | Path], project_dir: Optional[str] = None,
                   tool: Optional[str] = None,
                   include_rules: Sequence[str] = ()) -> tuple[list[Path], list[FileFinding]]:
    """(the files checked, their findings). A file inside the project's migrations
    folder is judged against the schema the migrations before it build, never
    against its own effects; any other file against the whole folder's schema."""
    project = project_path(project_dir)
    settings = load_settings(project)
    if include_rules:
        unknown = [r for r in include_rules if r not in BY_ID]
        if unknown:
            raise FluxInputError(f"unknown rule {unknown[0]!r}")
        settings = settings.model_copy(update={"include_rules": sorted(set(settings.include_rules) | set(include_rules))})
    if not paths:
        raise FluxInputError("nothing to validate: give migration files or folders")
    resolved = []
    for p in paths:
        path = Path(p)
        if not path.is_absolute() and not path.exists() and (project / path).exists():
            path = project / path  # relative to the project (MCP callers) rather than the working directory
        resolved.append(str(path))
    found = detect(project, tool or settings.tool, settings)
    files = expand_paths(resolved, found.tool)
    if not files:
        raise FluxInputError(f"no migration files (SQL, or a migration tool's program code) in "
                             f"{', '.join(str(p) for p in paths)}")
    history = _histories(project, settings, tool)
    current: list[Schema] = []  # the project's schema from the dev database, read once if needed
    findings: list[FileFinding] = []
    for file in files:
        if not file.name.lower().endswith(".sql"):
            # Program code: the schema before it would need the tool's history run up to it; a file
            # of the project's migrations is judged without a schema, a proposed one against PostgreSQL's.
            proposed = (project / found.migrations_dir).resolve() not in file.resolve().parents
            current = current or ([current_schema(str(project), tool)[0]] if proposed else [])
            schema = current[0] if proposed else None
            findings.extend(validate_file(file, settings, schema, display=str(file), project=project,
                                          tool=found.tool))
            continue
        hist, member = history(file)
        # A folder with no down SQL at all ships up migrations only, on purpose.
        judged = settings if not hist.up_only() else settings.model_copy(update={"require_down": False})
        if member is None and hist.files:
            # A change proposed on top of the project: judged against the schema PostgreSQL holds.
            current = current or [current_schema(str(project), tool)[0]]
            before = current[0]
        else:
            before = hist.before(member)  # the history replayed to just before the file (offline, fast)
        found = validate_file(file, judged, before, display=str(file))
        findings.extend(sorted(found, key=lambda f: f.line))  # whole-file rules come last otherwise
    return files, findings


def _histories(project: Path, settings, tool: Optional[str]):
    """A function file -> (the history it belongs to, the file as a member of it, or None for
    "after the whole history"). A file of the project's migrations folder follows that folder's
    history; any other file is a change proposed on top of the project's schema, unless the
    project has no migrations, where the file's own folder is its history (a folder validated
    without --project)."""
    found = detect(project, tool or settings.tool, settings)
    folder = project / found.migrations_dir
    project_history = _History(folder, found.tool)
    in_project = {f.resolve() for f in project_history.files}
    histories: dict[Path, _History] = {}

    def history_of(file: Path) -> tuple[_History, Optional[Path]]:
        if file.resolve() in in_project or project_history.files:
            return project_history, file if file.resolve() in in_project else None
        if file.parent.resolve() not in histories:
            histories[file.parent.resolve()] = _History(file.parent, found.tool)
        return histories[file.parent.resolve()], file

    return history_of


class _History:
    """The schemas a folder of migrations leaves after each file, replayed once, in its tool's order.
    A broken file is left out of the history (skip_broken): validating the files after it must not
    fail because of it, and it gets its own finding when it is validated."""

    def __init__(self, folder: Path, tool: str):
        self._replay = FolderReplay(folder, tool, skip_broken=True)
        self.files = self._replay.files
        self.index = {f.resolve(): i for i, f in enumerate(self.files)}
        self.schemas: list[Schema] = [Schema()]  # schemas[i]: before file i
        self._up_only: Optional[bool] = None

    def up_only(self) -> bool:
        """No file of the folder has down SQL (and there are files)."""
        if self._up_only is None:
            self._up_only = bool(self.files) and not any(has_down_sql(f) for f in self.files)
        return self._up_only

    def before(self, file: Optional[Path]) -> Schema:
        """Before `file` (None: after every file)."""
        stop = len(self.files) if file is None else self.index.get(file.resolve(), len(self.files))
        while len(self.schemas) <= stop:
            self.schemas.append(self._replay.advance())
        return self.schemas[stop]


def write_migration(plan: Plan, project_dir: Optional[str] = None) -> WriteOutcome:
    """Write the steps up to the first code deploy; the rest wait for `flux continue`."""
    project = project_path(project_dir)
    settings = load_settings(project)
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
