"""The tool functions. The CLI, the MCP server and the agent all call these,
so each behaves the same everywhere. Data flows one way:
request -> operations -> (detect, schema) -> plan -> validate -> write -> summary.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml
from pydantic import TypeAdapter, ValidationError

from .detect import Detection, detect
from .errors import FluxInputError
from .models import Operation, Plan, Schema
from .planner import build_plan
from .render import summary
from .schema.replay import read_migrations_dir
from .settings import load_settings
from .writers import get_writer

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
    project = project_path(project_dir)
    if database_url:
        raise FluxInputError("reading a live database is not available yet; read from the migrations instead")
    found = detect_tooling(str(project), tool)
    folder = project / found.migrations_dir
    if not folder.is_dir():
        return Schema()
    return read_migrations_dir(folder)


def plan_migration(operations: Sequence[Operation] | Any, project_dir: Optional[str] = None,
                   tool: Optional[str] = None, pg_version: Optional[int] = None,
                   now: Optional[datetime] = None) -> Plan:
    """Plan the operations against the project's schema; lay out the files it would write."""
    ops = list(operations) if _is_ops(operations) else parse_operations(operations)
    project = project_path(project_dir)
    settings = load_settings(project, pg_version=pg_version)
    found = detect(project, tool or settings.tool, settings)
    schema = read_schema(str(project), found.tool)
    plan = build_plan(ops, schema, settings, tool=found.tool)
    writer = get_writer(found.tool)
    plan = writer.layout(plan, project, found.migrations_dir, now or datetime.now(timezone.utc))
    return plan.model_copy(update={"summary": summary(plan)})


def write_migration(plan: Plan, project_dir: Optional[str] = None) -> list[str]:
    project = project_path(project_dir)
    written = get_writer(plan.tool).write(plan, project)
    return [p.relative_to(project).as_posix() for p in written]


def _is_ops(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(hasattr(v, "op") and not isinstance(v, dict) for v in value)
