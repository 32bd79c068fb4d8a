"""The MCP server (stdio), on the official `mcp` SDK's low-level server.

Tools and their input schemas come from entry/tool_specs.py (compacted by
entry/tool_schema.py); every call goes through entry/tool_calls.py, as the agent's do.
Results are compact JSON text, once (no structured copy beside it, no output schemas:
both would cost the model's context twice). A bad call is a tool error of one line;
the server keeps serving. Only the SDK and the light models load at start: a tool
imports the planner when it is first called.
"""

from __future__ import annotations

import io
import json
import os

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from .. import __version__
from ..errors import error_line
from . import tool_calls
from .session import session_root
from .tool_schema import tool_input_schema
from .tool_specs import TOOLS

INSTRUCTIONS = (
    "Flux plans zero-downtime PostgreSQL schema changes. detect_tooling and read_schema first; then "
    "plan_migration with typed operations (raw_sql when none fits); write_migration with its plan_id; "
    "verify_migration before deploying; validate_migration for SQL someone wrote. Show each summary to the "
    "user verbatim. Results are compact JSON: a field left out is empty."
)


def tool_list() -> list[types.Tool]:
    return [types.Tool(name=s.name, description=s.description, input_schema=tool_input_schema(s.request))
            for s in TOOLS]


def build_server() -> Server:
    tools = tool_list()
    root = session_root()

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:  # a worker thread: planning blocks, and the server keeps answering meanwhile
            text = await anyio.to_thread.run_sync(tool_calls.call, params.name, params.arguments, root)
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)])
        except Exception as exc:  # one line, as on every surface (errors.error_line)
            line = error_line(exc, params.name)[0]
            return types.CallToolResult(content=[types.TextContent(type="text", text=line)], is_error=True)

    return Server("flux", version=__version__, instructions=INSTRUCTIONS, on_list_tools=list_tools,
                  on_call_tool=call_tool)


async def _serve(server: Server) -> None:
    # The wire moves off fd 0, which then reads EOF for any child process (as the SDK does).
    wire = os.fdopen(os.dup(0), "rb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    lines = anyio.wrap_file(io.TextIOWrapper(wire, encoding="utf-8", errors="replace"))
    async with stdio_server(stdin=_AnsweredLines(lines)) as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


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
        types.jsonrpc_message_adapter.validate_json(line, by_name=False)
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


def main() -> None:
    anyio.run(_serve, build_server())
