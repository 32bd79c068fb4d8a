"""Partitioned tables, as PostgreSQL's catalogs describe them (Schema.dependencies):
an index PostgreSQL cannot build or drop CONCURRENTLY on a partitioned table is
made ON ONLY the parent, built concurrently on each partition and attached; and
the planned schema's partitions follow their parent's columns, as PostgreSQL
makes them follow (ADD, DROP, SET DEFAULT, SET NOT NULL and TYPE all recurse).
"""

from __future__ import annotations

from typing import Optional

from ...errors import FluxInputError
from ...model.plan import Step
from ...model.schema import Schema, Table
from ...pg.locks import ACCESS_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
from ...pg.ddl import constraint_sql, default_sql, partition_of_sql
from ...pg.quote import dollar_quote, literal, qname, qname_in
from ...pg.repoint import index_copy, on_table
from ._index_guard import HEALS, drop_invalid_index_sql
from ._base import (SOLO_REASON, Ctx, bare, require_column, require_table, retry_for, short_name, solo_step, table_ddl,
                    tx_step)

ONLY_IGNORE = ("-- squawk-ignore require-concurrent-index-creation -- ON ONLY a partitioned table: it holds no "
               "rows, nothing is built, and PostgreSQL takes no CONCURRENTLY here")


def partitions(schema: Schema, table: str) -> list[str]:
    """The partitions of `table` (none when it is not partitioned). A schema read without PostgreSQL's
    catalogs knows a table is partitioned (Table.partitioned) but not its partitions: refused then,
    rather than planning for a plain table what PostgreSQL refuses on a partitioned one (CONCURRENTLY)."""
    if schema.dependencies is not None:
        return schema.dependencies.partitions(table)
    own = schema.table(table)
    if own is not None and own.partitioned:
        raise FluxInputError(f"{table} is partitioned, and its partitions are known only from PostgreSQL's catalogs, "
                             "which this schema was read without (FLUX_DEVDB=off, or the dev database could not "
                             "hold the project): plan it with the dev database, or with --database-url")
    return []


def child_index_name(child: str, index: str) -> str:
    return short_name(bare(child), index)


def index_build_steps(ctx: Ctx, table: Table, name: str, create: str, phase: str, title: str,
                      rows: str) -> Optional[list[Step]]:
    """For a partitioned table: the steps that build index `name` (its concurrent CREATE INDEX
    `create`) without blocking writes; None for a plain table."""
    children = partitions(ctx.schema, table.name)
    if not children:
        return None
    nested = [c for c in children if partitions(ctx.schema, c)]
    if nested:
        raise FluxInputError(f"partition {nested[0]} of {table.name} is partitioned itself; Flux builds indexes "
                             f"one level down: build this one level by level by hand")
    parent = index_copy(create, table.name, None, None, name, concurrently=False, only=True)
    drop_parent = f"DROP INDEX IF EXISTS {qname_in(table.name, name)}"
    steps = [tx_step(ctx, phase, f"{title}: create it on ONLY {table.name}, invalid until each partition's "
                                 "is attached", [ONLY_IGNORE, parent], [drop_parent],
                     lock="SHARE", lock_note="the partitioned table itself, which holds no rows",
                     risk="brief lock, nothing to build", rollback=f"drop {name}")]
    for child in children:
        copy = child_index_name(child, name)
        steps.append(solo_step(
            phase, f"{title}: build it on partition {child} as {copy}",
            index_copy(create, child, None, None, copy) + ";",
            f"DROP INDEX CONCURRENTLY IF EXISTS {qname_in(child, copy)};",
            lock=SHARE_UPDATE_EXCLUSIVE, squawk_reason=SOLO_REASON,
            guard=drop_invalid_index_sql(child, copy, retry_for(ctx.settings, ACCESS_EXCLUSIVE),
                                         ctx.settings.statement_timeout),
            risk=f"builds concurrently, reads and writes go on; {rows}; {HEALS}",
            rollback=f"drop index {copy} concurrently"))
    attach = [f"ALTER INDEX {qname_in(table.name, name)} ATTACH PARTITION {qname_in(c, child_index_name(c, name))}"
              for c in children] + [_all_attached_sql(table.name, qname_in(table.name, name))]
    # Attached indexes cannot be detached: undoing drops the parent index (and the attached ones
    # with it) and makes the empty ON ONLY index again, so the steps before undo as they expect.
    steps.append(tx_step(ctx, phase, f"{title}: attach the partitions' indexes to {name}", attach,
                         [drop_parent, ONLY_IGNORE, parent], lock_note="the indexes, briefly; no scan",
                         risk="brief lock, catalog change only; the index is valid once all are attached (a partition "
                              "made since the plan read them stops the step, changing nothing, and is named)",
                         rollback=f"drop {name} with the partitions' indexes, keep it empty on ONLY {table.name}"
                         ).model_copy(update={"undoes_steps_before": len(children)}))
    return steps


