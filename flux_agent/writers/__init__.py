"""One writer per migration tool; the registry picks it by tool name."""

from __future__ import annotations

from ..detect import TOOLS
from ..errors import FluxInputError
from .sql import SqlWriter

# Both names share one format: dbmate's files are the plain-SQL default.
WRITERS = {"sql": SqlWriter("sql"), "dbmate": SqlWriter("dbmate")}


def get_writer(tool: str):
    """The writer for `tool`; FluxInputError for unknown tools or ones not written yet."""
    if tool in WRITERS:
        return WRITERS[tool]
    if tool in TOOLS:
        raise FluxInputError(f"writer for {tool} not available yet; use --tool sql")
    raise FluxInputError(f"unknown tool {tool!r}; expected one of: {', '.join(TOOLS)}")
