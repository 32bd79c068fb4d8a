"""Where `plan --write` and `flux continue` stop writing: at a code deploy; for a tool that applies
every pending file in one transaction (drizzle, knex, TypeORM), after a by-hand file (drizzle) and before a scan that would
hold an earlier step's ACCESS EXCLUSIVE lock (dokploy: NOT VALID, VALIDATE and SET NOT NULL were
written together and ran as one transaction); and before the drop of a set-aside column, which is
written once the set-aside ran and nothing failed."""

from __future__ import annotations

import pytest

from flux_agent.entry import actions as tools
from flux_agent.write.deploy_groups import next_group, next_text


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "migrations" / "20240101000000_init.sql").write_text(
        "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, email text, nick text);\n"
        "-- migrate:down\nDROP TABLE users;\n")
    return tmp_path


def _groups(plan) -> list[list[int]]:
    written, out = set(), []
    while True:
        gate, group = next_group(plan, written)
        if not group:
            return out
        out.append([s.number for s in group])
        written |= {s.number for s in group} | ({gate.number} if gate else set())


def test_a_scan_after_a_blocking_lock_is_not_written_with_it_for_one_transaction_tools(project):
    plan = tools.plan_migration([{"op": "set_not_null", "table": "users", "column": "email"}], str(project))
    locks = [(s.number, s.lock) for s in plan.steps]
    # the deploy of code that never writes NULL first (healthchecks), then the CHECK, VALIDATE and SET NOT NULL
    assert [lock for _, lock in locks] == ["none", "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "ACCESS EXCLUSIVE"]
    for tool in ("sql", "prisma", "django", "rails", "alembic"):  # each file in its own transaction (alembic's
        assert _groups(plan.model_copy(update={"tool": tool})) == [[2, 3, 4]]  # env.py is edited so)
    # drizzle-kit migrate, knex's migrate:latest, TypeORM's and node-pg-migrate's defaults run the pending files as one
    for tool in ("drizzle", "knex", "typeorm", "node-pg-migrate"):
        one = plan.model_copy(update={"tool": tool})
        assert _groups(one) == [[2], [3, 4]], tool  # the scan first, the brief lock after it: one transaction is fine
        assert next_text(one, {1, 2}).startswith(
            "once step(s) 2 are deployed (they must not share a transaction with step 3), run `flux continue`")


def test_the_drop_of_a_set_aside_column_waits_for_the_set_aside(project):
    plan = tools.plan_migration([{"op": "drop_column", "table": "users", "column": "nick"}], str(project))
    assert [(s.number, s.phase, s.data_loss_on_rollback) for s in plan.steps] == [
        (1, "code", False), (2, "contract", False), (3, "contract", True)]
    assert _groups(plan) == [[2], [3]]
    # the code step (1) is behind: the wait is on step 2 (`--write` records database steps only)
    for written in ({1, 2}, {2}):
        assert next_text(plan, written) == "once step(s) 2 ran in production and nothing failed, run `flux " \
                                           "continue` to write step(s) 3"


def test_a_build_outside_a_transaction_shares_none(project):
    """CREATE INDEX CONCURRENTLY runs outside a transaction: a file opting out ends knex's batch
    transaction (each file runs alone then), so the index is written with the column before it."""
    plan = tools.plan_migration([{"op": "add_column", "table": "users", "column": "bio", "type": "text"},
                                 {"op": "add_index", "table": "users", "columns": ["nick"]}], str(project))
    assert [(s.lock, s.transactional) for s in plan.steps] == [("ACCESS EXCLUSIVE", True),
                                                               ("SHARE UPDATE EXCLUSIVE", False)]
    for tool in ("knex", "node-pg-migrate", "typeorm"):
        assert _groups(plan.model_copy(update={"tool": tool})) == [[1, 2]], tool
