"""A request's expressions and types judged by PostgreSQL on the dev database before anything is
planned (devdb/probe.py): `integer DEFAULT 'abc'` and `integer DEFAULT now()` were planned and
written without a word, and failed only in `flux verify`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from flux_agent.devdb.probe import probes, refusal
from flux_agent.devdb.project import project_schema
from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry import actions
from flux_agent.entry.cli import main
from flux_agent.errors import FluxInputError
from flux_agent.model.operations import AddColumn, AddIndex
from flux_agent.project.config import load_settings
from flux_agent.project.detect import detect

from shop import SHOP

pytestmark = [pytest.mark.pg,
              pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")]

REFUSED = {
    "a text default for an integer": ({"op": "add_column", "table": "users", "column": "age", "type": "integer",
                                       "default": "'abc'", "nullable": False}, 'invalid input syntax for type integer: "abc"'),
    "a timestamp default for an integer": ({"op": "add_column", "table": "users", "column": "age", "type": "integer",
                                            "default": "now()"}, "default expression is of type timestamp with time zone"),
    "a using of another type": ({"op": "change_column_type", "table": "users", "column": "email", "type": "integer",
                                 "using": "email::boolean"}, "the new column is of type integer but expression is of type boolean"),
    "a check comparing text with a number": ({"op": "add_check", "table": "users", "expression": "email > 3"},
                                             "operator does not exist: text > integer"),
    "a partial index on a volatile predicate": ({"op": "add_index", "table": "users", "columns": ["email"],
                                                 "where": "now() > '2020-01-01'"}, "must be marked IMMUTABLE"),
    "an index on a volatile expression": ({"op": "add_index", "table": "users", "columns": ["random()"]},
                                          "functions in index expression must be marked IMMUTABLE"),
    "a key between columns of other types": ({"op": "add_foreign_key", "table": "users", "columns": ["email"],
                                              "ref_table": "orders", "ref_columns": ["id"]},
                                             'Key columns "email" and "id" are of incompatible types: text and bigint'),
    "a backfill adding a time to a number": ({"op": "backfill", "table": "orders", "column": "user_id",
                                              "value": "1 + now()"}, "operator does not exist"),
    "a sequence that is not there": ({"op": "add_column", "table": "orders", "column": "seq", "type": "bigint",
                                      "default": "nextval('orders_seq')"}, 'relation "orders_seq" does not exist'),
    "a new table's default": ({"op": "create_table", "table": "tags", "columns": [
        {"name": "id", "type": "bigint", "primary_key": True}, {"name": "n", "type": "int", "default": "true"}]},
        'column "n" is of type integer but default expression is of type boolean'),
}


@pytest.fixture
def shop(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_postgresql_refuses_is_said_in_one_line_before_anything_is_planned(shop, case, capsys):
    op, said = REFUSED[case]
    with pytest.raises(FluxInputError) as err:
        actions.plan_migration([op], str(shop))
    assert said in str(err.value) and "\n" not in str(err.value) and "flux_probe" not in str(err.value)
    before = sorted(p.name for p in shop.rglob("*"))
    assert main(["plan", "--project", str(shop), "--op", json.dumps(op), "--write"]) == 2
    assert said in capsys.readouterr().err
    assert sorted(p.name for p in shop.rglob("*")) == before  # nothing written


def test_what_it_takes_is_planned_and_the_dev_database_is_left_as_it_was(shop):
    ops = [{"op": "add_column", "table": "users", "column": "age", "type": "bigint", "default": "0", "nullable": False},
           {"op": "create_table", "table": "tags", "columns": [{"name": "id", "type": "bigint", "primary_key": True},
                                                               {"name": "label", "type": "text"}]},
           # names an earlier operation makes: the probes run in turn, in one transaction
           {"op": "add_index", "table": "tags", "columns": ["label"], "where": "label <> ''"},
           {"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"},
           {"op": "add_check", "table": "users", "expression": "email_address LIKE '%@%'"}]
    plan = actions.plan_migration(ops, str(shop))
    assert plan.steps
    # rolled back: the same column planned again is not "already there" on the dev database
    assert actions.plan_migration(ops[:1], str(shop)).steps


def test_a_build_gone_from_the_server_judges_nothing(shop):
    settings = load_settings(shop)
    built = project_schema(shop, detect(shop, None, settings), settings)
    server = dev_server()
    op = AddColumn(table="users", column="age", type="integer", default="'abc'")
    assert "invalid input syntax" in refusal(server, built, [op])
    gone = built.__class__(built.database + "_gone", built.schema)
    assert refusal(server, gone, [op]) is None


def test_the_statements_quote_every_name():
    (what, sql), = probes(AddIndex(table="Order Items", columns=["Product Id"], where="\"Product Id\" > 0"))
    assert sql == 'CREATE INDEX flux_probe ON "Order Items" ("Product Id") WHERE ("Product Id" > 0)'
    assert probes(AddColumn(table="users", column="x", type="text")) and \
        probes(AddColumn(table="users", column="x", type="text"))[0][1] == "ALTER TABLE users ADD COLUMN x text"


def test_a_unique_index_the_dev_rows_break_is_not_the_requests_fault(shop):
    settings = load_settings(shop)
    built = project_schema(shop, detect(shop, None, settings), settings)
    server = dev_server()
    with psycopg.connect(server.database_url(built.database), autocommit=True) as conn:
        conn.execute("INSERT INTO users (id, email, name) VALUES (910001, 'a', 'same'), (910002, 'b', 'same')")
    try:
        assert refusal(server, built, [AddIndex(table="users", columns=["name"], unique=True)]) is None
    finally:
        with psycopg.connect(server.database_url(built.database), autocommit=True) as conn:
            conn.execute("DELETE FROM users WHERE id IN (910001, 910002)")


def test_a_table_an_unprobed_operation_makes_is_no_refusal(shop):
    """raw SQL is not probed: a table it makes is missing to the probes of the operations after it,
    which is no fault of theirs (only a relation the expression names is)."""
    ops = [{"op": "raw_sql", "up": "CREATE TABLE tags (id bigint PRIMARY KEY)", "down": "DROP TABLE tags"},
           {"op": "add_column", "table": "tags", "column": "label", "type": "text", "default": "'x'"}]
    assert actions.plan_migration(ops, str(shop)).steps
