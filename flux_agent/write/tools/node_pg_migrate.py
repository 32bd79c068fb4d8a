"""node-pg-migrate migrations: `migrations/<ms>_<slug>.js` (`.cjs` in an ESM package) with `exports.up` /
`exports.down` calling `pgm.sql(...)` once per statement, and
`pgm.noTransaction()` first for a step that must run outside a transaction
(node-pg-migrate then commits its own single transaction around that file and
sends each `pgm.sql` as its own query).

node-pg-migrate orders files by their numeric prefix read as milliseconds (a
17-digit prefix as a UTC time), so the new stamps come after every existing one.

Names and form follow the folder's newest migration: its prefix (ms, YYYYMMDDHHMMSS, counter),
separators and word case, and its extension: `.ts` (typed), `.mjs` (`export`), `.cjs` / `.js`, or
`.sql` with `-- Up Migration` and `-- Down Migration` sections. node-pg-migrate sends a SQL file's
section as one query inside its transaction, which it cannot leave: a step that runs outside one
(CONCURRENTLY) is written as a script with `pgm.noTransaction()` there too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ...model.plan import Plan, Step
from .._layout import NameStyle, name_style, styled_layout
from ..base import FileJob, OneFilePerStep, clean_dir, db_steps, down_or_note, laid_files, sql_header, undo_note, up_sql
from ._js import ModuleForm, body_sql, form_of, header, module_form, newest_migration, template


def _body(step: Step, down: bool) -> str:
    stmts = body_sql(step, down)
    if not stmts:
        return f"  // {undo_note(step)}\n"
    switch = "" if step.transactional else "  pgm.noTransaction();\n"
    return switch + "".join(f"  pgm.sql({template(s)});\n" for s in stmts)


def render_file(step: Step, form: ModuleForm = ModuleForm()) -> str:
    if not form.esm:
        return (
            header(step)
            + "\nexports.up = (pgm) => {\n"
            + _body(step, down=False)
            + "};\n\nexports.down = (pgm) => {\n"
            + _body(step, down=True)
            + "};\n"
        )
    arg, ret = ("pgm: MigrationBuilder", ": void") if form.ts else ("pgm", "")
    return (
        header(step)
        + ("\nimport type { MigrationBuilder } from \"node-pg-migrate\";\n" if form.ts else "")
        + f"\nexport function up({arg}){ret} {{\n"
        + _body(step, down=False)
        + f"}}\n\nexport function down({arg}){ret} {{\n"
        + _body(step, down=True)
        + "}\n"
    )


def render_sql_file(step: Step) -> str:
    """A SQL migration (a transactional step's): its up and down sections."""
    return f"-- Up Migration\n{sql_header(step)}{up_sql(step)}\n\n-- Down Migration\n{down_or_note(step)}\n"


_SCRIPTS = (".ts", ".js", ".cjs", ".mjs")


class NodePgMigrateWriter(OneFilePerStep):
    tool = "node-pg-migrate"
    default_dir = "migrations"
    one_transaction = True  # `up`'s --single-transaction defaults to true: the pending files as one
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        form = module_form(project_dir, folder, _SCRIPTS)
        style = name_style(Path(project_dir) / folder, _SCRIPTS + (".sql",), NameStyle("ms", 0, "_", "_"))
        if style.prefix == "utc17":  # ordered as a time like a 13-digit ms stamp: the default format follows it
            style = NameStyle("ms", 0, style.sep, style.words)
        sql = newest_migration(Path(project_dir) / folder, _SCRIPTS + (".sql",)).endswith(".sql")
        return styled_layout(plan, project_dir, migrations_dir, now, style,
                             lambda step: ".sql" if sql and step.transactional else form.ext)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        return [FileJob(f, render_sql_file(s) if f.endswith(".sql") else
                        render_file(s, form_of(project_dir, Path(f).parent, Path(f).suffix)))
                for s in db_steps(plan) for f in laid_files(s)]




WRITER = NodePgMigrateWriter()
