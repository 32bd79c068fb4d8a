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
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

from ...pg.parse import split_statements
from ...model.plan import Plan, Step
from .._layout import first_stamp, lay_out, step_slug
from ..base import FileJob, Writer, clean_dir, db_steps, down_sql, laid_files, step_label, undo_note, up_sql

DEFAULT_VERSION = "7.1"
_INDENT = "      "
# Ruby source and file names, not SQL.
_EXISTING = re.compile(r"\d+_([a-z0-9_]+)\.rb$")
_MIGRATION_VERSION = re.compile(r"ActiveRecord::Migration\[(\d+)\.(\d+)\]")
_ACRONYM = re.compile(r"""\.acronym\s*\(?\s*["']([A-Za-z0-9]+)["']""")


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


def execute(sql: str) -> str:
    """`execute <<~'SQL'` ... `SQL` for one SQL text, indented for a method body."""
    sql = sql.strip()
    end = terminator(sql)
    body = "\n".join(_INDENT + line if line.strip() else "" for line in sql.splitlines())
    return f"    execute <<~'{end}'\n{body}\n    {end}\n"


def _method(name: str, sql: str | None, transactional: bool, note: str) -> str:
    if sql is None:
        return f"  def {name}\n    # {note}\n  end\n"
    parts = [sql] if transactional else [s.text for s in split_statements(sql)]
    if not transactional and len(parts) == 1:
        parts = [sql]  # one statement: keep its comments too
    return f"  def {name}\n" + "".join(execute(p) for p in parts) + "  end\n"


def render_file(step: Step, class_name: str, version: str = DEFAULT_VERSION) -> str:
    up = up_sql(step)
    switch = "" if step.transactional else "  disable_ddl_transaction!\n\n"
    return (
        f"# {step_label(step)}\n"
        f"class {class_name} < ActiveRecord::Migration[{version}]\n"
        f"{switch}"
        f"{_method('up', up, step.transactional, undo_note(step))}\n"
        f"{_method('down', down_sql(step), step.transactional, undo_note(step))}"
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
        for step in db_steps(plan):
            file = laid_files(step)[0]
            _, version, acronyms = _project_facts(Path(project_dir), Path(project_dir) / Path(file).parent)
            name = Path(file).stem.split("_", 1)[1]
            out.append(FileJob(file, render_file(step, camelize(name, acronyms), version)))
        return out


WRITER = RailsWriter()
