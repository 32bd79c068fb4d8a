"""One writer per migration tool, one module each (write/tools/<tool>.py, dashes as
underscores), each exposing WRITER; modules starting with _ are helpers shared by
several writers. The registry imports on demand."""

from __future__ import annotations

import importlib

from ...project.detect import TOOLS
from ...errors import FluxInputError
from .sql import SqlWriter

# Both names share one format: dbmate's files are the plain-SQL default.
WRITERS = {"sql": SqlWriter("sql"), "dbmate": SqlWriter("dbmate")}


def get_writer(tool: str):
    """The writer for `tool`; FluxInputError for unknown tools or ones not written yet."""
    if tool in WRITERS:
        return WRITERS[tool]
    if tool not in TOOLS:
        raise FluxInputError(f"unknown tool {tool!r}; expected one of: {', '.join(TOOLS)}")
    name = f"{__name__}.{tool.replace('-', '_')}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # a module the writer imports is missing: not "no writer yet"
            raise
        raise FluxInputError(f"writer for {tool} not available yet; use --tool sql") from None
    WRITERS[tool] = module.WRITER
    return module.WRITER
