"""Knex migrations: `migrations/YYYYMMDDHHMMSS_<slug>.js` (`.cjs` in an ESM package) with `exports.up` /
`exports.down` running `knex.raw(...)`, and `exports.config = { transaction:
false }` for a step that must run outside a transaction.

Names and form follow the folder's newest migration: its prefix (stamp, counter, ms), separators
and kebab- or snake-case words, and its extension: `.ts` (typed, `export async function`), `.mjs`
or `.js` in an ES-module package (`export`), `.cjs` or `.js` (`exports.`).

knex rewrites every `?` of a raw query into a `$n` placeholder, bindings or
not, and a backslash before `?` escapes it (the backslash is dropped). So each
`?` is written as `\\?`, and SQL with a backslash right before a `?` (which
knex cannot pass through) is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import Plan, Step
from .._layout import NameStyle, name_style, styled_layout
from ..base import FileJob, OneFilePerStep, clean_dir, db_steps, laid_files, undo_note
from ._js import ModuleForm, body_sql, form_of, header, module_form, template

_BACKSLASH_QUESTION = re.compile(r"\\\?")


def knex_sql(sql: str, step: Step) -> str:
    """`sql` with every `?` escaped for knex's placeholder rewriting."""
    if _BACKSLASH_QUESTION.search(sql):
        raise FluxInputError(
            f"step {step.number}: knex.raw cannot send a backslash directly before '?' "
            "(knex drops it); rewrite that SQL or write the step with --tool sql"
        )
    return sql.replace("?", "\\?")


def _calls(step: Step, down: bool) -> str:
    stmts = body_sql(step, down)
    if not stmts:
        return f"  // {undo_note(step)}\n"
    return "".join(f"  await knex.raw({template(knex_sql(s, step))});\n" for s in stmts)


def render_file(step: Step, form: ModuleForm = ModuleForm()) -> str:
    if not form.esm:
        config = "" if step.transactional else "exports.config = { transaction: false };\n\n"
        return (
            header(step)
            + "\n"
            + config
            + "exports.up = async function (knex) {\n"
            + _calls(step, down=False)
            + "};\n\nexports.down = async function (knex) {\n"
            + _calls(step, down=True)
            + "};\n"
        )
    arg, ret = ("knex: Knex", ": Promise<void>") if form.ts else ("knex", "")
    return (
        header(step)
        + ('\nimport type { Knex } from "knex";\n' if form.ts else "")
        + "\n"
        + ("" if step.transactional else "export const config = { transaction: false };\n\n")
        + f"export async function up({arg}){ret} {{\n"
        + _calls(step, down=False)
        + f"}}\n\nexport async function down({arg}){ret} {{\n"
        + _calls(step, down=True)
        + "}\n"
    )


class KnexWriter(OneFilePerStep):
    tool = "knex"
    default_dir = "migrations"
    one_transaction = True  # migrate:latest: one transaction for the batch unless a file opts out
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        for step in db_steps(plan):  # refuse what knex cannot send before any file is named
            knex_sql((step.guard_sql or "") + (step.up_file_sql or "") + (step.down_file_sql or ""), step)
        folder = clean_dir(migrations_dir)
        form = module_form(project_dir, folder)
        style = name_style(Path(project_dir) / folder, (".ts", ".js", ".cjs", ".mjs"), NameStyle("stamp", 0, "_", "_"))
        return styled_layout(plan, project_dir, migrations_dir, now, style, form.ext)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        for step in db_steps(plan):
            file = laid_files(step)[0]
            form = form_of(project_dir, Path(file).parent, Path(file).suffix)
            out.append(FileJob(file, render_file(step, form)))
        return out


WRITER = KnexWriter()
