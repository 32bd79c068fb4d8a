"""`flux fix`'s text view of a file's statements: a statement too long for its line is cut and says so."""

from __future__ import annotations

from flux_agent.entry.fix import text_lines
from flux_agent.model.fix import FixResult, FixStatement
from flux_agent.model.plan import Plan, Step


def test_a_long_statement_is_cut_with_an_ellipsis():
    # nestjs-boilerplate's `... NOT NULL DEFAULT ''` was cut after its first quote: `DEFAULT ' kept as written`
    sql = 'ALTER TABLE "user" ADD "nickname" character varying NOT NULL DEFAULT \'\''
    plan = Plan(description="x", type="safe", tool="sql", operations=[],
                steps=[Step(number=1, phase="migrate", title="x", up_sql="SELECT 1;")])
    lines = text_lines([FixResult(path="m.sql", statements=[FixStatement(line=7, sql=sql, action="kept"),
                                                            FixStatement(line=9, sql="SELECT 1", action="kept")],
                                  plan=plan)])
    assert lines[1] == f"  line 7: {sql[:69]}… kept as written (safe)"
    assert lines[2] == "  line 9: SELECT 1 kept as written (safe)"
