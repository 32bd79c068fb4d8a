"""schema/partitions.py: a partition follows what a change did to its parent's columns, and keeps
what the change did not touch (its own default, its own column order), at every level of
partitioning; a default changed ON ONLY the parent is not followed."""

from __future__ import annotations

from flux_agent.model.schema import Column, Dependencies, Dependent, Schema, Table
from flux_agent.schema.replay.engine import replay_sql


def _schema() -> Schema:
    """p is partitioned; p1 (made with LIKE, attached: no defaults, its own order) is itself
    partitioned, into p11."""
    parent = [Column(name="id", type="bigint", nullable=False), Column(name="s", type="text", default="'a'"),
              Column(name="t", type="text", default="'b'")]
    own = [Column(name="t", type="text"), Column(name="id", type="bigint", nullable=False),
           Column(name="s", type="text")]
    deps = Dependencies(dependents=[Dependent(kind="partition", name="p11", table="p1"),
                                    Dependent(kind="partition", name="p1", table="p")])
    return Schema(tables=[Table(name="p", columns=parent), Table(name="p1", columns=own),
                          Table(name="p11", columns=[c.model_copy() for c in own])], dependencies=deps)


def _cols(schema: Schema, table: str) -> list[tuple]:
    return [(c.name, c.default) for c in schema.table(table).columns]


def test_an_unrelated_change_leaves_the_partitions_as_they_are():
    after = replay_sql("CREATE TABLE other (id int);", _schema())
    assert _cols(after, "p1") == _cols(after, "p11") == [("t", None), ("id", None), ("s", None)]


def test_a_renamed_or_added_column_reaches_every_level_and_own_defaults_stay():
    after = replay_sql("ALTER TABLE p RENAME COLUMN s TO s2; ALTER TABLE p ADD COLUMN n int DEFAULT 0;", _schema())
    for table in ("p1", "p11"):
        assert _cols(after, table) == [("t", None), ("id", None), ("s2", None), ("n", "0")]


def test_a_default_set_on_the_parent_recurses_unless_on_only():
    after = replay_sql("ALTER TABLE p ALTER COLUMN t SET DEFAULT 'x'; ALTER TABLE ONLY p ALTER COLUMN s SET DEFAULT 'y';",
                       _schema())
    assert _cols(after, "p") == [("id", None), ("s", "'y'"), ("t", "'x'")]
    for table in ("p1", "p11"):
        assert _cols(after, table) == [("t", "'x'"), ("id", None), ("s", None)]


def test_a_renamed_parent_is_followed_under_its_new_name():
    after = replay_sql("ALTER TABLE p RENAME TO q; ALTER TABLE q ALTER COLUMN t SET DEFAULT 'x';", _schema())
    assert _cols(after, "p11") == [("t", "'x'"), ("id", None), ("s", None)]  # its own s default (none) kept


def test_a_dropped_column_and_a_dropped_parent_take_theirs_along():
    after = replay_sql("ALTER TABLE p DROP COLUMN t;", _schema())
    assert _cols(after, "p11") == [("id", None), ("s", None)]
    assert {t.name for t in replay_sql("DROP TABLE p;", _schema()).tables} == set()
