"""Which type changes refuse values the old type holds (pg/types.narrowing), as a condition that
finds them: change_column_type warns with it before the deploy (its copy fails on such a value)."""

from __future__ import annotations

import pytest

from flux_agent.pg.types import narrowing


@pytest.mark.parametrize("old, new, condition", [
    ("character varying(200)", "character varying(100)", "char_length({col}) > 100"),
    ("text", "character varying(10)", "char_length({col}) > 10"),
    ("character varying(10)", "character varying(20)", None),  # wider: every value fits
    ("character varying(10)", "text", None),
    ("numeric(12,2)", "numeric(8,2)", "abs({col}) >= 1e6"),
    ("numeric(8,2)", "numeric(12,2)", None),
    ("integer", "smallint", "{col} NOT BETWEEN -32768 AND 32767"),
    ("integer", "bigint", None),
    ("text", "integer", None),  # not a length: a cast that may fail, said by its own error
])
def test_narrowing(old, new, condition):
    assert narrowing(old, new) == condition
