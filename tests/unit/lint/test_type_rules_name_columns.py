"""The type-choice rules name the columns they flag: a CREATE TABLE of many columns said only "a 32-bit
integer column" at its first line (nestjs-boilerplate's baseline: line 16 held three)."""

from __future__ import annotations

from flux_agent.lint.context import FileContext
from flux_agent.lint.engine import lint_sql


def _messages(sql: str) -> dict[str, str]:
    return {f.rule: f.message for f in lint_sql(sql, FileContext())}


def test_each_type_rule_names_its_columns():
    got = _messages("CREATE TABLE t (id serial PRIMARY KEY, a int, b bigint, c varchar(5), d timestamp, "
                    "e smallint, f char(2));")
    assert got["prefer-bigint-over-int"].startswith("id, a: a 32-bit integer column")
    assert got["prefer-identity"].startswith("id: serial types")
    assert got["prefer-text-field"].startswith("c: ") and got["prefer-timestamp-tz"].startswith("d: ")
    assert got["prefer-bigint-over-smallint"].startswith("e: ") and got["ban-char-field"].startswith("f: ")
    assert _messages("ALTER TABLE t ALTER COLUMN a TYPE int;")["prefer-bigint-over-int"].startswith("a: ")
    assert "prefer-bigint-over-int" not in _messages("CREATE TABLE t (a bigint);")
