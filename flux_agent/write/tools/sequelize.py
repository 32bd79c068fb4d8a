"""Sequelize (sequelize-cli) migrations: `migrations/YYYYMMDDHHMMSS-<slug>.js` (`.cjs` in an ESM package)
exporting `up` / `down` that run `queryInterface.sequelize.query(...)`.

sequelize-cli opens no transaction around a migration, so a transactional step
runs its statements inside `sequelize.transaction(...)` (all or nothing, and
`SET LOCAL` holds), while a step that must run outside a transaction sends its
statements one by one. Without `replacements` or `bind` options Sequelize
passes the SQL through untouched.

Names follow the folder's newest migration: its prefix (stamp or counter) and word
case (`20240101000000-create-users.js` gets kebab-case names), and its `.js` / `.cjs`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ...model.plan import Plan, Step
from .._layout import NameStyle, name_style, styled_layout
from ..base import OneFilePerStep, clean_dir, undo_note
from ._js import body_sql, header, module_form, template


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


class SequelizeWriter(OneFilePerStep):
    tool = "sequelize"
    default_dir = "migrations"
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        ext = module_form(project_dir, folder, exts=(".js", ".cjs")).ext  # sequelize-cli requires them: CommonJS
        found = name_style(Path(project_dir) / folder, (".js", ".cjs"), NameStyle("stamp", 0, "-", "_"))
        style = NameStyle(found.prefix, found.width, "-", found.words)  # sequelize-cli's own `<prefix>-<name>`
        return styled_layout(plan, project_dir, migrations_dir, now, style, ext)


WRITER = SequelizeWriter()
