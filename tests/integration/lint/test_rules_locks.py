"""Lock, rewrite, transaction and timeout rules: what their declared examples do not show.

Each rule's SQL that must (and must not) trigger it, and the side-by-side check of the same
SQL with the real squawk, are the rule's own EXAMPLES (flux_agent/lint/rules/<rule>.py), run
by tests/unit/lint/test_rule_examples.py. Here: the rules' contract, findings that need more than one
rule id or a line number, and flux's own plans passing these rules.
"""

from __future__ import annotations

import pytest

from flux_agent.lint.context import FileContext
from flux_agent.lint.rules import BY_ID
from flux_agent.lint.engine import lint_sql

SOLO = {"transactional": False, "one_query": True}  # dbmate transaction:false, golang-migrate

MY_RULES = ["adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field",
            "adding-required-field", "adding-serial-primary-key-field", "ban-alter-domain-with-add-constraint",
            "ban-create-domain-with-constraint", "ban-new-write-restriction", "ban-uncommitted-transaction",
            "changing-column-type", "constraint-missing-not-valid", "disallowed-unique-constraint",
            "prefer-robust-stmts", "require-concurrent-index-deletion", "require-concurrent-partition-detach",
            "require-concurrent-reindex", "require-enum-value-ordering", "require-lock-timeout",
            "require-statement-timeout", "transaction-nesting"]


@pytest.mark.parametrize("rule", MY_RULES)
def test_module_contract(rule):
    declared = BY_ID[rule]
    assert (declared.check or declared.check_file).__module__.rsplit(".", 1)[-1] == rule.replace("-", "_")
    assert declared.severity in ("error", "warning")
    for text in (declared.message, declared.hint):
        assert text and "\n" not in text
    assert declared.squawk in ("default", "opt-in")  # every one of these is squawk's rule too
    assert {e.flagged for e in declared.examples} == {True, False}


def test_timeout_reported_once_per_file():
    sql = "ALTER TABLE a ADD COLUMN IF NOT EXISTS c text;\nALTER TABLE b ADD COLUMN IF NOT EXISTS d text;"
    findings = lint_sql(sql, FileContext(transactional=True))
    assert [f.line for f in findings if f.rule == "require-lock-timeout"] == [1]
    assert [f.line for f in findings if f.rule == "require-statement-timeout"] == [1]


def test_timeout_in_a_file_that_must_hold_one_statement_says_so():
    sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);"
    solo = lint_sql(sql, FileContext(**SOLO))
    for rule in ("require-lock-timeout", "require-statement-timeout"):
        (f,) = [f for f in solo if f.rule == rule]
        assert "alone in its file" in f.message
    # A statement that may run in a transaction block can take a SET before it: plain message.
    plain = lint_sql("ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;", FileContext(**SOLO))
    assert all("alone" not in f.message for f in plain if f.rule == "require-lock-timeout")


def test_squawk_ignore_comment_silences_a_rule():
    sql = ("-- squawk-ignore require-concurrent-index-deletion -- the index is unused and tiny\n"
           "DROP INDEX IF EXISTS orders_status_idx;")
    assert "require-concurrent-index-deletion" not in {f.rule for f in lint_sql(sql, FileContext())}


# --------------------------------------------------------------------------
# The planner's own SQL
# --------------------------------------------------------------------------


@pytest.mark.pg
def test_planner_steps_raise_no_errors_from_these_rules():
    """Every plan flux writes for examples/shop passes these rules (errors), at
    PostgreSQL 16 and 11 (older servers get other SQL)."""
    from cases import CASES as PLAN_CASES
    from shop import SHOP

    from flux_agent.project.config import load_settings
    from flux_agent.entry.actions import plan_migration, read_schema
    from flux_agent.lint.engine import validate_plan

    schema = read_schema(str(SHOP))
    problems = []
    for pg in (16, 11):
        settings = load_settings(SHOP, pg_version=pg)
        for case_id, ops, _ in PLAN_CASES:
            plan = plan_migration(ops, project_dir=str(SHOP), pg_version=pg)
            problems += [f"pg{pg} {case_id} step {f.step}: {f.rule}: {f.message}"
                         for f in validate_plan(plan, schema, settings)
                         if f.rule in MY_RULES and f.severity == "error"]
    assert not problems, "\n".join(problems)
