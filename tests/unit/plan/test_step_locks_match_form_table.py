"""The summary's lock column and PostgreSQL's table of forms agree: for every plan of every
case on examples/shop, each step's lock is the strongest lock the table gives for the
statements of its SQL. A batched backfill (a DO block committing per batch) is the one
step whose lock the table cannot see: ROW EXCLUSIVE, per batch."""

from __future__ import annotations

import pytest

from cases import CASES
from flux_agent.entry import actions
from flux_agent.pg.forms import stronger
from flux_agent.pg.locks import facts
from flux_agent.pg.split import split_statements
from shop import SHOP


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_step_lock_is_the_tables(case, monkeypatch):
    monkeypatch.setenv("FLUX_DEVDB", "off")  # the static schema: this is about the plan's SQL, not the build
    _, ops, _ = case
    plan = actions.plan_migration(actions.parse_operations(ops), str(SHOP))
    checked = 0
    for step in plan.steps:
        if not step.up_sql:
            continue
        lock = "none"
        for stmt in split_statements(step.up_sql):
            lock = stronger(lock, facts(stmt).lock)
        if step.lock_note == "per batch":
            assert (step.lock, lock) == ("ROW EXCLUSIVE", "none"), step.title
            continue
        assert step.lock == lock, (step.number, step.title, step.lock, lock)
        checked += 1
    assert checked or any(s.lock_note == "per batch" for s in plan.steps)
