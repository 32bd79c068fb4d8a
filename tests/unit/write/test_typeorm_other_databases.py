"""A TypeORM project whose migrations branch on the database they run on (ever-gauzy: SQLite for
its desktop app, MySQL, PostgreSQL) gets a note with Flux's migrations, which are PostgreSQL's alone."""

from __future__ import annotations

from flux_agent.model.plan import Plan, Step
from flux_agent.write.tools.typeorm import TypeormWriter

BRANCHING = ('import { MigrationInterface, QueryRunner } from "typeorm";\n'
             "export class Init1638541848595 implements MigrationInterface {\n"
             "  public async up(queryRunner: QueryRunner): Promise<void> {\n"
             "    switch (queryRunner.connection.options.type) {\n"
             '      case "sqlite": await queryRunner.query(`CREATE TABLE "t" ("id" integer)`); break;\n'
             '      case "postgres": await queryRunner.query(`CREATE TABLE "t" ("id" bigint)`); break;\n'
             "    }\n  }\n  public async down(): Promise<void> {}\n}\n")


def _plan() -> Plan:
    step = Step(number=1, phase="migrate", title="add column t.x", up_sql='ALTER TABLE "t" ADD COLUMN "x" text;',
                files=["migrations/1700000000000-AddColumnTX.ts"])
    return Plan(description="add column", type="safe", tool="typeorm", operations=[], steps=[step])


def test_a_note_where_the_migrations_branch_on_the_database(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1638541848595-Init.ts").write_text(BRANCHING)
    notes = TypeormWriter().code_changes(_plan(), tmp_path)
    assert [(n.path, n.patch) for n in notes] == [("migrations", "")]
    assert "1 of the project's migrations branch on the database" in notes[0].why
    assert "1638541848595-Init.ts" in notes[0].why


def test_none_where_they_do_not(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "1638541848595-Init.ts").write_text(BRANCHING.replace(".connection.options.type", "x"))
    assert TypeormWriter().code_changes(_plan(), tmp_path) == []