def _all_attached_sql(table: str, index: str) -> str:
    """Refuse (and so undo the attaching) where a partition of `table` has no index attached to
    `index`: one made after the plan read the partitions (the dev database holds those the
    migrations make; a function, pg_partman or a job makes others in production), which would
    leave the index invalid with nothing to say so."""
    return "DO " + dollar_quote(
        "\nDECLARE\n  missing text;\nBEGIN\n"
        "  SELECT string_agg(p.inhrelid::regclass::text, ', ' ORDER BY p.inhrelid::regclass::text) INTO missing\n"
        f"    FROM pg_inherits p WHERE p.inhparent = {literal(qname(table))}::regclass\n"
        "     AND NOT EXISTS (SELECT 1 FROM pg_inherits x JOIN pg_index i ON i.indexrelid = x.inhrelid\n"
        f"                      WHERE x.inhparent = {literal(index)}::regclass AND i.indrelid = p.inhrelid);\n"
        "  IF missing IS NOT NULL THEN\n"
        f"    RAISE EXCEPTION 'flux: partitions of % have no index attached to %: % (made after the plan read the "
        "partitions); nothing was attached: build one on each (CREATE INDEX CONCURRENTLY, as on the others), attach it "
        "(ALTER INDEX ... ATTACH PARTITION), then run this migration again', "
        f"{literal(table)}, {literal(index)}, missing;\n"
        "  END IF;\nEND\n", "flux_attached")


def restore_index_sql(schema: Schema, table: Table, name: str, definition: str, old: Optional[str],
                      new: Optional[str], relation: Optional[str] = None) -> list[str]:
    """SQL for a rollback (inside its transaction) that makes index `name` again from `definition`,
    column `old` read as `new`; on a partitioned table each partition's index too, under the name
    it had (a plain CREATE INDEX on the parent would name them after the column of the moment).
    `relation`: the table's name at that moment, when not table.name (a table set aside)."""
    children = partitions(schema, table.name)
    on = relation or table.name
    if not children:
        return [index_copy(definition, on, old, new, name, concurrently=False)]
    out = [index_copy(definition, on, old, new, name, concurrently=False, only=True)]
    for d in schema.dependencies.dependents:
        if d.kind == "index" and d.attached_to == name and d.table in children:
            out += [index_copy(d.definition, d.table, old, new, d.name, concurrently=False),
                    f"ALTER INDEX {qname_in(on, name)} ATTACH PARTITION {qname_in(d.table, d.name)}"]
    return out


def recreate_table_sql(schema: Schema, table: Table, relation: str) -> list[str]:
    """`table` made again under `relation` (empty), partitioned as it was, with its partitions (their
    storage parameters and own defaults too) and its indexes (those no constraint makes) under
    their own names."""
    key = next((d for d in schema.dependencies.dependents if d.kind == "partition_key" and d.name == table.name),
               None) if schema.dependencies is not None else None
    out = [table_ddl(table, relation, schema, partition_by=key.definition if key else "")]
    for child in partitions(schema, table.name):
        bound = next(d.definition for d in schema.dependencies.dependents if d.kind == "partition" and d.name == child)
        out += partition_of_sql(schema.table(child), child, table, relation, bound)
    made = {c.name for c in table.constraints}
    for idx in table.indexes:
        dep = schema.dependencies.index(idx.name) if schema.dependencies is not None else None
        if dep is not None and not idx.primary and idx.name not in made and dep.table == table.name:
            out += restore_index_sql(schema, table, idx.name, dep.definition, None, None, relation=relation)
    aside = table.model_copy(update={"name": relation})
    out += [constraint_sql(aside, c) for c in table.constraints if c.kind in ("unique", "check", "foreign_key")]
    # Its triggers and policies, as PostgreSQL printed them, on the table made again.
    out += [on_table(d.definition, relation) for d in (schema.dependencies.on(table.name) if schema.dependencies
                                                       else ()) if d.kind in ("trigger", "policy") and d.definition]
    return out


def descendants(schema: Schema, table: str) -> list[str]:
    """The partitions of `table` at every level, known to the schema."""
    out, todo = [], partitions(schema, table)
    while todo:
        out.append(todo.pop(0))
        todo += partitions(schema, out[-1])
    return [p for p in out if schema.table(p) is not None]


def own_defaults(schema: Schema, table: Table, column: str) -> bool:
    """Does a partition of `table` have a default for `column` other than the table's (a partition
    made with LIKE and attached has none)? Then ALTER ... SET/DROP DEFAULT, which recurses into
    partitions, cannot put the defaults back in one statement."""
    own = require_column(table, column).default
    return any(require_column(schema.table(p), column).default != own for p in descendants(schema, table.name))


def defaults_sql(schema: Schema, table: Table, column: str, target: Optional[str] = None,
                 none: bool = True) -> list[str]:
    """Statements giving column `target` (default: `column` itself) of `table` and of each of its
    partitions the default `column` has there in `schema`: one ALTER, recursing, where every
    partition has the table's default; else the table ONLY and each partition its own. With
    `none` False, nothing where no default is to be given (a column made without one)."""
    def one(name: str, only: bool) -> str:
        return default_sql(name, target or column, require_column(require_table(schema, name), column).default, only)

    if not own_defaults(schema, table, column):
        return [one(table.name, only=False)] if none or require_column(table, column).default is not None else []
    return [one(table.name, only=True)] + [one(p, only=True) for p in descendants(schema, table.name)]
