"""Sequelize (sequelize-cli) migrations: `migrations/YYYYMMDDHHMMSS-<slug>.js` (`.cjs` in an ESM package)
exporting `up` / `down` that run `queryInterface.sequelize.query(...)`.

sequelize-cli opens no transaction around a migration, so a transactional step
runs its statements inside `sequelize.transaction(...)` (all or nothing, and
`SET LOCAL` holds), while a step that must run outside a transaction sends its
statements one by one. Without `replacements` or `bind` options Sequelize
passes the SQL through untouched.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ...model.plan import Plan, Step
from ..base import FileJob, Writer, clean_dir, db_steps, stamped_layout
from ._js import body_sql, header, one_file, suffix, template, undo_note


def _body(step: Step, down: bool) -> str:
    stmts = body_sql(step, down)
    if not stmts:
        return f"    // {undo_note(step)}\n"
    if not step.transactional:
        return "".join(f"    await queryInterface.sequelize.query({template(s)});\n" for s in stmts)
    calls = "".join(f"      await queryInterface.sequelize.query({template(s)}, {{ transaction }});\n"
                    for s in stmts)
    return f"    await queryInterface.sequelize.transaction(async (transaction) => {{\n{calls}    }});\n"


def render_file(step: Step) -> str:
    return (
        "'use strict';\n\n"
        + header(step)
        + "\n/** @type {import('sequelize-cli').Migration} */\n"
        + "module.exports = {\n"
        + "  async up(queryInterface) {\n"
        + _body(step, down=False)
        + "  },\n\n  async down(queryInterface) {\n"
        + _body(step, down=True)
        + "  },\n};\n"
    )


class SequelizeWriter(Writer):
    tool = "sequelize"
    default_dir = "migrations"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        ext = suffix(project_dir, clean_dir(migrations_dir))
        return stamped_layout(plan, project_dir, migrations_dir, now, sep="-", ext=ext)

    def render_file(self, step: Step) -> str:
        return render_file(step)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        return [FileJob(one_file(s), render_file(s)) for s in db_steps(plan)]


WRITER = SequelizeWriter()
