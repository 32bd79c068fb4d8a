"""A scripted stand-in for the Anthropic Messages API, for end-to-end runs of
the real Claude Code client against the flux plugin.

It plays the model with a fixed script (see `FluxScript`) and answers both
streaming (SSE) and non-streaming requests, whichever the request asks for.
The server runs in a daemon thread on 127.0.0.1 with a random free port and is
bounded: it shuts itself down after `lifetime` seconds or `max_requests`
requests, whichever comes first. Every request is logged (`requests`) for
debugging and for the test's assertions.

The last sections hold what both real-client test modules share: finding the
`claude` binary, its sandboxed environment, installing the plugin from this
repo, and a look at the MCP server process through /proc (Linux, diagnostics).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlsplit


# --- reading a Messages API request ----------------------------------------------------------

def tool_names(body: dict) -> list[str]:
    return [t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)]


def find_tool(body: dict, suffix: str) -> Optional[str]:
    """The full name of the tool whose name ends with `suffix` (e.g. the MCP tool
    `mcp__plugin_flux_flux__write_migration` for `write_migration`)."""
    for name in tool_names(body):
        if name == suffix or name.endswith("__" + suffix):
            return name
    return None


def _blocks(message: dict) -> list[dict]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def block_text(block: dict) -> str:
    """The text of a content block; a tool_result's content may be a string or a list of blocks."""
    if block.get("type") == "text":
        return block.get("text", "")
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(block_text(b) for b in content if isinstance(b, dict))
    return ""


@dataclass
class ToolResult:
    tool_use_id: str
    name: str  # the tool's full name, from the matching tool_use ("" when unknown)
    text: str
    is_error: bool


def tool_results(body: dict) -> list[ToolResult]:
    """Every tool_result in the conversation, in order, with the name of the tool it answers."""
    names: dict[str, str] = {}
    out: list[ToolResult] = []
    for message in body.get("messages") or []:
        for block in _blocks(message):
            if block.get("type") == "tool_use":
                names[block.get("id", "")] = block.get("name", "")
            elif block.get("type") == "tool_result":
                tid = block.get("tool_use_id", "")
                out.append(ToolResult(tid, names.get(tid, ""), block_text(block), bool(block.get("is_error"))))
    return out


def loaded_tools(body: dict) -> set[str]:
    """Tools the model may call now: those sent without `defer_loading`, and deferred
    ones that a tool search result has loaded (a `tool_reference` block)."""
    ready = {t.get("name", "") for t in body.get("tools") or [] if isinstance(t, dict) and not t.get("defer_loading")}
    for message in body.get("messages") or []:
        for block in _blocks(message):
            if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                ready.update(b.get("tool_name", "") for b in block["content"]
                             if isinstance(b, dict) and b.get("type") == "tool_reference")
    return ready


def conversation_text(body: dict) -> str:
    """All text the request carries (system prompt, messages, tool results), for searching."""
    parts: list[str] = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts.extend(b.get("text", "") for b in system if isinstance(b, dict))
    for message in body.get("messages") or []:
        parts.extend(block_text(b) for b in _blocks(message))
    return "\n".join(parts)


