"""Flyway's placeholders (schema/flyway_config.py): a Flyway migration is read with its
`${name}` replaced as Flyway replaces them (configured values, the default schema, else the
name itself), by validate, the replay and the cache key alike. Built on PostgreSQL through the
dev database: tests/integration/schema/test_migration_files_devdb.py."""

from __future__ import annotations

import pytest

from flux_agent.lint.cache import Cache, Digests
from flux_agent.schema import flyway_config
from flux_agent.schema.flyway_config import render, stand_in
from flux_agent.schema.migration_files import read_sections, side_files, up_section
from flux_agent.schema.replay.engine import replay_folder

from tests.unit.schema.test_migration_files import write


@pytest.fixture(autouse=True)
def _fresh():
    flyway_config._read.cache_clear()


def test_without_configuration_a_placeholder_reads_as_its_name_and_the_default_schema_as_public(tmp_path):
    sql = ("CREATE TABLE ${flyway:defaultSchema}.users (id bigint);\nGRANT SELECT ON ${schema}.users TO ${flyway:user};\n"
           "CREATE INDEX ON ${table}.t (${1col}); -- ${flyway:timestamp}\n")
    assert render(sql, str(tmp_path)) == (
        "CREATE TABLE public.users (id bigint);\nGRANT SELECT ON schema.users TO flyway_user;\n"
        "CREATE INDEX ON flyway_table.t (flyway_1col); -- flyway_timestamp\n")
    assert stand_in("flyway:timestamp") == "flyway_timestamp" and stand_in("appSchema") == "appschema"
    assert render("SELECT $1, $$x$$, '${' FROM t", str(tmp_path)) == "SELECT $1, $$x$$, '${' FROM t"  # no placeholder


def test_configured_values_the_nearest_file_winning(tmp_path):
    write(tmp_path, "flyway.conf", "# project\nflyway.placeholders.schema=app\nflyway.placeholders.owner = admin\n"
                                   "flyway.schemas=core,audit\n")
    folder = tmp_path / "db" / "migration"
    sql = "ALTER TABLE ${schema}.t OWNER TO ${owner}; CREATE TABLE ${flyway:defaultSchema}.x ();"
    assert render(sql, str(folder)) == "ALTER TABLE app.t OWNER TO admin; CREATE TABLE core.x ();"
    write(tmp_path, "db/flyway.toml", '[flyway]\ndefaultSchema = "main"\n[flyway.placeholders]\nowner = "deploy"\n')
    assert render(sql, str(folder)) == "ALTER TABLE app.t OWNER TO deploy; CREATE TABLE main.x ();"


def test_a_toml_environment_names_the_schemas_and_settings_change_the_syntax(tmp_path):
    write(tmp_path, "flyway.toml", '[environments.default]\nschemas = ["tenant"]\n'
                                   '[flyway]\nplaceholderPrefix = "#["\nplaceholderSuffix = "]"\n')
    assert render("CREATE TABLE #[flyway:defaultSchema].t (); SELECT '${x}';", str(tmp_path)) == \
        "CREATE TABLE tenant.t (); SELECT '${x}';"
    write(tmp_path, "flyway.toml", "[flyway]\nplaceholderReplacement = false\n")
    assert render("CREATE TABLE ${s}.t ();", str(tmp_path)) == "CREATE TABLE ${s}.t ();"  # Flyway leaves it too


def test_only_flyway_files_are_rendered_and_their_undo_too(tmp_path):
    write(tmp_path, "flyway.conf", "flyway.placeholders.schema=app\n")
    v = write(tmp_path, "m/V1__t.sql", "CREATE TABLE ${schema}.t (id int);\n")
    write(tmp_path, "m/U1__t.sql", "DROP TABLE ${schema}.t;\n")
    other = write(tmp_path, "m/001_t.sql", "SELECT '${schema}';\n")
    sec = read_sections(v, v.read_text())
    assert (sec.up, sec.down) == ("CREATE TABLE app.t (id int);\n", "DROP TABLE app.t;\n")
    assert up_section(v, v.read_text())[1] == sec.up
    assert read_sections(other, other.read_text()).up == "SELECT '${schema}';\n"
    assert str(tmp_path / "flyway.conf") in side_files(v) and str(tmp_path / "m" / "flyway.toml") in side_files(v)
    assert not any(p.endswith(flyway_config.CONFIG_NAMES) for p in side_files(other))


