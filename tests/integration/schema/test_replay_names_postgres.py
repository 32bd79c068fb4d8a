"""The names replay gives unnamed constraints and indexes where a statement changes names the
counts of schema/replay/names_taken.py keep (tests/unit/schema/test_replay_names_taken.py's
scripts) are the names PostgreSQL gives, read from its catalogs."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.schema.replay.engine import replay_sql
from tests.unit.schema.test_replay_names_taken import SCRIPTS

CATALOG = """
SELECT n.nspname, r.relname, 'constraint', c.conname FROM pg_constraint c
  JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
 WHERE n.nspname IN ('public', 's')
UNION ALL
SELECT n.nspname, t.relname, 'index', i.relname FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname IN ('public', 's')
"""


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_replay_names_objects_as_postgres_does(name, pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(SCRIPTS[name])
        theirs = sorted((rel if ns == "public" else f"{ns}.{rel}", kind, obj)
                        for ns, rel, kind, obj in conn.execute(CATALOG).fetchall())
    schema = replay_sql(SCRIPTS[name])
    ours = sorted([(t.name, "constraint", c.name) for t in schema.tables for c in t.constraints if c.kind != "not_null"]
                  + [(t.name, "index", i.name) for t in schema.tables for i in t.indexes])
    assert ours == theirs
