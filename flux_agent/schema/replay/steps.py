"""The schema before each step of a plan, each step's SQL replayed once on the schema the
one before it left: validation and estimates read the same list instead of each
replaying the plan again."""

from __future__ import annotations

from typing import Optional, Sequence

from ...errors import FluxError
from ...model.schema import Schema
from .engine import replay_sql


def schemas_before_each(sqls: Sequence[Optional[str]], schema: Schema) -> list[Schema]:
    """[before step 1, before step 2, ..., after the last]: len(sqls) + 1 schemas. SQL that
    cannot be replayed leaves the schema as it was (validation reports that SQL itself)."""
    out = [schema]
    for sql in sqls:
        work = out[-1]
        if sql:
            try:
                work = replay_sql(sql, work)
            except FluxError:
                pass
        out.append(work)
    return out