def summary_from(text: str) -> str:
    """The `summary` of a write_migration result: the result is the tool's compact JSON
    as text; fall back to the raw text."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("summary"), str):
        return data["summary"]
    return text


# --- replies ----------------------------------------------------------------------------------

@dataclass
class Reply:
    """What the model says: text, and optionally one tool call."""

    text: str = ""
    tool: Optional[tuple[str, dict]] = None  # (full tool name, input)

    def content(self) -> list[dict]:
        blocks: list[dict] = []
        if self.text:
            blocks.append({"type": "text", "text": self.text})
        if self.tool:
            name, args = self.tool
            blocks.append({"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": name, "input": args})
        return blocks

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.tool else "end_turn"


def _message(model: str, reply: Reply) -> dict:
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": reply.content(),
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


def sse_events(model: str, reply: Reply) -> list[tuple[str, dict]]:
    """The event sequence of a streamed reply."""
    message = _message(model, reply)
    blocks = message["content"]
    head = dict(message, content=[], stop_reason=None, usage=dict(message["usage"], output_tokens=1))
    events: list[tuple[str, dict]] = [("message_start", {"type": "message_start", "message": head})]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            text = block["text"]
            pieces = [text[i:i + 40] for i in range(0, len(text), 40)] or [""]
            deltas = [{"type": "text_delta", "text": p} for p in pieces]
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = json.dumps(block["input"])
            pieces = [raw[i:i + 30] for i in range(0, len(raw), 30)]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        for delta in deltas:
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                                     "usage": {"output_tokens": 10}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# --- the script -------------------------------------------------------------------------------

RENAME = [{"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}]


_FLUX_NAME = re.compile(r"mcp__[A-Za-z0-9_-]*flux[A-Za-z0-9_-]*__(?:detect_tooling|plan_migration|write_migration)")


@dataclass
class FluxScript:
    """The model's part in the rename flow.

    Main-loop requests (they offer the flux tools, or the ToolSearch tool that
    loads deferred tools): optionally load the skill with the Skill tool; when
    the flux MCP tools are not loaded yet (Claude Code sends MCP tools with
    `defer_loading`, or not at all while the server is still connecting), load
    them with ToolSearch; then detect_tooling, plan_migration, write_migration with
    the plan's plan_id, then a final answer that quotes the write_migration summary.
    Requests that offer neither (Claude Code's side calls) get plain text.

    The MCP server may still be starting when the model first wants its tools
    (a cold `uv run` on a loaded machine takes many seconds). A tool search made
    then finds nothing, so before searching the script waits until `ready()`
    says the server is connected (Claude Code's debug log says so), and searches
    again while the tools are missing, until `wait_s` has passed: a readiness
    wait bounded by time, not by a guess of how many searches are enough."""

    project_dir: str
    operations: list = field(default_factory=lambda: list(RENAME))
    use_skill: str = ""  # e.g. "flux:flux-migrate": call the Skill tool first, when offered
    ready: Optional[Callable[[], bool]] = None  # is the flux MCP server connected?
    wait_s: float = 300.0  # how long the tools may take to appear, from the first search on
    hold_s: float = 60.0  # the longest one reply waits for `ready` (the client waits for its reply)
    max_searches: int = 30  # a bound on turns, should the tools never appear
    summary: Optional[str] = None  # the write_migration summary, once seen
    searches: int = 0
    first_search: Optional[float] = None
    waited_s: float = 0.0  # time replies spent waiting for `ready`

    def _await_ready(self) -> None:
        if self.ready is None:
            return
        now = time.monotonic()
        deadline = min(now + self.hold_s, (self.first_search or now) + self.wait_s)
        while time.monotonic() < deadline:
            try:
                if self.ready():
                    break
            except OSError:  # the debug log may not exist yet
                pass
            time.sleep(0.1)
        self.waited_s += time.monotonic() - now

    def __call__(self, body: dict) -> Reply:
        detect = find_tool(body, "detect_tooling")
        plan = find_tool(body, "plan_migration")
        write = find_tool(body, "write_migration")
        names = tool_names(body)
        results = tool_results(body)
        done = {r.name for r in results}
        ready = loaded_tools(body)
        if not (detect in ready and plan in ready and write in ready):
            if "ToolSearch" not in names:
                return Reply(text="Flux test.")
            if self.use_skill and "Skill" in names and "Skill" not in done:
                return Reply(text="Loading the skill.", tool=("Skill", {"skill": self.use_skill}))
            if self.first_search is None:
                self.first_search = time.monotonic()
            self._await_ready()
            if self.searches >= self.max_searches or time.monotonic() > self.first_search + self.wait_s:
                return Reply(text=f"The flux tools never became available ({self.searches} searches, "
                                  f"{time.monotonic() - self.first_search:.0f} s).")
            self.searches += 1
            known = [detect, plan, write] if detect and plan and write else \
                sorted(set(_FLUX_NAME.findall(conversation_text(body))))
            query = "select:" + ",".join(known) if len(known) == 3 else \
                "+flux detect_tooling plan_migration write_migration"
            return Reply(tool=("ToolSearch", {"query": query, "max_results": 10}))
        if self.use_skill and "Skill" in names and "Skill" not in done:
            return Reply(text="Loading the skill.", tool=("Skill", {"skill": self.use_skill}))
        if detect not in done:
            return Reply(tool=(detect, {"project_dir": self.project_dir}))
        if plan not in done:
            return Reply(tool=(plan, {"project_dir": self.project_dir, "operations": self.operations}))
        if write not in done:
            planned = [r for r in results if r.name == plan][-1]
            if planned.is_error:
                return Reply(text="plan_migration failed:\n" + planned.text)
            return Reply(tool=(write, {"project_dir": self.project_dir,
                                       "plan_id": json.loads(planned.text)["plan_id"]}))
        written = [r for r in results if r.name == write][-1]
        if written.is_error:
            return Reply(text="write_migration failed:\n" + written.text)
        self.summary = summary_from(written.text)
        return Reply(text="Wrote the migration.\n\n```\n" + self.summary + "\n```\n")


# --- the server -------------------------------------------------------------------------------

@dataclass
class Logged:
    t: float  # seconds since the server started
    method: str
    path: str
    body: Any
    stream: bool = False
    reply: Optional[Reply] = None


class FakeAnthropic:
    """Usage: `with FakeAnthropic(script) as api: ... api.base_url ...`."""

    def __init__(self, script: Callable[[dict], Reply], lifetime: float = 300.0, max_requests: int = 200,
                 on_request: Optional[Callable[[Logged], None]] = None):
        self.script = script
        self.lifetime = lifetime
        self.max_requests = max_requests
        self.on_request = on_request
        self.requests: list[Logged] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fake-anthropic", daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._stopped = False

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeAnthropic":
        self._t0 = time.monotonic()
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._timer.cancel()
        threading.Thread(target=self._httpd.shutdown, daemon=True).start()  # safe from a handler thread
        self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> "FakeAnthropic":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]

    def message_requests(self) -> list[Logged]:
        return [r for r in self.requests if r.method == "POST" and urlsplit(r.path).path == "/v1/messages"]

    def _log(self, entry: Logged) -> None:
        with self._lock:
            self.requests.append(entry)
            over = len(self.requests) >= self.max_requests
        if self.on_request:
            try:
                self.on_request(entry)
            except Exception as exc:  # debugging hooks must not break the server
                self.errors.append(f"on_request: {exc!r}")
        if over:
            self.stop()

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean; `requests` has the log
                pass

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("request-id", "req_" + uuid.uuid4().hex[:16])
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, events: list[tuple[str, dict]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.send_header("request-id", "req_" + uuid.uuid4().hex[:16])
                self.end_headers()
                self.close_connection = True
                for name, data in events:
                    self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()

            def _read_body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return raw.decode("utf-8", "replace")

            def do_GET(self):
                api._log(Logged(time.monotonic() - api._t0, "GET", self.path, None))
                self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not here"}})

            def do_HEAD(self):
                api._log(Logged(time.monotonic() - api._t0, "HEAD", self.path, None))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self._read_body()
                path = urlsplit(self.path).path
                entry = Logged(time.monotonic() - api._t0, "POST", self.path, body)
                try:
                    if path == "/v1/messages/count_tokens":
                        api._log(entry)
                        self._json(200, {"input_tokens": 1})
                        return
                    if path != "/v1/messages" or not isinstance(body, dict):
                        api._log(entry)
                        self._json(404, {"type": "error",
                                         "error": {"type": "not_found_error", "message": f"no {path}"}})
                        return
                    entry.stream = bool(body.get("stream"))
                    entry.reply = api.script(body)
                    api._log(entry)
                    model = body.get("model") or "claude-test"
                    if entry.stream:
                        self._sse(sse_events(model, entry.reply))
                    else:
                        self._json(200, _message(model, entry.reply))
                except Exception as exc:
                    api.errors.append(f"{self.path}: {exc!r}")
                    self._json(500, {"type": "error", "error": {"type": "api_error", "message": repr(exc)}})

        return Handler


# --- running the real Claude Code client ------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
# Sized for a loaded 2-core machine (other test runs beside this one): a `claude` run that
# takes 6 s on an idle machine took over 60 s there. Only a hung run waits this long.
CLAUDE_TIMEOUT = 480
MCP_TIMEOUT_S = 300  # the client's wait for the MCP server (a cold `uv run` installs the project first)


def claude_bin() -> Optional[str]:
    """FLUX_CLAUDE_BIN, else the CI install under tests/node, else `claude` on PATH."""
    explicit = os.environ.get("FLUX_CLAUDE_BIN")
    if explicit:
        return explicit
    local = ROOT / "tests" / "node" / "node_modules" / ".bin" / "claude"
    if local.exists():
        return str(local)
    return shutil.which("claude")


def require_claude() -> str:
    import pytest

    binary = claude_bin()
    if not binary:
        pytest.skip("Claude Code CLI not found: set FLUX_CLAUDE_BIN, or `npm ci` in tests/node, or put `claude` on PATH")
    if not shutil.which("uv"):
        pytest.skip("uv not on PATH: the plugin's launcher (bin/flux-mcp) starts the server with uv")
    return binary


def _uv_dir(*args: str) -> Optional[str]:
    try:
        out = subprocess.run(["uv", *args], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def claude_env(home: Path, uv_env: Path, **extra: str) -> dict:
    """The environment for `claude` (and the MCP server it starts): a fresh HOME, no
    telemetry or updates, uv's project environment in a temp folder (never the repo's
    .venv), and uv's cache and managed Pythons where they are for the user ("as is":
    a temp HOME would otherwise move them and make every start a full download)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "CLAUDE", "MCP_")) and k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    env["UV_CACHE_DIR"] = os.environ.get("UV_CACHE_DIR") or _uv_dir("cache", "dir") or ""
    env["UV_PYTHON_INSTALL_DIR"] = os.environ.get("UV_PYTHON_INSTALL_DIR") or _uv_dir("python", "dir") or ""
    env = {k: v for k, v in env.items() if v != ""}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
        UV_PROJECT_ENVIRONMENT=str(uv_env),
    )
    env.update(extra)
    return env


