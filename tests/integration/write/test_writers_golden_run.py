"""The files of the writers for the tools that cannot run here offline (their golden files:
tests/unit/write/test_writers_golden.py), run for real: Ruby checked with `ruby -c` and run
against a stub ActiveRecord when ruby is installed, and every tool's files run as the tool
would run them on a real PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.pg.split import cut_statements
from flux_agent.model.plan import Step
from flux_agent.write.base import db_steps, guarded_up_sql
from flux_agent.write.tools.rails import render_file as rails_file

from shop import build_shop
from tests.unit.write.test_writers_golden import _CASES, jobs_for

RUBY = shutil.which("ruby")


# ---------------------------------------------------------------- Ruby


@pytest.mark.ruby
@pytest.mark.skipif(RUBY is None, reason="ruby is not installed; the Rails files get their structural checks only")
def test_ruby_syntax_and_executed_sql(tmp_path):
    _, laid, jobs = jobs_for("rails", tmp_path)
    tricky = Step(number=9, phase="migrate", title="tricky",
                  up_sql="SELECT '#{x}' AS a, E'\\\\n' AS b;\nSQL\n;", down_sql="SELECT '  SQL  ';")
    jobs.append(type(jobs[0])("db/migrate/20990101000000_tricky.rb", rails_file(tricky, "Tricky")))
    stub = tmp_path / "stub.rb"
    stub.write_text(
        "module ActiveRecord; class Migration\n"
        "  def self.[](v) = self\n"
        "  def self.disable_ddl_transaction! = (@off = true)\n"
        "  def execute(sql) = ($out << sql)\n"
        "end; end\n"
        "$out = []\n"
        "before = Object.constants\n"
        "load ARGV[0]\n"
        "klass = Object.const_get((Object.constants - before - [:ActiveRecord]).first)\n"
        "klass.new.public_send(ARGV[1])\n"
        "print $out.join(\"\\0\")\n"
    )
    steps = {f: s for s in db_steps(laid) for f in s.files}
    steps["db/migrate/20990101000000_tricky.rb"] = tricky
    for job in jobs:
        path = tmp_path / Path(job.rel).name
        path.write_text(job.content)
        check = subprocess.run([RUBY, "-c", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and "Syntax OK" in check.stdout, check.stderr
        step = steps[job.rel]
        for method, sql in (("up", guarded_up_sql(step)), ("down", step.down_file_sql)):
            ran = subprocess.run([RUBY, str(stub), str(path), method], capture_output=True, text=True)
            assert ran.returncode == 0, ran.stderr
            got = ran.stdout.split("\0") if ran.stdout else []
            # a heredoc's body ends with its last line's newline
            if not sql:
                assert got == []
            elif step.transactional:
                assert got == [sql.strip() + "\n"]
            else:
                assert got == [s + "\n" for s in cut_statements(sql)]


# ---------------------------------------------------------------- run on PostgreSQL as the tools would


def run_files(conn, contents: list[str], apart: bool = False) -> None:
    """Each file as one simple-protocol query, as golang-migrate and Prisma send it; `apart`: statement
    by statement, each its own transaction, as psql (sqitch) and Flyway run a non-transactional file."""
    for text in contents:
        for part in cut_statements(text) if apart else [text]:
            conn.execute(part)


# golang-migrate and sqitch on every case (implicit transactions; verify scripts);
# Prisma's and Flyway's files hold the same SQL, so one case each.
RUNS = [(t, c) for t in ("golang-migrate", "sqitch") for c in sorted(_CASES)]
RUNS += [("prisma", "rename-column"), ("flyway", "rename-column")]


@pytest.mark.slow
@pytest.mark.parametrize("tool, case", RUNS, ids=[f"{t}-{c}" for t, c in RUNS])
def test_files_run_forward_and_back(pg_url, tmp_path, tool, case):
    import psycopg

    _, laid, jobs = jobs_for(tool, tmp_path, case)
    content = {j.rel: j.content for j in jobs}
    steps = db_steps(laid)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
        for step in steps:
            run_files(conn, [content[step.files[0]]], apart=tool in ("sqitch", "flyway") and not step.transactional)
            if tool == "sqitch":
                run_files(conn, [content[step.files[2]]])  # sqitch deploy --verify
        if tool == "sqitch":
            run_files(conn, [content[s.files[2]] for s in steps])  # sqitch verify, after the whole plan
        for step in reversed(steps):
            run_files(conn, [content[step.files[1]]])
