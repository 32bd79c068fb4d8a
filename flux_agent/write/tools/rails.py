"""Rails migrations: `db/migrate/YYYYMMDDHHMMSS_<slug>.rb`, one per database
step, `class <Camel> < ActiveRecord::Migration[7.1]` (or the newest version
the folder's migrations already use), SQL in `execute <<~'SQL'` heredocs.

The heredoc is single-quoted, so Ruby reads its body raw: no `#{...}`
interpolation, no backslash escapes. Its terminator is one that no SQL line
equals, so the body cannot end early. The SQL is indented by a fixed amount
and its first line starts at column 0, so `<<~` strips exactly that indent
and PostgreSQL receives the SQL unchanged.

A step that must run outside a transaction gets `disable_ddl_transaction!`
and one `execute` per statement: a multi-statement string would run as one
implicit transaction. A step with nothing to undo gets an empty `down` with a
comment: it is a no-op to roll back, not an irreversible migration.

Rails loads a migration by camelizing its file name, so names stay unique in
the folder and the class name follows the app's inflection acronyms when
config/initializers/inflections.rb declares any.

In a project using strong_migrations (the gem in Gemfile or Gemfile.lock),
which refuses every `execute` it cannot inspect, each `execute` is wrapped in
`safety_assured do ... end` under a comment saying why it is safe: the step's
lock and risk, and the reasons Flux wrote into the SQL as squawk-ignore and
flux-phase markers. The plan names db/schema.rb (or db/structure.sql) as a
code change: `bin/rails db:migrate` dumps it again after the migrations run.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

from ...pg.split import cut_statements
from ...model.plan import CodeChange, Plan, Step
from ..code_changes import cannot
from ._rails_models import ignored_columns_changes, table_name_changes
from .._layout import first_stamp, lay_out, step_slug
from ..base import (FileJob, Writer, clean_dir, db_steps, down_sql, guarded_up_sql, laid_files, one_line,
                    step_label, undo_note)

DEFAULT_VERSION = "7.1"
# Ruby source and file names, not SQL.
_EXISTING = re.compile(r"\d+_([a-z0-9_]+)\.rb$")
_MIGRATION_VERSION = re.compile(r"ActiveRecord::Migration\[(\d+)\.(\d+)\]")
_ACRONYM = re.compile(r"""\.acronym\s*\(?\s*["']([A-Za-z0-9]+)["']""")
_GEM = re.compile(r"""^\s*gem\s*\(?\s*["']strong_migrations["']""", re.M)  # Gemfile
_LOCKED = re.compile(r"^\s+strong_migrations(?:\s|$)", re.M)  # Gemfile.lock's specs
_MARKER = re.compile(r"^\s*--\s*((?:squawk-ignore|flux-phase)\b.*\S)\s*$", re.M)
_SQL_FORMAT = re.compile(r"schema_format\s*=\s*:sql")


def uses_strong_migrations(project_dir: Path) -> bool:
    """The strong_migrations gem is in the project's Gemfile or Gemfile.lock."""
    gemfile, lock = Path(project_dir) / "Gemfile", Path(project_dir) / "Gemfile.lock"
    try:
        if gemfile.is_file() and _GEM.search(gemfile.read_text(encoding="utf-8", errors="replace")):
            return True
        return lock.is_file() and bool(_LOCKED.search(lock.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def schema_dump(project_dir: Path) -> str:
    """The schema file `bin/rails db:migrate` dumps: db/structure.sql when the app uses the SQL
    format (the file is there, or config sets schema_format = :sql), else db/schema.rb."""
    root = Path(project_dir)
    if (root / "db" / "structure.sql").is_file():
        return "db/structure.sql"
    for config in [root / "config" / "application.rb", *sorted((root / "config" / "environments").glob("*.rb"))]:
        try:
            if config.is_file() and _SQL_FORMAT.search(config.read_text(encoding="utf-8", errors="replace")):
                return "db/structure.sql"
        except OSError:
            continue
    return "db/schema.rb"


def reasons(sql: str) -> list[str]:
    """The squawk-ignore and flux-phase markers of `sql`, as written (without `--`)."""
    return [" ".join(m.group(1).split()) for m in _MARKER.finditer(sql)]


def camelize(name: str, acronyms: dict[str, str] | None = None) -> str:
    """ActiveSupport's `String#camelize` for a `[a-z0-9_]` name."""
    acronyms = acronyms or {}
    return "".join(acronyms.get(part, part.capitalize()) for part in name.split("_") if part)


def terminator(sql: str) -> str:
    """A heredoc terminator that no line of `sql` equals (Ruby ignores its indent)."""
    lines = {line.strip() for line in sql.splitlines()}
    word, n = "SQL", 1
    while word in lines:
        word, n = f"SQL_{n}", n + 1
    return word


def execute(sql: str, indent: str = "    ") -> str:
    """`execute <<~'SQL'` ... `SQL` for one SQL text, indented for a method body (or deeper)."""
    sql = sql.strip()
    end = terminator(sql)
    body = "\n".join(indent + "  " + line if line.strip() else "" for line in sql.splitlines())
    return f"{indent}execute <<~'{end}'\n{body}\n{indent}{end}\n"


def assured(sql: str, why: str) -> str:
    """One `execute` inside `safety_assured do ... end`, under comments saying why it is safe:
    `why`, then each squawk-ignore / flux-phase reason the SQL carries."""
    lines = [why] + reasons(sql)
    comments = "".join(f"    # {one_line(line)}\n" for line in lines)
    return f"{comments}    safety_assured do\n{execute(sql, '      ')}    end\n"


def _method(name: str, sql: str | None, transactional: bool, note: str, why: str | None = None) -> str:
    if sql is None:
        return f"  def {name}\n    # {note}\n  end\n"
    # Outside a transaction each statement is its own execute, keeping the comments before it
    # (the squawk-ignore and phase reasons `flux validate` reads).
    parts = [sql] if transactional else cut_statements(sql)
    calls = [execute(p) if why is None else assured(p, why) for p in parts]
    return f"  def {name}\n" + ("\n" if why else "").join(calls) + "  end\n"


def _why(step: Step, down: bool) -> str:
    """Why a step's SQL is safe, for strong_migrations' safety_assured (which cannot read it)."""
    if down:
        what = f"rollback of step {step.number}: {one_line(step.rollback) or 'undoes it'}"
    else:
        lock = f"{step.lock} lock{f' {step.lock_note}' if step.lock_note else ''}"
        what = f"{step.phase} step {step.number}, {lock}: {step.risk or 'planned by flux'}"
    return f"safety_assured: strong_migrations cannot inspect execute; flux planned this SQL ({what})"


def render_file(step: Step, class_name: str, version: str = DEFAULT_VERSION, strong: bool = False) -> str:
    """The migration for one step; `strong`: the project uses strong_migrations."""
    up = guarded_up_sql(step)
    switch = "" if step.transactional else "  disable_ddl_transaction!\n\n"
    return (
        f"# {step_label(step)}\n"
        f"class {class_name} < ActiveRecord::Migration[{version}]\n"
        f"{switch}"
        f"{_method('up', up, step.transactional, undo_note(step), _why(step, False) if strong else None)}\n"
        f"{_method('down', down_sql(step), step.transactional, undo_note(step), _why(step, True) if strong else None)}"
        "end\n"
    )


def _project_facts(project_dir: Path, folder: Path) -> tuple[set[str], str, dict[str, str]]:
    """Names taken in the folder, the newest Migration[x.y] there, the app's acronyms."""
    names, versions = set(), []
    if folder.is_dir():
        for entry in os.listdir(folder):
            if m := _EXISTING.match(entry):
                names.add(m.group(1))
                try:
                    head = (folder / entry).read_text(encoding="utf-8", errors="replace")[:4096]
                except OSError:
                    continue
                versions += [(int(a), int(b)) for a, b in _MIGRATION_VERSION.findall(head)]
    version = "%d.%d" % max(versions) if versions else DEFAULT_VERSION
    acronyms: dict[str, str] = {}
    inflections = project_dir / "config" / "initializers" / "inflections.rb"
    if inflections.is_file():
        for line in inflections.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.lstrip().startswith("#"):
                acronyms.update({a.lower(): a for a in _ACRONYM.findall(line)})
    return names, version, acronyms


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    taken.add(out)
    return out


class RailsWriter(Writer):
    tool = "rails"
    default_dir = "db/migrate"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        taken, _, _ = _project_facts(Path(project_dir), Path(project_dir) / folder)
        stamp = first_stamp(Path(project_dir) / folder, now)

        def files(step: Step, i: int) -> list[str]:
            # Ruby constants cannot start with a digit; names stay unique in the folder.
            name = _unique(f"step_{step_slug(step)}" if step_slug(step)[0].isdigit() else step_slug(step), taken)
            return [(folder / f"{stamp + timedelta(seconds=i):%Y%m%d%H%M%S}_{name}.rb").as_posix()]

        return lay_out(plan, files)

    def jobs(self, plan: Plan, project_dir: Path) -> list[FileJob]:
        out = []
        strong = uses_strong_migrations(Path(project_dir))
        for step in db_steps(plan):
            file = laid_files(step)[0]
            _, version, acronyms = _project_facts(Path(project_dir), Path(project_dir) / Path(file).parent)
            name = Path(file).stem.split("_", 1)[1]
            out.append(FileJob(file, render_file(step, camelize(name, acronyms), version, strong)))
        return out

    def code_changes(self, plan: Plan, project_dir: Path) -> list[CodeChange]:
        """The models' ignored_columns where the plan takes a column away after its code deploy
        (_rails_models.py), and the schema dump to refresh: Rails' own description of the
        database, which `bin/rails db:migrate` writes again once the migrations have run."""
        if not db_steps(plan):
            return []
        dump = schema_dump(Path(project_dir))
        return ignored_columns_changes(plan, Path(project_dir)) + table_name_changes(plan, Path(project_dir)) + [
            cannot(dump, f"`bin/rails db:migrate` dumps {dump} again after these migrations run (the next "
                         f"group too, after `flux continue`); commit the dumped {dump} with them, "
                         "not an edit by hand")]


WRITER = RailsWriter()
