"""The MCP server through the official SDK's stdio client: the tool list as the plugin's
.mcp.json starts it (size, enums, required fields, a description on every operation field,
the operation schema once), a full rename flow by plan_id with compact results, the
session's project as the boundary of every path, size caps, and bad calls that become
one-line tool errors while the server keeps serving."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import get_args

import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from flux_agent.entry.tool_calls import MAX_ARGUMENTS, MAX_RESULT  # noqa: E402
from flux_agent.entry.tool_specs import TOOLS  # noqa: E402
from flux_agent.model.operations import Operation  # noqa: E402
from flux_agent.model.terms import OnDelete, Phase, Tool  # noqa: E402
from shop import ROOT  # noqa: E402

pytestmark = pytest.mark.slow  # each test starts the MCP server as a process (over 2 s)

RENAME = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]
TOOLS_LIST_BUDGET = 16_000  # characters of the tools/list result: every tool, now and later


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_PROJECT_DIR", "VIRTUAL_ENV")}
    return dict(env, PYTHONPATH=str(ROOT), **extra)


def _params(cwd: Path, **env: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "flux_agent", "mcp"], cwd=str(cwd),
                                 env=_env(**env))


async def _session(project: Path, body, params: StdioServerParameters | None = None):
    async with stdio_client(params or _params(project)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)


def _json(result) -> dict:
    assert not result.is_error, result.content[0].text
    assert result.structured_content is None  # the result once, as text
    return json.loads(result.content[0].text)


def _error(result) -> str:
    assert result.is_error, result.content[0].text[:300]
    text = result.content[0].text
    assert len(text.splitlines()) == 1, text
    return text


@pytest.fixture
def shop(tmp_path) -> Path:
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


def _as_mcp_json_starts_it(cwd: Path, uv_env: Path) -> StdioServerParameters:
    """The command and args of the plugin's .mcp.json, ${CLAUDE_PLUGIN_ROOT} being this repo,
    in a uv project environment of the test's own (never the repo's .venv)."""
    spec = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]["flux"]
    sub = lambda s: s.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))  # noqa: E731
    env = _env(UV_PROJECT_ENVIRONMENT=str(uv_env))
    env.pop("PYTHONPATH")
    return StdioServerParameters(command=sub(spec["command"]), args=[sub(a) for a in spec.get("args", [])],
                                 cwd=str(cwd), env=env)


def _resolve(node: dict, defs: dict) -> dict:
    ref = node.get("$ref")
    return defs[ref.removeprefix("#/$defs/")] if ref else node


def test_tools_list_as_the_plugin_starts_the_server(shop, tmp_path):
    if not shutil.which("uv"):
        pytest.skip("uv not on PATH: the plugin's .mcp.json starts the server with uv")

    async def body(session):
        return await session.list_tools()

    listed = asyncio.run(_session(shop, body, _as_mcp_json_starts_it(shop, tmp_path / "uv-env")))
    wire = listed.model_dump_json(by_alias=True, exclude_none=True)
    tools = {t["name"]: t for t in json.loads(wire)["tools"]}
    print(f"\ntools/list: {len(wire)} characters; " + ", ".join(
        f"{n} {len(json.dumps(t, separators=(',', ':')))}" for n, t in tools.items()))
    assert len(wire) <= TOOLS_LIST_BUDGET
    assert sorted(tools) == sorted(s.name for s in TOOLS)
    assert not any("outputSchema" in t for t in tools.values())  # results are text: no schema to pay for
    for name in ("detect_tooling", "read_schema", "plan_migration"):
        assert tools[name]["inputSchema"]["properties"]["tool"]["enum"] == list(get_args(Tool))
    # The operation schema is published once: the other tools take the plan's id.
    with_ops = [n for n, t in tools.items() if "operations" in t["inputSchema"]["properties"]]
    assert with_ops == ["plan_migration"]
    assert "plan_id" in tools["write_migration"]["inputSchema"]["properties"]
    assert "plan_id" in tools["verify_migration"]["inputSchema"]["properties"]

    schema = tools["plan_migration"]["inputSchema"]
    assert schema["required"] == ["operations"]
    defs = schema["$defs"]
    variants = [_resolve(v, defs) for v in schema["properties"]["operations"]["items"]["oneOf"]]
    union = get_args(get_args(Operation)[0])
    assert len(variants) == len(union)
    described = 0
    for model, variant in zip(union, variants):
        props = variant["properties"]
        assert variant["required"][0] == "op" and variant["additionalProperties"] is False
        assert props["op"]["const"] == model.model_fields["op"].default
        assert set(variant["required"]) == {"op"} | {n for n, f in model.model_fields.items() if f.is_required()}
        for name, prop in props.items():
            assert _resolve(prop, defs).get("description"), f"{model.__name__}.{name} has no description"
            described += 1
    spec = defs["ColumnSpec"]
    assert all(_resolve(p, defs).get("description") for p in spec["properties"].values())
    by_op = {v["properties"]["op"]["const"]: v for v in variants}
    assert by_op["raw_sql"]["properties"]["phase"]["enum"] == list(get_args(Phase))
    on_delete = by_op["add_foreign_key"]["properties"]["on_delete"]
    assert on_delete["enum"] == list(get_args(OnDelete))
    print(f"operation fields described: {described + len(spec['properties'])}")


@pytest.mark.pg
def test_rename_flow_by_plan_id_with_compact_results(shop):
    before = set(os.listdir(shop / "db" / "migrations"))

    async def body(session):
        detected = await session.call_tool("detect_tooling", {})
        schema = await session.call_tool("read_schema", {"tables": ["users"]})
        planned = await session.call_tool("plan_migration", {"operations": RENAME})
        plan_id = json.loads(planned.content[0].text)["plan_id"]
        written = await session.call_tool("write_migration", {"plan_id": plan_id})
        return detected, schema, planned, written

    detected, schema, planned, written = asyncio.run(_session(shop, body))
    for result in (detected, schema, planned, written):
        text = result.content[0].text
        assert text == json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)  # compact
    assert _json(detected)["tool"] == "dbmate"
    assert [t["name"] for t in _json(schema)["tables"]] == ["users"]
    plan = _json(planned)["plan"]
    assert [s["phase"] for s in plan["steps"]][-2:] == ["code", "contract"]
    result = _json(written)
    assert set(result) <= {"files", "summary", "next", "remaining_steps", "code_changes"}  # not the plan again
    after = set(os.listdir(shop / "db" / "migrations"))
    # the six steps before the code deploy; the contract waits for continue_pending
    assert len(result["files"]) == 6 and {Path(f).name for f in result["files"]} == after - before
    assert result["remaining_steps"] == [8]
    summary = result["summary"]
    assert "Migration: rename column users.email to email_address" in summary
    assert len(summary.splitlines()) <= 40
    # results name the tools the model has, never a CLI command it cannot run
    assert result["next"].endswith("call write_migration with continue_pending: true to write step(s) 8")
    for text in (result["next"], summary, plan["summary"]):
        assert "flux continue" not in text and "flux verify" not in text and "`flux" not in text
    for text in (summary, plan["summary"]):
        assert "then write_migration with continue_pending: true writes the steps after it" in text
        assert "(verify_migration runs the steps on a scratch database)" in text
    print(f"\nresult characters: detect {len(detected.content[0].text)}, read_schema(users) "
          f"{len(schema.content[0].text)}, plan {len(planned.content[0].text)}, write {len(written.content[0].text)}")


@pytest.mark.pg
def test_continue_pending_writes_the_contract_after_the_deploy(shop):
    async def body(session):
        planned = await session.call_tool("plan_migration", {"operations": RENAME})
        first = await session.call_tool("write_migration", {"plan_id": _json(planned)["plan_id"]})
        second = await session.call_tool("write_migration", {"continue_pending": True})
        third = await session.call_tool("write_migration", {"continue_pending": True})
        return first, second, third

    first, second, third = asyncio.run(_session(shop, body))
    assert len(_json(first)["files"]) == 6
    assert len(_json(second)["files"]) == 1 and "remaining_steps" not in _json(second)  # empty: left out
    assert "drop_users_email" in _json(second)["files"][0]
    assert "no plan with steps left" in _error(third)


def test_the_project_is_claude_project_dir_and_paths_stay_inside_it(shop):
    """Claude Code may start the server in a subfolder: CLAUDE_PROJECT_DIR names the project.
    A project_dir or file outside it is refused with one line, before anything is read."""
    outside = Path(tempfile.mkdtemp(prefix="flux-outside-"))
    (outside / "secret.sql").write_text("DROP TABLE users;\n")

    async def body(session):
        return [await session.call_tool(name, args) for name, args in [
            ("detect_tooling", {}),
            ("detect_tooling", {"project_dir": "db"}),
            ("detect_tooling", {"project_dir": "/etc"}),
            ("read_schema", {"project_dir": "../.."}),
            ("validate_migration", {"paths": ["/etc/passwd"]}),
            ("validate_migration", {"paths": [str(outside / "secret.sql")]}),
            ("validate_migration", {"paths": ["db/../../x.sql"]}),
        ]]

    try:
        params = _params(shop / "db", CLAUDE_PROJECT_DIR=str(shop))
        root, sub, etc, up, passwd, secret, dotdot = asyncio.run(_session(shop, body, params))
    finally:
        shutil.rmtree(outside)
    assert _json(root)["migrations_dir"] == "db/migrations"  # the project, not the folder Claude started in
    assert not sub.is_error  # a folder inside the project is fine
    for result, given in ((etc, "/etc"), (up, "../.."), (passwd, "/etc/passwd"), (secret, str(outside / "secret.sql")),
                          (dotdot, "db/../../x.sql")):
        text = _error(result)
        assert f"{given!r} is outside this session's project {shop.resolve()}" in text, text
        assert "root:" not in text and "DROP TABLE" not in text


def test_sizes_are_capped_with_one_line(shop):
    """A 2 MB raw_sql is refused at once (it used to run for over 10 minutes); a result over the
    cap is refused, never cut short into broken JSON."""
    from flux_agent.entry import tool_calls
    from flux_agent.model.schema import Column, Schema, Table

    huge = {"op": "raw_sql", "up": "SELECT '" + "x" * 2_000_000 + "';", "down": "SELECT 1;"}

    async def body(session):
        started = time.monotonic()
        result = await session.call_tool("plan_migration", {"operations": [huge]})
        return result, time.monotonic() - started

    result, seconds = asyncio.run(_session(shop, body))
    assert f"over the {MAX_ARGUMENTS:,} a call takes" in _error(result)
    assert seconds < 30
    big = Schema(tables=[Table(name=f"t{i:04}", columns=[Column(name=f"c{j}", type="text") for j in range(20)])
                         for i in range(400)])
    assert len(tool_calls.compact(big)) > MAX_RESULT
    message = tool_calls._too_big("read_schema", big, len(tool_calls.compact(big)))
    assert "call read_schema with tables naming" in message and "t0000, t0001" in message


@pytest.mark.pg
def test_bad_calls_are_tool_errors_and_the_server_keeps_serving(shop):
    async def body(session):
        return [await session.call_tool(name, args) for name, args in [
            ("plan_migration", {"operations": [{"op": "rename_column", "table": "nope", "column": "email",
                                                "new_name": "x"}]}),
            ("plan_migration", {"operations": "garbage"}),
            ("plan_migration", {"operations": [{"table": "users", "column": "c", "type": "text"}]}),
            ("write_migration", {}),
            ("write_migration", {"plan_id": "plan-0000000000"}),
            ("detect_tooling", {"project_dir": "missing"}),
            ("detect_tooling", {"tool": "liquibase"}),
            ("detect_tooling", {}),
        ]]

    unknown, garbage, no_op, neither, no_plan, no_dir, bad_tool, still = asyncio.run(_session(shop, body))
    assert "unknown table 'nope'" in _error(unknown)
    assert _error(garbage).startswith("invalid argument operations")
    assert "op" in _error(no_op)
    assert "give plan_id" in _error(neither)
    assert "unknown plan_id 'plan-0000000000': call plan_migration" in _error(no_plan)
    assert "does not exist" in _error(no_dir)
    assert _error(bad_tool).startswith("invalid argument tool")
    assert _json(still)["tool"] == "dbmate"
    assert sorted(os.listdir(shop / "db" / "migrations")) == \
        sorted(os.listdir(ROOT / "examples" / "shop" / "db" / "migrations"))  # nothing written


def test_the_server_starts_without_loading_the_planner(shop):
    """The planner, the dev database and pglast load when a tool first needs them, not at start:
    the start is the SDK's own import and little more."""
    code = ("import sys, runpy; sys.argv = ['flux_agent', 'mcp'];\n"
            "import flux_agent.entry.mcp_server as m; m.build_server();\n"
            "heavy = [n for n in ('flux_agent.plan.planner', 'flux_agent.devdb.build', 'pglast', 'psycopg', "
            "'sqlglot', 'flux_agent.entry.actions') if n in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=shop, env=_env(), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
