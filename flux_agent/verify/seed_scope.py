"""Which tables `flux verify` fills with the rows asked for (and which columns take values a plan
converts): the ones the plan changes, the ones
whose foreign keys point at those, and every table those need parent rows in (up the keys).
Every other table gets FEW rows: enough for a key, a trigger or a view that reads it, at a sliver
of the cost (on a schema of 100 tables, 1,000 rows each took 9.6 s to seed, 10 each 0.4 s;
plane's 110 tables took 21.6 s of a 28 s verify; a rename on plane now reaches 23 of them and
verifies in 11.9 s, 24.8 s before)."""

from __future__ import annotations

from typing import Optional

from ..model.plan import Plan
from ..model.schema import Constraint, Schema
from ..pg.quote import canonical_table
from ..pg.types import type_name

FEW = 10


def full_tables(plan: Plan, schema: Schema) -> Optional[set[str]]:
    """The tables to fill in full; None: every table (an operation whose tables are not known
    beforehand: raw SQL, a value added to an enum, a table the schema does not have)."""
    changed: set[str] = set()
    for op in plan.operations:
        if op.op == "create_table":
            continue  # a new table: no rows before the plan
        if op.op == "drop_index":
            names = [next((t.name for t in schema.tables if any(i.name == op.name for i in t.indexes)), None)]
        else:
            names = [getattr(op, "table", None), getattr(op, "ref_table", None)]
        found = [schema.table(canonical_table(n)) for n in names if n]
        if not found or not all(found):
            return None
        changed |= {t.name for t in found}
    full = changed | {t.name for t in schema.tables
                      if any(c.kind == "foreign_key" and c.ref_table in changed for c in t.constraints)}
    todo = list(full)
    while todo:
        table = schema.table(todo.pop())
        for c in table.constraints if table is not None else ():
            if c.kind == "foreign_key" and c.ref_table not in full and schema.table(c.ref_table) is not None:
                full.add(c.ref_table)
                todo.append(c.ref_table)
    return full


def converted(plan: Plan, schema: Schema) -> dict[tuple[str, str], str]:
    """(table, column) -> the type the plan casts the column to (a type change without a USING): its
    rows must hold values that cast, as the user's do, or the plan fails on rows verify made."""
    out = {}
    for op in plan.operations:
        table = schema.table(canonical_table(op.table)) if op.op == "change_column_type" and op.using is None else None
        if table is not None and table.column(op.column) is not None:
            out[table.name, op.column] = type_name(op.type)
    return out


def with_planned_keys(plan: Plan, schema: Schema) -> Schema:
    """The schema the seed fills: the foreign keys the plan adds among its keys, so that the rows
    verify makes are rows the key takes (hoppscotch's InfraToken.creatorUid -> User.uid held values
    no User had, and the plan's VALIDATE failed on verify's own rows)."""
    out = schema.model_copy(deep=True)
    for n, op in enumerate(o for o in plan.operations if o.op == "add_foreign_key"):
        table, ref = out.table(canonical_table(op.table)), out.table(canonical_table(op.ref_table))
        if table is not None and ref is not None:
            table.constraints.append(Constraint(name=f"flux_planned_key_{n}", kind="foreign_key",
                                                columns=list(op.columns), ref_table=ref.name,
                                                ref_columns=list(op.ref_columns)))
    return out
