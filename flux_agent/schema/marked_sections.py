"""The sections of a migration file whose tool marks them with comment lines: dbmate's
`-- migrate:up` / `-- migrate:down`, goose's `-- +goose Up` / `Down` (with NO TRANSACTION and its
ENVSUB sections), sql-migrate's `-- +migrate Up` / `Down`, node-pg-migrate's `-- Up Migration` /
`-- Down Migration`."""

from __future__ import annotations

import os
import re
from typing import Optional

from .sections import Sections


def marker(line: str) -> Optional[tuple[str, str, list[str]]]:
    """(style, direction, options) of a dbmate, goose or sql-migrate marker line, else None."""
    s = line.strip()
    if not s.startswith("--"):
        return None
    words = s[2:].split()
    if words and words[0] in ("migrate:up", "migrate:down"):  # dbmate: `--\s*migrate:up(\s|$)`
        return "dbmate", words[0][len("migrate:"):], words[1:]
    if len(words) >= 2 and words[0].lower() == "+goose":
        annotation = " ".join(words[1:]).lower()
        if annotation in ("up", "down", "no transaction", "envsub on", "envsub off"):
            return "goose", annotation, []
    if len(words) >= 2 and words[0] == "+migrate" and words[1].lower() in ("up", "down"):
        return "sql-migrate", words[1].lower(), [w.lower() for w in words[2:]]
    said = s.lstrip("-").lower().split()  # node-pg-migrate's: `^\s*--[\s-]*up\s+migration`, any case
    if len(said) >= 2 and said[0] in ("up", "down") and said[1].startswith("migration"):
        return "node-pg-migrate", said[0], []
    return None


def marked_sections(text: str) -> Optional[Sections]:
    """The sections of a file with dbmate, goose, sql-migrate or node-pg-migrate markers; None when it
    has no up marker."""
    if "migrat" not in text and "+goose" not in text.lower() and "Migrat" not in text \
            and "MIGRAT" not in text:  # no line can be a marker (marker's words)
        return None
    lines = text.split("\n")
    # A marker line is a comment: the others are not asked (a marked file's SQL is most of its lines).
    marks = [(n, m) for n, line in enumerate(lines) if "--" in line and (m := marker(line)) is not None]
    if any(m[0] != "node-pg-migrate" for _, m in marks):  # another tool's file, its comments saying "up migration"
        marks = [(n, m) for n, m in marks if m[0] != "node-pg-migrate"]
    up = next(((n, m) for n, m in marks if m[1] == "up"), None)
    if up is None:
        return None
    start, (style, _, options) = up
    if style == "sql-migrate":
        return _sql_migrate(lines, marks)
    if style == "node-pg-migrate":
        return _node_pg_migrate(lines, marks, start)
    down = next((n for n, m in marks if n > start and m[0] == style and m[1] == "down"), None)
    if style == "goose" and any(m[1] == "envsub on" for _, m in marks):
        lines = _envsub(lines, marks)
    body = "\n".join(lines[start + 1: down if down is not None else len(lines)])
    rest = "\n".join(lines[down + 1:]) if down is not None else None
    after = down + 1 if down is not None else 0
    if style == "dbmate":
        return Sections(body, start + 1, rest, "transaction:false" not in options, one_query=True, down_line=after)
    no_transaction = any(m == ("goose", "no transaction", []) for _, m in marks)
    return Sections(body, start + 1, rest, not no_transaction, split_at_line_ends=True, down_line=after)


def _node_pg_migrate(lines: list[str], marks: list, start: int) -> Sections:
    """node-pg-migrate's SQL migration: `-- Up Migration` to `-- Down Migration` (either first), each
    part sent as one query (pgm.sql) in the migration's transaction."""
    down = next((n for n, m in marks if m[1] == "down"), None)
    body = "\n".join(lines[start + 1: down if down is not None and down > start else len(lines)])
    rest = None if down is None else "\n".join(lines[down + 1: start if start > down else len(lines)])
    return Sections(body, start + 1, rest, True, one_query=True, down_line=down + 1 if down is not None else 0)


# goose's `-- +goose ENVSUB ON` substitutes ${NAME}, ${NAME:-default} and ${NAME-default} from the
# environment in the lines after it (until ENVSUB OFF); an unset name without a default is "".
_ENV_REFERENCE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _envsub(lines: list[str], marks: list) -> list[str]:
    """The lines as goose runs them: each of an ENVSUB ON section with the environment's values."""
    at, on, out = dict(marks), False, []
    for n, line in enumerate(lines):
        mark = at.get(n)
        if mark is not None and mark[1] in ("envsub on", "envsub off"):
            on = mark[1] == "envsub on"
        elif on and "${" in line:
            line = _ENV_REFERENCE.sub(lambda m: os.environ.get(m.group(1)) or m.group(2) or "", line)
        out.append(line)
    return out


def _sql_migrate(lines: list[str], marks: list) -> Sections:
    """sql-migrate's parts: each `-- +migrate Up` / `Down` line turns the lines after it to that
    direction, so a file may go up again after a down; each part keeps the file's line numbers
    (the other part's lines left blank). `notransaction` on the Up line runs it outside one."""
    direction: list[Optional[str]] = []
    at, current = dict(marks), None
    for n in range(len(lines)):
        mark = at.get(n)
        if mark is not None and mark[0] == "sql-migrate":
            current = mark[1]
            direction.append(None)
        else:
            direction.append(current)
    up = "\n".join(line if d == "up" else "" for line, d in zip(lines, direction))
    down = "\n".join(line if d == "down" else "" for line, d in zip(lines, direction)) if "down" in direction else None
    outside = any(m[0] == "sql-migrate" and m[1] == "up" and "notransaction" in m[2] for _, m in marks)
    return Sections(up, 0, down, not outside)
