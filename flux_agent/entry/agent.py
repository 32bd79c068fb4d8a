"""The standalone agent: Claude plans the change through the eight Flux tools.

A plain tool-use loop on the official `anthropic` SDK. The tool definitions are
generated from the same request models the MCP server uses
(entry/tool_specs.py), and calls go through the same entry/tool_calls.py; the system prompt is prompts/system.md followed by
prompts/tools.md. Every model turn is streamed: text as it arrives, and one
line per tool call, to `stream_to`. Tool errors (FluxError, a bad argument) go
back to the model as an `is_error` tool_result with one line of text, so it can
correct itself; the loop stops at the model's final answer or after `max_steps`
model turns.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Optional

from ..errors import FluxError, FluxInputError, error_line, one_line
from . import tool_calls
from .tool_schema import tool_input_schema
from .tool_specs import BY_NAME, TOOLS, ToolSpec

DEFAULT_MODEL = "claude-sonnet-4-6"
MODEL_ENV = "FLUX_MODEL"
MAX_TOKENS = 8192
PROMPTS = Path(__file__).resolve().parent / "prompts"  # package data: installed with the wheel
_LINE = 160  # the longest tool-call line printed


class FluxAgentError(FluxError):
    """The Messages API failed (network, key, quota); one line (exit 1)."""

    def __str__(self) -> str:
        return one_line(self.args[0] if self.args else "the Anthropic API failed")


@dataclass
class ToolCall:
    name: str
    input: dict
    is_error: bool
    output: str  # the tool_result text sent back: the result's JSON, or the one-line error


@dataclass
class AgentResult:
    text: str  # the final answer (or the step-limit message)
    tool_calls: list[ToolCall] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # written migration files, relative to the project
    stopped_reason: str = ""  # the last stop_reason ("end_turn", "max_tokens", "refusal", ...) or "max_steps"
    steps: int = 0  # model turns taken
    messages: list[dict] = field(default_factory=list)  # the conversation, to carry on with


# --- tools and prompt -------------------------------------------------------------------------

def tool_definitions() -> list[dict]:
    return [{"name": spec.name, "description": spec.description, "input_schema": tool_input_schema(spec.request)}
            for spec in TOOLS]


def _prompt(name: str) -> str:
    path = PROMPTS / name
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    raise FluxInputError(f"the agent's prompt {name} is missing from {PROMPTS}")


def system_prompt(project_dir: str) -> str:
    return (f"{_prompt('system.md')}\n\n{_prompt('tools.md')}\n\n## This session\n\n"
            f"The project directory is {project_dir}. Every tool call works on it.")


# --- running one tool call --------------------------------------------------------------------

def run_tool(spec: ToolSpec, args: Any, project_dir: str) -> tuple[str, bool, Any]:
    """Call the tool inside the session's project; returns (tool_result text, is_error, result or None)."""
    try:
        text, result = tool_calls.answer(spec.name, args, Path(project_dir).resolve())
        return text, False, result
    except Exception as exc:  # the model sees the one line every surface gives (errors.error_line)
        return error_line(exc, spec.name)[0], True, None


# --- the loop ---------------------------------------------------------------------------------

class _Out:
    """Progress on the terminal: text deltas as they come, tool calls on lines of their own."""

    def __init__(self, stream: Optional[IO[str]]):
        self.stream = stream
        self.at_line_start = True

    def text(self, text: str) -> None:
        if self.stream and text:
            self.stream.write(text)
            self.stream.flush()
            self.at_line_start = text.endswith("\n")

    def end(self) -> None:
        if not self.at_line_start:
            self.text("\n")

    def line(self, text: str) -> None:
        self.end()
        self.text(text + "\n")


def _call_line(call: ToolCall, result: Any) -> str:
    shown = {k: v for k, v in call.input.items() if k != "project_dir"} if isinstance(call.input, dict) else call.input
    args = json.dumps(shown, ensure_ascii=False, separators=(",", ":"))
    if len(args) > 90:
        args = args[:87] + "..."
    if call.is_error:
        outcome = "error: " + call.output
    elif result is not None and hasattr(result, "files") and hasattr(result, "summary"):
        outcome = f"wrote {len(result.files)} file(s)"
    else:
        outcome = "ok"
    line = f"  > {call.name} {args} -> {outcome}"
    return line if len(line) <= _LINE else line[:_LINE - 3] + "..."


