"""The name counts choose_name asks (schema/replay/names_taken.py): every answer equals a scan of
the schema as it is at that moment, on real histories and on the statements that change names
the counts could miss (a name dropped and chosen again in one statement, keys taken by a drop
elsewhere, renames that may change any table)."""

from __future__ import annotations

from itertools import chain

import pytest
from conftest import FIXTURES_REAL

from flux_agent.schema.replay import names_taken
from flux_agent.schema.replay.engine import FolderReplay, replay_sql
from flux_agent.schema.replay.state import in_namespace

FOLDERS = {"dbmate": "dbmate-upchieve/database/migrations", "golang-migrate": "golang-migrate-pocket-id/migrations/postgres",
           "drizzle": "drizzle-dokploy/drizzle"}


def _scanned(st, ns, name, relations, constraints) -> bool:
    """The answer from every object of the namespace, as it is now (what the counts stand for)."""
    tables = st.tables_in(ns)
    keys = (ns + "." + name,) if ns != "public" else (name, "public." + name)
    if relations and (any(t.name in keys for t in tables) or any(
            (v.name.partition(".")[2] or v.name) == name for v in st.schema.views if in_namespace(v.name, ns))
            or name in (i.name for i in chain.from_iterable(t.indexes for t in tables))):
        return True
    return constraints and name in (c.name for c in chain.from_iterable(t.constraints for t in tables))


@pytest.fixture
def checked(monkeypatch):
    """Every answer of the counts compared with a scan; the answers given, counted."""
    asked = {"count": 0, "taken": 0}
    original = names_taken.NameIndex.taken

    def taken(self, st, ns, name, relations, constraints):
        answer = original(self, st, ns, name, relations, constraints)
        assert answer == _scanned(st, ns, name, relations, constraints), (ns, name, relations, constraints)
        asked["count"] += 1
        asked["taken"] += answer
        return answer

    monkeypatch.setattr(names_taken.NameIndex, "taken", taken)
    return asked


@pytest.mark.parametrize("tool", sorted(FOLDERS))
def test_the_counts_answer_as_a_scan_on_real_histories(tool, checked):
    folder = FIXTURES_REAL / FOLDERS[tool]
    if not folder.is_dir():
        pytest.skip(f"real-world fixtures not present at {folder} (they live in ../shared, outside a user's clone)")
    replay = FolderReplay(folder, tool, skip_broken=True)
    replay.advance_to(len(replay.files))
    assert checked["count"] > 20


# Statements whose names the counts could get wrong; the names PostgreSQL gives are compared in
# tests/integration/schema/test_replay_names_postgres.py.
SCRIPTS = {
    "dropped and chosen again in one statement": """
        CREATE TABLE t (a int CHECK (a > 0));
        ALTER TABLE t DROP CONSTRAINT t_a_check, ADD CHECK (a > 1);
        CREATE TABLE u (id int PRIMARY KEY);
        ALTER TABLE u DROP CONSTRAINT u_pkey, ADD PRIMARY KEY (id);
    """,
    "made earlier in the statement": """
        CREATE TABLE t (a int CHECK (a > 0), b int, CHECK (a > b), CONSTRAINT t_a_check2 CHECK (a < 9), CHECK (a <> 5));
        CREATE TABLE u (id int PRIMARY KEY);
        CREATE INDEX u_pkey1 ON t (a);
        ALTER TABLE u DROP CONSTRAINT u_pkey, ADD PRIMARY KEY (id);
    """,
    "a column's drop takes keys elsewhere": """
        CREATE TABLE p (id int PRIMARY KEY, code int UNIQUE);
        CREATE TABLE c (id int, p_id int REFERENCES p (id), p_code int REFERENCES p (code));
        ALTER TABLE p DROP COLUMN code CASCADE;
        ALTER TABLE c ADD FOREIGN KEY (p_code) REFERENCES p (id);
    """,
    # c_p's key would be named as c's was: c_p_id_fkey (c counted while the drops took c's keys)
    "a table's drop takes keys elsewhere": """
        CREATE TABLE p (id int PRIMARY KEY);
        CREATE TABLE c (id int, p_id int REFERENCES p (id));
        CREATE TABLE x (id int PRIMARY KEY);
        DROP TABLE p CASCADE;
        CREATE TABLE p (id int PRIMARY KEY);
        CREATE TABLE c_p (id int REFERENCES p (id));
        ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p (id);
    """,
    "a column's drop takes keys elsewhere, seen by another table": """
        CREATE TABLE p (id int PRIMARY KEY, code int UNIQUE);
        CREATE TABLE c (id int, p_id int REFERENCES p (code));
        CREATE TABLE x (id int PRIMARY KEY);
        ALTER TABLE p DROP COLUMN code CASCADE;
        CREATE TABLE c_p (id int REFERENCES p (id));
    """,
    "renames and index drops": """
        CREATE TABLE t (a int UNIQUE);
        CREATE INDEX t_a_idx ON t (a);
        ALTER INDEX t_a_idx RENAME TO t_a_idx9;
        CREATE INDEX ON t (a);
        DROP INDEX t_a_idx9;
        CREATE INDEX ON t (a);
        ALTER TABLE t RENAME CONSTRAINT t_a_key TO t_a_key7;
        ALTER TABLE t ADD UNIQUE (a);
        ALTER TABLE t RENAME TO t2;
        CREATE TABLE t (a int UNIQUE);
        CREATE SCHEMA s;
        CREATE TABLE s.t (a int UNIQUE);
    """,
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_counts_answer_as_a_scan_where_names_change(name, checked):
    replay_sql(SCRIPTS[name])
    assert checked["count"] >= 2


def test_a_name_dropped_in_a_statement_is_free_in_it(checked):
    schema = replay_sql(SCRIPTS["dropped and chosen again in one statement"])
    assert sorted(c.name for c in schema.table("t").constraints) == ["t_a_check"]
    assert sorted(c.name for c in schema.table("u").constraints) == ["u_pkey"]
