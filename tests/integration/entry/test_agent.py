"""The standalone agent (flux_agent/agent.py) through the real anthropic SDK,
against a scripted Messages API on 127.0.0.1 (tests/fake_anthropic.py's
bounded server and SSE events: message_start, content_block_start/delta/stop,
message_delta with the stop_reason, message_stop). The scripts play the model;
the tools run for real on a copy of examples/shop."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

anthropic = pytest.importorskip("anthropic")

from fake_anthropic import FakeAnthropic, Reply, tool_results  # noqa: E402
from flux_agent.entry import agent  # noqa: E402
from flux_agent.errors import FluxInputError  # noqa: E402
from flux_agent.entry.tool_schema import tool_input_schema  # noqa: E402
from flux_agent.entry.tool_specs import TOOLS  # noqa: E402
from shop import ROOT  # noqa: E402

RENAME = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]


@pytest.fixture
def shop(tmp_path) -> Path:
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


def _client(api: FakeAnthropic):
    return anthropic.Anthropic(base_url=api.base_url, api_key="test", max_retries=0, timeout=30)


def _bodies(api: FakeAnthropic) -> list[dict]:
    assert not api.errors, api.errors
    return [r.body for r in api.message_requests()]


def _summary(body: dict) -> str:
    written = [r for r in tool_results(body) if r.name == "write_migration"][-1]
    return json.loads(written.text)["summary"]


def _rename_script(body: dict) -> Reply:
    """detect -> schema -> plan -> (check findings) -> write -> the summary verbatim."""
    done = [r.name for r in tool_results(body)]
    if not done:
        return Reply(text="Looking at the project first.", tool=("detect_tooling", {}))
    if done[-1] == "detect_tooling":
        return Reply(tool=("read_schema", {}))
    if done[-1] == "read_schema":
        return Reply(text="users.email exists; planning the rename.", tool=("plan_migration", {"operations": RENAME}))
    if done[-1] == "plan_migration":
        planned = json.loads(tool_results(body)[-1].text)
        if any(f["severity"] == "error" for f in planned["plan"].get("findings", [])):
            return Reply(text="The plan has errors.")
        return Reply(tool=("write_migration", {"plan_id": planned["plan_id"]}))
    written = json.loads(tool_results(body)[-1].text)
    return Reply(text="Wrote the first steps.\n\n```\n" + written["summary"] + "\n```\n\n" + written["next"] + "\n")


def test_tool_schemas_suit_the_api():
    defs = agent.tool_definitions()
    assert [d["name"] for d in defs] == [s.name for s in TOOLS]
    for spec, definition in zip(TOOLS, defs):
        schema = definition["input_schema"]
        assert schema == tool_input_schema(spec.request)  # the schemas the MCP server publishes
        assert schema["type"] == "object" and set(schema["properties"]) == set(spec.request.model_fields)


@pytest.mark.pg
def test_rename_runs_detect_schema_plan_write(shop):
    out = io.StringIO()
    with FakeAnthropic(_rename_script, lifetime=60, max_requests=20) as api:
        result = agent.run_agent("rename column users.email to email_address", str(shop),
                                 client=_client(api), stream_to=out)
        bodies = _bodies(api)

    assert [c.name for c in result.tool_calls] == ["detect_tooling", "read_schema", "plan_migration",
                                                   "write_migration"]
    assert not any(c.is_error for c in result.tool_calls)
    assert result.stopped_reason == "end_turn" and result.steps == 5
    # the first six steps are written; the contract (step 8) waits for the code deploy
    assert len(result.files) == 6
    for rel in result.files:
        assert (shop / rel).is_file() and rel.startswith("db/migrations/")
    assert len(list((shop / "db" / "migrations").glob("*.sql"))) == 5 + 6
    assert "drop_users_email" not in " ".join(result.files)
    assert list((shop / ".flux" / "plans").glob("*.json"))

    # what the API received: streamed calls, the tools from the request models, the prompt
    assert len(bodies) == 5
    expected = [{"name": s.name, "description": s.description, "input_schema": tool_input_schema(s.request)}
                for s in TOOLS]
    for body in bodies:
        assert body["stream"] is True
        assert body["model"] == agent.DEFAULT_MODEL
        assert body["tools"] == expected
        system = "\n".join(b["text"] for b in body["system"])
        assert "Never write, edit, rename or delete migration files" in system
        assert "## Tool notes" in system and str(shop) in system
    assert bodies[0]["messages"] == [{"role": "user", "content": "rename column users.email to email_address"}]
    results = tool_results(bodies[-1])
    assert [r.name for r in results] == ["detect_tooling", "read_schema", "plan_migration", "write_migration"]
    assert not any(r.is_error for r in results)
    assert json.loads(results[0].text)["tool"] == "dbmate"
    assert "users" in [t["name"] for t in json.loads(results[1].text)["tables"]]
    written = json.loads(results[3].text)
    assert written["files"] == result.files and written["remaining_steps"] == [8]
    # the model is told about the tools it has, never about CLI commands
    planned = json.loads(results[2].text)["plan"]
    assert written["next"].endswith("call write_migration with continue_pending: true to write step(s) 8")
    for text in (written["next"], written["summary"], planned["summary"]):
        assert "`flux" not in text and "flux continue" not in text and "flux verify" not in text
    assert "verify_migration" in written["summary"] and "verify_migration" in planned["summary"]

    # the final answer holds the summary verbatim, and the terminal saw the progress
    summary = _summary(bodies[-1])
    assert summary in result.text
    shown = out.getvalue()
    assert "Looking at the project first." in shown and summary in shown
    assert "  > detect_tooling {} -> ok" in shown
    assert "  > write_migration " in shown and "-> wrote 6 file(s)" in shown
    assert sum(line.startswith("  > ") for line in shown.splitlines()) == 4


@pytest.mark.pg
def test_tool_errors_go_back_and_the_model_recovers(shop):
    bad_args = [{"op": "rename_column", "table": "users", "column": "email"}]
    unknown = [{"op": "rename_column", "table": "customers", "column": "email", "new_name": "email_address"}]

    def script(body: dict) -> Reply:
        results = tool_results(body)
        if not results:
            return Reply(tool=("plan_migration", {"operations": bad_args}))
        if len(results) == 1:
            return Reply(text="Adding the new name.", tool=("plan_migration", {"operations": unknown}))
        if len(results) == 2:
            return Reply(tool=("plan_migration", {"project_dir": "/", "operations": RENAME}))
        if len(results) == 3:
            return Reply(text="The table is users.", tool=("plan_migration", {"operations": RENAME}))
        return Reply(text="Planned: " + json.loads(results[-1].text)["plan"]["summary"].splitlines()[0])

    with FakeAnthropic(script, lifetime=60, max_requests=20) as api:
        result = agent.run_agent("rename customers.email", str(shop), client=_client(api), stream_to=None)
        bodies = _bodies(api)

    received = tool_results(bodies[-1])
    assert [r.is_error for r in received] == [True, True, True, False]
    assert received[0].text.startswith("invalid argument operations.0.rename_column.new_name")
    assert received[1].text == ("unknown table 'customers' (did you mean users? known tables: legacy_events, "
                                "order_items, orders, products, users)")
    assert f"project_dir '/' is outside this session's project {shop.resolve()}" in received[2].text
    assert all("\n" not in r.text for r in received[:3])
    assert [c.is_error for c in result.tool_calls] == [True, True, True, False]
    assert result.tool_calls[1].output == received[1].text
    assert result.stopped_reason == "end_turn" and "Migration: rename column users.email" in result.text
    assert result.files == []  # planning writes nothing
    assert len(list((shop / "db" / "migrations").glob("*.sql"))) == 5


def test_step_limit_stops_a_model_that_keeps_calling_tools(shop):
    out = io.StringIO()
    with FakeAnthropic(lambda body: Reply(tool=("detect_tooling", {})), lifetime=60, max_requests=20) as api:
        result = agent.run_agent("rename users.email", str(shop), max_steps=3, client=_client(api), stream_to=out)
        bodies = _bodies(api)

    assert len(bodies) == 3 and result.steps == 3
    assert result.stopped_reason == "max_steps"
    assert len(result.tool_calls) == 2  # the third turn's call is not run
    assert "Stopped after 3 model turns" in result.text and "Nothing was written" in result.text
    assert "flux: Stopped after 3 model turns" in out.getvalue()


def test_missing_api_key_is_one_clear_line(shop, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(FluxInputError) as caught:
        agent.run_agent("rename users.email", str(shop))
    message = str(caught.value)
    assert "ANTHROPIC_API_KEY is not set" in message and "\n" not in message
    assert caught.value.exit_code == 2


def test_model_from_env_and_api_errors(shop, monkeypatch):
    monkeypatch.setenv("FLUX_MODEL", "claude-test-model")
    with FakeAnthropic(lambda body: Reply(text="Nothing to change."), lifetime=60, max_requests=5) as api:
        result = agent.run_agent("hello", str(shop), client=_client(api), stream_to=None)
        assert _bodies(api)[0]["model"] == "claude-test-model"
    assert result.text == "Nothing to change." and result.tool_calls == []

    def broken(body: dict) -> Reply:
        raise RuntimeError("overloaded")

    with FakeAnthropic(broken, lifetime=60, max_requests=5) as api:
        with pytest.raises(agent.FluxAgentError) as caught:
            agent.run_agent("hello", str(shop), model="claude-x", client=_client(api), stream_to=None)
    assert str(caught.value).startswith("Anthropic API error 500")
    assert "\n" not in str(caught.value)


@pytest.mark.pg
def test_cli_plan_through_the_agent_speaks_cli_again(shop, monkeypatch, capsys):
    """`flux plan --agent --json` prints the plan the model made; its summary names
    CLI commands again, while the model itself was told about tools."""
    from flux_agent.entry.cli import main

    def script(body: dict) -> Reply:
        results = tool_results(body)
        if not results:
            return Reply(tool=("plan_migration", {"operations": RENAME}))
        return Reply(text="Planned.")

    with FakeAnthropic(script, lifetime=60, max_requests=5) as api:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        code = main(["plan", "--agent", "--json", "--project", str(shop), "rename users.email to email_address"])
        seen = json.loads(tool_results(_bodies(api)[-1])[0].text)["plan"]["summary"]
    out = capsys.readouterr().out
    assert code == 0
    assert "verify_migration" in seen and "`flux verify`" not in seen  # what the model read
    printed = json.loads(out)["summary"]
    assert "`flux verify`" in printed and "then `flux continue` writes the steps after it" in printed
    assert "verify_migration" not in printed
