"""Rails migrations in a project using strong_migrations (issue 18, part 1): every `execute` inside
`safety_assured do ... end` under comments giving the reason (the step's lock and risk, and the
squawk-ignore / flux-phase reasons its SQL carries), `disable_ddl_transaction!` kept on the
non-transactional steps, and the plan naming the schema dump `bin/rails db:migrate` refreshes.

RubyGems is unreachable here, so strong_migrations itself does not run: golden files show the
accepted form (tests/golden/rails-strong_migrations; FLUX_UPDATE_GOLDEN=1 rewrites them), and where
ruby is installed each file is syntax-checked and run against a stub of ActiveRecord that, like
strong_migrations, refuses an `execute` outside `safety_assured`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.pg.split import cut_statements
from flux_agent.write.base import commit, db_steps, guarded_up_sql
from flux_agent.write.tools.rails import reasons, schema_dump, uses_strong_migrations

from shop import ROOT
from tests.unit.write.test_writers_golden import files, jobs_for

GOLDEN = ROOT / "tests" / "golden"
STRONG = GOLDEN / "rails-strong_migrations"
RUBY = shutil.which("ruby")
GEMFILE = 'source "https://rubygems.org"\n\ngem "rails", "~> 7.1"\ngem "pg"\ngem "strong_migrations"\n'
LOCK = ("GEM\n  remote: https://rubygems.org/\n  specs:\n    pg (1.5.4)\n    strong_migrations (1.6.4)\n"
        "      activerecord (>= 6.1)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  pg\n  strong_migrations\n")


def _project(tmp_path: Path, gemfile: str | None = GEMFILE, lock: str | None = None) -> Path:
    project = tmp_path / "app"
    project.mkdir(parents=True)
    if gemfile is not None:
        (project / "Gemfile").write_text(gemfile)
    if lock is not None:
        (project / "Gemfile.lock").write_text(lock)
    return project


def _migrations(project: Path) -> dict[str, bytes]:
    return {k: v for k, v in files(project).items() if k.startswith("db/migrate/")}


def test_golden_files_with_strong_migrations(tmp_path):
    project = _project(tmp_path)
    _, laid, jobs = jobs_for("rails", project)
    commit(laid, project, jobs)
    written = _migrations(project)
    if os.environ.get("FLUX_UPDATE_GOLDEN") == "1":
        shutil.rmtree(STRONG, ignore_errors=True)
        for rel, data in written.items():
            (STRONG / rel).parent.mkdir(parents=True, exist_ok=True)
            (STRONG / rel).write_bytes(data)
    assert STRONG.is_dir(), "no golden files: run with FLUX_UPDATE_GOLDEN=1"
    assert written == files(STRONG)


def test_without_the_gem_the_files_are_the_plain_golden_ones(tmp_path):
    project = _project(tmp_path, gemfile='source "https://rubygems.org"\ngem "rails"\n# gem "strong_migrations"\n')
    assert not uses_strong_migrations(project)
    _, laid, jobs = jobs_for("rails", project)
    commit(laid, project, jobs)
    assert _migrations(project) == files(GOLDEN / "rails")
    assert all("safety_assured" not in j.content for j in jobs)


def test_the_gem_is_found_in_gemfile_or_gemfile_lock(tmp_path):
    assert uses_strong_migrations(_project(tmp_path / "a"))
    assert uses_strong_migrations(_project(tmp_path / "b", gemfile=None, lock=LOCK))
    assert uses_strong_migrations(_project(tmp_path / "c", gemfile="gem('strong_migrations', '~> 1.6')\n"))
    assert not uses_strong_migrations(_project(tmp_path / "d", gemfile=None))
    assert not uses_strong_migrations(_project(tmp_path / "e", gemfile="gem 'strong_migrations_extra'\n"))


def _blocks(ruby: str) -> list[tuple[list[str], str]]:
    """(the comment lines just above, the SQL) of each `execute` heredoc, with a check that it
    sits inside `safety_assured do ... end`."""
    lines, out = ruby.splitlines(), []
    for i, line in enumerate(lines):
        if not line.strip().startswith("execute <<~'"):
            continue
        assert lines[i - 1].strip() == "safety_assured do", lines[i - 1]
        end = line.strip()[len("execute <<~'"):-1]
        j = next(k for k in range(i + 1, len(lines)) if lines[k].strip() == end)
        assert lines[j + 1].strip() == "end"
        indent = len(line) - len(line.lstrip()) + 2
        k, comments = i - 2, []
        while lines[k].strip().startswith("#"):
            comments.insert(0, lines[k].strip()[2:])
            k -= 1
        out.append((comments, "\n".join(x[indent:] for x in lines[i + 1:j])))
    return out


def test_every_execute_is_assured_with_its_reasons(tmp_path):
    project = _project(tmp_path, gemfile=None, lock=LOCK)
    _, laid, jobs = jobs_for("rails", project)
    content = {j.rel: j.content for j in jobs}
    for step in db_steps(laid):
        ruby = content[step.files[0]]
        assert ("  disable_ddl_transaction!" in ruby.splitlines()) != step.transactional
        blocks = _blocks(ruby)
        assert blocks and ruby.count("execute <<~") == len(blocks)
        want = []
        for sql in (guarded_up_sql(step), step.down_file_sql):  # the guard: an execute of its own, first
            if sql and sql.strip():
                want += [sql.strip()] if step.transactional else cut_statements(sql)
        assert [sql for _, sql in blocks] == want
        for comments, sql in blocks:
            assert comments[0].startswith("safety_assured: strong_migrations cannot inspect execute")
            assert comments[1:] == reasons(sql)  # the reasons the SQL itself carries, each said
    backfill = next(s for s in db_steps(laid) if s.phase == "backfill")
    assert "# flux-phase backfill: written by flux to rewrite these rows on purpose, in batches" in \
        content[backfill.files[0]]
    index = next(s for s in db_steps(laid) if "CONCURRENTLY" in s.up_sql)
    assert re.search(r"# squawk-ignore require-lock-timeout, require-statement-timeout -- .+\n    safety_assured do",
                     content[index.files[0]])


def test_the_plan_names_the_schema_dump_to_refresh(tmp_path):
    project = _project(tmp_path)
    writer, laid, _ = jobs_for("rails", project)
    change = writer.code_changes(laid, project)[-1]  # after the models' ignored_columns (a note here: no app/models)
    assert change.path == "db/schema.rb" and "`bin/rails db:migrate` dumps db/schema.rb" in change.why
    assert not change.applied_on_write and change.patch == ""
    summary = laid.model_copy(update={"code_changes": [change]}).summary
    assert "db/schema.rb" in summary
    (project / "config").mkdir()
    (project / "config" / "application.rb").write_text("config.active_record.schema_format = :sql\n")
    assert schema_dump(project) == "db/structure.sql"
    (project / "config" / "application.rb").unlink()
    (project / "db").mkdir(exist_ok=True)
    (project / "db" / "structure.sql").write_text("CREATE TABLE users (id bigint);\n")
    assert writer.code_changes(laid, project)[-1].path == "db/structure.sql"


# A stand-in for ActiveRecord with strong_migrations' one rule for execute: refused outside
# safety_assured (strong_migrations raises StrongMigrations::UnsafeMigration there).
STUB = """module ActiveRecord; class Migration
  def self.[](v) = self
  def self.disable_ddl_transaction! = ($off = true)
  def safety_assured
    @safe = true
    yield
  ensure
    @safe = false
  end
  def execute(sql)
    raise "strong_migrations: execute outside safety_assured" unless @safe
    $out << sql
  end
