"""A check or a foreign key asked for without a name where the name PostgreSQL would give it is taken
(a column's inline CHECK holds <table>_<column>_check; a key of the column to another table holds
<table>_<column>_fkey): planned under the name PostgreSQL itself picks then (name1, name2, ...), as
PostgreSQL says by naming the same constraint added without a name. The same key already there is
still refused as such, whatever its name."""

from __future__ import annotations

import psycopg
import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql
from flux_agent.verify.runner import forward, sql_steps

DDL = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE legacy (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL CHECK (status IN ('new', 'paid')),
                     customer_id bigint REFERENCES legacy (id));
ALTER TABLE orders ADD CONSTRAINT orders_status_check1 CHECK (status <> 'x');
"""
OPS = [{"op": "add_check", "table": "orders", "expression": "status <> ''"},
       {"op": "add_foreign_key", "table": "orders", "columns": ["customer_id"], "ref_table": "customers",
        "ref_columns": ["id"]}]
# What PostgreSQL names the same constraints added without a name
UNNAMED = ["ALTER TABLE orders ADD CHECK (status <> '')",
           "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id)"]


def _names(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'orders'::regclass")}


def test_named_as_postgresql_names_them_and_run_there(pg_url):
    plan = build_plan(parse_operations(OPS), replay_sql(DDL), Settings(), tool="sql")
    assert [op.name for op in plan.operations] == ["orders_status_check2", "orders_customer_id_fkey1"]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(DDL)
        before = _names(conn)
        for sql in UNNAMED:
            conn.execute(sql)
        theirs = _names(conn) - before
        conn.execute("DROP TABLE orders, customers, legacy")
        conn.execute(DDL)
    assert theirs == {"orders_status_check2", "orders_customer_id_fkey1"}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        forward(conn, sql_steps(plan))
        assert _names(conn) - before == theirs


def test_the_same_key_under_postgresqls_name_is_still_refused_as_such():
    schema = replay_sql(DDL)
    ops = parse_operations([{"op": "add_foreign_key", "table": "orders", "columns": ["customer_id"],
                             "ref_table": "legacy", "ref_columns": ["id"]}])
    with pytest.raises(FluxInputError, match="foreign key orders_customer_id_fkey already makes"):
        build_plan(ops, schema, Settings(), tool="sql")
