"""placeholder-sql's test on the text before its scan (_may_hold) lets through every SQL the scan
would flag: checked on texts built from the pieces placeholders and their look-alikes are made of
(fixed seed), and on the rule's own examples."""

from __future__ import annotations

import random

from flux_agent.lint.context import FileContext
from flux_agent.lint.rules import placeholder_sql as rule

PIECES = ["ALTER TABLE", " t ", "[", "]", "[]", "<", ">", "<=", "<>", " col ", "your_table", "table_name",
          "-- TODO later\n", "ARRAY[1]", "'[x]'", " x < y ", "(", ")", ";\n", "< c >", "<c>", "text[]", " ON ",
          "FROM", "fixme", "\n", "$$", "\"q\""]


def _scan_flags(sql: str) -> bool:
    saved = rule._may_hold
    rule._may_hold = lambda _: True
    try:
        return bool(rule.check_text(sql, FileContext(), 0))
    finally:
        rule._may_hold = saved


def test_the_text_test_never_hides_what_the_scan_flags():
    rng = random.Random(22)
    texts = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    texts += [e.sql for e in rule.RULE.examples]
    flagged = [t for t in texts if _scan_flags(t)]
    assert len(flagged) > 300  # the pieces make placeholders often enough to test something
    assert [t for t in flagged if not rule._may_hold(t)] == []
    assert not rule._may_hold("CREATE TABLE t (tags text[], n int CHECK (n <= 5 AND n <> 3));")