end; end
$out = []
$off = false
before = Object.constants
load ARGV[0]
klass = Object.const_get((Object.constants - before - [:ActiveRecord]).first)
klass.new.public_send(ARGV[1])
print(($off ? "off" : "tx") + "\\0" + $out.join("\\0"))
"""


@pytest.mark.ruby
@pytest.mark.skipif(RUBY is None, reason="ruby is not installed; the files get their structural checks only")
def test_ruby_runs_each_file_as_strong_migrations_allows(tmp_path):
    project = _project(tmp_path)
    _, laid, jobs = jobs_for("rails", project)
    stub = tmp_path / "stub.rb"
    stub.write_text(STUB)
    steps = {f: s for s in db_steps(laid) for f in s.files}
    for job in jobs:
        path = tmp_path / Path(job.rel).name
        path.write_text(job.content)
        check = subprocess.run([RUBY, "-c", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and "Syntax OK" in check.stdout, check.stderr
        step = steps[job.rel]
        for method, sql in (("up", guarded_up_sql(step)), ("down", step.down_file_sql)):
            ran = subprocess.run([RUBY, str(stub), str(path), method], capture_output=True, text=True)
            assert ran.returncode == 0, ran.stderr
            mode, *got = ran.stdout.split("\0")
            assert mode == ("tx" if step.transactional else "off")
            got = [g for g in got if g]
            if not (sql or "").strip():
                assert got == []
            elif step.transactional:
                assert got == [sql.strip() + "\n"]
            else:
                assert got == [s + "\n" for s in cut_statements(sql)]
    # The plain files (no gem) run an execute outside safety_assured: the stub refuses it, as the gem would.
    plain = next(p for p in sorted((GOLDEN / "rails" / "db" / "migrate").iterdir()))
    ran = subprocess.run([RUBY, str(stub), str(plain), "up"], capture_output=True, text=True)
    assert ran.returncode != 0 and "outside safety_assured" in ran.stderr
