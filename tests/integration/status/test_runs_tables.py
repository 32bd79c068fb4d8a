"""The migration tool's own record of what ran, read as the tool reads it, on a real PostgreSQL:
drizzle-kit migrate's where drizzle.config says (dokploy: `migrations: { table: "migrations", schema:
"public" }`), not drizzle's default drizzle.__drizzle_migrations, which is not there; goose's by the
latest row of each version (an older goose's rollback left one with is_applied false)."""

from __future__ import annotations

import hashlib

import psycopg

from flux_agent.project.applied import is_recorded, read_runs, runs_table


def test_runs_are_read_from_the_table_the_config_names(pg_url, tmp_path):
    (tmp_path / "drizzle").mkdir()
    migration = tmp_path / "drizzle" / "0000_init.sql"
    migration.write_text("CREATE TABLE t (id int);\n")
    (tmp_path / "drizzle.config.ts").write_text(
        'export default { schema: "./schema.ts", out: "./drizzle", migrations: { table: "migrations", '
        'schema: "public" } };\n')
    assert runs_table("drizzle", tmp_path, "drizzle") == "public.migrations"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.migrations (id serial, hash text NOT NULL, created_at bigint)")
        conn.execute("INSERT INTO public.migrations (hash, created_at) VALUES (%s, 1)",
                     [hashlib.sha256(migration.read_bytes()).hexdigest()])
        assert read_runs(conn, "drizzle") is None  # the default table: not there
        runs = read_runs(conn, "drizzle", runs_table("drizzle", tmp_path, "drizzle"))
    assert runs is not None and is_recorded(migration, "drizzle", runs)


def test_a_goose_version_rolled_back_by_an_older_goose_reads_as_not_run(pg_url, tmp_path):
    """goose before v3 recorded a rollback as a row with is_applied false; the latest row of a
    version says whether it ran (goose's own reading), not any row of it."""
    (tmp_path / "00027_add.sql").write_text("-- +goose Up\nSELECT 1;\n")
    (tmp_path / "00028_more.sql").write_text("-- +goose Up\nSELECT 1;\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, "
                     "is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())")
        conn.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (27, true), "
                     "(28, true), (27, false)")
        runs = read_runs(conn, "goose")
        assert not is_recorded(tmp_path / "00027_add.sql", "goose", runs)
        assert is_recorded(tmp_path / "00028_more.sql", "goose", runs)
        conn.execute("DROP TABLE goose_db_version")
        conn.execute("CREATE TABLE goose_db_version (version_id bigint NOT NULL)")  # an older shape: every row ran
        conn.execute("INSERT INTO goose_db_version VALUES (27)")
        assert is_recorded(tmp_path / "00027_add.sql", "goose", read_runs(conn, "goose"))
