"""TypeORM migrations (a class implementing MigrationInterface, up(queryRunner)), read by running
them: the project's own TypeORM (its DataSource, the connection replaced by the dev database's)
runs the class alone on a scratch copy of the dev database as the migrations before it leave
it, every query recorded with the line of the file that sent it (ts-node's source maps give the
.ts line; lint/readers/_node.py).

Transaction mode: run as the dev database is built, with the data source's
migrationsTransactionMode when it is "none", else "each": each migration in its own transaction
unless its class says `transaction = false` (TypeORM honours that only with --transaction each
or none; under "all" it refuses such a class, which is then not analysed). What is reported is
what TypeORM did, the BEGIN/COMMIT seen around the file's statements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from . import Reader, ReadMigration
from . import _node, _node_batch

_CLAIM = re.compile(r"\bMigrationInterface\b|\bup\s*\(\s*\w+\s*:\s*QueryRunner\b")


def claims(text: str) -> bool:
    return bool(_CLAIM.search(text))


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    return _node.read("typeorm", path, text, project)


READER = Reader(tool="typeorm", suffixes=_node.SUFFIXES, claims=claims, read=read,
                read_many=_node_batch.ahead("typeorm"), shaped=_node.shaped)
