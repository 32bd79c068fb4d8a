"""node-pg-migrate migrations: `migrations/<ms>_<slug>.js` (`.cjs` in an ESM package) with `exports.up` /
`exports.down` calling `pgm.sql(...)` once per statement, and
`pgm.noTransaction()` first for a step that must run outside a transaction
(node-pg-migrate then commits its own single transaction around that file and
sends each `pgm.sql` as its own query).

node-pg-migrate orders files by their numeric prefix read as milliseconds (a
17-digit prefix as a UTC time), so the new stamps come after every existing one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ...model.plan import Plan, Step
from ..base import FileJob, Writer, clean_dir, db_steps, slug
from ._js import assign, body_sql, header, ms, numeric_prefixes, one_file, suffix, template, undo_note


def prefix_ms(prefix: str) -> int:
    """A file-name prefix as node-pg-migrate orders it."""
    if len(prefix) == 17:
        try:
            when = datetime.strptime(prefix[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
            return int(when.timestamp() * 1000) + int(prefix[14:])
        except ValueError:
            pass
    return int(prefix)


def first_stamp_ms(folder: Path, now: datetime) -> int:
    return max([ms(now)] + [prefix_ms(p) + 1 for p in numeric_prefixes(folder)])


def _body(step: Step, down: bool) -> str:
    stmts = body_sql(step, down)
    if not stmts:
        return f"  // {undo_note(step)}\n"
    switch = "" if step.transactional else "  pgm.noTransaction();\n"
    return switch + "".join(f"  pgm.sql({template(s)});\n" for s in stmts)


def render_file(step: Step) -> str:
    return (
        header(step)
        + "\nexports.up = (pgm) => {\n"
        + _body(step, down=False)
        + "};\n\nexports.down = (pgm) => {\n"
        + _body(step, down=True)
        + "};\n"
    )


class NodePgMigrateWriter(Writer):
    tool = "node-pg-migrate"
    default_dir = "migrations"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        start = first_stamp_ms(Path(project_dir) / folder, now)
        ext = suffix(project_dir, folder)

        def name(step: Step, i: int) -> str:
            return (folder / f"{start + i}_{slug(step.title, f'step_{step.number}')}{ext}").as_posix()

        return assign(plan, name)

    def render_file(self, step: Step) -> str:
        return render_file(step)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        return [FileJob(one_file(s), render_file(s)) for s in db_steps(plan)]


WRITER = NodePgMigrateWriter()
