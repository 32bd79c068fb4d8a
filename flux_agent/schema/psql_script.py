"""Scripts psql runs (a pg_dump, sqitch's deploy and revert scripts) as the server sees them: psql's own
meta-command lines and the data of COPY ... FROM stdin are psql's, not SQL."""

from __future__ import annotations


def without_psql_commands(text: str) -> str:
    """`text` with psql meta-command lines (`\\restrict`, `\\connect`, ...) and the
    data lines of `COPY ... FROM stdin;` blocks blanked, line count unchanged."""
    lines = text.split("\n")
    in_copy = False
    for n, line in enumerate(lines):
        if in_copy:
            in_copy = line.rstrip("\r") != "\\."
            lines[n] = ""
        elif line.startswith("\\"):
            lines[n] = ""
        elif line.startswith("COPY ") and line.rstrip().upper().endswith("FROM STDIN;"):
            in_copy = True
    return "\n".join(lines)
