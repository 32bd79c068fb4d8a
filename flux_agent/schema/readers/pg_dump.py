"""Read `pg_dump --schema-only` output: dbmate's db/schema.sql, Rails' db/structure.sql.

A dump is SQL plus a few lines psql reads itself. Those lines are blanked (so
error line numbers still match the file) and the rest goes through the same
replay reader as migrations: `CREATE TABLE` then `ALTER TABLE ONLY ... ADD
CONSTRAINT`, `ALTER ... SET DEFAULT nextval(...)`, `ADD GENERATED ... AS
IDENTITY`, `CREATE INDEX ... USING btree`, `CREATE TYPE ... AS ENUM` and views
are all statements the replay already applies; functions, triggers, sequences,
comments, `SELECT set_config(...)` and `INSERT INTO schema_migrations` change
nothing it keeps and are skipped.

Because pg_dump runs with an empty search_path it qualifies every name. Table
keys come out right already (`public.t` is `t`); expressions come back in the
normal form of flux_agent.schema.normal, which drops `public.` and prints
`nextval('public.t_id_seq'::regclass)` as `nextval('t_id_seq'::regclass)` (the
form the replay gives a `serial` column), so that a dump and the migrations
that built the same database give the same model.
"""

from __future__ import annotations

from pathlib import Path

from .. import read_file
from ...model.schema import Schema
from ..normal import normalise_schema
from ..psql_script import without_psql_commands
from ..replay.engine import replay_sql

__all__ = ["read_pg_dump", "read_pg_dump_text", "without_psql_commands"]


def read_pg_dump(path: Path) -> Schema:
    """The schema a `pg_dump --schema-only` file describes."""
    return read_file(path, read_pg_dump_text)


def read_pg_dump_text(text: str) -> Schema:
    schema = replay_sql(without_psql_commands(text))
    # A schema-only dump makes every materialized view WITH NO DATA (the REFRESH is data): which
    # were populated it cannot say, so each is taken to be, as a database in use has them.
    for view in schema.views:
        view.populated = True
    return normalise_schema(schema, in_place=True)
