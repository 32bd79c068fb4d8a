"""The plugin as the real Claude Code CLI sees it, each run in a temp HOME:
`claude plugin validate` (repo and plugin.json) passes with no errors or
warnings; marketplace add + install succeed; `claude plugin details` lists the
skill and the MCP server within a token budget; `claude mcp list` connects to
the server; and the server's start-up time, cold and warm, through Claude Code
and straight from the command line .mcp.json gives; and every `claude plugin ...`
line of the README's install section exists in the real CLI."""

from __future__ import annotations

import json
import queue
import re
import shlex
import subprocess
import threading
import time
from pathlib import Path

import pytest

from fake_anthropic import ROOT, claude_bin, claude_env, copy_shop, explain, install_plugin, require_claude, run_claude

# Every test runs the real Claude Code CLI, and all are slow: the plugin install (a module fixture,
# paid by the first test that needs it, 1-13 s here) or Claude Code runs of 1-7 s per test.
pytestmark = [pytest.mark.claude, pytest.mark.slow]

CONNECTED = re.compile(r'MCP server "([^"]*flux[^"]*)": Successfully connected \(transport: \w+\) in (\d+)ms')
ALWAYS_ON_BUDGET = 60
ON_INVOKE_BUDGET = 1500
DEFAULT_MCP_TIMEOUT_S = 30  # Claude Code gives up on a server that takes longer (MCP_TIMEOUT overrides)


@pytest.fixture(scope="module")
def claude() -> str:
    return require_claude()


@pytest.fixture(scope="module")
def installed(claude, tmp_path_factory):
    """A temp HOME with the repo added as a marketplace and flux installed from it."""
    base = tmp_path_factory.mktemp("claude-home")
    home = base / "home"
    home.mkdir()
    env = claude_env(home, base / "uv-env")
    install_plugin(claude, env)
    return {"home": home, "env": env, "base": base}


def _problems(report, where="report") -> list[str]:
    """Every non-empty `errors` or `warnings` list anywhere in a validate --json report
    (the manifest, and any per-plugin sections such as `contents`)."""
    found: list[str] = []
    if isinstance(report, dict):
        for key, value in report.items():
            if key in ("errors", "warnings") and value:
                found.append(f"{where}.{key}: {json.dumps(value)[:1000]}")
            else:
                found.extend(_problems(value, f"{where}.{key}"))
    elif isinstance(report, list):
        for i, value in enumerate(report):
            found.extend(_problems(value, f"{where}[{i}]"))
    return found


@pytest.mark.parametrize("target", ["repo", "plugin.json"])
def test_validate_passes_without_errors_or_warnings(claude, tmp_path, target):
    path = ROOT if target == "repo" else ROOT / ".claude-plugin" / "plugin.json"
    env = claude_env(tmp_path / "home", tmp_path / "uv-env")
    (tmp_path / "home").mkdir()

    plain = run_claude(claude, ["plugin", "validate", str(path)], env)
    assert plain.returncode == 0, explain(plain)

    as_json = run_claude(claude, ["plugin", "validate", "--json", str(path)], env)
    assert as_json.returncode == 0, explain(as_json)
    report = json.loads(as_json.stdout)
    print(f"\n[validate {target}] manifest={report['manifest']['type']} {report['manifest']['file']}; "
          f"contents={len(report.get('contents') or [])}; provides: mcpServers="
          f"{[s['name'] for s in report['provides']['mcpServers']]} skills={report['provides']['skills']}; "
          f"directory findings={report.get('directory', {}).get('findings')}")
    assert report["success"] is True
    assert report["manifest"]["type"] == ("marketplace" if target == "repo" else "plugin")
    assert not _problems(report), _problems(report)
    assert [s["name"] for s in report["provides"]["mcpServers"]] == ["flux"]
    assert report["provides"]["skills"] == ["flux:flux-migrate"]
    assert not report.get("directory", {}).get("findings"), report["directory"]["findings"]


def test_marketplace_add_and_install(claude, installed):
    listed = run_claude(claude, ["plugin", "list"], installed["env"])
    assert listed.returncode == 0, explain(listed)
    assert "flux@flux-marketplace" in listed.stdout and "enabled" in listed.stdout, listed.stdout


def _tokens(text: str) -> float:
    text = text.strip().lstrip("~")
    return float(text[:-1]) * 1000 if text.lower().endswith("k") else float(text)


