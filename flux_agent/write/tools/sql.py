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
from ...schema.migration_files import unwritten_format
from .._layout import stamped_layout
from ..base import FileJob, OneFilePerStep, commit, db_steps, down_or_note, laid_files, sql_header, unguarded, up_sql


def layout(plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
    """A copy of `plan` whose database steps each get one new file name."""
    return stamped_layout(plan, project_dir, migrations_dir, now)


def render_file(step: Step) -> str:
    """The file for one step: up block, down block, ending with a newline."""
    switch = "" if step.transactional else " transaction:false"
    return f"-- migrate:up{switch}\n{sql_header(step)}{up_sql(step)}\n\n-- migrate:down{switch}\n{down_or_note(step)}\n"


def jobs(plan: Plan) -> list[FileJob]:
    return [FileJob(laid_files(s)[0], render_file(s)) for s in db_steps(plan)]


def write(plan: Plan, project_dir: Path) -> list[Path]:
    """Write every step's file, or none of them. Returns the written paths."""
    return commit(plan, project_dir, jobs(plan))


class SqlWriter(OneFilePerStep):
    """The writer object the registry hands out; `tool` is `sql` or `dbmate`."""

    render_file = staticmethod(render_file)

    def __init__(self, tool: str = "sql") -> None:
        self.tool = tool

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        # dbmate sends a block as one query, even with transaction:false: no guard before a build.
        return unguarded(layout(plan, project_dir, migrations_dir, now), self.tool)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = super().jobs(plan, project_dir)
        if self.tool == "sql":  # no tool detected: dbmate's format, unless the folder's files are in another
            for folder in sorted({(Path(project_dir) / job.rel).parent for job in out}):
                other = unwritten_format(folder)
                if other is not None:
                    raise FluxInputError(f"the migrations in {folder.relative_to(project_dir).as_posix()} are {other}, "
                                         "which Flux reads but does not write: nothing written; write the plan's "
                                         "steps in that format (flux plan --sql prints each step's SQL)")
        return out
