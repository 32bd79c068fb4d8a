"""Schema readers, one per source; schema/project.py picks one for a project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import FluxError, FluxInputError

if TYPE_CHECKING:  # the model is loaded by the readers that build it, not by every user of schema/
    from ..model.schema import Schema


def read_file(path: Path, parse: Callable[[str], Schema]) -> Schema:
    """Read one schema file with `parse`; errors name the file, on one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"{path}: cannot read: {exc}") from None
    try:
        return parse(text)
    except FluxError as exc:
        raise type(exc)(f"{path}: {exc}") from None
