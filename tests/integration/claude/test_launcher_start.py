"""bin/flux-mcp (the plugin's MCP server start, as .mcp.json gives it) with the real uv and the
real Claude Code CLI:

- uv.lock is in step with pyproject.toml (the launcher starts --frozen from it);
- a cold start (empty project environment, uv's cache as is) answers initialize within 10 s;
- once the cache holds the packages, an offline start (UV_OFFLINE=1, another empty project
  environment) answers too; with an empty cache offline, the answer is a JSON-RPC error that
  names uv's error;
- Claude Code shows why the server failed: `claude mcp list` prints "Failed to connect" with the
  uv install message when uv is not on the server's PATH, and uv's error offline with an empty
  cache.

The launcher's own logic, with no real uv, is tested in tests/unit/test_launcher.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fake_anthropic import ROOT, claude_bin, claude_env, explain, run_claude
from test_plugin_cli import initialize_over_stdio

COLD_START_BUDGET_S = 10.0
INSTALL_MESSAGE = ("Flux needs uv on PATH: install it from https://docs.astral.sh/uv/getting-started/installation/ "
                   "and restart Claude Code")


def find_uv() -> str | None:
    """uv on PATH, else the one installed beside this Python (the `test` extra)."""
    beside = Path(sys.executable).parent / "uv"
    return shutil.which("uv") or (str(beside) if os.access(beside, os.X_OK) else None)


@pytest.fixture(scope="module")
def uv() -> str:
    found = find_uv()
    if not found:
        pytest.skip("uv not found (on PATH or beside this Python): the launcher needs it")
    return found


def uv_env(uv: str, tmp_path: Path, **extra: str) -> dict:
    """This environment with uv's folder first on PATH, no active virtualenv, a fresh project
    environment under tmp_path (never the repo's .venv), uv's cache as is."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_OFFLINE")}
    env["PATH"] = str(Path(uv).parent) + os.pathsep + env.get("PATH", "")
    env["UV_PROJECT_ENVIRONMENT"] = str(tmp_path / "uv-env")
    env.update(extra)
    return env


def test_uv_lock_is_in_step_with_pyproject(uv):
    check = subprocess.run([uv, "lock", "--check", "--offline", "--project", str(ROOT)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, ("uv.lock is out of step with pyproject.toml: run `uv lock` and commit uv.lock\n"
                                   + check.stdout + check.stderr)


def test_offline_with_an_empty_cache_answers_initialize_with_uv_s_error(uv, tmp_path):
    (tmp_path / "cache").mkdir()
    env = uv_env(uv, tmp_path, UV_OFFLINE="1", UV_CACHE_DIR=str(tmp_path / "cache"))
    elapsed, answer = initialize_over_stdio(env, tmp_path, timeout=60, request_id="init")
    assert answer["id"] == "init" and answer["error"]["code"] == -32603, answer
    message = answer["error"]["message"]
    assert message.startswith("Flux could not install its Python dependencies with uv: error: "), message
    assert "Network connectivity is disabled" in message, message
    print(f"\n[offline, empty cache] error answer in {elapsed:.2f}s: {message}")


@pytest.mark.slow
def test_cold_start_then_offline_start_from_the_cache(uv, tmp_path):
    """A cold start within budget (it also fills uv's cache, were anything missing), a warm one,
    then an offline start into another empty project environment."""
    times = {}
    for label, folder, extra in (("cold (empty env, cache as is)", "online", {}),
                                 ("warm", "online", {}),
                                 ("offline (UV_OFFLINE=1, empty env, cache as is)", "offline", {"UV_OFFLINE": "1"})):
        env = uv_env(uv, tmp_path / folder, **extra)
        elapsed, answer = initialize_over_stdio(env, tmp_path, timeout=300)
        assert "result" in answer, answer
        assert answer["result"]["serverInfo"]["name"] == "flux"
        times[label] = elapsed
    for label, elapsed in times.items():
        print(f"\n[launcher {label}] initialize answered in {elapsed:.2f}s", end="")
    print()
    cold = times["cold (empty env, cache as is)"]
    assert cold < COLD_START_BUDGET_S, f"cold start {cold:.1f}s (budget {COLD_START_BUDGET_S}s)"


@pytest.mark.claude
@pytest.mark.slow
def test_claude_code_shows_why_the_server_did_not_start(tmp_path):
    """No uv on the server's PATH; uv offline with an empty cache: `claude mcp list` and
    `claude mcp get` show each reason after "Failed to connect"."""
    claude = claude_bin()
    if not claude:
        pytest.skip("Claude Code CLI not found: set FLUX_CLAUDE_BIN, or `npm ci` in tests/node, or put `claude` on PATH")
    thin = tmp_path / "thin-bin"
    thin.mkdir()
    for tool in ("sh", "sed", "awk", "cat", "printf"):
        found = shutil.which(tool)
        if not found:
            pytest.skip(f"{tool} not on PATH")
        (thin / tool).symlink_to(found)
    for place in ("/usr/local/bin/uv", "/opt/homebrew/bin/uv"):
        if os.access(place, os.X_OK):
            pytest.skip(f"{place} exists: the launcher would find that uv")
    server_home = tmp_path / "server-home"  # no ~/.local/bin/uv, no ~/.cargo/bin/uv
    server_home.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = claude_env(home, tmp_path / "uv-env")
    launcher = str(ROOT / "bin" / "flux-mcp")
    servers = {"flux-no-uv": [f"PATH={thin}", f"HOME={server_home}"]}
    uv = find_uv()
    if uv:
        (tmp_path / "empty-cache").mkdir()
        servers["flux-offline"] = [f"PATH={Path(uv).parent}{os.pathsep}{os.environ.get('PATH', '')}", "UV_OFFLINE=1",
                                   f"UV_CACHE_DIR={tmp_path / 'empty-cache'}",
                                   f"UV_PROJECT_ENVIRONMENT={tmp_path / 'offline-env'}"]
    for name, server_env in servers.items():
        args = ["mcp", "add", "-s", "user", name]
        for pair in server_env:
            args += ["-e", pair]
        added = run_claude(claude, [*args, "--", "sh", launcher], env)
        assert added.returncode == 0, explain(added)

    listed = run_claude(claude, ["mcp", "list"], env, cwd=tmp_path)
    lines = {name: next((ln for ln in listed.stdout.splitlines() if ln.startswith(name + ":")), "")
             for name in servers}
    print("\n" + "\n".join(f"[claude mcp list] {line}" for line in lines.values()))
    assert "Failed to connect" in lines["flux-no-uv"] and f"-32603: {INSTALL_MESSAGE}" in lines["flux-no-uv"], \
        explain(listed)
    if uv:
        assert "Failed to connect" in lines["flux-offline"], explain(listed)
        assert "Flux could not install its Python dependencies with uv: error: " in lines["flux-offline"], \
            explain(listed)

    got = run_claude(claude, ["mcp", "get", "flux-no-uv"], env, cwd=tmp_path)
    assert f"Issue: -32603: {INSTALL_MESSAGE}" in got.stdout, explain(got)
