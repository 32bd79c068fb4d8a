"""The MCP server as a user's Claude Code starts it: start-up time, tools/list size, and each
tool's latency and result size on the bundled example.

    python benchmarks/mcp_server.py [--runs 3] [--cold] [--empty-cache]

Starts the server with the command and args of .mcp.json (${CLAUDE_PLUGIN_ROOT} = this
repo) through the official MCP client, in a copy of examples/shop. Prints:
- warm start: time to the initialize answer, beside a minimal server on the same SDK
  (one tool, nothing else imported): the floor Flux is measured against;
- --cold: the first start with a fresh uv project environment (uv's cache as it is);
- --empty-cache: the same with an empty uv cache too (downloads every package);
- tools/list: total characters, and per tool its description and input schema;
- per tool: latency and result characters (median of --runs calls).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = '''
from mcp.server.mcpserver import MCPServer
server = MCPServer("minimal")
@server.tool()
def ping(text: str) -> str:
    """Echo."""
    return text
server.run("stdio")
'''


def _mcp_command() -> tuple[str, list[str]]:
    spec = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]["flux"]
    sub = lambda s: s.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))  # noqa: E731
    return sub(spec["command"]), [sub(a) for a in spec.get("args", [])]


def _initialize_time(command: str, args: list[str], cwd: Path, env: dict, timeout: float = 600) -> float:
    """Seconds from spawning the server to its answer to initialize."""
    started = time.perf_counter()
    proc = subprocess.Popen([command, *args], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}}) + "\n")
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"the server closed before answering initialize: {command} {args}")
            if json.loads(line).get("id") == 1:
                return time.perf_counter() - started
    finally:
        proc.stdin.close()
        proc.wait(timeout=timeout)


def _text(result) -> str:
    return "".join(getattr(b, "text", "") for b in result.content)


async def _tools(command: str, args: list[str], project: Path, env: dict, runs: int) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=command, args=args, cwd=str(project), env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            listed = await session.list_tools()
            raw = listed.model_dump_json(by_alias=True, exclude_none=True)  # as the wire carries it
            wire = json.loads(raw)["tools"]
            print(f"tools/list: {len(raw)} characters, {len(wire)} tools")
            for t in wire:
                size = lambda v: len(json.dumps(v, separators=(",", ":"))) if v else 0  # noqa: E731
                print(f"  {t['name']:<20} description {len(t.get('description', '')):>5}  input schema "
                      f"{size(t['inputSchema']):>6}  output schema {size(t.get('outputSchema')):>6}")
            rename = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]
            names = {t["name"] for t in wire}
            planned = await session.call_tool("plan_migration", {"operations": rename})
            plan_id = json.loads(_text(planned)).get("plan_id") if not planned.is_error else None
            write_args = {"plan_id": plan_id} if plan_id else {"operations": rename}
            calls = [("detect_tooling", {}), ("read_schema", {}), ("plan_migration", {"operations": rename}),
                     ("validate_migration", {"paths": ["db/migrations"]}), ("write_migration", write_args),
                     ("verify_migration", {})]
            for name, arguments in calls:
                if name not in names:
                    continue
                times, size, error = [], 0, False
                for _ in range(1 if name in ("write_migration", "verify_migration") else runs):
                    started = time.perf_counter()
                    result = await session.call_tool(name, arguments)
                    times.append(time.perf_counter() - started)
                    # what a client carries: the text blocks and any structured copy beside them
                    size = len(_text(result)) + len(json.dumps(result.structured_content or ""))
                    error = result.is_error
                print(f"  {name:<20} {statistics.median(times) * 1000:>8.0f} ms  result {size:>7} characters"
                      f"{'  (error: ' + _text(result)[:120] + ')' if error else ''}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="also time a first start with a fresh uv environment")
    ap.add_argument("--empty-cache", action="store_true", help="also time a first start with an empty uv cache")
    args = ap.parse_args()
    command, cmd_args = _mcp_command()
    work = Path(tempfile.mkdtemp(prefix="flux-mcp-bench-"))
    os.chmod(work, 0o755)  # the dev database server may run as another user
    try:
        project = work / "shop"
        shutil.copytree(ROOT / "examples" / "shop", project)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
        env["UV_PROJECT_ENVIRONMENT"] = str(work / "uv-env")
        env["CLAUDE_PROJECT_DIR"] = str(project)
        env["FLUX_DEVDB_DIR"] = str(work / "devdb")
        if args.empty_cache:
            empty = dict(env, UV_CACHE_DIR=str(work / "uv-cache"), UV_PROJECT_ENVIRONMENT=str(work / "uv-env-0"))
            print(f"cold start, empty uv cache: {_initialize_time(command, cmd_args, project, empty):.2f} s")
        if args.cold:
            print(f"cold start, uv cache warm: {_initialize_time(command, cmd_args, project, env):.2f} s")
        _initialize_time(command, cmd_args, project, env)  # the environment exists from here on
        warm = [_initialize_time(command, cmd_args, project, env) for _ in range(args.runs)]
        floor_env = dict(env, PYTHONPATH="")
        python = str(Path(env["UV_PROJECT_ENVIRONMENT"]) / "bin" / "python")
        if not Path(python).exists():
            python = sys.executable
        minimal = [_initialize_time(python, ["-c", MINIMAL], project, floor_env) for _ in range(args.runs)]
        direct = [_initialize_time(python, ["-m", "flux_agent", "mcp"], project, dict(env, PYTHONPATH=str(ROOT)))
                  for _ in range(args.runs)]
        print(f"warm start (as .mcp.json): {statistics.median(warm):.2f} s; the server alone "
              f"({python} -m flux_agent mcp): {statistics.median(direct):.2f} s; a minimal server on the same SDK: "
              f"{statistics.median(minimal):.2f} s (medians of {args.runs})")
        asyncio.run(_tools(command, cmd_args, project, env, args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
