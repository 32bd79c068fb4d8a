"""Plans on a schema rich in what depends on its columns (views, a view on a view, a
materialized view, a generated column, a trigger function and a column trigger, GIN and
GiST indexes with operator classes, a partial and an expression index, a unique
constraint, a policy, an owned sequence, a unique index a later migration made with a
foreign key on it), read from
PostgreSQL's catalogs. Each rename, retype or drop of a depended-on column either runs
forward, back and forward again with the dependents still working (the views answer, the
trigger fires, every index keeps its method and operator classes, the policy and the
sequence stay), or is refused naming every dependent."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import psycopg
import pytest

from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan
from flux_agent.schema.readers.live import read_live
from flux_agent.verify.check import PlanCheck
from flux_agent.verify.runner import connect, forward, rollback, sql_steps

from conftest import dev_server_has

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries"),
              pytest.mark.skipif(not find_binaries() or not dev_server_has("pg_trgm", "btree_gist"),
                                 reason="the dev database server has no pg_trgm/btree_gist (postgresql-contrib)")]

HISTORY = [
    """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE accounts (id bigint PRIMARY KEY, code text NOT NULL, tenant integer NOT NULL DEFAULT 1,
  email text NOT NULL, nickname text, first_name text, last_name text,
  full_name text GENERATED ALWAYS AS (coalesce(first_name, '') || ' ' || coalesce(last_name, '')) STORED,
  score integer NOT NULL DEFAULT 0, place point, ticket bigserial, stamp text);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_unique UNIQUE (email);
CREATE VIEW account_emails AS SELECT id, email, tenant FROM accounts WHERE tenant > 0;
CREATE VIEW account_emails_lower AS SELECT id, lower(email) AS email_lower FROM account_emails;
CREATE MATERIALIZED VIEW account_scores AS SELECT sum(score) AS total FROM accounts;
CREATE INDEX accounts_nickname_trgm ON accounts USING gin (nickname gin_trgm_ops);
CREATE INDEX accounts_place_gist ON accounts USING gist (place);
CREATE INDEX accounts_email_lower ON accounts (lower(email));
CREATE INDEX accounts_active_score ON accounts (score) WHERE tenant > 0;
CREATE FUNCTION accounts_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.stamp := upper(NEW.code);
  RETURN NEW;
END
$$;
CREATE TRIGGER accounts_stamp BEFORE INSERT OR UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_stamp();
CREATE TRIGGER accounts_last_name BEFORE UPDATE OF last_name ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_stamp();
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_tenant ON accounts USING (tenant = 1);
""",
    """
CREATE UNIQUE INDEX accounts_code_key ON accounts (code);
CREATE TABLE logins (id bigint PRIMARY KEY, code text NOT NULL REFERENCES accounts (code), at timestamptz);
INSERT INTO accounts (id, code, tenant, email, nickname, first_name, last_name, score, place)
SELECT i, 'c' || i, i % 3, 'u' || i || '@example.com', 'nick' || i, 'F' || i, 'L' || i, i, point(i, i)
  FROM generate_series(1, 300) i;
