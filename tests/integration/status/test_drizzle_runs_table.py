"""drizzle-kit migrate records its runs where drizzle.config says (dokploy: `migrations: { table:
"migrations", schema: "public" }`): Flux reads that table, on a real PostgreSQL, to tell which of a
plan's files ran, not drizzle's default drizzle.__drizzle_migrations, which is not there."""

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
