"""Partitions follow their parent: what a statement or an operation does to a partitioned
table's columns (ADD, DROP, RENAME, SET DEFAULT, SET NOT NULL, TYPE all recurse), PostgreSQL
does to each partition, and a dropped parent takes its partitions with it. Known only from
PostgreSQL's catalogs (Schema.dependencies)."""

from __future__ import annotations

from ..model.schema import Schema


def follow_partitions(schema: Schema) -> None:
    """Each partition's columns as its parent's, partitions of a dropped parent gone."""
    deps = schema.dependencies
    if deps is None:
        return
    names = {t.name for t in schema.tables}
    gone = {d.name for d in deps.dependents if d.kind == "partition" and d.table not in names}
    while gone:
        schema.tables = [t for t in schema.tables if t.name not in gone]
        deps.dependents = [d for d in deps.dependents if not (d.kind == "partition" and d.name in gone)]
        names -= gone
        gone = {d.name for d in deps.dependents if d.kind == "partition" and d.table not in names}
    for _ in range(4):  # a partition of a partition follows once its parent has
        for d in deps.dependents:
            parent, child = (schema.table(d.table), schema.table(d.name)) if d.kind == "partition" else (None, None)
            if parent is not None and child is not None:
                child.columns = [c.model_copy() for c in parent.columns]
