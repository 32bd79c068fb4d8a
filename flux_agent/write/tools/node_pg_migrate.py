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
from .._layout import lay_out, step_slug
from ..base import OneFilePerStep, clean_dir, undo_note
from ._js import body_sql, header, ms, numeric_prefixes, suffix, template


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


class NodePgMigrateWriter(OneFilePerStep):
    tool = "node-pg-migrate"
    default_dir = "migrations"
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        start = first_stamp_ms(Path(project_dir) / folder, now)
        ext = suffix(project_dir, folder)
        return lay_out(plan, lambda step, i: [(folder / f"{start + i}_{step_slug(step)}{ext}").as_posix()])


WRITER = NodePgMigrateWriter()
