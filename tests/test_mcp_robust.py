"""The MCP server (`python -m flux_agent mcp`) under abuse, over raw JSON-RPC on
stdio and through the SDK client: malformed JSON, unknown methods, params and
arguments of the wrong type, unknown tools, huge strings, then 100 concurrent
tool calls. Every request with an id gets exactly one response under that id;
errors are JSON-RPC errors or tool errors (isError) with one line of text;
the server answers a last request correctly afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADD_INDEX = [{"op": "add_index", "table": "orders", "columns": ["user_id"]}]


@pytest.fixture
def shop(tmp_path) -> Path:
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


class RawServer:
    """The server as a child process, spoken to line by line."""

    def __init__(self, cwd: Path):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "flux_agent", "mcp"], cwd=str(cwd), env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue = queue.Queue()
        self.received: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8"))

    def _drain_stderr(self) -> None:
        for _ in self.proc.stderr:
            pass

    def send(self, message) -> None:
        line = message if isinstance(message, str) else json.dumps(message)
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def request(self, rid, method: str, params=None) -> None:
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def call(self, rid, tool: str, arguments) -> None:
        self.request(rid, "tools/call", {"name": tool, "arguments": arguments})

    def collect(self, want: set, timeout: float = 120) -> dict:
        """Responses until every id in `want` has one; any line must be a JSON-RPC message."""
        got: dict = {}
        deadline = time.monotonic() + timeout
        while not want <= set(got):
            left = deadline - time.monotonic()
            assert left > 0, f"no response for ids {sorted(map(str, want - set(got)))}"
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            msg = json.loads(line)  # the wire carries only JSON-RPC, one message a line
            self.received.append(msg)
            assert msg.get("jsonrpc") == "2.0"
            if "id" in msg and msg["id"] is not None:
                assert msg["id"] not in got, f"two responses for id {msg['id']}"
                got[msg["id"]] = msg
        return got

    def initialize(self) -> None:
        self.request("init", "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                            "clientInfo": {"name": "robust-test", "version": "1"}})
        assert "result" in self.collect({"init"}, 60)["init"]
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server(shop):
    srv = RawServer(shop)
    srv.initialize()
    yield srv
    srv.close()


def one_line_error(msg: dict) -> str:
    """The text of an error response (JSON-RPC error, or a tool result with isError); it must be one line."""
    if "error" in msg:
        text = msg["error"]["message"] + (f" {msg['error']['data']}" if isinstance(msg["error"].get("data"), str)
                                          else "")
    else:
        result = msg["result"]
        assert result.get("isError") is True, msg
        text = result["content"][0]["text"]
    assert text.strip() and len(text.splitlines()) == 1, text[:500]
    return text


def test_malformed_requests_get_one_error_each_and_the_server_keeps_serving(server, shop):
    # lines with no usable id: the server may ignore them or answer with id null, but must go on
    for junk in ["{not json", "", "   ", "[1, 2]", "null", "42", '"text"', '{"jsonrpc": "2.0"}', '{"id": 1}',
                 "\x00\x01", '{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', "[]", "{" * 1000,
                 '{"jsonrpc": "2.0", "method": "notifications/bogus"}']:
        server.send(junk)
    huge = "x" * 1_000_000
    bad = {
        101: ("request", "no/such/method", {}),
        102: ("request", "tools/call", "not an object"),
        103: ("request", "tools/call", [1, 2]),
        104: ("request", "tools/call", {"arguments": {}}),  # no tool name
        105: ("request", "tools/call", {"name": 5, "arguments": {}}),
        106: ("call", "no_such_tool", {}),
        107: ("call", "plan_migration", "not an object"),
        108: ("call", "plan_migration", {"operations": 5, "project_dir": str(shop)}),
        109: ("call", "plan_migration", {"operations": [{"op": "add_column", "table": 5}], "project_dir": str(shop)}),
        110: ("call", "plan_migration", {"operations": [], "project_dir": str(shop)}),
        111: ("call", "plan_migration", {"operations": [{"op": "frobnicate"}], "project_dir": str(shop)}),
        112: ("call", "detect_tooling", {"project_dir": 123}),
        113: ("call", "detect_tooling", {"project_dir": str(shop), "unknown_argument": True}),
        114: ("call", "plan_migration", {"operations": [{"op": "add_column", "table": huge, "column": "c",
                                                         "type": "text"}], "project_dir": str(shop)}),
        115: ("call", "plan_migration", {"operations": [{"op": "add_column", "table": "users", "column": huge,
                                                         "type": "text"}], "project_dir": str(shop)}),
        116: ("call", "validate_migration", {"paths": ["y" * 100_000], "project_dir": str(shop)}),
        117: ("call", "detect_tooling", {"project_dir": "z" * 500_000}),
        118: ("call", "write_migration", {"project_dir": str(shop), "pg_version": "eleven"}),
        119: ("call", "read_schema", {"project_dir": str(shop), "tool": {"nested": [1]}}),
        121: ("call", "detect_tooling", {"project_dir": "a\x00b"}),
        122: ("call", "validate_migration", {"paths": ["db\x00"], "project_dir": str(shop)}),
        "string-id": ("request", "no/such/method", None),
    }
    for rid, (kind, name, params) in bad.items():
        if kind == "call":
            server.call(rid, name, params)
        else:
            server.request(rid, name, params)
    server.send({"jsonrpc": "1.0", "id": 120, "method": "tools/list"})  # wrong version
    want = set(bad) | {120}
    got = server.collect(want)
    for rid in want:
        text = one_line_error(got[rid])
        assert len(text) < 2_000, (rid, len(text))  # a huge argument is not echoed back whole
    assert "no_such_tool" in one_line_error(got[106])
    assert "operations" in one_line_error(got[108])
    assert "does not exist" in one_line_error(got[112]) or "project" in one_line_error(got[112]).lower() \
        or "invalid argument" in one_line_error(got[112])
    # nothing was written by any of it
    assert sorted(os.listdir(shop / "db" / "migrations")) == \
        sorted(os.listdir(ROOT / "examples" / "shop" / "db" / "migrations"))
    # the server still answers, correctly
    server.call(200, "detect_tooling", {"project_dir": str(shop)})
    final = server.collect({200})[200]
    assert final["result"].get("isError") is not True
    assert final["result"]["structuredContent"]["tool"] == "dbmate"
    assert server.proc.poll() is None


def test_100_concurrent_calls_each_get_exactly_one_right_answer(server, shop):
    for rid in range(1, 101):  # sent without waiting for any answer
        if rid % 2:
            server.call(rid, "detect_tooling", {"project_dir": str(shop)})
        elif rid % 10 == 0:
            server.call(rid, "plan_migration", {"operations": [{"op": "drop_column", "table": "users",
                                                                "column": f"missing_{rid}"}],
                                                "project_dir": str(shop)})
        else:
            server.call(rid, "plan_migration", {"operations": ADD_INDEX, "project_dir": str(shop)})
    got = server.collect(set(range(1, 101)), timeout=300)
    for rid in range(1, 101):
        result = got[rid]["result"]
        if rid % 2:
            assert result.get("isError") is not True and result["structuredContent"]["tool"] == "dbmate", rid
        elif rid % 10 == 0:
            assert f"unknown column 'missing_{rid}'" in one_line_error(got[rid])
        else:
            assert result.get("isError") is not True, result
            steps = result["structuredContent"]["steps"]
            assert steps and "CREATE INDEX CONCURRENTLY" in steps[0]["up_sql"], rid
    # no stray or duplicate answers came meanwhile
    ids = [m.get("id") for m in server.received if m.get("id") is not None]
    assert len(ids) == len(set(ids))
    server.request(500, "tools/list")
    tools = server.collect({500})[500]["result"]["tools"]
    assert len(tools) == 6
    assert sorted(os.listdir(shop / "db" / "migrations")) == \
        sorted(os.listdir(ROOT / "examples" / "shop" / "db" / "migrations"))


def test_100_concurrent_calls_through_the_sdk_client(shop):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    params = StdioServerParameters(command=sys.executable, args=["-m", "flux_agent", "mcp"], cwd=str(shop), env=env)

    async def body():
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                calls = []
                for i in range(100):
                    if i % 3 == 0:
                        calls.append(session.call_tool("detect_tooling", {"project_dir": str(shop)}))
                    elif i % 3 == 1:
                        calls.append(session.call_tool("plan_migration", {"project_dir": str(shop),
                                                                          "operations": ADD_INDEX}))
                    else:
                        calls.append(session.call_tool("plan_migration", {"operations": i}))  # wrong type
                results = await asyncio.gather(*calls)
                last = await session.call_tool("read_schema", {"project_dir": str(shop)})
                return results, last

    results, last = asyncio.run(body())
    assert len(results) == 100
    for i, res in enumerate(results):
        if i % 3 == 2:
            assert res.is_error and len(res.content[0].text.splitlines()) == 1, res.content[0].text
            assert "operations" in res.content[0].text
        else:
            assert not res.is_error, res.content[0].text
            if i % 3 == 0:
                assert res.structured_content["tool"] == "dbmate"
            else:
                assert res.structured_content["steps"]
    assert not last.is_error and "users" in [t["name"] for t in last.structured_content["tables"]]
