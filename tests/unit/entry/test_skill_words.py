"""The skill and the agent's prompts speak of the tools as they are: each of the six tools is
named in the workflow, and every `name` in backticks that looks like a tool, an argument, a result
field or an operation is one that exists (a renamed or removed one shows up here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from flux_agent.entry.tool_specs import TOOLS, PlanResult, ValidateResult, VerifyResult, WriteResult
from flux_agent.model.operations import Operation
from flux_agent.model.plan import Finding, Plan
from flux_agent.project.detect import Detection
from flux_agent.model.schema import Schema
from flux_agent.model.status import PlanStatus, StatusReport, StepStatus

ROOT = Path(__file__).resolve().parents[3]
TEXTS = [ROOT / "skills" / "flux-migrate" / "SKILL.md", ROOT / "flux_agent" / "entry" / "prompts" / "system.md",
         ROOT / "flux_agent" / "entry" / "prompts" / "tools.md"]
SNAKE = re.compile(r"`([a-z]+(?:_[a-z]+)+|[a-z]+)`")  # `plan_id`, `summary`: one word in backticks


def _known() -> set[str]:
    words = {t.name for t in TOOLS}
    for spec in TOOLS:
        words |= set(spec.request.model_fields)
    for model in (PlanResult, WriteResult, VerifyResult, ValidateResult, Detection, Schema, Plan, Finding,
                  StatusReport, PlanStatus, StepStatus):
        words |= set(model.model_fields) | set(model.model_computed_fields)
    for variant in get_args(get_args(Operation)[0]):
        words |= set(variant.model_fields) | {variant.model_fields["op"].default}
    # values the texts quote (a severity, a flag), and the commands `flux` and `uv`
    return words | {"error", "ambiguous", "true", "flux", "uv"}


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_every_quoted_name_exists(path):
    known = _known()
    text = path.read_text(encoding="utf-8")
    stale = sorted({w for w in SNAKE.findall(text) if w not in known})
    assert not stale, f"{path.name} quotes names no tool has: {stale}"


@pytest.mark.parametrize("paths", [TEXTS[:1], TEXTS[1:]], ids=["skill", "agent prompt"])
def test_the_workflow_covers_every_tool(paths):
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    missing = [t.name for t in TOOLS if f"`{t.name}`" not in text]
    assert not missing, f"{', '.join(p.name for p in paths)} never name {missing}"