def test_the_replay_builds_the_tables_where_the_placeholders_put_them(tmp_path):
    write(tmp_path, "flyway.conf", "flyway.placeholders.schema=app\n")
    folder = tmp_path / "db" / "migration"
    write(folder, "V1__users.sql", "CREATE SCHEMA IF NOT EXISTS ${schema};\n"
                                   "CREATE TABLE ${schema}.users (id bigint PRIMARY KEY, email text);\n"
                                   "CREATE TABLE ${flyway:defaultSchema}.events (id bigint);\n")
    write(folder, "V2__name.sql", "ALTER TABLE ${schema}.users ADD COLUMN name text;\n")
    schema = replay_folder(folder, "flyway")
    assert [t.name for t in schema.tables] == ["app.users", "events"]
    assert [c.name for c in schema.table("app.users").columns] == ["id", "email", "name"]


def test_a_changed_configuration_is_read_again_and_changes_what_the_cache_keys_on(tmp_path):
    conf = write(tmp_path, "flyway.conf", "flyway.placeholders.schema=app\n")
    v = write(tmp_path, "m/V1__t.sql", "CREATE TABLE ${schema}.t (id int);\n")
    before = Digests(Cache(None)).inputs(v)
    assert read_sections(v, v.read_text()).up == "CREATE TABLE app.t (id int);\n"
    conf.write_text("flyway.placeholders.schema=other\n", encoding="utf-8")
    assert read_sections(v, v.read_text()).up == "CREATE TABLE other.t (id int);\n"  # in the same process
    assert Digests(Cache(None)).inputs(v) != before
    conf.unlink()
    write(tmp_path, "m/flyway.toml", '[flyway.placeholders]\nschema = "app"\n')
    assert Digests(Cache(None)).inputs(v) != before


def test_spring_boot_configuration_sets_them_too(tmp_path):
    """Most Flyway projects run it from Spring Boot: `spring.flyway.*` in application.yml or
    application.properties under src/main/resources, above db/migration; a value Spring itself
    takes from the environment reads as its default, or as unknown; a profile's document is not
    every run's."""
    write(tmp_path, "src/main/resources/application.yml", """
        spring:
          flyway:
            default-schema: billing
            placeholders:
              appRole: ${APP_ROLE:app_rw}
              lobType: TEXT
              secret: ${SECRET}
        ---
        spring:
          config:
            activate:
              on-profile: test
          flyway:
            placeholders:
              lobType: CLOB
        """)
    folder = tmp_path / "src" / "main" / "resources" / "db" / "migration"
    sql = "CREATE TABLE ${flyway:defaultSchema}.doc (body ${lobType}); GRANT SELECT ON doc TO ${appRole}, ${secret};"
    assert render(sql, str(folder)) == "CREATE TABLE billing.doc (body TEXT); GRANT SELECT ON doc TO app_rw, secret;"
    write(tmp_path, "src/main/resources/application.properties",
          "spring.flyway.schemas=ledger,audit\nspring.flyway.placeholders.lobType=bytea\n")
    assert render(sql, str(folder)).startswith("CREATE TABLE billing.doc (body bytea);")  # both read, merged


def test_sql_written_into_the_folder_gets_its_placeholders_back(tmp_path):
    """templater: a schema qualifier that is the value a placeholder of the folder's migrations
    reads as (configured, or its own name) is written as the placeholder, in statements, DO
    bodies and strings; a name that qualifies nothing, and a folder without placeholders, stay."""
    write(tmp_path, "flyway.conf", "flyway.placeholders.schema=app\n")
    write(tmp_path, "m/V1__t.sql", "CREATE TABLE ${schema}.t (id int);\nGRANT SELECT ON ${audit}.log TO r;\n")
    template = flyway_config.templater(str(tmp_path / "m"))
    sql = ("ALTER TABLE app.t ADD COLUMN n text;\nSELECT 'app' AS app, audit.log.id FROM audit.log;\n"
           "DO $f$ BEGIN PERFORM to_regclass('app.t'); END $f$;\n")
    assert template(sql) == ("ALTER TABLE ${schema}.t ADD COLUMN n text;\n"
                             "SELECT 'app' AS app, ${audit}.log.id FROM ${audit}.log;\n"
                             "DO $f$ BEGIN PERFORM to_regclass('${schema}.t'); END $f$;\n")
    write(tmp_path, "plain/V1__t.sql", "CREATE TABLE app.t (id int);\n")
    assert flyway_config.templater(str(tmp_path / "plain"))(sql) == sql
