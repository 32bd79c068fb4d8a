"""The MCP server (`python -m flux_agent mcp`) under abuse, over raw JSON-RPC on
stdio and through the SDK client: malformed JSON, unknown methods, params and
arguments of the wrong type, unknown tools, huge strings, then 100 concurrent
tool calls, each with its own payload and checked against its own expected
answer. Every request with an id gets exactly one response under that id;
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

from shop import ROOT  # noqa: E402

from flux_agent.entry.tool_specs import TOOLS as SPECS  # noqa: E402

pytestmark = [pytest.mark.pg,  # the server reads the shop through the dev database (PostgreSQL)
              pytest.mark.slow]  # each test starts the MCP server as a process (over 2 s)


@pytest.fixture
def shop(tmp_path) -> Path:
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


class RawServer:
    """The server as a child process, spoken to line by line."""

    def __init__(self, cwd: Path):
        env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"} | {"PYTHONPATH": str(ROOT)}
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
        118: ("call", "write_migration", {"project_dir": str(shop), "plan_id": "plan-unknown"}),
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
    assert "unknown plan_id 'plan-unknown'" in one_line_error(got[118])
    for rid in (114, 115, 117):  # refused for their size before anything reads them
        assert "over the 50,000 a call takes" in one_line_error(got[rid]), got[rid]
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
    assert json.loads(final["result"]["content"][0]["text"])["tool"] == "dbmate"
    assert server.proc.poll() is None


TOOLS = ["sql", "dbmate", "prisma", "alembic", "drizzle", "typeorm", "knex", "rails", "golang-migrate", "goose",
         "flyway", "django", "sequelize", "sqitch", "node-pg-migrate"]
TYPES = ["text", "bigint", "integer", "boolean", "uuid", "jsonb", "date", "timestamptz", "numeric(10,2)", "smallint"]


def concurrent_call(i: int, shop: Path) -> tuple[str, dict]:
    """Call number i (1..100): each one its own payload, so an answer given to the wrong request shows."""
    project = str(shop)
    if i % 7 == 0:  # 14 calls, 14 different tools
        return "detect_tooling", {"project_dir": project, "tool": TOOLS[i // 7]}
    if i % 3 == 0:
        return "plan_migration", {"project_dir": project, "operations": [
            {"op": "drop_column", "table": "users", "column": f"missing_{i}"}]}
    if i % 3 == 1:
        return "plan_migration", {"project_dir": project, "operations": [
            {"op": "add_column", "table": "users", "column": f"col_{i}", "type": TYPES[i % len(TYPES)]}]}
    return "plan_migration", {"project_dir": project, "operations": [
        {"op": "add_index", "table": "orders", "columns": ["user_id", "status"][: 1 + i % 2], "name": f"idx_{i}"}]}


def expected_answer(i: int, shop: Path) -> str | dict:
    """What call i must get back: the fields that tell it apart (or the words of its error)."""
    from flux_agent.entry import actions as tools

    name, args = concurrent_call(i, shop)
    if name == "detect_tooling":
        found = tools.detect_tooling(str(shop), args["tool"])
        return {"tool": found.tool, "migrations_dir": found.migrations_dir}
    if args["operations"][0]["op"] == "drop_column":
        return f"unknown column 'missing_{i}'"
    plan = tools.plan_migration(tools.parse_operations(args["operations"]), str(shop))
    return {"description": plan.description, "up_sql": [s.up_sql for s in plan.steps]}


def answer_of(i: int, text: str) -> dict:
    """The fields that tell call i's answer apart, from the tool result's JSON text."""
    content = json.loads(text)
    if "plan" not in content:
        return {"tool": content["tool"], "migrations_dir": content["migrations_dir"]}
    plan = content["plan"]
    return {"description": plan["description"], "up_sql": [s.get("up_sql") for s in plan["steps"]]}


def test_100_concurrent_calls_each_get_exactly_one_right_answer(server, shop):
    calls = {rid: concurrent_call(rid, shop) for rid in range(1, 101)}
    for rid, (tool, args) in calls.items():  # sent without waiting for any answer
        server.call(rid, tool, args)
    got = server.collect(set(calls), timeout=300)
    expected = {rid: expected_answer(rid, shop) for rid in calls}
    assert len({json.dumps(e, sort_keys=True) for e in expected.values()}) == 100  # every answer its own
    for rid in calls:
        want = expected[rid]
        if isinstance(want, str):
            assert want in one_line_error(got[rid]), (rid, got[rid])
            continue
        result = got[rid]["result"]
        assert result.get("isError") is not True, (rid, result)
        assert answer_of(rid, result["content"][0]["text"]) == want, rid
    # no stray or duplicate answers came meanwhile
    ids = [m.get("id") for m in server.received if m.get("id") is not None]
    assert len(ids) == len(set(ids))
    server.request(500, "tools/list")
    tools = server.collect({500})[500]["result"]["tools"]
    assert {t["name"] for t in tools} == {t.name for t in SPECS}
    assert sorted(os.listdir(shop / "db" / "migrations")) == \
        sorted(os.listdir(ROOT / "examples" / "shop" / "db" / "migrations"))


def test_100_concurrent_calls_through_the_sdk_client(shop):
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"} | {"PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "flux_agent", "mcp"], cwd=str(shop), env=env)

    wrong = [("operations", "not a list"), ("pg_version", "eleven"), ("tool", "liquibase")]

    def call(i: int) -> tuple[str, dict]:
        if i % 5 == 4:  # a wrong type or value, refused by the request model, which names the argument
            name, value = wrong[i % 3]
            args = {"project_dir": str(shop), "operations": [
                {"op": "add_column", "table": "users", "column": f"col_{i}", "type": "text"}]}
            args[name] = value  # the one wrong argument
            return "plan_migration", args
        return concurrent_call(i + 1, shop)

    async def body():
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                results = await asyncio.gather(*(session.call_tool(*call(i)) for i in range(100)))
                last = await session.call_tool("read_schema", {"project_dir": str(shop)})
                return results, last

    results, last = asyncio.run(body())
    assert len(results) == 100
    for i, res in enumerate(results):
        text = res.content[0].text
        if i % 5 == 4:
            assert res.is_error and len(text.splitlines()) == 1, text
            assert text.startswith(f"invalid argument {wrong[i % 3][0]}: "), (i, text)
            continue
        want = expected_answer(i + 1, shop)
        if isinstance(want, str):
            assert res.is_error and want in text, (i, text)
        else:
            assert not res.is_error, (i, text)
            assert answer_of(i + 1, text) == want, i
    assert not last.is_error and "users" in [t["name"] for t in json.loads(last.content[0].text)["tables"]]
