"""One file of a folder's replay applied statement by statement while `flux validate`'s rules
judge it: a rule asking for the schema just before a statement reads the replay's own state
(no copy, no second replay of the file's statements), and the replay goes on from there.

A statement the replay cannot apply leaves the whole file out, as FolderReplay does: the
replay stands before the file again, and the rules go on with a copy of that schema (their
own replay skips the statement). A rule asking for an earlier statement than the replay has
passed does the same, without leaving the file out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ...errors import FluxError
from ...model.schema import Schema
from .statements import apply_statement

if TYPE_CHECKING:
    from .engine import FolderReplay


class FileCursor:
    """The replay standing in the file at `file`: its statements before `applied` applied."""

    def __init__(self, replay: FolderReplay, file: Path, section: tuple[int, str], statements: list):
        self.replay = replay
        self.file = file
        self.first_line, self.sql = section
        self.statements = statements  # as the replay parsed them (the rules must judge these very ones)
        self.applied = 0
        self.live = True  # False: the rules read a copy now (a statement failed, or one was asked for again)
        self.failed = False  # a statement failed: the file is left out
        schema = replay.as_replayed()
        self.had_tables = bool(schema.tables or schema.views)  # the history before the file knows tables
        replay.state.start_session()

    def before(self, index: int) -> Optional[Schema]:
        """The replay's schema just before statement `index` (read it, and only until the next
        call); None once the replay cannot stand there (it then stands before the file)."""
        if not self.live:
            return None
        if index < self.applied:
            self.replay.rebuild()
            self.applied, self.live = 0, False
            return None
        while self.applied < index:
            if not self._step():
                return None
        return self.replay.state.schema

    def finish(self) -> None:
        """Apply the statements the rules did not reach; the replay then stands after the file
        (before it, when a statement failed)."""
        while not self.failed and self.applied < len(self.statements):
            self._step()
        self.replay.finished(self)

    def _step(self) -> bool:
        stmt = self.statements[self.applied]
        try:
            apply_statement(self.replay.state, stmt.node, self.sql, stmt.start, stmt.end, self.first_line)
        except FluxError:
            self.failed, self.live = True, False
            self.replay.rebuild()
            return False
        self.applied += 1
        return True
