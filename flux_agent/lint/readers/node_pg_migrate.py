"""node-pg-migrate migrations (exports.up = (pgm) => ...), read by running them: the project's own
node-pg-migrate (`up <the file>`, with the options of its package.json script, DATABASE_URL the
dev database's) runs the file alone on a scratch copy of the dev database as the migrations
before it leave it. Its pgm calls only make SQL text while `up` runs, sent after it returns:
each text is given the line of the pgm call that made it, pgm.sql and pgm.db.query the line they
are on (lint/readers/_node.py).

Transaction mode: node-pg-migrate wraps each migration in a transaction unless it calls
`pgm.noTransaction()` (and --single-transaction puts all in one); what is reported is what it
did, the BEGIN/COMMIT seen around the file's statements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from . import Reader, ReadMigration
from . import _node, _node_batch

_UP = re.compile(r"\bexports\.up\b|\bexport\s+(?:async\s+)?(?:function\s+up\b|const\s+up\b)|\bup\s*[:=(]")
_CLAIM = re.compile(r"\bpgm\b|\bMigrationBuilder\b")


def claims(text: str) -> bool:
    return bool(_UP.search(text) and _CLAIM.search(text))


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    return _node.read("node-pg-migrate", path, text, project)


READER = Reader(tool="node-pg-migrate", suffixes=_node.SUFFIXES, claims=claims, read=read,
                read_many=_node_batch.ahead("node-pg-migrate"), shaped=_node.shaped)
