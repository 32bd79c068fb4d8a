"""Plain SQL files in dbmate's format, for the `sql` and `dbmate` tools.

One file per database step, `<dir>/YYYYMMDDHHMMSS_<slug>.sql`, with
`-- migrate:up` / `-- migrate:down` blocks (`transaction:false` on both for a
step that must run outside a transaction).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import Plan, Step
from ..base import FileJob, Writer, commit, down_or_note, nothing_to_undo, one_line, stamped_layout


def layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
    """A copy of `plan` whose database steps each get one new file name."""
    return stamped_layout(plan, project_dir, migrations_dir, now)


def render_file(step: Step) -> str:
    """The file for one step: up block, down block, ending with a newline."""
    if not (step.up_sql or "").strip():
        raise FluxInputError(f"step {step.number} has no SQL to write")
    switch = "" if step.transactional else " transaction:false"
    down = down_or_note(step) or f"-- nothing to undo: {nothing_to_undo(step)}"
    return (
        f"-- migrate:up{switch}\n"
        f"-- Step {step.number} ({step.phase}): {one_line(step.title)}\n"
        f"{step.up_sql.strip()}\n"
        "\n"
        f"-- migrate:down{switch}\n"
        f"{down}\n"
    )


def jobs(plan: Plan) -> list[FileJob]:
    out = []
    for step in plan.steps:
        if step.phase == "code":
            continue
        if len(step.files) != 1:
            raise FluxInputError(f"step {step.number} needs exactly one file; lay the plan out first")
        out.append(FileJob(step.files[0], render_file(step)))
    return out


def write(plan: Plan, project_dir: Path) -> list[Path]:
    """Write every step's file, or none of them. Returns the written paths."""
    return commit(plan, project_dir, jobs(plan))


class SqlWriter(Writer):
    """The writer object the registry hands out; `tool` is `sql` or `dbmate`."""

    def __init__(self, tool: str = "sql") -> None:
        self.tool = tool

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        return layout(plan, project_dir, migrations_dir, now)

    def render_file(self, step: Step) -> str:
        return render_file(step)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        return jobs(plan)
