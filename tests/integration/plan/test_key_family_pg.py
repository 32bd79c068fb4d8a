"""int -> bigint on a primary key referenced by two tables (one ON DELETE CASCADE) and read by a
view: the plan widens the whole key family and runs forward, back and forward on PostgreSQL with
every row kept, the foreign keys enforced after the swaps, the view answering, and (under verify's
--load) inserts from old and new code succeeding with no lost write."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live
from flux_agent.verify.check import PlanCheck
from flux_agent.verify.runner import connect, forward, rollback, sql_steps

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]

HISTORY = [
    """
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id bigserial PRIMARY KEY, author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  title text NOT NULL);
CREATE INDEX posts_author_id_idx ON posts (author_id);
CREATE TABLE reviews (id bigserial PRIMARY KEY, reviewer_id integer REFERENCES authors (id), stars integer);
CREATE VIEW author_names AS SELECT id, name FROM authors WHERE id > 0;
""",
    """
INSERT INTO authors (name) SELECT 'a' || i FROM generate_series(1, 300) i;
INSERT INTO posts (author_id, title) SELECT i % 300 + 1, 't' || i FROM generate_series(1, 600) i;
INSERT INTO reviews (reviewer_id, stars) SELECT CASE WHEN i % 5 = 0 THEN NULL ELSE i % 300 + 1 END, i % 5
  FROM generate_series(1, 400) i;
""",
]

OP = {"op": "change_column_type", "table": "authors", "column": "id", "type": "bigint"}
SETTINGS = Settings(backfill_sleep_ms=0)


@pytest.fixture
def db():
    admin = dev_server().url
    name = f"flux_keyfam_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = dev_server().database_url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        for script in HISTORY:
            conn.execute(script)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _types(conn) -> dict:
    rows = conn.execute("""SELECT table_name || '.' || column_name, data_type FROM information_schema.columns
                            WHERE table_schema = 'public' AND (table_name, column_name) IN
                            (('authors', 'id'), ('posts', 'author_id'), ('reviews', 'reviewer_id'),
                             ('author_names', 'id'))""").fetchall()
    return dict(rows)


def _state(conn) -> dict:
    """What the application sees: row counts and contents, the view, the keys enforced."""
    return {
        "authors": conn.execute("SELECT count(*), sum(id), min(name) FROM authors").fetchone(),
        "posts": conn.execute("SELECT count(*), sum(author_id) FROM posts").fetchone(),
        "reviews": conn.execute("SELECT count(*), sum(reviewer_id), count(reviewer_id) FROM reviews").fetchone(),
        "view": conn.execute("SELECT count(*), sum(id) FROM author_names").fetchone(),
        "constraints": sorted(conn.execute(
            "SELECT conrelid::regclass::text, conname, contype, convalidated, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace").fetchall()),
    }


def _keys_enforced(conn) -> None:
    """A dangling reference fails on each child; a delete cascades to posts; a new author gets an id."""
    for sql in ("INSERT INTO posts (author_id, title) VALUES (999999, 'dangling')",
                "INSERT INTO reviews (reviewer_id, stars) VALUES (999999, 1)"):
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            with conn.transaction():
                conn.execute(sql)
    with conn.transaction():
        new_id = conn.execute("INSERT INTO authors (name) VALUES ('fresh') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO posts (author_id, title) VALUES (%s, 'p')", (new_id,))
        conn.execute("DELETE FROM reviews WHERE reviewer_id = 7")
        conn.execute("DELETE FROM authors WHERE id = 7")
        assert conn.execute("SELECT count(*) FROM posts WHERE author_id = 7").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM author_names WHERE id = %s", (new_id,)).fetchone()[0] == 1
        raise _Undo()


class _Undo(Exception):
    pass


def _check_keys(conn) -> None:
    """_keys_enforced, its changes undone."""
    try:
        _keys_enforced(conn)
    except _Undo:
        pass


def test_key_family_forward_back_forward(db):
    schema = read_live(db)
    plan = build_plan(parse_operations([OP]), schema, SETTINGS)
    steps = sql_steps(plan)
    swaps = [s for s in plan.steps if s.phase == "contract"]
    assert len(swaps) == 3 and all("lock_timeout" in s.up_sql for s in swaps)
    assert not any(s.data_loss_on_rollback for s in plan.steps)
    assert "key family of 3 tables: authors, posts, reviews" in plan.summary
    with connect(db) as conn:
        before = _state(conn)
        check = PlanCheck(conn, plan, schema)
        for step in steps:  # the keys hold between any two steps, whichever stops where
            forward(conn, [step])
            _check_keys(conn)
        assert check.forward_done() == []
        assert set(_types(conn).values()) == {"bigint"}
        after = _state(conn)
        assert {k: v for k, v in after.items() if k != "constraints"} == \
            {k: v for k, v in before.items() if k != "constraints"}
        assert after["constraints"] == before["constraints"]  # same names, kinds, definitions, all validated
        _check_keys(conn)
        for step in reversed(steps):
            rollback(conn, [step])
            _check_keys(conn)
        assert check.rollback_done() == []
        assert set(_types(conn).values()) == {"integer"}
        assert _state(conn) == before
        _check_keys(conn)
        check.forward_starts()
        forward(conn, steps)
        assert check.forward_done() == []
        assert set(_types(conn).values()) == {"bigint"}
        assert _state(conn) == after
        _check_keys(conn)
        # The sequence went to bigint with the key: it hands out values past the integer range.
        conn.execute("SELECT setval('authors_id_seq', 3000000000)")
        assert conn.execute("INSERT INTO authors (name) VALUES ('big') RETURNING id").fetchone()[0] == 3000000001


def _project(tmp_path):
    """A dbmate project holding HISTORY's schema (verify seeds its own rows)."""
    folder = tmp_path / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "20260101000000_schema.sql").write_text(f"-- migrate:up\n{HISTORY[0]}\n-- migrate:down\n"
                                                      "DROP VIEW author_names;\nDROP TABLE reviews, posts, authors;\n")
    (tmp_path / ".flux.yaml").write_text("backfill_sleep_ms: 0\n")
    return tmp_path


