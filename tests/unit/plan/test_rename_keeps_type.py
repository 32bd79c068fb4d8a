"""A rename copies the column with the type it has: the rules on a type's choice (varchar(n),
char(n), integer, smallint, timestamp) are no finding of the plan's, and the step says why in the
form the user's squawk reads. (outline's document_insights.viewCount, an integer: its rename
warned prefer-bigint-over-int on step 1.) A type change keeps them: the new type is chosen."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.lint.engine import validate_plan
from flux_agent.lint.rules import BY_ID
from flux_agent.model.settings import Settings
from flux_agent.plan.ops._ignores import TYPE_CHOICE
from flux_agent.plan.planner import build_plan
from flux_agent.schema.replay.engine import replay_sql

SCHEMA = replay_sql("""
CREATE TABLE docs (id bigint PRIMARY KEY, views integer NOT NULL, code char(3), title varchar(255),
                   rank smallint, seen timestamp, body text);
""")


def _plan(op: dict):
    return build_plan(parse_operations([op]), SCHEMA, Settings(), tool="sql")


def _findings(plan) -> list[str]:
    return [f.rule for f in validate_plan(plan, SCHEMA, Settings())]


def test_the_type_choice_rules_exist():
    assert all(r in BY_ID for r in TYPE_CHOICE)


@pytest.mark.parametrize("column, rule", [("views", "prefer-bigint-over-int"), ("code", "ban-char-field"),
                                          ("title", "prefer-text-field"), ("rank", "prefer-bigint-over-smallint"),
                                          ("seen", "prefer-timestamp-tz")])
def test_a_rename_keeps_the_type_without_a_finding_and_says_so(column, rule):
    plan = _plan({"op": "rename_column", "table": "docs", "column": column, "new_name": "renamed"})
    assert [r for r in _findings(plan) if r in TYPE_CHOICE] == []
    expand = plan.steps[0].up_sql
    assert f"-- squawk-ignore {rule} -- renamed keeps the type of {column} (" in expand
    back = next(s for s in plan.steps if s.phase == "contract").down_sql
    assert f"-- squawk-ignore {rule} -- {column} comes back with the type it had" in back


def test_a_text_column_gets_no_comment():
    plan = _plan({"op": "rename_column", "table": "docs", "column": "body", "new_name": "text"})
    assert "squawk-ignore prefer" not in plan.steps[0].up_sql and "ban-char" not in plan.steps[0].up_sql


def test_a_type_change_is_a_choice_and_keeps_its_finding():
    plan = _plan({"op": "change_column_type", "table": "docs", "column": "body", "type": "varchar(20)"})
    assert "prefer-text-field" in _findings(plan)
