"""Prisma migrations: `<dir>/YYYYMMDDHHMMSS_<slug>/migration.sql`, one folder
per database step (stamps after the existing folders), plus `down.sql`
beside it: Prisma has no down migrations, so its header says how to run it.

Prisma sends a migration.sql as one multi-statement query, one implicit
transaction: a non-transactional step's file holds exactly its one statement.

code_changes() gives the edits of schema.prisma that make it describe the
database after the plan (every operation, see _prisma_edits.py), applied by
--write: schema.prisma only describes the database. A column or table dropped
after the code deploy stays in it until then, marked @ignore (@@ignore), and
goes when `flux continue` writes its drop. For renames and drops
code_note() also says, model by model, what changes for the application at the
plan's code step (_prisma_note.py); layout() appends it to the code step's title.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

from ...model.plan import CodeChange, Plan, Step
from .._layout import first_stamp, lay_out, step_slug
from ..base import (
    FileJob, Writer, clean_dir, db_steps, down_or_note, down_sql, laid_files, single_statement, sql_header, unguarded,
    up_sql,
)
from ._prisma_changes import schema_changes, window_closed
from ._prisma_edits import schema_text
from ._prisma_note import annotate, code_note


class PrismaWriter(Writer):
    tool = "prisma"
    default_dir = "prisma/migrations"

    def code_note(self, plan: Plan, schema_prisma_text: str) -> str | None:
        return code_note(plan, schema_prisma_text)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        stamp = first_stamp(Path(project_dir) / folder, now)
        text = schema_text(project_dir, folder.parent)

        def files(step: Step, i: int) -> list[str]:
            name = folder / f"{stamp + timedelta(seconds=i):%Y%m%d%H%M%S}_{step_slug(step)}"
            return [(name / "migration.sql").as_posix(), (name / "down.sql").as_posix()]

        return unguarded(lay_out(annotate(plan, text) if text else plan, files), self.tool)

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        steps = db_steps(plan)
        if not steps or not steps[0].files:
            return []
        prisma_dir = PurePosixPath(steps[0].files[0]).parent.parent.parent
        return schema_changes(plan, Path(project_dir), prisma_dir)

    def render_up(self, step: Step) -> str:
        return sql_header(step) + single_statement(step, self.tool, up_sql(step)) + "\n"

    def render_down(self, step: Step, folder: PurePosixPath, configured: bool = False) -> str:
        """`configured`: the project has a prisma.config file, where Prisma 7's `db execute` reads the
        database from (it has no --schema; Prisma 6 finds the schema there too)."""
        if down_sql(step):
            single_statement(step, self.tool, down_sql(step))
        schema = (folder.parent.parent / "schema.prisma").as_posix()
        run = "npx prisma db execute" + ("" if configured else f" --schema {schema}")
        # `migrate resolve --rolled-back` only accepts a failed migration (P3012 otherwise):
        # an applied one is forgotten by deleting its row, so deploy would run it again.
        return (
            f"-- Rollback of {folder.name}: Prisma has no down migrations. To undo it, run\n"
            f"--   {run} --file {(folder / 'down.sql').as_posix()}\n"
            f"-- then, if the migration had failed:\n"
            f"--   npx prisma migrate resolve --rolled-back {folder.name}\n"
            f"-- or, if it had been applied (Prisma marks only failed migrations rolled back):\n"
            f"--   echo \"DELETE FROM _prisma_migrations WHERE migration_name = '{folder.name}';\" | {run} --stdin\n"
            + sql_header(step)
            + down_or_note(step)
            + "\n"
        )

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        for step in db_steps(plan):
            up, down = laid_files(step, 2, "migration.sql and down.sql", lambda f: f[0].endswith("/migration.sql"))
            out.append(FileJob(up, self.render_up(step)))
            folder = PurePosixPath(up).parent
            out.append(FileJob(down, self.render_down(step, folder, _configured(Path(project_dir), folder))))
        steps = db_steps(plan)
        if out and any(s.phase == "contract" for s in steps):  # the dropped field or model goes with its drop
            prisma_dir = PurePosixPath(steps[0].files[0]).parent.parent.parent
            out += [FileJob(f, text, replace=True) for f, text in window_closed(plan, project_dir, prisma_dir).items()]
        return out


def _configured(project: Path, folder: PurePosixPath) -> bool:
    """Is there a prisma.config file beside the prisma folder (the package's root) or at the project's?"""
    places = {project, project / folder.parent.parent.parent}
    return any((d / f"prisma.config.{ext}").is_file() for d in places for ext in ("ts", "mts", "cts", "js", "mjs", "cjs"))


WRITER = PrismaWriter()
