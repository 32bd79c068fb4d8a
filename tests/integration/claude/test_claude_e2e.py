"""End to end inside the real Claude Code client.

The plugin is installed from this repo as a marketplace into a temp HOME; a
scripted Messages API server on 127.0.0.1 plays the model (tests/fake_anthropic.py):
it loads the flux-migrate skill, fetches the deferred flux MCP tools with
ToolSearch, calls detect_tooling, plan_migration for a column rename, then
write_migration with its plan_id, and answers with the summary the tool returned. `claude -p` runs in a temp copy of
examples/shop. This proves the skill, the MCP server launch from .mcp.json
(its launcher under `${CLAUDE_PLUGIN_ROOT}`) and the tools work in the
real client."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from fake_anthropic import (
    CLAUDE_TIMEOUT,
    MCP_TIMEOUT_S,
    ROOT,
    FakeAnthropic,
    FluxScript,
    Logged,
    claude_env,
    conversation_text,
    copy_shop,
    descendants,
    explain,
    install_plugin,
    process_info,
    require_claude,
    tool_names,
    tool_results,
)

_FLUX_ANY = re.compile(r"mcp__[A-Za-z0-9_-]*flux[A-Za-z0-9_-]*__[a-z_]+")
TOOLS = ("detect_tooling", "read_schema", "plan_migration", "validate_migration", "write_migration",
         "verify_migration")
SKILL = "flux:flux-migrate"
PROMPT = "rename column users.email to email_address"
CONNECTED = re.compile(r'MCP server "([^"]*flux[^"]*)": Successfully connected \(transport: (\w+)\) in (\d+)ms')


def _final_result(stdout: str) -> dict:
    data = json.loads(stdout)
    if isinstance(data, list):  # some versions print every message; the result is the last
        data = [m for m in data if isinstance(m, dict) and m.get("type") == "result"][-1]
    return data


@pytest.mark.slow
@pytest.mark.claude
@pytest.mark.pg
def test_rename_column_in_real_claude_code(tmp_path):
    binary = require_claude()
    home = tmp_path / "home"
    home.mkdir()
    env = claude_env(home, tmp_path / "uv-env")
    # Without an API key: with one, `plugin marketplace add` and `plugin install` each spend ~20 s
    # trying to reach the real API (no network here).
    install_plugin(binary, env)

    project = copy_shop(tmp_path)
    migrations = project / "db" / "migrations"
    before = set(os.listdir(migrations))
    debug_log = tmp_path / "claude-debug.log"
    # The scripted model asks for the flux tools once the client says their server is connected.
    script = FluxScript(str(project), use_skill=SKILL, wait_s=MCP_TIMEOUT_S,
                        ready=lambda: bool(CONNECTED.search(debug_log.read_text(errors="replace"))))
    seen: dict = {"servers": []}

    def snapshot(entry: Logged) -> None:
        # While the scripted model asks for write_migration, the MCP server is up: record how it was started.
        if entry.reply and entry.reply.tool and entry.reply.tool[0].endswith("__write_migration") and seen.get("pid"):
            for pid, argv in descendants(seen["pid"]).items():
                if "mcp" in argv and any("flux" in a for a in argv):
                    seen["servers"].append(dict(process_info(pid, ("HOME", "PWD", "PATH")), argv=argv))

    with FakeAnthropic(script, lifetime=CLAUDE_TIMEOUT + 60, on_request=snapshot) as api:
        env = dict(env, ANTHROPIC_BASE_URL=api.base_url, ANTHROPIC_API_KEY="test-key", PWD=str(project),
                   MCP_TIMEOUT=str(MCP_TIMEOUT_S * 1000))  # a cold `uv run` under load: far over the default 30 s
        allowed = ",".join([f"mcp__plugin_flux_flux__{name}" for name in ("detect_tooling", "plan_migration",
                                                                             "write_migration")]
                           + ["Skill", "ToolSearch"])
        args = [binary, "-p", PROMPT, "--output-format", "json", "--allowedTools", allowed,
                "--debug-file", str(debug_log)]
        t0 = time.monotonic()
        proc = subprocess.Popen(args, cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        seen["pid"] = proc.pid
        try:
            out, err = proc.communicate(timeout=CLAUDE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"claude -p ran over {CLAUDE_TIMEOUT}s; requests: {api.paths()}\n{err[-3000:]}")
        total = time.monotonic() - t0
        requests = list(api.requests)
        server_errors = list(api.errors)

    debug = debug_log.read_text(errors="replace") if debug_log.exists() else ""
    connected = CONNECTED.search(debug)
    print(f"\n[e2e] requests: {[f'{r.t:.2f}s {r.method} {r.path}' for r in requests]}")
    for r in requests:
        if r.reply is not None:
            print(f"[e2e]   {r.t:6.2f}s stream={r.stream} tools={len(tool_names(r.body))} -> "
                  f"{r.reply.tool[0] if r.reply.tool else 'text'}")
    print(f"[e2e] the scripted model waited {script.waited_s:.1f}s for the MCP server; {script.searches} tool "
          f"search(es)")
    print(f"[e2e] claude -p total: {total:.1f}s; MCP server connected in "
          f"{connected.group(3) + ' ms' if connected else '? (no debug line)'}"
          f"{' as ' + repr(connected.group(1)) + ' over ' + connected.group(2) if connected else ''}")
    for info in seen["servers"]:
        print(f"[e2e] MCP server process: {json.dumps(info)}")

    proc_info = (explain(subprocess.CompletedProcess(args, proc.returncode, out, err))
                 + f"\n--- requests\n{api.paths()}\n--- debug log (tail)\n{debug[-3000:]}")
    assert not server_errors, server_errors
    assert proc.returncode == 0, proc_info
    result = _final_result(out)
    assert not result.get("is_error"), proc_info
    assert not result.get("permission_denials"), result.get("permission_denials")

    messages = [r for r in requests if r.reply is not None]
    # The skill is offered, and once invoked its body reaches the model.
    assert any(SKILL in conversation_text(r.body) or SKILL in json.dumps(r.body.get("tools")) for r in messages)
    heading = next(line for line in (ROOT / "skills" / "flux-migrate" / "SKILL.md").read_text().splitlines()
                   if line.startswith("# "))
    assert any(heading in conversation_text(r.body) for r in messages), "the SKILL.md body never reached the model"

    # The real client exposes all six MCP tools under its own names: loaded ones in the request's
    # tools, the others named in its list of deferred tools (ToolSearch loads them on demand).
    offered = sorted({n for r in messages for n in tool_names(r.body) if "flux" in n})
    named = set(_FLUX_ANY.findall("\n".join(conversation_text(r.body) for r in messages))) | set(offered)
    print(f"[e2e] flux tools loaded: {offered}; named to the model: {sorted(named)}")
    assert all(any(n.endswith("__" + t) for n in named) for t in TOOLS), sorted(named)
    assert all(any(n.endswith("__" + t) for n in offered) for t in ("detect_tooling", "plan_migration",
                                                                    "write_migration")), offered

    # The files: the 6 rename migrations before the code deploy (the contract waits for `flux continue`).
    new = sorted(set(os.listdir(migrations)) - before)
    assert len(new) == 6, new

    # The server saw write_migration's result, with the summary box in it.
    written = [tr for r in messages for tr in tool_results(r.body) if tr.name.endswith("__write_migration")]
    assert written, "no tool_result for write_migration reached the model"
    assert not written[-1].is_error, written[-1].text
    assert "Migration:" in written[-1].text
    assert all(name in written[-1].text for name in new)

    # Claude's final answer quotes that summary.
    assert script.summary and "Migration: rename column users.email to email_address" in script.summary
    assert script.summary in result["result"], result["result"][:2000]


def test_fake_api_answers_streaming_and_plain_requests(tmp_path):
    """The scripted server itself (no Claude Code needed): JSON and SSE replies, the
    script's steps, count_tokens, unknown paths, and the request log."""
    import urllib.error
    import urllib.request

    from fake_anthropic import RENAME

    script = FluxScript(str(tmp_path))
    flux = [{"name": f"mcp__plugin_flux_flux__{t}", "input_schema": {"type": "object"}} for t in TOOLS]
    user = {"role": "user", "content": PROMPT}

    def post(api, path, body):
        req = urllib.request.Request(api.base_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.headers.get("content-type"), resp.read().decode()

    def events(raw):
        out = []
        for chunk in raw.strip().split("\n\n"):
            lines = dict(line.split(": ", 1) for line in chunk.splitlines())
            out.append((lines["event"], json.loads(lines["data"])))
        return out

    with FakeAnthropic(script, lifetime=30) as api:
        # Deferred MCP tools (as Claude Code sends them) are first loaded with ToolSearch ...
        search = {"name": "ToolSearch", "input_schema": {"type": "object"}}
        deferred = [dict(t, defer_loading=True) for t in flux] + [search]
        _, raw = post(api, "/v1/messages", {"model": "m", "messages": [user], "tools": deferred})
        call = json.loads(raw)["content"][-1]
        assert call["name"] == "ToolSearch"
        assert call["input"]["query"] == ("select:mcp__plugin_flux_flux__detect_tooling,mcp__plugin_flux_flux__"
                                          "plan_migration,mcp__plugin_flux_flux__write_migration")
        # ... and callable once a tool_reference for them came back.
        refs = [{"type": "tool_reference", "tool_name": t["name"]} for t in flux]
        loaded = [user, {"role": "assistant", "content": [call]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": refs}]}]
        _, raw = post(api, "/v1/messages", {"model": "m", "messages": loaded, "tools": deferred})
        assert json.loads(raw)["content"][-1]["name"].endswith("__detect_tooling")

        kind, raw = post(api, "/v1/messages", {"model": "m", "messages": [user], "tools": flux})
        first = json.loads(raw)
        assert kind == "application/json" and first["stop_reason"] == "tool_use"
        call = first["content"][-1]
        assert call["name"].endswith("__detect_tooling") and call["input"] == {"project_dir": str(tmp_path)}

        history = [user, {"role": "assistant", "content": [call]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "{}"}]}]
        _, raw = post(api, "/v1/messages", {"model": "m", "messages": history, "tools": flux})
        call = json.loads(raw)["content"][-1]
        assert call["name"].endswith("__plan_migration") and call["input"]["operations"] == RENAME
        history += [{"role": "assistant", "content": [call]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                                  "content": json.dumps({"plan_id": "plan-0123456789"})}]}]
        kind, raw = post(api, "/v1/messages?beta=true", {"model": "m", "messages": history, "tools": flux,
                                                          "stream": True})
        assert kind == "text/event-stream"
        evs = events(raw)
        assert [e for e, _ in evs] == ["message_start", "content_block_start"] + ["content_block_delta"] * (
            len(evs) - 5) + ["content_block_stop", "message_delta", "message_stop"]
        assert evs[-2][1]["delta"]["stop_reason"] == "tool_use"
        start = evs[1][1]["content_block"]
        assert start["type"] == "tool_use" and start["name"].endswith("__write_migration")
        args = json.loads("".join(d["delta"]["partial_json"] for e, d in evs if e == "content_block_delta"))
        assert args == {"project_dir": str(tmp_path), "plan_id": "plan-0123456789"}

        summary = "+- Migration: rename column users.email to email_address -+"
        history += [{"role": "assistant", "content": [dict(start, input=args)]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": start["id"],
                                                  "content": [{"type": "text",
                                                               "text": json.dumps({"summary": summary})}]}]}]
        kind, raw = post(api, "/v1/messages", {"model": "m", "messages": history, "tools": flux, "stream": True})
        text = "".join(d["delta"]["text"] for e, d in events(raw) if e == "content_block_delta")
        assert summary in text and script.summary == summary

        _, raw = post(api, "/v1/messages", {"model": "m", "messages": [user]})  # a side call: no tools
        assert json.loads(raw)["content"] == [{"type": "text", "text": "Flux test."}]
        _, raw = post(api, "/v1/messages/count_tokens", {"model": "m", "messages": [user]})
        assert json.loads(raw) == {"input_tokens": 1}
        with pytest.raises(urllib.error.HTTPError):
            post(api, "/v1/other", {})
        assert api.paths()[-2:] == ["POST /v1/messages/count_tokens", "POST /v1/other"]
        assert not api.errors


def test_script_waits_for_the_mcp_server_before_searching(tmp_path):
    """The scripted model searches for the flux tools once `ready` says their server is up, and
    gives up (saying so) only after `wait_s`: a slow server start is waited for, not raced."""
    search = {"name": "ToolSearch", "input_schema": {"type": "object"}}
    body = {"model": "m", "messages": [{"role": "user", "content": PROMPT}], "tools": [search]}
    up_at = time.monotonic() + 0.5
    script = FluxScript(str(tmp_path), ready=lambda: time.monotonic() >= up_at, wait_s=30)
    t0 = time.monotonic()
    reply = script(body)
    assert reply.tool and reply.tool[0] == "ToolSearch" and time.monotonic() - t0 >= 0.45
    assert script.searches == 1 and script.waited_s >= 0.45
    never = FluxScript(str(tmp_path), ready=lambda: False, wait_s=0.3, hold_s=0.2)
    assert never(body).tool[0] == "ToolSearch"  # held 0.2 s, then searched anyway: the client may know better
    reply = never(body)
    assert reply.tool is None and reply.text.startswith("The flux tools never became available (1 searches")
