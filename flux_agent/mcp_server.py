"""The MCP server (stdio), on the official `mcp` SDK 2.x.

Each tool's parameters are the fields of its request model in
flux_agent/tool_api.py, so the input schema MCP clients see is generated from
that model; the return annotation is the result model (output schema).
A bad call becomes a tool error with one clear line; the server keeps serving.
"""

from __future__ import annotations

import inspect
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from .errors import FluxError
from .tool_api import TOOLS, ToolSpec

INSTRUCTIONS = (
    "Flux plans zero-downtime PostgreSQL schema changes. Call detect_tooling and read_schema first, "
    "then plan_migration with typed operations (or raw_sql when none fits), then write_migration. "
    "Show the returned summary to the user verbatim."
)


def _tool_function(spec: ToolSpec):
    """A function whose signature mirrors the request model's fields."""

    def call(**kwargs: Any):
        try:
            request = spec.request(**kwargs)
            return spec.handler(request)
        except FluxError as exc:
            raise ToolError(" ".join(str(exc).split())) from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ToolError(f"invalid argument {where}: {err['msg']}") from None

    params = []
    for name, field in spec.request.model_fields.items():
        default = inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=_annotated(field)))
    call.__signature__ = inspect.Signature(params, return_annotation=spec.result)
    call.__name__ = spec.name
    call.__doc__ = spec.description
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": spec.result}
    return call


def _annotated(field):
    from typing import Annotated

    from pydantic import Field

    extra = {}
    if field.description:
        extra["description"] = field.description
    for meta in field.metadata:  # keep constraints such as min_length, ge
        for key in ("min_length", "max_length", "ge", "gt", "le", "lt"):
            if getattr(meta, key, None) is not None:
                extra[key] = getattr(meta, key)
    return Annotated[field.annotation, Field(**extra)] if extra else field.annotation


def build_server() -> MCPServer:
    server = MCPServer("flux", version=_version(), instructions=INSTRUCTIONS)
    for spec in TOOLS:
        server.add_tool(_tool_function(spec), name=spec.name, description=spec.description,
                        structured_output=True)
    return server


def main() -> None:
    build_server().run("stdio")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flux-agent")
    except PackageNotFoundError:
        return "0.0.0"
