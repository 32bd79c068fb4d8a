"""The notes a TypeORM plan carries: where the project's migrations branch on the database they run
on (ever-gauzy: SQLite for its desktop app, MySQL, PostgreSQL), Flux's are PostgreSQL's alone; and
where an entity class names a table the plan changes, the entity is edited to match (a project's own
wrapper of @Entity too)."""

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


ENTITY = ('import { Entity, Column, PrimaryGeneratedColumn } from "typeorm";\n'
          '@MultiORMEntity("employee", { mikroOrmRepository: () => X })\n'
          "export class Employee {\n  @PrimaryGeneratedColumn() id: number;\n"
          "  @Column({ length: 200 }) short_description: string;\n}\n")


def test_the_entity_of_each_table_the_plan_changes_is_edited(tmp_path):
    # ever-gauzy's rename of employee.short_description said nothing of employee.entity.ts: its next
    # `typeorm migration:generate` would propose undoing the plan
    from flux_agent.model.operations import Backfill, RenameColumn
    from flux_agent.write.code_changes import apply

    (tmp_path / "migrations").mkdir()
    (tmp_path / "src" / "employee").mkdir(parents=True)
    (tmp_path / "src" / "employee" / "employee.entity.ts").write_text(ENTITY)
    (tmp_path / "node_modules" / "x").mkdir(parents=True)  # dependencies are not looked in
    (tmp_path / "node_modules" / "x" / "e.ts").write_text('@Entity("employee")\nexport class E {}\n')
    plan = _plan().model_copy(update={"operations": [
        RenameColumn(table="employee", column="short_description", new_name="summary"),
        Backfill(table="employee", column="summary", value="''")]})
    changes = TypeormWriter().code_changes(plan, tmp_path)
    assert [n.path for n in changes] == ["src/employee/employee.entity.ts"]
    assert "rename column employee" in changes[0].why and "migration:generate --check" in changes[0].why
    after = apply(ENTITY, changes[0].patch)
    assert '@Column({ name: "summary", length: 200 }) short_description: string;' in after
    assert after.replace('name: "summary", ', "") == ENTITY  # nothing else changed
    plan = plan.model_copy(update={"operations": [RenameColumn(table="orders", column="a", new_name="b")]})
    assert TypeormWriter().code_changes(plan, tmp_path) == []  # no entity names orders


def test_a_camel_case_name_keeps_its_words_in_file_names():
    # nestjs-boilerplate's user.firstName made `...CopyFirstnameInto...`
    from flux_agent.write.base import slug

    assert slug("copy firstName into given_name") == "copy_first_name_into_given_name"
    assert slug("drop index IDX_9a27ee81fbc0bb9e5260ed6f82 on user") == "drop_index_on_user"


def test_types_are_imported_as_the_project_s_migrations_import_them(tmp_path):
    """jellyseerr's migrations say `import type { MigrationInterface, QueryRunner }`, and its ESLint's
    consistent-type-imports holds every file to it; a project whose migrations import them plainly
    (TypeORM's own generated files) gets them so."""
    (tmp_path / "migrations").mkdir()
    newest = tmp_path / "migrations" / "1638541848595-Init.ts"
    for theirs, ours in [(BRANCHING, 'import { MigrationInterface, QueryRunner } from "typeorm";'),
                         (BRANCHING.replace("import {", "import type {"),
                          'import type { MigrationInterface, QueryRunner } from "typeorm";')]:
        newest.write_text(theirs)
        [job] = TypeormWriter().jobs(_plan(), tmp_path)
        assert f"\n{ours}\n" in job.content
