"""Partitions follow their parent: what a statement or an operation does to a partitioned
table's columns (ADD, DROP, RENAME, SET DEFAULT, SET NOT NULL, TYPE all recurse), PostgreSQL
does to each partition, and a dropped parent takes its partitions with it. What the change did
not touch stays each partition's own: a partition made with LIKE and attached has no default
where its parent has one, and keeps none. Known only from PostgreSQL's catalogs
(Schema.dependencies)."""

from __future__ import annotations

from typing import Optional

from ..model.schema import Column, Schema, Table

class Parents:
    """Each partitioned table's columns before a change, found again after it by the model object
    (a rename keeps the object under its new name) or else by name."""

    def __init__(self, tables: list[Table]):
        self._tables = [(t, [c.model_copy() for c in t.columns]) for t in tables]  # held: ids stay theirs

    def of(self, table: Table) -> Optional[list[Column]]:
        found = next((cols for t, cols in self._tables if t is table), None)
        return found if found is not None else next((cols for t, cols in self._tables if t.name == table.name), None)


def partition_parents(schema: Schema) -> Parents:
    """The columns of each partitioned table as they are now: what follow_partitions compares
    with after a change, to tell what the change did."""
    deps = schema.dependencies
    names = {d.table for d in deps.dependents if d.kind == "partition"} if deps is not None else set()
    return Parents([t for t in schema.tables if t.name in names])


def follow_partitions(schema: Schema, before: Parents, only: frozenset | set = frozenset(),
                      renamed: Optional[dict[tuple[str, str], str]] = None) -> None:
    """Each partition changed as its parent was since `before` (partition_parents of the schema
    before the change), partitions of a dropped parent gone. `only`: the (table, column) pairs
    whose default was changed ON ONLY the table, which no partition follows; `renamed`: (table,
    column before) -> name now, where the change is statements that say so (else one column gone
    and one come is read as a rename)."""
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
    links = [(d.table, d.name) for d in deps.dependents if d.kind == "partition"]
    children = {name for _, name in links}
    # Parents before their partitions, each partition once: a partition of a partition follows
    # its parent only after that parent has followed its own.
    todo = [link for link in links if link[0] not in children]
    done: set[str] = set()
    while todo:
        parent_name, child_name = todo.pop(0)
        if child_name in done:
            continue
        done.add(child_name)
        todo += [link for link in links if link[0] == child_name]
        parent, child = schema.table(parent_name), schema.table(child_name)
        if parent is not None and child is not None:
            kept = {c for t, c in only if t == parent.name}
            names = None if renamed is None else {c: new for (t, c), new in renamed.items() if t == parent.name}
            child.columns = _recursed(before.of(parent), parent.columns, child.columns, kept, names)


def _recursed(was: list[Column] | None, now: list[Column], child: list[Column],
              kept: set[str] = frozenset(), renamed: Optional[dict[str, str]] = None) -> list[Column]:
    """A partition's columns after its parent's went from `was` to `now`: in the partition's own
    order, dropped ones gone, renamed ones renamed, added ones last (as ADD COLUMN appends them);
    the type is the parent's (PostgreSQL requires it), a default or NOT NULL the parent's only
    where the change set it, else the partition's own."""
    if was is None:  # no earlier state of the parent to compare with: the partition as the parent is
        return [c.model_copy() for c in now]
    before = {c.name: c for c in was}
    after = {c.name: c for c in now}
    dropped = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    if renamed is None:  # one column gone and one come: a rename (more at once: drops and adds)
        renamed = {dropped[0]: added[0]} if len(dropped) == len(added) == 1 else {}
    out: list[Column] = []
    for own in child:
        name = renamed.get(own.name, own.name)
        parent, earlier = after.get(name), before.get(own.name)
        if parent is None or earlier is None:
            if parent is None and earlier is None:
                out.append(own)  # not the parent's (it cannot be, in PostgreSQL): left alone
            continue  # dropped on the parent (or there only now): placed below if it is the parent's
        out.append(Column(
            name=name, type=parent.type,
            nullable=parent.nullable if parent.nullable != earlier.nullable else own.nullable,
            default=parent.default if parent.default != earlier.default and name not in kept else own.default))
    placed = {c.name for c in out}
    return out + [c.model_copy() for c in now if c.name not in placed]
