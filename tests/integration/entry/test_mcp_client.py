"""The MCP server through the official SDK's stdio client: six tools with
schemas from the pydantic models, a full rename-column flow that writes files
and returns the summary, and bad calls that become tool errors while the
server keeps serving."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

from flux_agent.entry.tool_specs import TOOLS  # noqa: E402
from shop import ROOT  # noqa: E402

pytestmark = pytest.mark.slow  # each test starts the MCP server as a process (over 2 s)

RENAME = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]


def _params(cwd: Path) -> StdioServerParameters:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return StdioServerParameters(command=sys.executable, args=["-m", "flux_agent", "mcp"], cwd=str(cwd), env=env)


async def _session(project: Path, body):
    async with stdio_client(_params(project)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)


@pytest.fixture
def shop(tmp_path) -> Path:
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


def test_lists_six_tools_with_model_schemas(shop):
    async def body(session):
        return (await session.list_tools()).tools

    tools = asyncio.run(_session(shop, body))
    by_name = {t.name: t for t in tools}
    assert sorted(by_name) == sorted(s.name for s in TOOLS) and len(by_name) == 6
    for spec in TOOLS:
        props = by_name[spec.name].input_schema["properties"]
        assert set(props) == set(spec.request.model_fields)  # generated from the request model
        assert by_name[spec.name].output_schema is not None
    ops_schema = by_name["plan_migration"].input_schema["properties"]["operations"]
    assert "rename_column" in str(by_name["plan_migration"].input_schema)  # the Operation union is there
    assert ops_schema.get("minItems") == 1


@pytest.mark.pg
def test_full_rename_flow_writes_files_and_returns_summary(shop):
    before = set(os.listdir(shop / "db" / "migrations"))

    async def body(session):
        detected = await session.call_tool("detect_tooling", {"project_dir": str(shop)})
        schema = await session.call_tool("read_schema", {"project_dir": str(shop)})
        plan = await session.call_tool("plan_migration", {"project_dir": str(shop), "operations": RENAME})
        written = await session.call_tool("write_migration", {"project_dir": str(shop), "operations": RENAME})
        return detected, schema, plan, written

    detected, schema, plan, written = asyncio.run(_session(shop, body))
    assert not any(r.is_error for r in (detected, schema, plan, written))
    assert detected.structured_content["tool"] == "dbmate"
    assert "users" in [t["name"] for t in schema.structured_content["tables"]]
    assert [s["phase"] for s in plan.structured_content["steps"]][-2:] == ["code", "contract"]
    files = written.structured_content["files"]
    after = set(os.listdir(shop / "db" / "migrations"))
    # the six steps before the code deploy; the contract waits for continue_pending
    assert len(files) == 6 and {Path(f).name for f in files} == after - before
    assert written.structured_content["remaining_steps"] == [8]
    summary = written.structured_content["summary"]
    assert "Migration: rename column users.email to email_address" in summary
    assert len(summary.splitlines()) <= 40
    # results name the tools the model has, never a CLI command it cannot run
    nxt = written.structured_content["next"]
    assert nxt.endswith("call write_migration with continue_pending: true to write step(s) 8")
    for text in (nxt, summary, plan.structured_content["summary"], written.structured_content["plan"]["summary"]):
        assert "flux continue" not in text and "flux verify" not in text and "`flux" not in text
    for text in (summary, plan.structured_content["summary"]):
        assert "then write_migration with continue_pending: true writes the steps after it" in text
        assert "(verify_migration runs the steps on a scratch database)" in text


@pytest.mark.pg
def test_continue_pending_writes_the_contract_after_the_deploy(shop):
    async def body(session):
        first = await session.call_tool("write_migration", {"project_dir": str(shop), "operations": RENAME})
        second = await session.call_tool("write_migration", {"project_dir": str(shop), "continue_pending": True})
        third = await session.call_tool("write_migration", {"project_dir": str(shop), "continue_pending": True})
        return first, second, third

    first, second, third = asyncio.run(_session(shop, body))
    assert not first.is_error and not second.is_error
    assert len(second.structured_content["files"]) == 1 and second.structured_content["remaining_steps"] == []
    assert "drop_users_email" in second.structured_content["files"][0]
    assert third.is_error and "no plan with steps left" in third.content[0].text


def test_project_dir_defaults_to_the_server_working_directory(shop):
    async def body(session):
        return await session.call_tool("detect_tooling", {})

    res = asyncio.run(_session(shop, body))
    assert not res.is_error and res.structured_content["migrations_dir"] == "db/migrations"


@pytest.mark.pg
def test_bad_calls_are_tool_errors_and_the_server_keeps_serving(shop):
    async def body(session):
        unknown = await session.call_tool("plan_migration", {"project_dir": str(shop), "operations": [
            {"op": "rename_column", "table": "nope", "column": "email", "new_name": "x"}]})
        wrong_type = await session.call_tool("plan_migration", {"operations": "garbage"})
        missing = await session.call_tool("write_migration", {"project_dir": str(shop)})
        no_dir = await session.call_tool("detect_tooling", {"project_dir": str(shop / "missing")})
        still = await session.call_tool("detect_tooling", {"project_dir": str(shop)})
        return unknown, wrong_type, missing, no_dir, still

    unknown, wrong_type, missing, no_dir, still = asyncio.run(_session(shop, body))
    for res in (unknown, wrong_type, missing, no_dir):
        assert res.is_error
        assert len(res.content[0].text.strip().splitlines()) >= 1
    assert "unknown table 'nope'" in unknown.content[0].text
    assert "does not exist" in no_dir.content[0].text
    assert not still.is_error
    assert sorted(os.listdir(shop / "db" / "migrations")) == \
        sorted(os.listdir(ROOT / "examples" / "shop" / "db" / "migrations"))  # nothing written
