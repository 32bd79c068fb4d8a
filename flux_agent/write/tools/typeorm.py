"""TypeORM migrations: `<dir>/<13-digit ms>-<PascalName>.ts`, one class
`<PascalName><ms> implements MigrationInterface` each, running
`await queryRunner.query(...)` once per statement.

A step that must run outside a transaction sets `transaction = false`, which
`migration:run --transaction each` honours (the default `--transaction all`
refuses any migration that sets it, before running anything).
`migration:revert` opens a transaction whatever the migration says, so such a
migration's `down()` commits that empty transaction first and opens a new one
for TypeORM's own bookkeeping afterwards.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import Plan, Step
from .._layout import lay_out
from ..base import OneFilePerStep, clean_dir, laid_files, one_line, slug, undo_note
from ._js import body_sql, first_ms, header, pascal, string, template

_RUN_NOTE = "Run with `typeorm migration:run --transaction each` (or migrationsTransactionMode: \"each\")."


def _calls(step: Step, down: bool) -> str:
    stmts = body_sql(step, down)
    if not stmts:
        return f"        // {undo_note(step)}\n"
    calls = "".join(f"        await queryRunner.query({template(s)});\n" for s in stmts)
    if step.transactional or not down:
        return calls
    return (
        "        // migration:revert opens a transaction even for `transaction = false`: step out of it.\n"
        "        const inTransaction = queryRunner.isTransactionActive;\n"
        "        if (inTransaction) await queryRunner.commitTransaction();\n"
        + calls
        + "        if (inTransaction) await queryRunner.startTransaction();\n"
    )


def class_name(path: str) -> str:
    """`migrations/1700000000000-AddX.ts` -> `AddX1700000000000`."""
    m = re.match(r"(\d{13})-([A-Za-z_$][\w$]*)\.ts$", Path(path).name)
    if not m:
        raise FluxInputError(f"not a TypeORM migration file name: {path}")
    return f"{m.group(2)}{m.group(1)}"


def render_file(step: Step) -> str:
    name = class_name(laid_files(step)[0])
    switch = "" if step.transactional else "    transaction = false;\n"
    return (
        header(step, _RUN_NOTE)
        + '\nimport { MigrationInterface, QueryRunner } from "typeorm";\n\n'
        + f"export class {name} implements MigrationInterface {{\n"
        + f"    name = {string(name)};\n"
        + switch
        + "\n    public async up(queryRunner: QueryRunner): Promise<void> {\n"
        + _calls(step, down=False)
        + "    }\n\n    public async down(queryRunner: QueryRunner): Promise<void> {\n"
        + _calls(step, down=True)
        + "    }\n}\n"
    )


class TypeormWriter(OneFilePerStep):
    tool = "typeorm"
    default_dir = "migrations"
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        start = first_ms(Path(project_dir) / folder, now)

        def name(step: Step, i: int) -> list[str]:
            base = pascal(slug(one_line(step.title), f"step_{step.number}"))
            return [(folder / f"{start + i}-{base}.ts").as_posix()]

        return lay_out(plan, name)


WRITER = TypeormWriter()
