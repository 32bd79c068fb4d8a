"""A role like the one a managed PostgreSQL gives an application: LOGIN, no superuser, no
CREATEROLE, owning its own database (CREATEDB only where asked: RDS's master user has it,
an application role usually not). Created by the test server's superuser, dropped after."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import psycopg
from psycopg import conninfo, sql


@dataclass
class AppRole:
    name: str
    password: str
    database: str
    url: str  # as the role, to its own database


@contextmanager
def app_role(admin_url: str, createdb: bool = False) -> Iterator[AppRole]:
    name = f"flux_app_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE {} PASSWORD {}").format(
            sql.Identifier(name), sql.SQL("CREATEDB" if createdb else "NOCREATEDB"), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
    info = conninfo.conninfo_to_dict(admin_url)
    info.update(user=name, password=password, dbname=name)
    try:
        yield AppRole(name, password, name, conninfo.make_conninfo(**info))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            # scratch databases a failed verify left behind are the role's too
            for (db,) in conn.execute("SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                                      "WHERE r.rolname = %s", (name,)).fetchall():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def privileges(url: str) -> tuple[bool, bool, bool]:
    """(superuser, createrole, createdb) of the role `url` logs in as, read from the server."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        return conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                            "WHERE rolname = current_user").fetchone()


# A schema beyond examples/shop, built by the role from real DDL: an integer key two tables
# reference (one ON DELETE CASCADE) and a view reads, and a partitioned table with an index.
FAMILY = """
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id bigserial PRIMARY KEY, author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  title text NOT NULL);
CREATE INDEX posts_author_id_idx ON posts (author_id);
CREATE TABLE reviews (id bigserial PRIMARY KEY, reviewer_id integer REFERENCES authors (id), stars integer);
CREATE VIEW author_names AS SELECT id, name FROM authors WHERE id > 0;
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL, note text,
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_kind ON events (kind);
INSERT INTO authors (name) SELECT 'a' || i FROM generate_series(1, 300) i;
INSERT INTO posts (author_id, title) SELECT i % 300 + 1, 't' || i FROM generate_series(1, 600) i;
INSERT INTO reviews (reviewer_id, stars) SELECT CASE WHEN i % 5 = 0 THEN NULL ELSE i % 300 + 1 END, i % 5
  FROM generate_series(1, 400) i;
INSERT INTO events SELECT i, date '2025-06-01' + (i % 400), 'k' || (i % 7), 'n' || i FROM generate_series(1, 500) i;
"""

FAMILY_OPS = {
    "widen-referenced-key": {"op": "change_column_type", "table": "authors", "column": "id", "type": "bigint"},
    "rename-column": {"op": "rename_column", "table": "posts", "column": "title", "new_name": "headline"},
    "retype-viewed-column": {"op": "change_column_type", "table": "authors", "column": "name",
                             "type": "varchar(200)"},
    "partitioned-add-index": {"op": "add_index", "table": "events", "columns": ["note"]},
    "partitioned-rename": {"op": "rename_column", "table": "events", "column": "kind", "new_name": "type"},
    "partitioned-retype": {"op": "change_column_type", "table": "events", "column": "kind", "type": "varchar(20)"},
    "partitioned-set-not-null": {"op": "set_not_null", "table": "events", "column": "note"},
}


# The ones the fast lane runs; the rest are marked slow by the tests.
FAMILY_FAST = {"widen-referenced-key", "partitioned-retype"}


def family_rows(conn: psycopg.Connection) -> list:
    """What the application reads: counts and sums of every table and the view."""
    return [conn.execute(q).fetchone() for q in (
        "SELECT count(*), sum(id) FROM authors", "SELECT count(*), sum(author_id) FROM posts",
        "SELECT count(*), sum(reviewer_id) FROM reviews", "SELECT count(*), sum(id) FROM author_names",
        "SELECT count(*), sum(id) FROM events")]


def run_family_plan(url: str, op: dict) -> tuple[list, list, list, list]:
    """Build FAMILY at `url` (as whoever `url` logs in as), plan `op` from the live schema and run
    it forward, back and forward: the rows the application reads before and after each pass."""
    from flux_agent.entry.actions import parse_operations
    from flux_agent.model.settings import Settings
    from flux_agent.plan.planner import build_plan
    from flux_agent.schema.readers.live import read_live
    from flux_agent.verify.runner import connect, forward, rollback, sql_steps

    with connect(url) as conn:
        conn.execute(FAMILY)
    plan = build_plan(parse_operations([op]), read_live(url), Settings(backfill_sleep_ms=0))
    steps = sql_steps(plan)
    with connect(url) as conn:
        before = family_rows(conn)
        forward(conn, steps)
        after = family_rows(conn)
        rollback(conn, steps)
        back = family_rows(conn)
        forward(conn, steps)
        return before, after, back, family_rows(conn)
