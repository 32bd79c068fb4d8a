"""What managed servers and transaction poolers refuse, read from SQL: session state that
outlives its transaction (flux_agent.pg.pooler), superuser-only forms and extensions outside
the providers' usual allow-lists (flux_agent.pg.managed)."""

from __future__ import annotations

import pytest

from flux_agent.pg import managed, pooler


@pytest.mark.parametrize("sql, expected", [
    ("SET lock_timeout = '1s'; ALTER TABLE t ADD COLUMN a int", "SET lock_timeout without LOCAL"),
    ("RESET statement_timeout", "RESET statement_timeout without LOCAL"),
    ("SELECT set_config('statement_timeout', '0', false)", "set_config(..., false)"),
    ("SELECT pg_advisory_lock(42)", "pg_advisory_lock()"),
    ("CREATE TEMP TABLE keep (a int)", "a temporary table outlives"),
    ("PREPARE p AS SELECT 1", "PREPARE p"),
    ("LISTEN jobs", "LISTEN jobs"),
    ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DECLARE c ... WITH HOLD"),
    ("DO $$BEGIN SET statement_timeout = 0; UPDATE t SET a = 1; COMMIT; END$$", "in a DO block: SET statement_timeout"),
    ("DO $$BEGIN IF true THEN PERFORM pg_advisory_lock(1); END IF; END$$", "in a DO block: pg_advisory_lock()"),
])
def test_session_state_is_found(sql, expected):
    found = pooler.session_state(sql)
    assert len(found) == 1 and found[0].startswith(expected), found


@pytest.mark.parametrize("sql", [
    "SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = 0; ALTER TABLE t ADD COLUMN a int",
    "SELECT set_config('lock_timeout', '1s', true)",
    "SELECT pg_advisory_xact_lock(42)",
    "CREATE TEMP TABLE gone (a int) ON COMMIT DROP",
    "DECLARE c CURSOR FOR SELECT 1",
    "DO $$BEGIN LOOP SET LOCAL lock_timeout = '1s'; UPDATE t SET a = 1; COMMIT; EXIT; END LOOP; END$$",
    "CREATE INDEX CONCURRENTLY t_a ON t (a)",
    "not sql at all",
])
def test_transaction_scoped_sql_passes(sql):
    assert pooler.session_state(sql) == []


@pytest.mark.parametrize("sql, expected", [
    ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
    ("SET LOCAL session_replication_role = replica", "SET session_replication_role"),
    ("ALTER TABLE t DISABLE TRIGGER ALL", "DISABLE/ENABLE TRIGGER ALL"),
    ("COPY t FROM '/tmp/rows.csv'", "COPY to or from a server file"),
    ("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "CREATE EXTENSION pg_stat_statements: not a trusted"),
    ("CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()", "CREATE EVENT TRIGGER"),
])
def test_superuser_forms_are_found(sql, expected):
    found = managed.superuser_needs(sql)
    assert len(found) == 1 and found[0].startswith(expected), found


@pytest.mark.parametrize("sql", ["CREATE EXTENSION IF NOT EXISTS citext", "COPY t FROM STDIN",
                                 "ALTER TABLE t DISABLE TRIGGER t_sync", "SET LOCAL lock_timeout = '1s'"])
def test_owner_forms_pass(sql):
    assert managed.superuser_needs(sql) == []


def test_extensions_against_allow_lists():
    sql = ("CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION timescaledb; "
           "CREATE EXTENSION plpython3u; CREATE EXTENSION pg_repack")
    assert managed.extensions_created(sql) == ["pgcrypto", "timescaledb", "plpython3u", "pg_repack"]
    assert managed.not_offered("pgcrypto") == []
    assert managed.not_offered("timescaledb") == ["RDS", "Cloud SQL"]
    assert managed.not_offered("pg_repack") == ["Supabase"]
    assert managed.not_offered("plpython3u") == ["RDS", "Cloud SQL", "Azure", "Supabase"]


def test_trusted_extensions_are_offered_everywhere():
    # a trusted extension the role may create itself but a provider lacks would be a gap in the table
    assert all(managed.not_offered(e) == [] for e in managed.TRUSTED)


def test_extensions_used_by_name():
    sql = ("CREATE INDEX CONCURRENTLY i ON t USING gin (name gin_trgm_ops); "
           "ALTER TABLE t ADD COLUMN e citext DEFAULT uuid_generate_v4()::text; "
           "SELECT time_bucket('1 day', ts) FROM t; ALTER TABLE t ADD COLUMN g public.geometry; "
           "CREATE EXTENSION IF NOT EXISTS hstore; ALTER TABLE t ADD COLUMN n text DEFAULT gen_random_uuid()::text")
    assert managed.extensions_used(sql) == ["pg_trgm", "citext", "uuid-ossp", "timescaledb", "postgis", "hstore"]