def test_details_list_the_skill_and_one_mcp_server_within_budget(claude, installed):
    details = run_claude(claude, ["plugin", "details", "flux"], installed["env"])
    assert details.returncode == 0, explain(details)
    out = details.stdout
    print("\n" + out)
    assert re.search(r"^\s*Skills \(1\)\s+flux-migrate\s*$", out, re.M), out
    assert re.search(r"^\s*MCP servers \(1\)\s+flux\b", out, re.M), out
    row = re.search(r"^\s*flux-migrate\s+(~?[\d.]+k?)\s+(~?[\d.]+k?)\s*$", out, re.M)
    assert row, out
    always_on, on_invoke = _tokens(row.group(1)), _tokens(row.group(2))
    print(f"[details] flux-migrate tokens: always-on {always_on:.0f} (budget {ALWAYS_ON_BUDGET}), "
          f"on-invoke {on_invoke:.0f} (budget {ON_INVOKE_BUDGET})")
    assert always_on <= ALWAYS_ON_BUDGET
    assert on_invoke <= ON_INVOKE_BUDGET


def _mcp_list(claude, env, cwd: Path, log: Path):
    t0 = time.monotonic()
    proc = run_claude(claude, ["--debug-file", str(log), "mcp", "list"], dict(env, PWD=str(cwd)), cwd=cwd)
    wall = time.monotonic() - t0
    debug = log.read_text(errors="replace") if log.exists() else ""
    match = CONNECTED.search(debug)
    return proc, wall, (int(match.group(2)) / 1000 if match else None)


def test_mcp_list_connects_cold_then_warm(claude, installed, tmp_path):
    project = copy_shop(tmp_path)
    env = dict(installed["env"], UV_PROJECT_ENVIRONMENT=str(tmp_path / "uv-env-fresh"),
               MCP_TIMEOUT="180000")  # measure a slow cold start rather than fail on it
    runs = []
    for label in ("cold", "warm"):
        proc, wall, connect = _mcp_list(claude, env, project, tmp_path / f"mcp-list-{label}.log")
        assert proc.returncode == 0, explain(proc)
        line = next((ln for ln in proc.stdout.splitlines() if "plugin:flux:" in ln), "")
        assert line and "Connected" in line, proc.stdout
        runs.append((label, wall, connect))
        print(f"\n[mcp list {label}] {line.strip()}")
    for label, wall, connect in runs:
        print(f"[mcp list {label}] claude mcp list: {wall:.2f}s wall; server connected in "
              f"{f'{connect:.2f}s' if connect is not None else '?'} (empty UV_PROJECT_ENVIRONMENT first, uv cache as is)")
    cold = runs[0][2] or runs[0][1]
    if cold > DEFAULT_MCP_TIMEOUT_S:
        print(f"[mcp list] WARNING: the cold start ({cold:.1f}s) is over Claude Code's default "
              f"{DEFAULT_MCP_TIMEOUT_S}s MCP timeout")


def mcp_json_command(root: Path = ROOT) -> list[str]:
    """The flux server's command line exactly as .mcp.json gives it, ${CLAUDE_PLUGIN_ROOT}
    replaced by the plugin folder (as Claude Code does)."""
    server = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]["flux"]
    return [part.replace("${CLAUDE_PLUGIN_ROOT}", str(root)) for part in [server["command"], *server.get("args", [])]]


def initialize_over_stdio(env, cwd: Path, timeout: float = 240.0, command: list[str] | None = None,
                          request_id=1) -> tuple[float, dict]:
    """Start the server as .mcp.json does (or `command`), send an MCP initialize request, and
    time the answer. Fails the test if the server writes anything but JSON to stdout."""
    args = command or mcp_json_command()
    t0 = time.monotonic()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    errors: list[str] = []
    threading.Thread(target=lambda: [lines.put(ln) for ln in proc.stdout] + [lines.put(None)], daemon=True).start()
    threading.Thread(target=lambda: [errors.append(ln) for ln in proc.stderr], daemon=True).start()
    try:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "flux-start-timer", "version": "0"}}}) + "\n")
        proc.stdin.flush()
        deadline = t0 + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no initialize answer within {timeout}s from {args}; stderr: {''.join(errors)[-2000:]}")
            if line is None:
                pytest.fail(f"{args} closed stdout without answering initialize; stderr: {''.join(errors)[-2000:]}")
            try:
                message = json.loads(line)
            except ValueError:
                pytest.fail(f"not JSON-RPC on the server's stdout: {line!r}")
            if message.get("id") == request_id:
                return time.monotonic() - t0, message
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_mcp_json_command_answers_initialize_cold_then_warm(installed, tmp_path):
    project = copy_shop(tmp_path)
    env = dict(installed["env"], UV_PROJECT_ENVIRONMENT=str(tmp_path / "uv-env-direct"))
    times = []
    for label in ("cold", "warm"):
        elapsed, answer = initialize_over_stdio(env, project)
        assert "result" in answer, answer
        assert answer["result"]["serverInfo"]["name"] == "flux"
        assert "tools" in answer["result"]["capabilities"]
        times.append((label, elapsed, answer["result"].get("protocolVersion")))
    for label, elapsed, version in times:
        print(f"\n[.mcp.json {label}] `{' '.join(mcp_json_command(Path('<plugin>')))}` answered initialize in "
              f"{elapsed:.2f}s (protocol {version}; empty UV_PROJECT_ENVIRONMENT first, uv cache as is)", end="")
    print()


