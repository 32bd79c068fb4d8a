"""goose SQL files: `<dir>/YYYYMMDDHHMMSS_<slug>.sql`, one per database step,
with `-- +goose Up` / `-- +goose Down` sections.

goose splits a section into statements at lines ending in `;`, so a statement
with a dollar-quoted body (DO blocks, CREATE FUNCTION) or any other inner line
ending in `;` goes between `-- +goose StatementBegin` / `StatementEnd`.
Statements are found by PostgreSQL's scanner (pg.parse), never by regex.
A step that must run outside a transaction gets `-- +goose NO TRANSACTION` at
the top of its file (goose then runs each statement on its own, so a step's guard goes first).

Versions continue the folder's style: timestamps (goose's default, and for an
empty folder), or the sequential numbers `goose fix` leaves, at their width.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from ...pg.split import has_dollar_quote, split_statements
from ...model.plan import Plan, Step
from .._layout import existing_versions, lay_out, next_versions, step_slug
from ..base import OneFilePerStep, clean_dir, db_steps, down_sql, guarded_up_sql, sql_header, undo_note

_VERSION = re.compile(r"(\d+)_.*\.(?:sql|go)$")  # file names, not SQL
BEGIN, END = "-- +goose StatementBegin", "-- +goose StatementEnd"


def needs_block(text: str) -> bool:
    """True when goose's line-based splitter would cut this statement apart."""
    if has_dollar_quote(text):
        return True
    return any(line.rstrip().endswith(";") for line in text.splitlines()[:-1])


def _line_starts(sql: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(sql) if ch == "\n")
    return starts


def mark_statements(sql: str) -> str:
    """`sql` with StatementBegin/End around each statement that needs it; the
    rest (comments included) kept byte for byte."""
    sql = sql.strip()
    starts = _line_starts(sql)
    out: list[str] = []
    pos = 0
    for st in split_statements(sql):
        # The statement's text begins on its first token's line, at or after pos.
        start = sql.find(st.text, max(pos, starts[st.line - 1]))
        end = start + len(st.text)
        after = sql[end:]
        semi = end + len(after) - len(after.lstrip(" \t\r\n"))
        if semi < len(sql) and sql[semi] == ";":
            end = semi + 1
        if not needs_block(st.text):
            out.append(sql[pos:end])
            pos = end
            continue
        done = "".join(out) + sql[pos:start]
        out = [done if not done or done.endswith("\n") else done.rstrip(" \t") + "\n"]
        out.append(f"{BEGIN}\n{sql[start:end]}\n{END}\n")
        newline = sql.find("\n", end)
        rest_of_line = sql[end:] if newline < 0 else sql[end:newline]
        pos = end if rest_of_line.strip() else (len(sql) if newline < 0 else newline + 1)
    out.append(sql[pos:])
    return "".join(out).rstrip("\n")


def render_file(step: Step) -> str:
    top = "" if step.transactional else "-- +goose NO TRANSACTION\n"
    up, down = mark_statements(guarded_up_sql(step)), down_sql(step)
    down = mark_statements(down) if down else f"-- {undo_note(step)}"
    return f"{top}-- +goose Up\n{sql_header(step)}{up}\n\n-- +goose Down\n{down}\n"


class GooseWriter(OneFilePerStep):
    tool = "goose"
    default_dir = "migrations"
    render_file = staticmethod(render_file)

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        found = existing_versions(Path(project_dir) / folder, _VERSION)
        versions = next_versions(found, len(db_steps(plan)), now, stamps=True)
        return lay_out(plan, lambda step, i: [(folder / f"{versions[i]}_{step_slug(step)}.sql").as_posix()])


WRITER = GooseWriter()
