"""The MCP server (stdio), on the official `mcp` SDK 2.x.

Each tool's parameters are the fields of its request model in
flux_agent/tool_api.py, so the input schema MCP clients see is generated from
that model; the return annotation is the result model (output schema).
A bad call becomes a tool error with one clear line; the server keeps serving.
"""

from __future__ import annotations

import inspect
import io
import json
import os
from typing import Annotated, Any

import anyio
import mcp_types
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.stdio import stdio_server
from pydantic import Field, ValidationError

from ..plan import summary as render

from .. import __version__
from ..errors import error_line, one_line
from .tool_specs import BY_NAME, TOOLS, ToolSpec

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
        except Exception as exc:  # one line, as on every surface (errors.error_line)
            raise ToolError(error_line(exc, spec.name)[0]) from None

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
    extra = {}
    if field.description:
        extra["description"] = field.description
    for meta in field.metadata:  # keep constraints such as min_length, ge
        for key in ("min_length", "max_length", "ge", "gt", "le", "lt"):
            if getattr(meta, key, None) is not None:
                extra[key] = getattr(meta, key)
    return Annotated[field.annotation, Field(**extra)] if extra else field.annotation


class FluxServer(MCPServer):
    """The SDK's server with every tool error on one line: the SDK reports arguments
    that fail its schema check as a multi-line pydantic dump."""

    async def call_tool(self, name, arguments, context=None):
        spec = BY_NAME.get(name)
        unknown = sorted(set(arguments or {}) - set(spec.request.model_fields)) if spec else []
        if unknown:  # the SDK would drop them silently: a misspelt argument must not be ignored
            raise ToolError(f"unknown argument {unknown[0][:100]!r} for {name}; expected one of: "
                            f"{', '.join(spec.request.model_fields)}")
        try:
            with render.surface("tools"):  # results name the tools the model has, not CLI commands
                return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            text = error_line(cause)[0] if isinstance(cause, ValidationError) else one_line(exc)
            raise ToolError(text) from cause

    async def run_stdio_async(self) -> None:
        # The wire moves off fd 0, which then reads EOF for any child process (as the SDK does).
        wire = os.fdopen(os.dup(0), "rb")
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        lines = anyio.wrap_file(io.TextIOWrapper(wire, encoding="utf-8", errors="replace"))
        async with stdio_server(stdin=_AnsweredLines(lines)) as (read_stream, write_stream):
            await self._lowlevel_server.run(read_stream, write_stream,
                                            self._lowlevel_server.create_initialization_options())


class _AnsweredLines:
    """stdin lines for the SDK. A request the SDK would drop without an answer (params that are
    not an object, a bad jsonrpc field) becomes a call of a method no server has, named by
    what is wrong, so the client still gets one error under its request id."""

    def __init__(self, lines):
        self._lines = lines

    async def __aiter__(self):
        async for line in self._lines:
            yield _answerable(line)


def _answerable(line: str) -> str:
    try:
        mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
        return line
    except ValueError:
        pass
    try:
        data = json.loads(line)
    except ValueError:
        return line  # not JSON: there is no id to answer under
    rid = data.get("id") if isinstance(data, dict) else None
    if not isinstance(rid, (int, str)) or isinstance(rid, bool) or "method" not in data:
        return line
    method = data["method"] if isinstance(data["method"], str) else repr(data["method"])
    why = "params must be an object" if "params" in data and not isinstance(data["params"], dict) else \
        "not a valid JSON-RPC 2.0 request"
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": f"invalid request {method[:100]!r}: {why}"})


def build_server() -> MCPServer:
    server = FluxServer("flux", version=__version__, instructions=INSTRUCTIONS)
    for spec in TOOLS:
        server.add_tool(_tool_function(spec), name=spec.name, description=spec.description,
                        structured_output=True)
    return server


def main() -> None:
    build_server().run("stdio")


