"""golang-migrate files: `<dir>/NNNNNN_<slug>.up.sql` and `.down.sql`, one pair
per database step.

Versions continue the folder's style: 14-digit timestamps (as pocket-id uses)
go on as timestamps after the newest one; otherwise zero-padded integers go
on from the highest, at the folder's width (6 digits, `migrate create -seq`'s
default, for an empty folder).

golang-migrate's postgres driver sends a whole file as one Exec (unless the
project opts into x-multi-statement). PostgreSQL runs such a multi-statement
query string as one implicit transaction: a transactional step's SQL is
already atomic, and its `SET LOCAL lock_timeout` holds for the rest of the
file, so it goes in as is (an explicit BEGIN/COMMIT would add nothing). That
same implicit transaction is why a non-transactional step (CREATE INDEX
CONCURRENTLY, a DO block that COMMITs between batches) must be the only
statement in its file: a file that is one statement runs outside any block.
So a concurrent index build gets no guard before it (base.unguarded): x-multi-statement would
split the file at every `;`, inside a DO block's body too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ...model.plan import Plan, Step
from .._layout import existing_versions, lay_out, next_versions, step_slug
from ..base import (
    FileJob, Writer, clean_dir, db_steps, down_or_note, down_sql, laid_files, single_statement, sql_header, unguarded,
    up_sql,
)


class GolangMigrateWriter(Writer):
    tool = "golang-migrate"
    default_dir = "migrations"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        versions = next_versions(existing_versions(Path(project_dir) / folder), len(db_steps(plan)), now)

        def files(step: Step, i: int) -> list[str]:
            base = f"{versions[i]}_{step_slug(step)}"
            return [(folder / f"{base}.up.sql").as_posix(), (folder / f"{base}.down.sql").as_posix()]

        return unguarded(lay_out(plan, files), self.tool)

    def render_up(self, step: Step) -> str:
        return sql_header(step) + single_statement(step, self.tool, up_sql(step)) + "\n"

    def render_down(self, step: Step) -> str:
        if down_sql(step):
            single_statement(step, self.tool, down_sql(step))
        return sql_header(step) + down_or_note(step) + "\n"

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        for step in db_steps(plan):
            up, down = laid_files(step, 2, "its .up.sql/.down.sql pair", lambda f: f[0].endswith(".up.sql"))
            out.append(FileJob(up, self.render_up(step)))
            out.append(FileJob(down, self.render_down(step)))
        return out


WRITER = GolangMigrateWriter()
