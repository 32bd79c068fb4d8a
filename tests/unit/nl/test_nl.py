"""flux_agent.nl.parser against tests/nl_corpus.yaml: every phrasing parses to exactly
its expected operations, every refusal raises FluxInputError with a one-line
message naming what was not understood, and every parse of the shop schema
plans cleanly."""

from __future__ import annotations

import re

import pytest
import yaml
from pydantic import TypeAdapter

from flux_agent.errors import FluxInputError
from flux_agent.model.operations import Operation
from flux_agent.model.schema import Schema
from flux_agent.model.settings import Settings
from flux_agent.nl.parser import parse_request
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import read_migrations_dir

from shop import ROOT

CORPUS = yaml.safe_load((ROOT / "tests" / "nl_corpus.yaml").read_text(encoding="utf-8"))
PARSES = CORPUS["parses"]
REFUSALS = CORPUS["refusals"]
OPS = TypeAdapter(list[Operation])


def _schemas() -> dict:
    found = {"shop": read_migrations_dir(ROOT / "examples" / "shop" / "db" / "migrations"), "none": None}
    for name, data in CORPUS.get("schemas", {}).items():
        found[name] = Schema.model_validate(data)
    return found


SCHEMAS = _schemas()


def _schema(entry: dict):
    return SCHEMAS[entry.get("schema", "shop")]


def test_corpus_size(capsys):
    with capsys.disabled():
        print(f"\nnl corpus: {len(PARSES)} phrasings, {len(REFUSALS)} refusals")
    assert len(PARSES) >= 100
    assert len(REFUSALS) >= 15
    keys = [(e["request"], e.get("schema", "shop")) for e in PARSES + REFUSALS]
    assert len(keys) == len(set(keys)), "a request is listed twice for the same schema"


@pytest.mark.parametrize("entry", PARSES, ids=[e["request"][:60] for e in PARSES])
def test_parses(entry):
    expected = OPS.validate_python(entry["ops"])
    got = parse_request(entry["request"], _schema(entry))
    assert [op.model_dump() for op in got] == [op.model_dump() for op in expected]


@pytest.mark.parametrize("entry", REFUSALS, ids=[e["request"][:60] for e in REFUSALS])
def test_refusals(entry):
    with pytest.raises(FluxInputError) as info:
        parse_request(entry["request"], _schema(entry))
    message = str(info.value)
    assert entry["error"] in message
    assert "\n" not in message


SHOP_PARSES = [e for e in PARSES if e.get("schema", "shop") == "shop"]


@pytest.mark.parametrize("entry", SHOP_PARSES, ids=[e["request"][:60] for e in SHOP_PARSES])
def test_parsed_requests_plan(entry):
    """What nl reads is something the planner accepts on the same schema."""
    ops = parse_request(entry["request"], SCHEMAS["shop"])
    if "plan_error" in entry:  # the shop schema already has it: the planner must say so
        with pytest.raises(FluxInputError, match=re.escape(entry["plan_error"])):
            build_plan(ops, SCHEMAS["shop"], Settings())
        return
    plan = build_plan(ops, SCHEMAS["shop"], Settings())
    assert plan.steps


def test_deterministic():
    text = "add column score int to users, backfill it with 0, then make it required and index it"
    first = parse_request(text, SCHEMAS["shop"])
    assert all(parse_request(text, SCHEMAS["shop"]) == first for _ in range(3))


@pytest.mark.parametrize("text", [
    "add column x text default 1); drop table users; -- to users",
    "backfill users.name with 'a'; delete from users",
    "add check price > 0) or (1=1 on products",
    "change users.name to text; drop table users",
])
def test_nothing_is_pasted_into_sql(text):
    """Text that would break out of an expression or type is refused, never carried into an operation."""
    try:
        ops = parse_request(text, SCHEMAS["shop"])
    except FluxInputError:
        return
    # Split at ';' it may be two requests; each must then be a proper operation of its own.
    for op in ops:
        for value in op.model_dump().values():
            assert not (isinstance(value, str) and ";" in value)


def test_typo_never_eats_a_schema_name():
    """`colum` is one typo from the keyword `column`, but here it is a column."""
    schema = Schema.model_validate({"tables": [{"name": "items", "columns": [
        {"name": "colum", "type": "text"}, {"name": "id", "type": "bigint"}], "primary_key": ["id"]}]})
    for text in ("drop colum from items", "drop column colum from items", "drop items.colum"):
        ops = parse_request(text, schema)
        assert [op.model_dump() for op in ops] == [{"op": "drop_column", "table": "items", "column": "colum"}]


@pytest.mark.parametrize("request_, words", [
    ("make the database faster please", "make the database faster"),
    ("add some stuff", "add some stuff"),
    ("please drop everything", "drop everything"),
    ("Could you optimise my database?", "optimise my database"),
])
def test_a_request_for_no_change_gets_the_same_refusal_as_hello(request_, words):
    """Whatever verb it starts with, a request naming nothing a schema change is about
    (no table, column, type, or word such as column/index/unique) is refused as "hello" is."""
    refusals = []
    for text in ("hello", request_):
        with pytest.raises(FluxInputError) as info:
            parse_request(text, SCHEMAS["shop"])
        refusals.append(str(info.value))
    assert refusals[1] == refusals[0].replace("'hello'", repr(words))


def test_a_table_named_as_a_keyword_is_read_before_its_dot():
    """documenso's Prisma model `Field`: "change Field.page to bigint" read `Field` as the word
    "field" (a column) and failed at ".page"; a word before a dot is a table's name."""
    from flux_agent.schema.replay.engine import replay_sql

    schema = replay_sql('CREATE TABLE "Field" (id bigint PRIMARY KEY, page integer);')
    assert [o.model_dump(exclude_none=True) for o in parse_request("change Field.page to bigint", schema)] == [
        {"op": "change_column_type", "table": "Field", "column": "page", "type": "bigint"}]
    assert parse_request("add an index on Field.page", schema)[0].table == "Field"
    renamed = parse_request("rename column Field.page to page_number", schema)[0]
    assert (renamed.table, renamed.column, renamed.new_name) == ("Field", "page", "page_number")


def test_a_table_outside_public_is_found_by_its_own_name():
    """dispatch keeps each tenant's tables in a schema of its own: "add column incident.note text"
    was "unknown table 'incident'"; found where one schema has it, ambiguous where two do, and the
    typed operation says which it meant."""
    from flux_agent.schema.replay.engine import replay_sql

    one = replay_sql("CREATE SCHEMA dispatch_organization_default;\n"
                     "CREATE TABLE dispatch_organization_default.incident (id bigint PRIMARY KEY);")
    [op] = parse_request("add column incident.triage_note text", one)
    assert op.table == "dispatch_organization_default.incident"
    two = replay_sql("CREATE SCHEMA a;\nCREATE SCHEMA b;\nCREATE TABLE a.incident (id bigint PRIMARY KEY);\n"
                     "CREATE TABLE b.incident (id bigint PRIMARY KEY);")
    with pytest.raises(FluxInputError, match="ambiguous: it could be a.incident or b.incident"):
        parse_request("add column incident.triage_note text", two)
    with pytest.raises(FluxInputError, match=r"did you mean dispatch_organization_default\.incident\?"):
        build_plan([TypeAdapter(Operation).validate_python({"op": "add_column", "table": "incident",
                                                             "column": "note", "type": "text"})], one, Settings())
