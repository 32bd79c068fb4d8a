"""bin/flux-mcp, the plugin's MCP server launcher (.mcp.json runs it with `sh`), run with a
PATH that holds only the few tools it may use (sh, sed, awk, cat, printf) and a HOME of our
own, so no real uv is found:

- without uv it answers every JSON-RPC request, numbered or named, with error -32603 and the
  install message (Claude Code shows that in /mcp and `claude mcp list`), copies the answer
  to stderr, ignores notifications and nested "id" keys, and exits when stdin closes;
- with a stand-in uv (a shell script that logs its arguments) it looks in ~/.local/bin and
  ~/.cargo/bin too, syncs the locked dependencies first without ever writing uv's stdout to
  the JSON-RPC wire, reports a failed sync as the JSON-RPC error, and execs
  `uv run --frozen --no-sync ... python -m flux_agent mcp` with the plugin folder on PYTHONPATH.

The real uv and Claude Code runs are in tests/integration/claude/test_launcher.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "bin" / "flux-mcp"
INSTALL_MESSAGE = ("Flux needs uv on PATH: install it from https://docs.astral.sh/uv/getting-started/installation/ "
                   "and restart Claude Code")
TOOLS = ("sh", "sed", "awk", "cat", "printf")
INITIALIZE = {"jsonrpc": "2.0", "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {"roots": {}},
    "clientInfo": {"name": "claude-code", "version": "2.1.330"}}}


@pytest.fixture
def thin(tmp_path):
    """(env, bin dir): PATH is one folder of symlinks to TOOLS, HOME an empty folder."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not on this machine's PATH")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in TOOLS:
        (bindir / tool).symlink_to(shutil.which(tool))
    home = tmp_path / "home"
    home.mkdir()
    for place in ("/usr/local/bin/uv", "/opt/homebrew/bin/uv"):  # the launcher looks there too
        if os.access(place, os.X_OK):
            pytest.skip(f"{place} exists: the launcher would find that uv")
    return {"PATH": str(bindir), "HOME": str(home)}, bindir


def launch(env: dict, lines: list[str], timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("sh"), str(LAUNCHER)], input="".join(ln + "\n" for ln in lines),
                          env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])


def request(id_, **fields) -> str:
    return json.dumps({**INITIALIZE, **fields, "id": id_})


def error_answer(id_, message=INSTALL_MESSAGE) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "error": {"code": -32603, "message": message}}


@pytest.mark.parametrize("id_", [0, 1, 42, "init-1", "a \"quoted\" {id}", "ünï"])
def test_without_uv_initialize_gets_the_install_message_with_its_own_id(thin, id_):
    env, _ = thin
    done = launch(env, [request(id_)])
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    assert json.loads(lines[0]) == error_answer(id_)
    assert lines[0] in done.stderr.splitlines(), done.stderr  # the same line, for the debug log


def test_without_uv_every_request_is_answered_and_notifications_and_nested_ids_are_not(thin):
    env, _ = thin
    done = launch(env, [
        # key order as Claude Code sends it (id last), and an "id" key nested in params
        json.dumps({"method": "initialize", "params": {"clientInfo": {"id": 99, "name": "x\"}{"}},
                    "jsonrpc": "2.0", "id": 0}),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/x", "params": {"id": 5, "list": [{"id": 6}]}}),
        '{ "jsonrpc" : "2.0" , "id" : 7 , "method" : "tools/list" }',
        "",
        "not json at all",
        json.dumps({"jsonrpc": "2.0", "id": "last", "method": "ping"}),
    ])
    answers = [json.loads(ln) for ln in done.stdout.splitlines()]
    assert answers == [error_answer(0), error_answer(7), error_answer("last")], done.stdout


def test_without_uv_it_exits_when_stdin_closes_without_a_request(thin):
    env, _ = thin
    done = launch(env, [], timeout=10)
    assert done.returncode == 1 and done.stdout == ""
    assert "uv not found" in done.stderr


