"""Where `flux validate` left a folder's history replayed: the replay's state just before the first
and the last file it judged, kept in the cache folder, so the next run that judges a file at or
after such a place (a migration edited again, the newest one or one more) starts there instead of
replaying the history.

A saved state's key is what built it: the code that replays (the cache's code version), the tool
(the order of the files) and the history hash at its place (the names and inputs of every file
before it, lint/cache.py's Digests.history). A state is kept when the run replayed at least
MIN_REPLAYED files to reach it; the few newest are kept. Replaying 2,000 real files takes ~0.9 s in
one process; loading the state they build, ~0.01 s."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

from .cache_folder import keep_newest, write_whole

if TYPE_CHECKING:
    from ..schema.replay.engine import FolderReplay

MIN_REPLAYED = 20  # files replayed to reach a place before its state is worth keeping
_KEEP = 6  # saved states kept, the newest
_PREFIX = "replay-"


@dataclass
class ReplayCache:
    """The saved states of one history: `hashes[i]` is the history hash before file i."""

    folder: Path
    code: str
    tool: str
    hashes: list[str]

    def key(self, position: int) -> str:
        text = f"{self.code}\0{self.tool}\0{self.hashes[position]}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path:
        return self.folder / f"{_PREFIX}{key}.json"

    def resume(self, replay: "FolderReplay", position: int) -> int:
        """Have `replay` (fresh) stand at the nearest saved place at or before `position`; the place
        (0: none, nothing to resume)."""
        try:
            names = {e.name for e in os.scandir(self.folder) if e.name.startswith(_PREFIX)}
        except OSError:
            return 0
        for place in range(min(position, len(self.hashes) - 1), 0, -1):
            path = self._path(self.key(place))
            if path.name in names:
                try:
                    replay.resume(place, path.read_text(encoding="utf-8"))
                except (OSError, ValueError):  # gone meanwhile, or cut short: replay from the start
                    return 0
                return place
        return 0

    def keep(self, replay: "FolderReplay", position: int, resumed: int) -> None:
        """Save `replay`'s state, standing before the file at `position`, when reaching it took
        MIN_REPLAYED files or more."""
        self.keep_saved(position, resumed, replay.saved)

    def keep_saved(self, position: int, resumed: int, saved: Union[str, Callable[[], str]]) -> None:
        """keep's work, the state given as its JSON (FolderReplay.saved's) or a function making it."""
        if position - resumed < MIN_REPLAYED:
            return
        path = self._path(self.key(position))
        if path.exists():  # the same files before it: the same state
            return
        if write_whole(path, (saved if isinstance(saved, str) else saved()).encode("utf-8")):
            keep_newest(self.folder, lambda name: name.startswith(_PREFIX), _KEEP)


@dataclass
class HeldStates:
    """A worker's ReplayCache while the history's hashes, which key the states, are still being
    worked out (lint/batch.py: judge_all's meanwhile): nothing to resume from (nothing of this code
    is stored yet), and the states it would keep held, for ReplayCache.keep_saved once they are."""

    kept: list[tuple[int, int, str]] = field(default_factory=list)  # (position, resumed, the state's JSON)

    def resume(self, replay: "FolderReplay", position: int) -> int:
        return 0

    def keep(self, replay: "FolderReplay", position: int, resumed: int) -> None:
        if position - resumed >= MIN_REPLAYED:
            self.kept.append((position, resumed, replay.saved()))
