"""project/applied: what a migrations table records of a file, per tool: its version number (dbmate,
rails, goose, typeorm), golang-migrate's last version (every file up to it ran), its name (knex,
sequelize, flyway), its stem (node-pg-migrate, django), alembic's heads (a revision below one ran)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.project.applied import is_recorded


def applied(path: Path, tool: str, values: list[str]) -> bool:
    return is_recorded(path, tool, values)


@pytest.mark.parametrize("tool, name, recorded, ran", [
    ("dbmate", "20250102000000_change.sql", ["20250101000000", "20250102000000"], True),
    ("dbmate", "20250102000000_change.sql", ["20250101000000"], False),
    ("golang-migrate", "000003_change.up.sql", ["4"], True),
    ("golang-migrate", "000003_change.up.sql", ["2"], False),
    ("knex", "20250102000000_change.js", ["20250102000000_change.js"], True),
    ("knex", "20250102000000_change.js", ["20250102000000_other.js"], False),
    ("node-pg-migrate", "1735776000000_status-index.js", ["1735776000000_status-index"], True),
    ("typeorm", "1735776000000-Score.ts", ["1735776000000"], True),
    ("django", "0003_rename.py", ["0001_initial", "0002_book_pages"], False),
])
def test_a_file_is_applied_when_its_tool_recorded_it(tool, name, recorded, ran, tmp_path):
    assert applied(tmp_path / name, tool, recorded) is ran


def test_an_alembic_revision_ran_when_a_recorded_head_descends_from_it(tmp_path):
    def revision(rev: str, down: str | None) -> Path:
        path = tmp_path / f"{rev}_x.py"
        path.write_text(f"revision = {rev!r}\ndown_revision = {down!r}\n")
        return path

    first, second, third = revision("aaa", None), revision("bbb", "aaa"), revision("ccc", "bbb")
    assert applied(second, "alembic", ["ccc"]) and applied(third, "alembic", ["ccc"])
    assert applied(first, "alembic", ["bbb"]) and not applied(third, "alembic", ["bbb"])
    assert not applied(first, "alembic", [])


def test_knex_s_runs_table_is_the_one_its_knexfile_names(tmp_path):
    """Infisical's knexfile: `migrations: { tableName: "infisical_migrations" }`: read as knex_migrations,
    its two bookkeeping tables stayed in the schema as the application's (verify seeded rows into them)."""
    from flux_agent.model.schema import Schema, Table
    from flux_agent.project.applied import runs_table, without_runs_table

    (tmp_path / "src" / "db" / "migrations").mkdir(parents=True)
    assert runs_table("knex", tmp_path, "src/db/migrations") == "knex_migrations"
    (tmp_path / "src" / "db" / "knexfile.ts").write_text(
        'export default {\n  development: {\n    client: "postgres",\n    migrations: {\n'
        '      directory: "./migrations",\n      tableName: "infisical_migrations",\n    },\n  },\n};\n')
    assert runs_table("knex", tmp_path, "src/db/migrations") == "infisical_migrations"
    schema = Schema(tables=[Table(name=n) for n in ("users", "infisical_migrations", "infisical_migrations_lock")])
    assert [t.name for t in without_runs_table(schema, "knex", tmp_path, "src/db/migrations").tables] == ["users"]


def test_node_pg_migrate_s_runs_table_is_the_one_its_script_names(tmp_path):
    """`node-pg-migrate -m migrations -t schema_migrations`: read as pgmigrations, the tool's table showed
    in `flux schema` as the application's."""
    import json

    from flux_agent.model.schema import Schema, Table
    from flux_agent.project.applied import runs_table, without_runs_table

    (tmp_path / "migrations").mkdir()
    assert runs_table("node-pg-migrate", tmp_path, "migrations") == "pgmigrations"
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {
        "migrate": "node-pg-migrate -m migrations -t schema_migrations"}}))
    assert runs_table("node-pg-migrate", tmp_path, "migrations") == "schema_migrations"
    schema = Schema(tables=[Table(name="users"), Table(name="schema_migrations")])
    assert [t.name for t in without_runs_table(schema, "node-pg-migrate", tmp_path, "migrations").tables] == ["users"]
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {
        "migrate": "node-pg-migrate --migrations-table=runs --migrations-schema ops up"}}))
    assert runs_table("node-pg-migrate", tmp_path, "migrations") == "ops.runs"


def test_flyway_s_runs_table_is_the_one_its_configuration_sets(tmp_path):
    """A Spring project's `spring.flyway.table` (hawkbit's schema_version), or a flyway.conf's
    `flyway.table` in a schema of its own: `flux status` and `flux fix` read what ran there, not in
    an absent flyway_schema_history (a file that ran would have looked unapplied, and been replaced)."""
    from flux_agent.project.applied import runs_table
    from flux_agent.schema import flyway_config

    folder = tmp_path / "src/main/resources/db/migration"
    folder.mkdir(parents=True)
    assert runs_table("flyway", tmp_path, "src/main/resources/db/migration") == "flyway_schema_history"
    (tmp_path / "src/main/resources/application.properties").write_text(
        "spring.flyway.table=schema_version\nspring.flyway.enabled=true\n")
    flyway_config._read.cache_clear()
    assert runs_table("flyway", tmp_path, "src/main/resources/db/migration") == "schema_version"
    (folder / "flyway.conf").write_text("flyway.schemas=app,public\nflyway.table=history\n")
    assert runs_table("flyway", tmp_path, "src/main/resources/db/migration") == "app.history"
    (folder / "flyway.conf").write_text("flyway.table=${FLYWAY_TABLE}\n")  # the environment's: not known here
    assert runs_table("flyway", tmp_path, "src/main/resources/db/migration") == "schema_version"
