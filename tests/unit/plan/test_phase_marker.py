"""The phase marker flux writes into a contract or backfill step's SQL (so `flux validate` judges the
file as the plan did) gives a reason that is true of the step: a contract step after the plan's
code deploy removes what the code stopped using; one with no deploy before it (SET NOT NULL's CHECK
and VALIDATE) forbids what the application no longer writes."""

from __future__ import annotations

from flux_agent.lint.markers import markers
from flux_agent.model.operations import RenameColumn, SetNotNull
from flux_agent.model.schema import Column, Schema, Table
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan

SCHEMA = Schema(tables=[Table(name="users", primary_key=["id"], columns=[
    Column(name="id", type="bigint", nullable=False), Column(name="email", type="text")])])


def reasons(op) -> list[tuple[int, str, str]]:
    out = []
    for step in build_plan([op], SCHEMA, Settings()).steps:
        for mark in markers(step.up_sql or "", 0)[1]:
            out.append((step.number, next(iter(mark.rules)), mark.reason))
    return out


def test_a_contract_step_with_no_deploy_before_it_claims_none():
    from flux_agent.plan.planner import _mark_phase

    step = build_plan([SetNotNull(table="users", column="email")], SCHEMA, Settings()).steps[-1]
    [mark] = markers(_mark_phase(step.model_copy(update={"up_sql": "SELECT 1"}), after_deploy=False).up_sql, 0)[1]
    assert "code deploy" not in mark.reason and "removes" not in mark.reason, mark.reason


def test_set_not_null_forbids_after_the_deploy_of_code_that_never_writes_null():
    """healthchecks: with no deploy before its CHECK, Profile.theme's unchanged code wrote NULL on every
    signup and failed; the deploy now comes first, backfill or none."""
    plan = build_plan([SetNotNull(table="users", column="email")], SCHEMA, Settings())
    assert [s.phase for s in plan.steps][0] == "code" and "never writes NULL" in plan.steps[0].title
    found = reasons(SetNotNull(table="users", column="email"))
    assert found and all(phase == "contract" and "after the code deploy" in reason and "forbids" in reason
                         for _, phase, reason in found), found


def test_a_contract_step_after_the_deploy_says_what_it_removes_is_unused():
    found = reasons(RenameColumn(table="users", column="email", new_name="email_address"))
    contract = [reason for _, phase, reason in found if phase == "contract"]
    assert contract and all("after the code deploy" in reason for reason in contract)
