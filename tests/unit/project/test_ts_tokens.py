"""A JavaScript string's value as the language reads it (ts_tokens.cooked): what a formatter or a
linter may requote, but never change."""

import pytest

from flux_agent.project.ts_tokens import cooked, tokenize_ts


def values(src: str) -> list:
    return [cooked(t) for t in tokenize_ts(src) if t.kind == "str"]


@pytest.mark.parametrize("src,value", [
    ("'it\\'s'", "it's"), ('"it\'s"', "it's"), ("`it's`", "it's"),
    ("`a \\${b} \\`c\\``", "a ${b} `c`"),  # Flux's own template(): escaped substitutions and backticks
    ("'\\u00e9\\x41\\u{1F600}'", "\u00e9A\U0001F600"), ("'a\\nb\\tc\\\\'", "a\nb\tc\\"),
    ("'a\\\nb'", "ab"),  # a line continuation
    ("`a\r\nb`", "a\nb"),  # a template's CRLF reads as LF
])
def test_the_value_of_a_string(src, value):
    assert values(src) == [value]


def test_a_template_with_a_substitution_or_a_bad_escape_has_no_value():
    assert values("`a${b}`") == [None]
    assert values("'\\xZZ'") == [None]
