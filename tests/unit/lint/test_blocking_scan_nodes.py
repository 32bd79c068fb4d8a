"""blocking-scan is asked of the statement types whose forms scan or rewrite a table under a lock
that blocks writes or reads, with no rule of their own: those its declaration names must be every
such form's, as PostgreSQL's table of forms (pg/form_table.py) gives them, each form's example
parsed."""

from __future__ import annotations

import pglast

from flux_agent.lint.rules import BY_ID
from flux_agent.pg.form_table import BY_KEY
from flux_agent.pg.forms import blocks_reads, blocks_writes


def _blocking(f) -> bool:
    return (f.scans or f.rewrites == "yes") and f.rule is None and (
        blocks_writes(f.strongest) or blocks_reads(f.strongest))


def test_blocking_scan_is_asked_of_every_statement_a_scanning_form_is():
    judged = {type(pglast.parse_sql(f.example)[-1].stmt) for rows in BY_KEY.values() for f in rows if _blocking(f)}
    unparsed = [f.key for rows in BY_KEY.values() for f in rows if _blocking(f) and not f.example]
    assert not unparsed, f"forms with no example: their statements cannot be checked here: {unparsed}"
    assert judged == set(BY_ID["blocking-scan"].nodes)