# --- the README's install commands against the real CLI ---------------------------------------

def _install_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Install in Claude Code")
    end = readme.find("\n## ", start + 1)
    return readme[start:end if end != -1 else None]


def _claude_plugin_lines(text: str) -> list[str]:
    """Every `claude plugin ...` command: whole lines in code blocks, and inline `...` spans."""
    found = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("claude plugin ")]
    found += [span for span in re.findall(r"`([^`\n]+)`", text) if span.startswith("claude plugin ")]
    return list(dict.fromkeys(found))


class _Help:
    """What `claude <path> --help` says: subcommands (with aliases), options (and whether each
    takes a value), and the positional arguments of its usage line."""

    def __init__(self, text: str, path: list[str]):
        self.text = text
        self.commands: dict[str, str] = {}
        self.options: dict[str, bool] = {}
        section = None
        for line in text.splitlines():
            if re.match(r"^\S.*:$", line):
                section = line[:-1]
                continue
            if section == "Commands" and re.match(r"^  \S", line):
                names = line.split()[0].split("|")
                for name in names:
                    self.commands[name] = names[0]
            if section == "Options":
                m = re.match(r"^  (?:(-\w), )?(--[\w-]+)((?: <[^>]+>| \[[^\]]+\])?)", line)
                if m:
                    for name in filter(None, (m.group(1), m.group(2))):
                        self.options[name] = bool(m.group(3))
        usage = re.search(r"^Usage: (.*)$", text, re.M)
        self.positionals = re.findall(r"(<[^>]+>|\[[^\]]+\])", usage.group(1)) if usage else []
        self.positionals = [p for p in self.positionals if p not in ("[options]", "[command]")]


def _check_command(claude: str, env: dict, line: str) -> list[str]:
    """Problems with `line` against the CLI's help: an unknown subcommand or option, a missing
    option value, or a wrong number of positional arguments. Empty when it parses."""
    words = shlex.split(line)
    assert words[:2] == ["claude", "plugin"], line
    path, rest = ["plugin"], words[2:]
    while True:
        proc = run_claude(claude, [*path, "--help"], env, timeout=60)
        if proc.returncode != 0:
            return [f"`claude {' '.join(path)} --help` failed: {explain(proc)}"]
        help_ = _Help(proc.stdout, path)
        if rest and rest[0] in help_.commands:
            path.append(help_.commands[rest.pop(0)])
            continue
        break
    if help_.commands:
        return [f"{line}: `claude {' '.join(path)}` needs one of the subcommands {sorted(set(help_.commands.values()))}"]
    problems, positional = [], []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if name not in help_.options:
                problems.append(f"{line}: `claude {' '.join(path)}` has no option {name} "
                                f"(it has {sorted(help_.options)})")
            elif help_.options[name] and "=" not in word:
                i += 1
                if i >= len(rest):
                    problems.append(f"{line}: {name} needs a value")
        else:
            positional.append(word)
        i += 1
    required = [p for p in help_.positionals if p.startswith("<")]
    variadic = any(p.endswith("...>") or p.endswith("...]") for p in help_.positionals)
    if len(positional) < len(required) or (not variadic and len(positional) > len(help_.positionals)):
        problems.append(f"{line}: `claude {' '.join(path)}` takes {' '.join(help_.positionals) or 'no arguments'}, "
                        f"given {positional}")
    return problems


def test_readme_install_commands_exist_in_the_cli(tmp_path):
    claude = claude_bin()
    if not claude:
        pytest.skip("Claude Code CLI not found: set FLUX_CLAUDE_BIN, or `npm ci` in tests/node, or put `claude` on PATH")
    (tmp_path / "home").mkdir()
    env = claude_env(tmp_path / "home", tmp_path / "uv-env")
    lines = _claude_plugin_lines(_install_section())
    print(f"\n[README] install commands checked against the CLI's help: {lines}")
    assert len(lines) >= 3, lines
    assert not [p for line in lines for p in _check_command(claude, env, line)]
    # the check can fail: a misspelt option, an unknown subcommand, a missing argument, an extra one
    for wrong in ("claude plugin install flux --marketplce flux-migrate/flux",
                  "claude plugin add flux-migrate/flux",
                  "claude plugin marketplace add",
                  "claude plugin install flux flux-migrate/flux"):
        assert _check_command(claude, env, wrong), f"{wrong!r} passed the check"