def _assistant_content(message: Any) -> list[dict]:
    blocks: list[dict] = []
    for block in message.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        else:  # thinking and other blocks go back as the API sent them
            blocks.append(block.to_dict())
    return blocks


def _client(client: Any) -> Any:
    try:
        import anthropic  # here, not at the top: an optional extra (flux-agent[agent]) only the agent needs
    except ImportError:
        raise FluxInputError("the agent needs the anthropic package: pip install anthropic") from None
    if client is not None:
        return client, anthropic
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        raise FluxInputError("ANTHROPIC_API_KEY is not set: export your Anthropic API key to use the agent, "
                             "or plan typed operations without it: flux plan --op JSON")
    return anthropic.Anthropic(), anthropic


def run_agent(request: str, project_dir: str, model: Optional[str] = None, max_steps: int = 12,
              client: Any = None, stream_to: Optional[IO[str]] = sys.stderr) -> AgentResult:
    """Plan (and write) the change `request` on the project at `project_dir` with Claude."""
    if not request or not request.strip():
        raise FluxInputError("nothing to do: describe the schema change")
    if max_steps < 1:
        raise FluxInputError("max_steps must be at least 1")
    project = Path(project_dir).expanduser().resolve()
    if not project.is_dir():
        raise FluxInputError(f"project directory {project_dir} does not exist")
    client, anthropic = _client(client)
    model = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    # the cache breakpoint on the system prompt caches the tools and the prompt across turns
    system = [{"type": "text", "text": system_prompt(str(project)), "cache_control": {"type": "ephemeral"}}]
    tools = tool_definitions()
    out = _Out(stream_to)
    result = AgentResult(text="", messages=[{"role": "user", "content": request.strip()}])

    while result.steps < max_steps:
        result.steps += 1
        try:
            with client.messages.stream(model=model, max_tokens=MAX_TOKENS, system=system, tools=tools,
                                        messages=result.messages) as stream:
                for event in stream:
                    if event.type == "text":
                        out.text(event.text)
                message = stream.get_final_message()
        except anthropic.APIStatusError as exc:
            detail = exc.body.get("error", {}).get("message") if isinstance(exc.body, dict) else None
            raise FluxAgentError(f"Anthropic API error {exc.status_code}: {detail or exc.message}") from None
        except anthropic.APIError as exc:
            raise FluxAgentError(f"Anthropic API error: {exc.message}") from None
        result.messages.append({"role": "assistant", "content": _assistant_content(message)})
        result.stopped_reason = message.stop_reason or ""
        result.text = "".join(b.text for b in message.content if b.type == "text")
        uses = [b for b in message.content if b.type == "tool_use"]
        if message.stop_reason != "tool_use" or not uses:
            out.end()
            return result
        if result.steps >= max_steps:
            break
        answers = []
        for use in uses:
            spec = BY_NAME.get(use.name)
            if spec is None:
                text, is_error, value = f"unknown tool {use.name!r}", True, None
            else:
                text, is_error, value = run_tool(spec, use.input, str(project))
            call = ToolCall(use.name, use.input if isinstance(use.input, dict) else {}, is_error, text)
            result.tool_calls.append(call)
            if value is not None and hasattr(value, "files") and hasattr(value, "summary"):
                result.files.extend(f for f in value.files if f not in result.files)
            out.line(_call_line(call, value))
            answers.append({"type": "tool_result", "tool_use_id": use.id, "content": text, "is_error": is_error})
        result.messages.append({"role": "user", "content": answers})

    result.stopped_reason = "max_steps"
    written = f" Files written so far: {', '.join(result.files)}." if result.files else " Nothing was written."
    result.text = (f"Stopped after {max_steps} model turns without a final answer (the step limit); "
                   f"the last tool calls were not run.{written} Try again with a more precise request "
                   f"or a higher step limit.")
    out.line("flux: " + result.text)
    return result
