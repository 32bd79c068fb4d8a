"""Drop, rename, column-type and compatibility rules (ids shared with squawk).

The SQL that must (and must not) trigger each rule, and the same SQL side by side with the
real squawk binary (with `-i <rule>` for squawk's opt-in rules, and squawk reporting the rule
without `-i` exactly when it is in its default set), are the rule's own EXAMPLES
(flux_agent/lint/rules/<rule>.py), run by tests/unit/lint/test_rule_examples.py. Here: the rules'
contract, severities, and cases that need an ignore comment, a plan or a message.
"""

from __future__ import annotations

from flux_agent.lint.context import FileContext
from flux_agent.lint.rules import BY_ID, RULES
from flux_agent.lint.engine import lint_sql

DROPS_TYPES = ["ban-drop-column", "ban-drop-table", "ban-drop-database", "ban-drop-not-null", "ban-drop-constraint",
               "ban-drop-default", "ban-drop-domain", "ban-drop-extension", "ban-drop-function", "ban-drop-schema",
               "ban-drop-sequence", "ban-drop-type", "ban-drop-view", "ban-drop-generated-expression",
               "ban-truncate-cascade", "renaming-column", "renaming-table", "renaming-object", "ban-char-field",
               "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity", "prefer-text-field",
               "prefer-timestamp-tz", "ban-set-schema", "ban-duplicate-column-assignments", "ban-alter-identity",
               "ban-drop-index", "ban-drop-policy", "ban-drop-trigger", "ban-alter-system-options",
               "ban-alter-database-options", "ban-alter-role-options", "ban-alter-function-options",
               "ban-alter-view-options", "ban-alter-extension", "ban-alter-row-level-security",
               "ban-alter-policy-roles", "ban-alter-policy-condition", "ban-create-policy", "ban-revoke",
               "ban-replica-identity", "ban-disable-trigger", "ban-detach-inheritance", "ban-set-default",
               "ban-replace-view-function", "ban-add-composite-attribute", "require-table-schema",
               "ban-alter-sequence-values"]

ALWAYS_ON = {"ban-alter-system-options"}  # opt-in in squawk, but flux always reports it


def rule_ids(sql: str, **ctx_kw) -> set[str]:
    include = ctx_kw.pop("include", ())
    ctx = FileContext(**ctx_kw)
    ctx.include_rules = set(include)
    return {f.rule for f in lint_sql(sql, ctx)}


def test_every_rule_has_a_module_and_cases():
    for rule in DROPS_TYPES:
        assert rule in BY_ID, f"no module for {rule}"
        declared = BY_ID[rule]
        assert {e.flagged for e in declared.examples} == {True, False}, rule
        assert declared.severity in ("error", "warning")
        assert "\n" not in declared.message and "\n" not in declared.hint
        assert declared.squawk in ("default", "opt-in"), f"{rule} is squawk's rule too"
        assert declared.opt_in == (declared.squawk == "opt-in" and rule not in ALWAYS_ON), rule


def test_severities():
    for declared in RULES:
        rule, sev = declared.id, declared.severity
        if rule.startswith(("prefer-", "ban-char-field")):
            assert sev == "warning", rule
        if rule == "ban-drop-not-null":  # only relaxes a constraint: a warning about readers (squawk: error)
            assert sev == "warning", rule
        elif rule.startswith(("ban-drop-", "renaming-")) or rule in (
                "ban-truncate-cascade", "ban-alter-system-options"):
            assert sev == "error", rule


def test_ignore_comment_silences_a_drop_in_a_contract_step():
    sql = ("-- squawk-ignore ban-drop-column -- the application stopped using c in the code step\n"
           "ALTER TABLE t DROP COLUMN c;\n")
    assert "ban-drop-column" not in rule_ids(sql, phase="contract")
    assert "ban-drop-column" in rule_ids("ALTER TABLE t DROP COLUMN c;", phase="contract")


def test_plan_tables_count_as_new_for_detach():
    sql = "ALTER TABLE c NO INHERIT p;"
    assert "ban-detach-inheritance" in rule_ids(sql, include={"ban-detach-inheritance"}, phase="expand")
    assert "ban-detach-inheritance" not in rule_ids(sql, include={"ban-detach-inheritance"}, phase="expand",
                                                    created_tables={"c"})


def test_duplicate_assignment_message_names_the_column():
    ctx = FileContext()
    [f] = [f for f in lint_sql("UPDATE t SET total = 1, total = 2;", ctx)
           if f.rule == "ban-duplicate-column-assignments"]
    assert "'total'" in f.message
