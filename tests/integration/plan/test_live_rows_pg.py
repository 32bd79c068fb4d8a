"""Planned against a live database (--database-url), a plan whose step would fail on the rows there
(duplicates under a unique index, NULLs under a NOT NULL, rows breaking a check or a key) is refused
with the count, never a value; a table too big or too slow to count gets a warning with the query;
and an INVALID index a failed build left under the name to build is dropped first, not called an
index the table has. All on a real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.entry.actions import plan_migration
from flux_agent.plan import live_rows
from flux_agent.verify.runner import forward

pytestmark = pytest.mark.pg

TABLES = """
CREATE TABLE users (id bigint PRIMARY KEY, email text, nick text, age int);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, parent_id bigint);
INSERT INTO users SELECT g, 'user' || (g % 40) || '@example.com', CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' END,
       CASE WHEN g <= 5 THEN -1 ELSE 30 END FROM generate_series(1, 200) g;
INSERT INTO orders SELECT g, CASE WHEN g <= 7 THEN 1000 + g ELSE g % 200 + 1 END,
       CASE WHEN g = 1 THEN 999 ELSE NULL END FROM generate_series(1, 300) g;
ANALYZE;
"""


@pytest.fixture
def live(pg_url, tmp_path):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TABLES)
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    return pg_url, tmp_path


def _plan(live, *ops):
    url, project = live
    return plan_migration(list(ops), str(project), tool="dbmate", database_url=url)


def _rows(plan):
    return [f for f in plan.findings if f.rule == live_rows.RULE]


def test_duplicates_under_a_unique_key_refuse_the_plan_with_counts_not_values(live):
    plan = _plan(live, {"op": "add_unique", "table": "users", "columns": ["email"]})
    (found,) = _rows(plan)
    assert found.severity == "error"
    assert "users (email): 40 values held by more than one row (200 rows)" in found.message
    assert "users_email_key" in found.message and "@example.com" not in found.message
    # The summary, shown verbatim, says it before anything else: not "Type: safe" alone.
    assert "Type: safe │ REFUSED: 1 error" in plan.summary
    assert ("[ ] fix what refuses the plan, nothing is written until then: live-rows: add unique constraint on "
            "users.email: users (email): 40 values held by more than one row") in plan.summary


def test_a_unique_index_counts_only_the_rows_its_predicate_keeps(live):
    whole = _plan(live, {"op": "add_index", "table": "users", "columns": ["email"], "unique": True})
    assert [f.severity for f in _rows(whole)] == ["error"]
    partial = _plan(live, {"op": "add_index", "table": "users", "columns": ["email"], "unique": True,
                           "where": "id <= 40"})
    assert _rows(partial) == []
    plain = _plan(live, {"op": "add_index", "table": "users", "columns": ["email"]})
    assert _rows(plain) == []


def test_nulls_refuse_set_not_null_unless_a_backfill_fills_them(live):
    (found,) = _rows(_plan(live, {"op": "set_not_null", "table": "users", "column": "nick"}))
    assert found.severity == "error" and "users: 66 rows with NULL in nick" in found.message
    assert _rows(_plan(live, {"op": "set_not_null", "table": "users", "column": "nick", "backfill": "'x'"})) == []
    assert _rows(_plan(live, {"op": "set_not_null", "table": "users", "column": "age"})) == []


def test_rows_breaking_a_check_or_a_key_refuse_it(live):
    (check,) = _rows(_plan(live, {"op": "add_check", "table": "users", "expression": "age >= 0"}))
    assert "users: 5 rows breaking CHECK" in check.message
    (key,) = _rows(_plan(live, {"op": "add_foreign_key", "table": "orders", "columns": ["user_id"],
                                "ref_table": "users", "ref_columns": ["id"]}))
    assert "orders: 7 rows with a (user_id) no row of users has" in key.message
    # A self-reference: one row points at an order that is not there; NULLs pass (MATCH SIMPLE).
    (own,) = _rows(_plan(live, {"op": "add_foreign_key", "table": "orders", "columns": ["parent_id"],
                                "ref_table": "orders", "ref_columns": ["id"]}))
    assert "orders: 1 row with a (parent_id) no row of orders has" in own.message


def test_an_earlier_operation_on_the_same_column_leaves_it_uncounted(live):
    plan = _plan(live, {"op": "backfill", "table": "users", "column": "nick", "value": "'x'"},
                 {"op": "set_not_null", "table": "users", "column": "nick"})
    assert _rows(plan) == []
    after_raw = _plan(live, {"op": "raw_sql", "up": "UPDATE users SET age = 1 WHERE age < 0",
                       "down": "SELECT 1"},
                      {"op": "add_check", "table": "users", "expression": "age >= 0"})
    assert _rows(after_raw) == []


def test_a_table_too_big_or_too_slow_is_not_counted_and_the_query_is_given(live, monkeypatch):
    monkeypatch.setattr(live_rows, "ROWS_LIMIT", 100)
    (big,) = _rows(_plan(live, {"op": "set_not_null", "table": "users", "column": "nick"}))
    assert big.severity == "warning" and "~200 rows, more than Flux scans" in big.message
    assert 'SELECT count(*) FROM users WHERE nick IS NULL' in big.message
    monkeypatch.setattr(live_rows, "ROWS_LIMIT", 10_000)
    monkeypatch.setattr(live_rows, "ROWS_TIMEOUT", "50ms")
    (slow,) = _rows(_plan(live, {"op": "add_check", "table": "users", "expression": "pg_sleep(0.01) IS NOT NULL"}))
    assert slow.severity == "warning" and "counting took longer than 50ms" in slow.message


def test_the_count_cannot_write(live):
    """The transaction is READ ONLY: a check expression calling a function that writes is refused
    there (and said to be uncounted), the table unchanged."""
    url, _ = live
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION bump() RETURNS boolean LANGUAGE sql AS "
                     "$$ UPDATE orders SET parent_id = 5 WHERE id = 2 RETURNING true $$")
    (found,) = _rows(_plan(live, {"op": "add_check", "table": "users", "expression": "bump()"}))
    assert found.severity == "warning" and "read-only transaction" in found.message
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT parent_id FROM orders WHERE id = 2").fetchone() == (None,)


def test_an_invalid_index_a_failed_build_left_is_dropped_first(live):
    url, _ = live
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)")
        conn.execute("UPDATE users SET email = id || '@example.com'")  # unique now
    plan = _plan(live, {"op": "add_unique", "table": "users", "columns": ["email"]})
    assert _rows(plan) == [] and not [f for f in plan.findings if f.severity == "error"]
    assert [s.title.split(",")[0] for s in plan.steps][:1] == ["drop users_email_key"]
    with psycopg.connect(url, autocommit=True) as conn:
        forward(conn, plan.steps)
        valid, = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass"
                              ).fetchone()
        kind, = conn.execute("SELECT contype FROM pg_constraint WHERE conname = 'users_email_key'").fetchone()
    assert valid and kind == "u"


def test_an_invalid_index_serves_no_index_asked_for(live):
    url, _ = live
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)")
    plan = _plan(live, {"op": "add_index", "table": "users", "columns": ["email"]})
    assert [s.title for s in plan.steps] == ["build index users_email_idx on users (email)"]


def test_values_a_new_type_refuses_are_counted(live):
    url, _ = live
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE users ADD COLUMN code text, ADD COLUMN tag varchar(40)")
        conn.execute("UPDATE users SET code = CASE WHEN id <= 3 THEN 'x' || id ELSE id::text END, "
                     "tag = repeat('t', CASE WHEN id <= 4 THEN 30 ELSE 5 END)")
    server = psycopg.connect(url).info.server_version
    (short,) = _rows(_plan(live, {"op": "change_column_type", "table": "users", "column": "tag",
                                  "type": "varchar(10)"}))
    assert short.severity == "error"
    assert "users: 4 rows with a tag that character varying(10) refuses" in short.message
    parsed = _rows(_plan(live, {"op": "change_column_type", "table": "users", "column": "code", "type": "integer"}))
    if server >= 160000:  # pg_input_is_valid
        assert ["users: 3 rows with a code that integer refuses" in f.message for f in parsed] == [True]
    else:
        assert parsed == []
    mapped = _plan(live, {"op": "change_column_type", "table": "users", "column": "code", "type": "integer",
                          "using": "nullif(regexp_replace(code, '\\D', '', 'g'), '')::integer"})
    assert _rows(mapped) == []
    assert _rows(_plan(live, {"op": "change_column_type", "table": "users", "column": "age", "type": "bigint"})) == []


def test_an_index_on_an_expression_is_built_and_its_duplicates_counted(live):
    """add_index takes expressions of the columns (lower(email)): named as PostgreSQL names it, built
    concurrently, its duplicates counted by the expression; an index already there on it is the answer."""
    url, _ = live
    spec = {"op": "add_index", "table": "users", "columns": ["lower(email)"], "unique": True}
    (dups,) = _rows(_plan(live, spec))
    assert "users (lower(email)): 40 values held by more than one row" in dups.message
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE users SET email = upper(id || '@example.com')")
    plan = _plan(live, spec)
    assert _rows(plan) == [] and [s.title for s in plan.steps] == ["build unique index users_lower_key on users "
                                                                    "(lower(email))"]
    with psycopg.connect(url, autocommit=True) as conn:
        forward(conn, plan.steps)
        defined, = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'users_lower_key'").fetchone()
        assert defined.endswith("USING btree (lower(email))")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO users (id, email) VALUES (1000, '1@EXAMPLE.com')")
    with pytest.raises(Exception, match="already has a unique index on \\(lower\\(email\\)\\): users_lower_key"):
        _plan(live, {"op": "add_index", "table": "users", "columns": ["lower(email)"], "unique": True})
