"""Knex migrations (exports.up, export async function up(knex), `async function up(knex)` with
`module.exports = { up, down }`), read by running them: the
project's own knex (its knexfile, the connection replaced by the dev database's) runs the file
alone on a scratch copy of the dev database as the migrations before it leave it, every query
recorded with the line of the file that sent it (lint/readers/_node.py).

Transaction mode: knex wraps each migration in a transaction unless the file says
`exports.config = { transaction: false }` (or the knexfile's migrations.disableTransactions);
what is reported is what knex did, the BEGIN/COMMIT seen around the file's statements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from . import Reader, ReadMigration
from . import _node, _node_batch

# exports.up; export (async) function up / const up; up: / up = ; (async) function up( and
# `module.exports = { up, down }` (kutt's); a method `async up(knex)` in an exported object.
_UP = re.compile(r"\bexports\.up\b|\bexport\s+(?:async\s+)?(?:function\s+up\b|const\s+up\b)|\bup\s*[:=]|"
                 r"\bfunction\s+up\s*\(|\bup\s*\(\s*knex\b|\bmodule\.exports\s*=\s*\{[^}]*\bup\b")
_KNEX = re.compile(r"\bknex\b", re.I)
_OTHERS = re.compile(r"\bpgm\b|\bqueryInterface\b|\bQueryRunner\b|\bMigrationInterface\b")


def claims(text: str) -> bool:
    return bool(_UP.search(text) and _KNEX.search(text) and not _OTHERS.search(text))


def read(path: Path, text: str, project: Optional[Path]) -> ReadMigration:
    return _node.read("knex", path, text, project)


READER = Reader(tool="knex", suffixes=_node.SUFFIXES, claims=claims, read=read,
                read_many=_node_batch.ahead("knex"), shaped=_node.shaped)
