"""TypeORM migrations: `<dir>/<13-digit ms>-<PascalName>.ts`, one class
`<PascalName><ms> implements MigrationInterface` each, running
`await queryRunner.query(...)` once per statement.

A step that must run outside a transaction sets `transaction = false`, which
`migration:run --transaction each` honours (the default `--transaction all`
refuses any migration that sets it, before running anything).
`migration:revert` opens a transaction whatever the migration says, so such a
migration's `down()` commits that empty transaction first and opens a new one
for TypeORM's own bookkeeping afterwards.

A JavaScript project (its migrations are `.js`, or it has a package.json and no tsconfig.json)
gets `.js` files in the form `typeorm migration:generate -o` writes: a class exported with
`module.exports = class ...`, or `export class` in an ES-module package.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ...errors import FluxInputError
from ...model.plan import CodeChange, Plan, Step
from ...project.places import folders_up
from .._layout import lay_out
from ..base import (FileJob, OneFilePerStep, clean_dir, db_steps, laid_files, one_line, slug,
                    undo_note)
from ..code_changes import other_databases
from ._typeorm_index import registered
from ._typeorm_entities import entity_changes
from ._typeorm_run_calls import run_call_changes
from ._js import ModuleForm, body_sql, first_ms, form_of, has_tsconfig, header, pascal, string, template

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
    m = re.match(r"(\d{13})-([A-Za-z_$][\w$]*)\.(?:ts|js|cjs|mjs)$", Path(path).name)
    if not m:
        raise FluxInputError(f"not a TypeORM migration file name: {path}")
    return f"{m.group(2)}{m.group(1)}"


def render_file(step: Step, form: ModuleForm = ModuleForm(".ts", True, True)) -> str:
    name = class_name(laid_files(step)[0])
    switch = "" if step.transactional else "    transaction = false;\n"
    undoes = bool(body_sql(step, True))
    if form.ts:
        head = f'\nimport {"type " if form.type_imports else ""}{{ MigrationInterface, QueryRunner }} from "typeorm";\n\n'
        opening = f"export class {name} implements MigrationInterface {{\n"
        up, down = ("public async up(queryRunner: QueryRunner): Promise<void>",
                    "public async down(queryRunner: QueryRunner): Promise<void>" if undoes else
                    "public async down(): Promise<void>")  # a parameter it never uses fails eslint's no-unused-vars
    else:
        head = "\n/** @typedef {import('typeorm').MigrationInterface} MigrationInterface */\n\n"
        opening = ("/** @implements {MigrationInterface} */\n"
                   + (f"export class {name} {{\n" if form.esm else f"module.exports = class {name} {{\n"))
        up, down = "async up(queryRunner)", "async down(queryRunner)" if undoes else "async down()"
    return (
        header(step, _RUN_NOTE)
        + head
        + opening
        + f"    name = {string(name)};\n"
        + switch
        + f"\n    {up} {{\n"
        + _calls(step, down=False)
        + f"    }}\n\n    {down} {{\n"
        + _calls(step, down=True)
        + "    }\n}\n"
    )


_OWN = re.compile(r"\d{13}-[A-Za-z_$][\w$]*\.(ts|js|cjs|mjs)$")  # TypeORM's file names


def _newest(folder: Path) -> Path | None:
    """The newest TypeORM migration file in `folder` (by its time stamp), if any."""
    own = sorted(n for n in os.listdir(folder) if _OWN.match(n)) if folder.is_dir() else []
    return folder / own[-1] if own else None


def migration_ext(project_dir: Path, folder) -> str:
    """`.ts` for a TypeScript project (its newest migration is .ts; with none, a tsconfig.json or no
    package.json at all), else its newest migration's JS extension, or `.js`."""
    newest = _newest(Path(project_dir) / folder)
    if newest is not None:
        return "." + _OWN.match(newest.name).group(1)
    has_package = any((d / "package.json").is_file() for d in folders_up(project_dir, folder))
    return ".ts" if has_tsconfig(project_dir, folder) or not has_package else ".js"


def _type_imports(folder: Path) -> bool:
    """Does the newest TypeORM migration in `folder` import its types with `import type` (jellyseerr's do,
    and its ESLint's consistent-type-imports holds every file to it)?"""
    newest = _newest(folder)
    try:
        return newest is not None and "import type {" in newest.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


class TypeormWriter(OneFilePerStep):
    tool = "typeorm"
    default_dir = "migrations"
    one_transaction = True  # migration:run's default transaction mode is "all" (_RUN_NOTE asks for "each")
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        start = first_ms(Path(project_dir) / folder, now)
        ext = migration_ext(project_dir, folder)  # a .js is an ES module in a "type": "module" package

        def name(step: Step, i: int) -> list[str]:
            base = pascal(slug(one_line(step.title), f"step_{step.number}"))
            return [(folder / f"{start + i}-{base}{ext}").as_posix()]

        return lay_out(plan, name)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = [FileJob(f, render_file(s, replace(form_of(project_dir, Path(f).parent, Path(f).suffix),
                                                 type_imports=_type_imports(Path(project_dir) / Path(f).parent))))
               for s in db_steps(plan) for f in laid_files(s)]
        index = registered(Path(project_dir), Path(out[0].rel).parent.as_posix(), out) if out else None
        return out + ([index] if index is not None else [])

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        files = [f for s in db_steps(plan) for f in laid_files(s)]
        note = _other_databases(Path(project_dir), Path(files[0]).parent) if files else None
        # A step outside a transaction (`transaction = false`) needs TypeORM's mode "each" wherever the app runs them.
        runs = run_call_changes(Path(project_dir)) if any(not s.transactional for s in db_steps(plan)) else []
        return ([note] if note is not None else []) + runs + entity_changes(plan, Path(project_dir))


# A migration that branches on the database it runs on: TypeORM's own idioms for asking.
_BRANCHES = re.compile(r"\.connection\.(?:driver\.)?options\.type\b")


def _other_databases(project: Path, folder: Path) -> CodeChange | None:
    """A note where the project's migrations also run on another database (ever-gauzy's switch on
    queryRunner.connection.options.type: SQLite for its desktop app, MySQL): Flux's are PostgreSQL's
    alone, and fail there."""
    found = []
    for path in sorted((project / folder).glob("*")):
        if path.suffix in (".ts", ".js", ".mts", ".cts", ".mjs", ".cjs"):
            try:
                if _BRANCHES.search(path.read_text(encoding="utf-8", errors="replace")):
                    found.append(path.name)
            except OSError:
                continue
    if not found:
        return None
    return other_databases(folder.as_posix(), found, "migrations", "the database they run on")


WRITER = TypeormWriter()