INSERT INTO logins SELECT i, 'c' || (i % 300 + 1), now() FROM generate_series(1, 100) i;
REFRESH MATERIALIZED VIEW account_scores;
""",
]

SETTINGS = Settings(backfill_sleep_ms=0)


def database_from(history: list[str], template: str = ""):
    """A database on the dev server built from `history` (or copied from database `template`):
    yields (admin URL, name), dropped afterwards."""
    admin = dev_server().url
    name = f"{template or 'flux_deps'}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    with psycopg.connect(dev_server().database_url(name), autocommit=True) as conn:
        for script in history:
            conn.execute(script)
    yield admin, name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_three_ways(url: str, plan, schema, works) -> None:
    """Forward, back, forward with verify's checks; `works(conn, after: bool)` must say the same
    after each forward run, and after the rollback what it said before."""
    steps = sql_steps(plan)
    with connect(url) as conn:
        before = works(conn, False)
        check = PlanCheck(conn, plan, schema)
        forward(conn, steps)
        assert check.forward_done() == []
        after = works(conn, True)
        rollback(conn, steps)
        assert check.rollback_done() == []
        assert works(conn, False) == before
        check.forward_starts()
        forward(conn, steps)
        assert check.forward_done() == []
        assert works(conn, True) == after
    return before, after


@pytest.fixture(scope="module")
def template():
    """A database built from HISTORY once; each test runs on a copy."""
    yield from database_from(HISTORY)


@pytest.fixture
def db(template):
    _, name = template
    for _, copy in database_from([], template=name):
        yield dev_server().database_url(copy)


def _indexes(conn) -> Counter:
    """Each index of accounts as method, operator classes, expression and predicate: the names of
    columns and indexes aside, what a copy must keep."""
    rows = conn.execute("""
        SELECT am.amname, ARRAY(SELECT o.opcname::text FROM unnest(i.indclass) c JOIN pg_opclass o ON o.oid = c),
               i.indexprs IS NOT NULL, i.indpred IS NOT NULL, i.indisunique, i.indisvalid
          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
         WHERE i.indrelid = 'accounts'::regclass""").fetchall()
    return Counter((r[0], tuple(r[1]), r[2], r[3], r[4], r[5]) for r in rows)


def _dependents_work(conn, names: dict[str, str]) -> dict:
    """What the application sees of the dependents; `names`: column names after the plan."""
    email, tenant, ticket = names.get("email", "email"), names.get("tenant", "tenant"), names.get("ticket", "ticket")
    row = conn.execute(
        f'INSERT INTO accounts (id, code, "{email}", "{tenant}") VALUES (100000, %s, %s, 1) '
        f'RETURNING stamp, "{ticket}" IS NOT NULL', ("new-code", "new@example.com")).fetchone()
    out = {
        "trigger fired": row[0] == "NEW-CODE",
        "sequence gave a value": row[1],
        "view rows": conn.execute("SELECT count(*) FROM account_emails").fetchone()[0],
        "view on view": conn.execute("SELECT email_lower FROM account_emails_lower WHERE id = 100000").fetchone(),
        "materialized view": conn.execute("SELECT count(*) FROM account_scores").fetchone()[0],
        "policies": conn.execute("SELECT polname FROM pg_policy").fetchall(),
        "indexes": _indexes(conn),
        "generated columns": conn.execute(
            "SELECT attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_attrdef d "
            "ON (d.adrelid, d.adnum) = (a.attrelid, a.attnum) WHERE a.attrelid = 'accounts'::regclass "
            "AND a.attgenerated <> '' ORDER BY attname").fetchall(),
    }
    conn.execute("DELETE FROM accounts WHERE id = 100000")
    return out


OK = [
    ("rename-column-in-views-and-expression-index",
     {"op": "rename_column", "table": "accounts", "column": "email", "new_name": "email_address"}),
    ("rename-column-in-policy-view-and-predicate",
     {"op": "rename_column", "table": "accounts", "column": "tenant", "new_name": "org"}),
    ("rename-column-with-gin-opclass",
     {"op": "rename_column", "table": "accounts", "column": "nickname", "new_name": "nick"}),
    ("rename-column-with-gist-index",
     {"op": "rename_column", "table": "accounts", "column": "place", "new_name": "location"}),
    ("rename-column-owning-a-sequence",
     {"op": "rename_column", "table": "accounts", "column": "ticket", "new_name": "ticket_no"}),
    ("retype-binary-coercible-under-views",
     {"op": "change_column_type", "table": "accounts", "column": "email", "type": "varchar"}),
    ("retype-under-views-policy-and-predicate",
     {"op": "change_column_type", "table": "accounts", "column": "tenant", "type": "bigint"}),
    ("retype-column-with-gin-opclass",
     {"op": "change_column_type", "table": "accounts", "column": "nickname", "type": "varchar(80)"}),
    ("drop-column-with-gin-opclass", {"op": "drop_column", "table": "accounts", "column": "nickname"}),
    # Generated: its rollback adds it back as generated, PostgreSQL computing every row again.
    ("drop-generated-column", {"op": "drop_column", "table": "accounts", "column": "full_name"}),
    ("drop-index-with-gin-opclass", {"op": "drop_index", "name": "accounts_nickname_trgm"}),
    ("drop-table-with-a-foreign-key", {"op": "drop_table", "table": "logins"}),
    ("rename-table-referencing-a-later-unique-index",
     {"op": "rename_table", "table": "logins", "new_name": "sign_ins"}),
]


# What goes with a dropped column (and comes back with the rollback).
GONE = {case: Counter({("gin", ("gin_trgm_ops",), False, False, False, True): 1})
        for case in ("drop-column-with-gin-opclass", "drop-index-with-gin-opclass")}


@pytest.mark.slow  # all cases together ~4 s
@pytest.mark.parametrize("case_id, op", OK, ids=[c[0] for c in OK])
def test_dependents_carried_forward_back_forward(db, case_id, op):
    schema = read_live(db)
    plan = build_plan(parse_operations([op]), schema, SETTINGS)
    names = {op["column"]: op["new_name"]} if op["op"] == "rename_column" else {}
    before, after = run_three_ways(db, plan, schema, lambda conn, done: _dependents_work(conn, names if done else {}))
    gone = ["full_name"] if case_id == "drop-generated-column" else []  # and back with the rollback
    assert after == dict(before, indexes=before["indexes"] - GONE.get(case_id, Counter()),
                         **{"generated columns": [g for g in before["generated columns"] if g[0] not in gone]})


REFUSED = [
    ({"op": "rename_column", "table": "accounts", "column": "first_name", "new_name": "given_name"},
     ["generated column accounts.full_name"]),
    ({"op": "rename_column", "table": "accounts", "column": "last_name", "new_name": "family_name"},
     ["generated column accounts.full_name", "trigger accounts_last_name on accounts"]),
    ({"op": "rename_column", "table": "accounts", "column": "full_name", "new_name": "name"},
     ["cannot rename accounts.full_name: it is a generated column (computed as COALESCE(first_name, '')"]),
    ({"op": "change_column_type", "table": "accounts", "column": "full_name", "type": "varchar(300)"},
     ["cannot change the type of accounts.full_name: it is a generated column"]),
    ({"op": "rename_column", "table": "accounts", "column": "code", "new_name": "account_code"},
     ["foreign key logins_code_fkey on logins",
      "function accounts_stamp() (called by trigger accounts_last_name on accounts, accounts_stamp on accounts) "
      "names code at line 3 of its body"]),
    ({"op": "rename_column", "table": "accounts", "column": "score", "new_name": "points"},
     ["materialized view account_scores"]),
    ({"op": "change_column_type", "table": "accounts", "column": "score", "type": "bigint"},
     ["materialized view account_scores"]),
    ({"op": "change_column_type", "table": "accounts", "column": "first_name", "type": "varchar(100)"},
     ["generated column accounts.full_name"]),
    ({"op": "change_column_type", "table": "accounts", "column": "code", "type": "varchar(100)"},
     ["foreign key logins_code_fkey on logins"]),
    ({"op": "drop_column", "table": "accounts", "column": "email"},
     ["view account_emails (reads email)"]),
    ({"op": "drop_column", "table": "accounts", "column": "tenant"},
     ["view account_emails (reads tenant)", "policy accounts_tenant on accounts"]),
    ({"op": "drop_column", "table": "accounts", "column": "first_name"}, ["generated column accounts.full_name"]),
    ({"op": "drop_column", "table": "accounts", "column": "code"},
     ["foreign key logins_code_fkey on logins", "function accounts_stamp()"]),
    ({"op": "drop_table", "table": "accounts"},
     ["foreign key logins_code_fkey on logins", "view account_emails (reads accounts)",
      "materialized view account_scores (reads accounts)"]),
]


@pytest.mark.parametrize("op, named", REFUSED, ids=[f"{o['op']}-{o['column'] if 'column' in o else o['table']}"
                                                    for o, _ in REFUSED])
def test_refused_naming_every_dependent(template, op, named):
    admin, name = template
    schema = read_live(dev_server().database_url(name))
    with pytest.raises(FluxInputError) as exc:
        build_plan(parse_operations([op]), schema, SETTINGS)
    message = str(exc.value)
    assert "\n" not in message
    for what in named:
        assert what in message, message


def test_a_contract_postgresql_refuses_fails_verify(tmp_path):
    """The plan without its step re-pointing the view: the contract's DROP COLUMN fails on the dev
    database, and verify says so with PostgreSQL's own error and the step's number."""
    from flux_agent.entry.actions import plan_migration
    from flux_agent.verify import verify
    from flux_agent.write.deploy_groups import PLANS_DIR, PlanRecord

    folder = tmp_path / "db" / "migrations"
    folder.mkdir(parents=True)
    for i, script in enumerate(HISTORY, start=1):
        (folder / f"00{i}_history.sql").write_text(f"-- migrate:up\n{script}\n-- migrate:down\n")
    op = {"op": "rename_column", "table": "accounts", "column": "email", "new_name": "email_address"}
    plan = plan_migration([op], str(tmp_path))
    repoint = next(s for s in plan.steps if s.title.startswith("point view"))
    broken = plan.model_copy(update={"steps": [s for s in plan.steps if s is not repoint]})
    contract = next(s for s in broken.steps if s.phase == "contract")
    (tmp_path / PLANS_DIR).mkdir(parents=True)
    record = PlanRecord(id="20261202000000", plan=broken, migrations_dir="db/migrations")
    (tmp_path / PLANS_DIR / f"{record.id}.json").write_text(json.dumps(record.model_dump(mode="json")))
    report = verify(tmp_path, rows=20)
    assert not report.ok
    assert f"step {contract.number} (contract" in report.failure, report.failure
    assert "cannot drop column email of table accounts because other objects depend on it" in report.failure

    whole = verify(tmp_path, operations=[op], rows=20)  # the plan as made: it passes
    assert whole.ok, whole.failure
