"""Sequelize migrations (module.exports = { up(queryInterface, Sequelize), down }), read by
running them: the project's own sequelize-cli (db:migrate --to the file, its .sequelizerc and
config, the connection replaced by the dev database's) runs the file alone on a scratch copy of
the dev database as the migrations before it leave it, every query recorded with the line of
the file that sent it (lint/readers/_node.py).

Transaction mode: sequelize-cli opens no transaction around a migration; the file's statements
are in one only where the migration opens it (queryInterface.sequelize.transaction(...)). What
is reported is what was seen: the BEGIN/COMMIT around the file's statements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from . import Reader, ReadMigration
from . import _node, _node_batch

_UP = re.compile(r"\bup\b\s*[(:=]")
_CLAIM = re.compile(r"\bqueryInterface\b|\bQueryInterface\b|\bSequelize\b")


def claims(text: str) -> bool:
    return bool(_UP.search(text) and _CLAIM.search(text))


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    return _node.read("sequelize", path, text, project)


READER = Reader(tool="sequelize", suffixes=_node.SUFFIXES, claims=claims, read=read,
                read_many=_node_batch.ahead("sequelize"), shaped=_node.shaped)
