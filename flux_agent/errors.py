"""Errors users see, and the one place any error becomes the single line and exit code
every surface shows (the CLI's stderr, an MCP tool error, an agent's tool result)."""

from __future__ import annotations

import difflib
from typing import Optional

from pydantic import ValidationError

REPORT = "this is a bug in flux: please report it with the command that caused it"


class FluxError(Exception):
    exit_code = 1

    def __str__(self) -> str:  # always one line
        return one_line(str(self.args[0] if self.args else type(self).__name__))


class FluxInputError(FluxError):
    """Bad input: unknown table or column, bad type, unparseable request (exit 2)."""

    exit_code = 2


class UnknownName(FluxInputError):
    """Bad input naming what the schema does not have: a table, column or index (exit 2). Its own type:
    where the project's history did not build cleanly, that may be why, and the refusal says so."""


def closest(name: str, known: list[str], n: int = 3) -> list[str]:
    """The known names nearest `name` (case aside), nearest first: a misspelling's candidates."""
    by_low = {k.lower(): k for k in known}
    return [by_low[h] for h in difflib.get_close_matches(name.lower(), list(by_low), n=n, cutoff=0.6)]


def known_names(name: str, known: list[str], what: str, limit: int = 10) -> str:
    """`(did you mean x? known tables: a, b, ...)` for an unknown `name` among `known`."""
    near = closest(name, known)
    listed = ", ".join(known[:limit]) + (", ..." if len(known) > limit else "") if known else "none"
    did = f"did you mean {' or '.join(near)}? " if near else ""
    return f"({did}known {what}: {listed})"


class NothingToFix(FluxInputError):
    """`flux fix` was given a file that is safe as written, or runs no SQL: nothing to do (exit 2). Its
    own type: fix plans on --database-url's schema where the history did not give what the file
    changes, never where the file simply needs no fix."""


class FluxRefused(FluxError):
    """The plan has error-level findings; nothing was written (exit 1)."""

    exit_code = 1


class FluxInternalError(FluxError):
    """Flux failed, not the input: a bug, or the machine refusing what Flux itself needs (exit 3)."""

    exit_code = 3


def one_line(text: object) -> str:
    """`text` on one line: every run of white space, line breaks of any kind included
    (\\r, \\x0b, \\x1c-\\x1e, \\x85, \\u2028, ...), becomes one space."""
    return " ".join(str(text).split())


def os_error_text(exc: OSError) -> str:
    """One line for a file-system error on a path the user gave."""
    what = exc.strerror or type(exc).__name__
    where = exc.filename if exc.filename is not None else ""
    return one_line(f"{what}: {str(where)[:200]!r}" if where != "" else f"{what}: {exc}")


def error_line(exc: BaseException, where: Optional[str] = None) -> tuple[str, int]:
    """(the one line, the exit code) for any error. Bad input (a FluxInputError, arguments
    that fail their model, a path the file system refuses) is 2; anything unforeseen is an
    internal error, 3, never passed off as bad input."""
    if isinstance(exc, FluxError):
        return str(exc), exc.exit_code
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "input"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return one_line(f"invalid argument {loc}: {err['msg']}{more}"), 2
    if isinstance(exc, OSError):  # e.g. a --project or file name too long for the file system
        return os_error_text(exc), 2
    if isinstance(exc, ValueError) and "null byte" in str(exc):  # the file system refuses a NUL in a path
        return "a path or argument contains a NUL byte", 2
    context = f" in {where}" if where else ""
    return one_line(f"internal error{context}: {type(exc).__name__}: {exc} ({REPORT})"), 3
