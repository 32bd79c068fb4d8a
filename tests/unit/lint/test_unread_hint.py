"""A part of a program-code migration Flux could not read says how that tool's migrations send SQL
as written (TypeORM's queryRunner.query, not Alembic's and Django's execute and RunSQL)."""

from __future__ import annotations

from flux_agent.entry.validate import validate_paths

TYPEORM = ('import { MigrationInterface, QueryRunner } from "typeorm";\n'
           "export class Init1638541848595 implements MigrationInterface {\n"
           "  public async up(queryRunner: QueryRunner): Promise<void> {\n"
           '    await queryRunner.query(`ALTER TABLE "user" ADD "nick" text`);\n  }\n'
           "  public async down(queryRunner: QueryRunner): Promise<void> {}\n}\n")


def test_a_typeorm_file_not_read_is_told_queryrunner_query(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")
    migration = tmp_path / "m" / "1638541848595-Init.ts"  # no package.json above it: not run
    migration.parent.mkdir()
    migration.write_text(TYPEORM)
    _, found = validate_paths([str(migration)], str(tmp_path / "m"))
    hints = {f.hint for f in found if f.rule == "not-analysed"}
    assert hints == {"check this part by hand, or write what it does as SQL (queryRunner.query) that Flux can read"}
