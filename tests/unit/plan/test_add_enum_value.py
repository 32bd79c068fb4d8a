"""add_enum_value's steps pass Flux's own validator: a value asked for with no place sorts last, as
asked, and the step says so to require-enum-value-ordering (squawk's rule of the same id) rather
than being flagged by it (goose project hatchet: validate warned on the file plan --write wrote)."""

from __future__ import annotations

import pytest
from shop import shop_schema

from flux_agent.entry.actions import parse_operations
from flux_agent.lint.context import FileContext
from flux_agent.lint.engine import lint_sql
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan


@pytest.mark.parametrize("pg_version", [11, 16])  # before 12: a non-transactional step of its own
@pytest.mark.parametrize("place", [{}, {"after": "card"}])
def test_the_step_passes_the_enum_ordering_rule(pg_version, place):
    ops = parse_operations([{"op": "add_enum_value", "enum": "payment_method", "value": "cash", **place}])
    (step,) = build_plan(ops, shop_schema(), Settings(pg_version=pg_version)).steps
    found = lint_sql(step.up_sql, FileContext(path="step.sql", transactional=step.transactional,
                                              pg_version=pg_version))
    assert "require-enum-value-ordering" not in {f.rule for f in found}
    assert ("squawk-ignore require-enum-value-ordering" in step.up_sql) == (not place)
