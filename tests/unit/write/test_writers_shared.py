"""What every writer does the same way, checked for all fifteen tools at once: a
database step without SQL is refused before anything is written, a plan that was
not laid out is refused, each file names its step with the one label, and code
steps get no files."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from flux_agent.errors import FluxInputError
from flux_agent.model.plan import Plan, Step
from flux_agent.project.detect import TOOLS
from flux_agent.write.base import step_label
from flux_agent.write.tools import get_writer

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
# Django wants <app>/migrations; every other tool its default folder.
FOLDER = {"django": "shop/migrations"}


def plan(tool: str, up_sql: str | None = "ALTER TABLE users ADD COLUMN nickname text;") -> Plan:
    steps = [
        Step(number=1, phase="expand", title="Add column users.nickname", up_sql=up_sql,
             down_sql="ALTER TABLE users DROP COLUMN nickname;"),
        Step(number=2, phase="code", title="Deploy code that reads nickname"),
        Step(number=3, phase="backfill", title="Fill users.nickname", up_sql="UPDATE users SET nickname = '';",
             rollback="nothing to undo: the values go with the column"),
    ]
    return Plan(description="add nickname", type="expand-contract", tool=tool, operations=[], steps=steps)


def laid(tool: str, project: Path, p: Plan) -> Plan:
    writer = get_writer(tool)
    return writer.layout(p, project, FOLDER.get(tool, writer.default_dir), NOW)


def jobs(tool: str, project: Path, p: Plan):
    writer = get_writer(tool)
    extra = {"now": NOW} if tool in ("sqitch", "drizzle") else {}
    return writer.jobs(p, project, **extra)


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("up_sql", [None, "", "  \n\t"])
def test_a_database_step_without_sql_is_refused(tmp_path, tool, up_sql):
    # drizzle used to write an empty migration for it.
    with pytest.raises(FluxInputError, match=r"^step 1 has no SQL to write$"):
        get_writer(tool).write(laid(tool, tmp_path, plan(tool, up_sql)), tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("tool", TOOLS)
def test_a_plan_not_laid_out_is_refused(tmp_path, tool):
    with pytest.raises(FluxInputError, match=r"^step 1 needs .*; lay the plan out first$"):
        jobs(tool, tmp_path, plan(tool))


@pytest.mark.parametrize("tool", TOOLS)
def test_code_steps_get_no_files_and_database_steps_do(tmp_path, tool):
    out = laid(tool, tmp_path, plan(tool))
    assert [bool(s.files) for s in out.steps] == [True, False, True]
    assert plan(tool).steps[0].files == []  # the input plan is left alone


@pytest.mark.parametrize("tool", TOOLS)
def test_every_file_of_a_step_names_it_with_the_one_label(tmp_path, tool):
    out = laid(tool, tmp_path, plan(tool))
    written = {j.rel: j.content for j in jobs(tool, tmp_path, out)}
    for step in (out.steps[0], out.steps[2]):
        label = step_label(step, word="step" if tool == "sqitch" else "Step")
        migration = written[step.files[0]]
        assert label in migration, (tool, step.files[0], migration[:200])
