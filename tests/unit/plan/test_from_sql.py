"""plan/from_sql: a statement read back into the operations it means (what `flux fix` plans), or
None where no operation says exactly what it does, so the statement stays raw SQL; and the
rollback of a safe statement fix keeps as written."""

from __future__ import annotations

import pytest

from flux_agent.model.schema import Column, Schema, Table
from flux_agent.pg.parse import parse_sql
from flux_agent.plan.from_sql import operations_of
from flux_agent.plan.from_sql.inverse import inverse, outside_transaction

pytest.importorskip("pglast")


def node(sql: str):
    return parse_sql(sql)[0].stmt


def ops(sql: str):
    found = operations_of(node(sql))
    return None if found is None else [o.model_dump(exclude_defaults=True) for o in found]


@pytest.mark.parametrize("sql, expected", [
    ("ALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()",
     [{"table": "users", "column": "token", "type": "uuid", "nullable": False, "default": "gen_random_uuid()"}]),
    ("ALTER TABLE billing.invoices ADD COLUMN n varchar(20)",
     [{"table": "billing.invoices", "column": "n", "type": "character varying(20)"}]),
    ('ALTER TABLE "Users" RENAME COLUMN "E-mail" TO email',
     [{"table": "Users", "column": "E-mail", "new_name": "email"}]),
    ("ALTER TABLE a ALTER COLUMN b TYPE int8 USING b::bigint",  # converts as without USING: none kept
     [{"table": "a", "column": "b", "type": "bigint"}]),
    ("ALTER TABLE a ALTER COLUMN b TYPE int8 USING (b * 100)::bigint",
     [{"table": "a", "column": "b", "type": "bigint", "using": "CAST(b * 100 AS bigint)"}]),
    ("ALTER TABLE a ALTER b SET NOT NULL, ALTER c DROP DEFAULT",
     [{"table": "a", "column": "b"}, {"table": "a", "column": "c"}]),
    ("ALTER TABLE a ADD CONSTRAINT f FOREIGN KEY (b) REFERENCES c (id) ON DELETE SET NULL",
     [{"table": "a", "columns": ["b"], "ref_table": "c", "ref_columns": ["id"], "on_delete": "SET NULL", "name": "f"}]),
    ("ALTER TABLE a ADD CHECK (b > 0)", [{"table": "a", "expression": "b > 0"}]),
    ("ALTER TABLE a ADD CONSTRAINT u UNIQUE (b, c)", [{"table": "a", "columns": ["b", "c"], "name": "u"}]),
    ("CREATE UNIQUE INDEX i ON a (b) WHERE c IS NULL",
     [{"table": "a", "columns": ["b"], "unique": True, "name": "i", "where": "c IS NULL"}]),
    ("UPDATE a SET b = lower(c) WHERE d", [{"table": "a", "column": "b", "value": "lower(c)", "where": "d"}]),
    ("DROP INDEX s.i", [{"name": "s.i"}]),
    ("DROP TABLE a", [{"table": "a"}]),
    ("ALTER TABLE a RENAME TO b", [{"table": "a", "new_name": "b"}]),
])
def test_a_statement_becomes_the_operations_it_means(sql, expected):
    assert ops(sql) == expected


@pytest.mark.parametrize("sql", [
    "ALTER TABLE a ADD COLUMN b int REFERENCES c (id)",  # a column and its key: no one operation
    "ALTER TABLE a ADD COLUMN id int GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE a ALTER b SET NOT NULL, ENABLE ROW LEVEL SECURITY",  # one sub-command without an operation
    "ALTER TABLE a ADD CONSTRAINT f FOREIGN KEY (b) REFERENCES c (id) ON UPDATE CASCADE",
    "ALTER TABLE a ADD CONSTRAINT f FOREIGN KEY (b) REFERENCES c",  # the referenced key is PostgreSQL's to find
    "ALTER TABLE a ADD PRIMARY KEY (b)",
    "ALTER TABLE a ADD CONSTRAINT u UNIQUE USING INDEX i",
    "ALTER TABLE ONLY a ALTER b SET NOT NULL",
    "ALTER TABLE IF EXISTS a DROP COLUMN b",
    "ALTER TABLE a DROP COLUMN b CASCADE",
    "CREATE INDEX ON a (lower(b))",
    "CREATE INDEX i ON a USING gin (b)",
    "CREATE INDEX i ON a (b DESC)",
    "CREATE INDEX i ON a (b) INCLUDE (c)",
    "UPDATE a SET b = 1, c = 2",
    "UPDATE a SET b = c.d FROM c WHERE a.id = c.id",
    "UPDATE a SET b = 1 RETURNING b",
    "DROP TABLE a, b",
    "DROP TABLE IF EXISTS a",
    "DROP VIEW v",
    "DROP FUNCTION list_payloads(partition_date date, last_id bigint)",  # hatchet: crashed, exit 3
    "DROP FUNCTION f",
    "DROP TYPE mood",
    "DROP DOMAIN positive",
    "CREATE TABLE t (id int)",
])
def test_what_no_operation_says_exactly_stays_raw(sql):
    assert ops(sql) is None


SCHEMA = Schema(tables=[Table(name="orders", columns=[
    Column(name="status", type="text", nullable=True, default="'new'::text"),
    Column(name="total", type="integer", nullable=False)])])