def run_claude(binary: str, args: list[str], env: dict, cwd: Optional[Path] = None,
               timeout: float = CLAUDE_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], cwd=str(cwd) if cwd else None, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def explain(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"


def install_plugin(binary: str, env: dict) -> None:
    """Add the repo as a marketplace in the temp HOME and install flux from it."""
    added = run_claude(binary, ["plugin", "marketplace", "add", str(ROOT)], env)
    assert added.returncode == 0, "marketplace add failed: " + explain(added)
    installed = run_claude(binary, ["plugin", "install", "flux@flux-marketplace"], env)
    assert installed.returncode == 0, "plugin install failed: " + explain(installed)


def copy_shop(dst_parent: Path) -> Path:
    dst = dst_parent / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    return dst


# --- looking at the MCP server process (Linux /proc; diagnostics only) -------------------------

def descendants(root_pid: int) -> dict[int, list[str]]:
    """pid -> argv of every live process below root_pid."""
    parent: dict[int, int] = {}
    argv: dict[int, list[str]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except (OSError, ValueError, IndexError):
            continue
        parent[int(entry)] = ppid
        argv[int(entry)] = args
    out: dict[int, list[str]] = {}
    for pid in argv:
        p, seen = pid, set()
        while p in parent and p not in seen:
            seen.add(p)
            p = parent[p]
            if p == root_pid:
                out[pid] = argv[pid]
                break
    return out


def process_info(pid: int, keys: tuple[str, ...] = ()) -> dict:
    info: dict[str, Any] = {"pid": pid}
    try:
        info["cwd"] = os.readlink(f"/proc/{pid}/cwd")
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(item.decode(errors="replace").split("=", 1)
                       for item in f.read().split(b"\0") if b"=" in item)
    except OSError as exc:
        info["error"] = repr(exc)
        return info
    info["env"] = {k: v for k, v in sorted(env.items())
                   if k in keys or k.startswith(("CLAUDE", "MCP", "UV_", "VIRTUAL_ENV"))}
    return info
