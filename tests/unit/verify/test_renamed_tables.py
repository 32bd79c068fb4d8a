"""verify's row checks follow each table under the name the plan gives it (verify/rows.py
renamed_tables): a raw SQL step is replayed into new table objects, and the names must not be
followed by the ids of the objects it freed (CI once read users as notes: "200 row(s) of notes are
gone", "cannot read notes.full_name")."""

from __future__ import annotations

from flux_agent.model.operations import RawSql, RenameColumn, RenameTable
from flux_agent.schema.replay.engine import replay_sql
from flux_agent.verify.rows import renamed_tables

BEFORE = ("CREATE TABLE users (id bigint PRIMARY KEY, name text);\n"
          "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n"
          "CREATE TABLE legacy (id bigint PRIMARY KEY);")


def test_tables_are_followed_by_name_across_a_replayed_raw_sql_step():
    before = replay_sql(BEFORE)
    ops = [RawSql(up="CREATE TABLE notes (id bigint PRIMARY KEY, body text);"),
           RenameColumn(table="users", column="name", new_name="full_name"),
           RawSql(up="CREATE TABLE tags (id bigint PRIMARY KEY);"),
           RenameTable(table="legacy", new_name="legacy_old")]
    # Many times: a freed object's id is taken again by the next object of its size more often than
    # not, so a mapping by the ids of freed objects goes wrong in nearly every round.
    for _ in range(30):
        assert renamed_tables(ops, before) == {"users": "users", "orders": "orders", "legacy": "legacy_old"}