@pytest.mark.slow  # ~15 s: three passes with traffic
def test_key_family_under_load(tmp_path):
    """Old code and then new code insert and update authors while every step runs, forward, back
    and forward: no lost write, no failed query in the sync phase, and the catalog and rows come
    back after the rollback."""
    from flux_agent.verify import render_report, verify

    # On the dev database built by the project's own history: there `serial` made an integer sequence
    # (a sandbox built from the schema model makes every sequence bigint).
    report = verify(_project(tmp_path), rows=300, operations=[OP], load=True)
    text = render_report(report)
    assert report.problems == [] and all(s.ok for s in report.steps), text
    assert report.lost_writes == 0 and report.checked_writes >= 100, text
    # Before the swaps (the sync phase, the code deploy between old and new code): not one failure.
    sync = [s for s in report.steps if s.phase != "contract"]
    assert all(s.errors == 0 for s in sync) and all(s.ops > 0 for s in sync if s.phase == "code"), text
    # At the key's swap, the one failure PostgreSQL gives by design: a statement prepared before it
    # returns the key, now wider (the summary says so).
    for s in report.steps:
        assert all("cached plan must not change result type" in e for e in s.error_samples), text
        assert not s.errors or s.title.startswith("swap authors.id"), text


def test_a_publication_on_the_family_is_refused_before_anything_changes(db):
    """The schema model knows no publications: the plan's first step refuses, naming it."""
    plan = build_plan(parse_operations([OP]), read_live(db), SETTINGS)
    with connect(db) as conn:
        conn.execute("CREATE PUBLICATION flux_feed FOR TABLE reviews")
        with pytest.raises(psycopg.errors.RaiseException) as exc:
            forward(conn, sql_steps(plan))
        assert "publication flux_feed (on public.reviews) replicates its key family" in str(exc.value)
        assert "cannot widen the primary key authors.id" in str(exc.value)
        assert set(_types(conn).values()) == {"integer"}
        assert conn.execute("SELECT count(*) FROM information_schema.columns "
                            "WHERE column_name LIKE '%flux%'").fetchone()[0] == 0
