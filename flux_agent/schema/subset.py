"""A schema narrowed to some tables, with the enums, views and dependents that touch them:
what a model needs to plan a change to those tables, at a fraction of a big schema's size."""

from __future__ import annotations

from typing import Sequence

from ..errors import FluxInputError
from ..model.schema import Dependencies, Schema


def only_tables(schema: Schema, names: Sequence[str]) -> Schema:
    known = {t.name for t in schema.tables}
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = ", ".join(sorted(known)[:30]) + (f" and {len(known) - 30} more" if len(known) > 30 else "")
        raise FluxInputError(f"unknown table {unknown[0][:100]!r}; tables: {shown or 'none'}")
    keep = set(names)
    tables = [t for t in schema.tables if t.name in keep]
    types = {c.type.removesuffix("[]") for t in tables for c in t.columns}
    deps = schema.dependencies
    if deps is not None:
        dependents = [d for d in deps.dependents if d.table in keep]
        names_used = {d.name for d in dependents}
        deps = Dependencies(dependents=dependents,
                            functions=[f for f in deps.functions
                                       if any(t.split(" on ")[-1] in keep for t in f.triggers)],
                            sequences=[s for s in deps.sequences
                                       if s.owned_by and s.owned_by.rsplit(".", 1)[0] in keep])
    else:
        names_used = set()
    return Schema(tables=tables, enums=[e for e in schema.enums if e.name in types],
                  views=[v for v in schema.views if keep & set(v.depends_on) or v.name in names_used],
                  extensions=schema.extensions, dependencies=deps)