# A stand-in uv: logs each call (arguments, PYTHONPATH) to $UV_LOG, prints junk on stdout in
# `uv sync` (the launcher must keep it off the wire), fails the sync when $FAKE_UV_SYNC_FAILS,
# and on `uv run` prints a JSON-RPC result as the server would.
FAKE_UV = r"""#!/bin/sh
printf '%s|PYTHONPATH=%s\n' "$*" "${PYTHONPATH:-}" >> "$UV_LOG"
case $1 in
  sync)
    echo "uv sync stdout noise"
    if [ -n "${FAKE_UV_SYNC_FAILS:-}" ]; then
      printf '%s\n' "warning: something harmless" "error: Failed to download \`pglast==8.8\`" \
        "  Caused by: Network connectivity is disabled, but the requested data wasn't found in the cache: https://files.example/pglast.whl" >&2
      exit 1
    fi ;;
  run)
    cat > /dev/null
    printf '%s\n' '{"jsonrpc":"2.0","id":1,"result":{"serverInfo":{"name":"flux"}}}' ;;
esac
"""


def install_fake_uv(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    uv = folder / "uv"
    uv.write_text(FAKE_UV)
    uv.chmod(0o755)
    return uv


@pytest.mark.parametrize("where", ["PATH", ".local/bin", ".cargo/bin"])
def test_with_uv_it_syncs_quietly_then_execs_uv_run_frozen_with_the_plugin_on_pythonpath(thin, tmp_path, where):
    env, bindir = thin
    uv = install_fake_uv(bindir if where == "PATH" else Path(env["HOME"]) / where)
    log = tmp_path / "uv.log"
    done = launch(dict(env, UV_LOG=str(log), PYTHONPATH="/elsewhere"), [request(1)])
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"jsonrpc":"2.0","id":1,"result":{"serverInfo":{"name":"flux"}}}\n'
    assert "uv sync stdout noise" in done.stderr
    root = str(ROOT.resolve())
    assert log.read_text().splitlines() == [
        f"sync --frozen --no-install-project --inexact --quiet --project {root}|PYTHONPATH=/elsewhere",
        f"run --frozen --no-sync --quiet --project {root} python -m flux_agent mcp|PYTHONPATH={root}:/elsewhere",
    ], f"uv found at {uv}"


def test_a_failed_sync_is_the_json_rpc_error_with_uv_s_first_error_line(thin, tmp_path):
    env, bindir = thin
    install_fake_uv(bindir)
    log = tmp_path / "uv.log"
    done = launch(dict(env, UV_LOG=str(log), FAKE_UV_SYNC_FAILS="1"), [request("x")])
    assert done.returncode == 1
    [answer] = [json.loads(ln) for ln in done.stdout.splitlines()]
    message = answer["error"]["message"]
    assert answer["id"] == "x" and answer["error"]["code"] == -32603
    assert message.startswith("Flux could not install its Python dependencies with uv: "
                              "error: Failed to download `pglast==8.8` (cause: Network connectivity is disabled, "
                              "but the requested data wasn't found in the cache)."), message
    assert f"uv sync --frozen --no-install-project --project {ROOT.resolve()}" in message
    assert "uv sync stdout noise" not in done.stdout
    assert len(log.read_text().splitlines()) == 1  # no `uv run` after a failed sync


def test_mcp_json_starts_the_launcher_with_sh_and_the_launcher_is_committed_executable():
    server = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]["flux"]
    assert server == {"command": "sh", "args": ["${CLAUDE_PLUGIN_ROOT}/bin/flux-mcp"]}
    assert LAUNCHER.read_text().startswith("#!/bin/sh\n")
    if (ROOT / ".git").exists() and shutil.which("git"):
        staged = subprocess.run(["git", "ls-files", "-s", "bin/flux-mcp"], cwd=ROOT, capture_output=True, text=True)
        if staged.stdout:
            assert staged.stdout.startswith("100755 "), staged.stdout
