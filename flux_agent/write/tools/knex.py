"""Knex migrations: `migrations/YYYYMMDDHHMMSS_<slug>.js` (`.cjs` in an ESM package) with `exports.up` /
`exports.down` running `knex.raw(...)`, and `exports.config = { transaction:
false }` for a step that must run outside a transaction.

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
from .._layout import stamped_layout
from ..base import OneFilePerStep, clean_dir, db_steps, undo_note
from ._js import body_sql, header, suffix, template

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


def render_file(step: Step) -> str:
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


class KnexWriter(OneFilePerStep):
    tool = "knex"
    default_dir = "migrations"
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        for step in db_steps(plan):  # refuse what knex cannot send before any file is named
            knex_sql((step.up_sql or "") + (step.down_sql or ""), step)
        ext = suffix(project_dir, clean_dir(migrations_dir))
        return stamped_layout(plan, project_dir, migrations_dir, now, sep="_", ext=ext)


WRITER = KnexWriter()
