"""Every rule's declared examples are its tests (flux_agent/lint/rules/<rule>.py, RULE.examples):
a rule file brings its own cases, so adding a rule adds its tests here.

Each example goes through flux_agent.lint.engine.lint_sql in the file context it declares: a
flagged one must get the rule (at the rule's severity unless the example says otherwise), a
clean one must not. An opt-in rule stays silent on its flagged examples unless it is asked for.
The same examples side by side with the real squawk: tests/integration/lint/test_rule_examples_squawk.py.
"""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from flux_agent.errors import FluxInternalError
from flux_agent.lint.engine import lint_sql
from flux_agent.lint.rules import BY_ID, RULES, load
from flux_agent.lint.rules._rule import Rule, flags, passes

EXAMPLES = [(rule, example) for rule in RULES for example in rule.examples]


def _id(case) -> str:
    rule, example = case
    kind = "flags" if example.flagged else "passes"
    return f"{rule.id}-{kind}-{[e for e in rule.examples if e.flagged == example.flagged].index(example)}"


def _found(rule, example, include=()) -> list:
    return [f for f in lint_sql(example.sql, example.context(include)) if f.rule == rule.id]


@pytest.mark.parametrize("case", EXAMPLES, ids=[_id(c) for c in EXAMPLES])
def test_example(case):
    rule, example = case
    found = _found(rule, example, include={rule.id})
    assert bool(found) == example.flagged, (example.sql, [f.message for f in found])
    for f in found:
        assert f.severity == (example.severity or rule.severity)
        assert f.message and "\n" not in f.message
        assert f.hint == (example.hint or rule.hint) and "\n" not in f.hint


OPT_IN = [(r, e) for r, e in EXAMPLES if r.opt_in and e.flagged]


@pytest.mark.parametrize("case", OPT_IN, ids=[_id(c) for c in OPT_IN])
def test_opt_in_rule_is_silent_unless_included(case):
    rule, example = case
    assert not _found(rule, example)


def test_the_opt_in_rules():
    """The rules `flux validate --include` switches on: squawk's opt-in rules, but for one flux
    always runs (server configuration never belongs in a migration), and flux's own that say again
    what a rule on by default says (set-not-null-without-check: adding-not-nullable-field)."""
    always_on = {"ban-alter-system-options"}
    again = {"set-not-null-without-check"}
    assert {r.id for r in RULES if r.opt_in} == {r.id for r in RULES if r.squawk == "opt-in"} - always_on | again
    assert all(BY_ID[r].squawk == "opt-in" and not BY_ID[r].opt_in for r in always_on)


def test_every_rule_has_both_kinds_of_example():
    assert len(RULES) >= 80
    for rule in RULES:
        assert {e.flagged for e in rule.examples} == {True, False}, rule.id


def test_a_declaration_is_checked():
    with pytest.raises(ValidationError, match="examples must hold"):
        Rule(id="x", severity="error", message="m", hint="h", squawk=None, examples=[flags("SELECT 1;")])
    with pytest.raises(ValidationError, match="one line"):
        Rule(id="x", severity="error", message="two\nlines", hint="h", squawk=None,
             examples=[flags("SELECT 1;"), passes("SELECT 2;")])
    with pytest.raises(ValidationError):
        Rule(id="x", severity="fatal", message="m", hint="h", squawk=None,
             examples=[flags("SELECT 1;"), passes("SELECT 2;")])


_GOOD = '''
from flux_agent.lint.rules._rule import FLAGGED, Rule, flags, passes

RULE = Rule(id="{id}", severity="warning", message="m", hint="h", squawk=None,
            examples=[flags("SELECT 1;"), passes("SELECT 2;")])


def check(stmt, ctx):
    return FLAGGED
'''


@pytest.mark.parametrize("name,body,error", [
    ("some_rule", _GOOD.format(id="some-rule"), None),
    ("some_rule", "X = 1\n", "declares no RULE"),
    ("some_rule", _GOOD.format(id="other-rule"), "declares id 'other-rule'"),
    ("some_rule", _GOOD.format(id="some-rule").split("def check")[0], "defines none of"),
    ("some_rule", _GOOD.format(id="some-rule").replace('severity="warning"', 'severity="loud"'), "some_rule"),
])
def test_the_loader_refuses_a_bad_rule_module(tmp_path, monkeypatch, name, body, error):
    package = tmp_path / "fake_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_helper.py").write_text("X = 1\n")  # helpers are not rules
    (package / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fake_rules", raising=False)
    monkeypatch.delitem(sys.modules, f"fake_rules.{name}", raising=False)
    if error is None:
        [rule] = load("fake_rules", [str(package)])
        assert rule.id == "some-rule" and rule.check is not None and rule.check_file is None
        return
    with pytest.raises(FluxInternalError, match=error):
        load("fake_rules", [str(package)])


def _refused():
    raise AssertionError("read the schema")


PLAIN = [c for c in EXAMPLES if not c[0].reads_schema]


@pytest.mark.parametrize("case", PLAIN, ids=[_id(c) for c in PLAIN])
def test_a_rule_not_declared_to_read_the_schema_judges_without_it(case):
    """`flux validate` judges the rules that do not declare reads_schema in workers that replay no
    history (lint/batch.py): on each example such a rule finds what it finds with the schema, and
    never reads it (the schema there refuses to be read)."""
    rule, example = case
    ctx = example.context({rule.id})
    ctx.schema = ctx.names = _refused
    found = [f for f in lint_sql(example.sql, ctx, family="plain") if f.rule == rule.id]
    assert found == _found(rule, example, include={rule.id})


def test_the_rules_that_read_the_schema_are_judged_apart_from_the_others():
    from flux_agent.lint.engine import rule_index

    schema, plain = rule_index(BY_ID, "schema").rules, rule_index(BY_ID, "plain").rules
    assert schema and plain and all(r.reads_schema for r in schema) and not any(r.reads_schema for r in plain)
    assert sorted(r.id for r in schema + plain) == sorted(r.id for r in RULES)
