"""The lock-timeout retry's text (plan/lock_retry.py): what goes inside the DO block and what
stays out, read back with pglast."""

from __future__ import annotations

import pglast

from flux_agent.model.plan import LockRetry
from flux_agent.plan.lock_retry import wrap

RETRY = LockRetry(tries=5, wait_ms=40, first_pause_ms=100, max_pause_ms=1000)


def _top_level(sql: str) -> list[str]:
    return [type(r.stmt).__name__ for r in pglast.parse_sql(sql)]


def test_the_set_locals_stay_outside_and_the_rest_goes_in_one_do_block():
    sql = ("-- Step 1\nSET LOCAL lock_timeout = '40ms';\nSET LOCAL statement_timeout = '9s';\n"
           "ALTER TABLE t ADD COLUMN c int;\nCOMMENT ON COLUMN t.c IS 'a; b';")
    out = wrap(sql, RETRY)
    assert _top_level(out) == ["VariableSetStmt", "VariableSetStmt", "DoStmt"]
    assert out.startswith("-- Step 1\nSET LOCAL")
    do = pglast.parse_sql(out)[2]
    body = out[do.stmt_location: do.stmt_location + do.stmt_len]
    assert "ALTER TABLE t ADD COLUMN c int;\nCOMMENT ON COLUMN t.c IS 'a; b';" in body
    pglast.parse_plpgsql(body)  # PL/pgSQL that parses


def test_nothing_to_wrap_or_nothing_plpgsql_can_run_leaves_the_sql_as_it_is():
    assert wrap("SET LOCAL lock_timeout = '1s';", RETRY) == "SET LOCAL lock_timeout = '1s';"
    with_select = "SET LOCAL lock_timeout = '1s';\nSELECT setval('s', 10);\nALTER TABLE t ADD COLUMN c int;"
    assert wrap(with_select, RETRY) == with_select
    assert wrap("ALTER TABLE t ADD COLUMN c int;", None) == "ALTER TABLE t ADD COLUMN c int;"
    assert wrap(None, RETRY) is None


def test_a_body_holding_the_tag_gets_another():
    sql = "SET LOCAL lock_timeout = '1s';\nCOMMENT ON TABLE t IS $flux_retry$x$flux_retry$;"
    out = wrap(sql, RETRY)
    assert "DO $flux_retry1$" in out and out.rstrip().endswith("$flux_retry1$;")
    assert _top_level(out) == ["VariableSetStmt", "DoStmt"]


def test_pauses_double_up_to_the_cap():
    assert RETRY.pauses_ms() == [100, 200, 400, 800]
    assert RETRY.worst_wait_ms == 5 * 40 + 1500
