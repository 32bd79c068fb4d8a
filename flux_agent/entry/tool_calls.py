"""One tool call, the same for the MCP server and the agent: arguments checked (size, names,
model), the handler run inside the session's project, and the result as compact JSON within
what a model's context can take. Errors are raised; each surface turns them into its one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import FluxInputError
from ..plan.summary import surface
from .tool_specs import BY_NAME

# A typed operation is a few hundred characters; SQL this long belongs in a file for validate_migration.
MAX_ARGUMENTS = 50_000
# About 20k tokens: under Claude Code's default cap on a tool result (MAX_MCP_OUTPUT_TOKENS, 25k).
MAX_RESULT = 80_000


def call(name: str, arguments: Any, root: Path) -> str:
    """The result's compact JSON text."""
    return answer(name, arguments, root)[0]


def answer(name: str, arguments: Any, root: Path) -> tuple[str, BaseModel]:
    """(the result's compact JSON text, the result)."""
    spec = BY_NAME.get(name)
    if spec is None:
        raise FluxInputError(f"unknown tool {str(name)[:100]!r}; tools: {', '.join(BY_NAME)}")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise FluxInputError("the tool's arguments must be a JSON object")
    size = len(json.dumps(arguments, default=str))
    if size > MAX_ARGUMENTS:
        raise FluxInputError(f"the arguments are {size:,} characters, over the {MAX_ARGUMENTS:,} a call takes: "
                             "write long SQL to a file in the project and check it with validate_migration")
    unknown = sorted(set(arguments) - set(spec.request.model_fields))
    if unknown:  # a misspelt argument must not be ignored
        raise FluxInputError(f"unknown argument {unknown[0][:100]!r} for {name}; expected one of: "
                             f"{', '.join(spec.request.model_fields)}")
    request = spec.request.model_validate(arguments)
    with surface("tools"):  # results name the tools the model has, not CLI commands (summaries render here)
        result = spec.handler(request, root)
        text = compact(result)
    if len(text) > MAX_RESULT:
        raise FluxInputError(_too_big(name, result, len(text)))
    return text, result


def compact(result: BaseModel) -> str:
    """JSON without indentation, nulls or empty lists: absent means none."""
    return json.dumps(_prune(result.model_dump(mode="json")), separators=(",", ":"), ensure_ascii=False)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _too_big(name: str, result: BaseModel, size: int) -> str:
    over = f"the {name} result is {size:,} characters, over the {MAX_RESULT:,} a tool result may hold"
    tables = getattr(result, "tables", None)
    if name == "read_schema" and tables:
        names = [t.name for t in tables]
        shown = ", ".join(names[:100]) + (f" and {len(names) - 100} more" if len(names) > 100 else "")
        return f"{over}: call read_schema with tables naming the ones the change touches; tables: {shown}"
    return f"{over}: make the request smaller (fewer operations, shorter SQL)"