@pytest.mark.parametrize("sql, down", [
    ("CREATE TABLE notes (id int)", "DROP TABLE notes;"),
    ("ALTER TABLE a ADD COLUMN b text, ADD COLUMN c int", "ALTER TABLE a DROP COLUMN b, DROP COLUMN c;"),
    ("CREATE INDEX CONCURRENTLY i ON a (b)", "DROP INDEX CONCURRENTLY IF EXISTS i;"),
    ("COMMENT ON COLUMN a.b IS 'x'", ""),
    ("ALTER TABLE orders ALTER status SET DEFAULT 'x'",
     "ALTER TABLE orders ALTER COLUMN status SET DEFAULT CAST('new' AS text);"),
    ("ALTER TABLE orders ALTER total SET DEFAULT 0", "ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;"),
    ("ALTER TABLE orders ALTER total DROP NOT NULL", "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;"),
    ("CREATE TYPE \"Mood\" AS ENUM ('a', 'b')", 'DROP TYPE "Mood";'),
    ("CREATE TYPE billing.pair AS (a int, b int)", "DROP TYPE billing.pair;"),
    ("CREATE TYPE span AS RANGE (subtype = int4)", "DROP TYPE span;"),
    ("CREATE DOMAIN app.positive AS int CHECK (VALUE > 0)", "DROP DOMAIN app.positive;"),
    # Storage parameters of a table the file makes: its DROP TABLE undoes them (hatchet's queue tables).
    ("ALTER TABLE queue_items SET (autovacuum_vacuum_scale_factor = '0.1')", ""),
    ("ALTER TABLE orders SET (fillfactor = 70)", None),  # a table there before: its old value is unknown
    ("CREATE FUNCTION app.f(a date, OUT b int, VARIADIC c text[]) RETURNS int LANGUAGE sql AS 'select 1'",
     "DROP FUNCTION app.f(date, text[]);"),
    ("CREATE PROCEDURE p(a int) LANGUAGE sql AS 'select 1'", "DROP PROCEDURE p(integer);"),
    # OR REPLACE of a routine the schema before the file may hold: what it replaced is not known here.
    ("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'", None),
    ("CREATE TRIGGER tg BEFORE INSERT ON s.t FOR EACH ROW EXECUTE FUNCTION f()", "DROP TRIGGER tg ON s.t;"),
    ("CREATE OR REPLACE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", None),
    ("CREATE VIEW v AS SELECT 1", "DROP VIEW v;"),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", None),
    ("CREATE SEQUENCE s.q", "DROP SEQUENCE s.q;"),
    ("CREATE SEQUENCE IF NOT EXISTS q", None),
    ("ALTER TABLE a ADD CONSTRAINT a_b_nn CHECK (b IS NOT NULL) NOT VALID", "ALTER TABLE a DROP CONSTRAINT a_b_nn;"),
    ("ALTER TABLE a ADD CHECK (b > 0)", None),  # PostgreSQL names it: the name is not in the statement
    ("GRANT SELECT ON a TO b", None),
    ("CREATE TABLE IF NOT EXISTS notes (id int)", None),  # it may have made nothing
])
def test_a_kept_statement_is_undone_by_one_obvious_statement_or_none_is_claimed(sql, down):
    assert inverse(node(sql), SCHEMA) == down


def test_statements_postgresql_refuses_in_a_transaction_get_a_step_of_their_own():
    assert outside_transaction(node("CREATE INDEX CONCURRENTLY i ON a (b)"))
    assert outside_transaction(node("DROP INDEX CONCURRENTLY i"))
    assert outside_transaction(node("REINDEX INDEX CONCURRENTLY i"))
    assert not outside_transaction(node("CREATE INDEX i ON a (b)"))


def test_an_or_replace_routine_is_put_back_as_the_catalogs_held_it_or_dropped_where_they_held_none():
    from flux_agent.model.schema import Dependencies, Function, View

    made = Schema(dependencies=Dependencies(functions=[Function(name="other(integer)", language="sql", body="")]))
    old = "CREATE OR REPLACE FUNCTION public.f(x timestamp with time zone, y integer)\n RETURNS integer\n AS $$select 0$$\n"
    held = Schema(views=[View(name="v")], dependencies=Dependencies(functions=[
        Function(name="f(x timestamp with time zone)", language="sql", body=""),
        Function(name="f(x timestamp with time zone, y integer)", language="sql", body="select 0", definition=old)]))
    routine = node("CREATE OR REPLACE FUNCTION f(x timestamptz, y int) RETURNS int LANGUAGE sql AS 'select 1'")
    overload = node("CREATE OR REPLACE FUNCTION f(x text) RETURNS int LANGUAGE sql AS 'select 1'")
    view = node("CREATE OR REPLACE VIEW v AS SELECT 1")
    assert inverse(routine, made) == "DROP FUNCTION f(timestamp with time zone, integer);"
    assert inverse(routine, held) == old.rstrip() + ";"  # the signature it replaced, as it was
    assert inverse(overload, held) == "DROP FUNCTION f(text);"  # another signature: a routine of its own
    unread = Schema(dependencies=Dependencies(functions=[Function(name="f(x timestamp with time zone, y integer)",
                                                                  language="sql", body="")]))
    assert inverse(routine, unread) is None and inverse(routine, Schema()) is None  # its definition not known
    assert inverse(view, made) == "DROP VIEW v;" and inverse(view, held) is None
