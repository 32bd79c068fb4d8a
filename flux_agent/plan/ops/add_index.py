"""add_index: CREATE [UNIQUE] INDEX CONCURRENTLY, alone in a non-transactional step.

A plain CREATE INDEX holds SHARE on the table (writes wait) for the whole build.
"""

from __future__ import annotations

from typing import Optional

from ...errors import FluxInputError
from ...model.operations import AddIndex
from ...model.schema import Index, Schema, Table
from ...model.plan import Finding, Step
from ...pg.locks import ACCESS_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
from ...pg.parse import HAVE_PGLAST, ast, is_one_name, parse_expr
from ...pg.quote import canonical_table, ident, ident_list, qname, qname_in
from ._index_guard import HEALS, drop_invalid_index_sql
from ..naming import is_tool_index_name
from ._partitions import index_build_steps, partitions
from ._base import (Ctx, RowsCount, SOLO_REASON, bare, checked_expr, free_name, require_column, require_table,
                    retry_for, short_name, solo_step, tx_step, where_text)


def index_name(op: AddIndex, table: Table) -> str:
    if op.name:
        ident(op.name)
        return op.name
    return short_name(bare(table.name), *(_key_word(table, k) for k in op.columns), suffix="key" if op.unique else "idx")


def key_expr(table: Table, key: str) -> Optional[str]:
    """An index key that is an expression (lower(email)), re-printed; None for a column of the table."""
    if table.column(key) is not None or is_one_name(key):
        return None  # a column, or a name require_column says is unknown
    return checked_expr(key, table, "index expression", subquery=False)


def key_sql(table: Table, key: str) -> str:
    """A key as CREATE INDEX lists it: a column quoted, an expression in parentheses."""
    expression = key_expr(table, key)
    return ident(key) if expression is None else f"({expression})"


def _key_word(table: Table, key: str) -> str:
    """The key's part of the index's name, as PostgreSQL chooses it: a column's name, a function's
    name for a call (users_lower_idx), else `expr`."""
    if key_expr(table, key) is None:
        return key
    node = parse_expr(key, "index key") if HAVE_PGLAST else None
    return node.funcname[-1].sval if HAVE_PGLAST and isinstance(node, ast.FuncCall) else "expr"


def _same_index(op: AddIndex, table: Table) -> Optional[Index]:
    """An index of the table that already serves this one: a plain btree on the same columns in the
    same order, ascending, in the columns' own collations, with no predicate (unique, NULLs distinct,
    when a unique one is asked for; stacks' (address, balance DESC, token) is another one)."""
    if op.where is not None:
        return None  # predicates compare only as PostgreSQL prints them: left to the name check
    return next((i for i in table.indexes if i.valid and i.columns == list(op.columns) and i.method == "btree"
                 and i.where is None and not any(i.opclasses) and not any(i.orders) and not any(i.collations)
                 and (not op.unique or (i.unique and not i.nulls_not_distinct))),
                None)


def name_taken(schema: Schema, table: Table, name: str) -> bool:
    """Is `name` an index's (a table's or a materialized view's) or a constraint of the table's? An
    INVALID index of the table itself is not: it is a failed build's leftover (leftover_steps)."""
    return any(i.name == name and (i.valid or t.name != table.name)
               for t in [*schema.tables, *schema.views] for i in t.indexes) or any(
        c.name == name for c in table.constraints)


def leftover_steps(table: Table, name: str) -> list[Step]:
    """The step that drops the INVALID index a failed build of `name` left on the table (read from a
    live database): the build's `IF NOT EXISTS` would skip it and leave an index PostgreSQL never uses,
    and the guard that drops it in the build's own step needs a tool that can run it apart and an
    ACCESS EXCLUSIVE lock; dropped CONCURRENTLY here, no lock queues the application's queries."""
    if not any(i.name == name and not i.valid for i in table.indexes):
        return []
    return [solo_step("migrate", f"drop {name}, an INVALID index a failed build left on {table.name}",
                      drop_index_sql(table, name), None, lock=SHARE_UPDATE_EXCLUSIVE, squawk_reason=SOLO_REASON,
                      risk="drops concurrently, reads and writes go on",
                      rollback="nothing to undo: PostgreSQL never read nor enforced the INVALID index")]


def without_leftover(table: Table, name: str) -> None:
    """The table as leftover_steps leave it: no INVALID index named `name`."""
    table.indexes = [i for i in table.indexes if i.valid or i.name != name]


def named(op: AddIndex, schema: Schema) -> AddIndex:
    """An index asked for without a name where the one Flux gives it is taken (a partial index beside
    a plain one on the same column: rallly's polls_user_id_idx), named as PostgreSQL names it then: the
    first free of name1, name2, ... (refused before, though PostgreSQL takes it)."""
    table = None if op.name is not None else schema.table(canonical_table(op.table))
    if table is None or _same_index(op, table) is not None or not name_taken(schema, table, index_name(op, table)):
        return op  # named, or validate says what is wrong
    words = [_key_word(table, k) for k in op.columns]
    return op.model_copy(update={"name": free_name(table, words, "key" if op.unique else "idx",
                                                   lambda n: name_taken(schema, table, n))})


def validate(op: AddIndex, schema: Schema) -> None:
    table = require_table(schema, op.table)
    for col in op.columns:
        if key_expr(table, col) is None:
            require_column(table, col)
    if len(set(op.columns)) != len(op.columns):
        raise FluxInputError(f"index on {op.table} lists a column twice: {', '.join(op.columns)}")
    plain_json = [c for c in op.columns if _type_of(table, c) == "json"]
    if plain_json:  # PostgreSQL has no btree operator class for json: the build would fail
        raise FluxInputError(f"{op.table}.{plain_json[0]} is json, which a btree index cannot hold (no operator "
                             "class): index an expression of it, or make the column jsonb")
    if op.where is not None:
        checked_expr(op.where, table, "index predicate", subquery=False)
    # Asked for without a name ("add an index on orders.status"), an index the table has is the
    # answer; a name given (a proposed file's CREATE INDEX o_s) is the user's to keep.
    unnamed = op.name is None or is_tool_index_name(op.name, op.table, list(op.columns), op.where, op.unique)
    same = _same_index(op, table) if unnamed else None
    if same is not None:
        raise FluxInputError(f"{table.name} already has {'a unique' if same.unique else 'an'} index on "
                             f"({', '.join(op.columns)}): {same.name}; nothing to add")
    name = index_name(op, table)
    if name_taken(schema, table, name):
        raise FluxInputError(f"an index or constraint named {name!r} already exists")


def create_index_sql(table: Table, name: str, columns: list[str], unique: bool, where: Optional[str],
                     keys: Optional[list[str]] = None) -> str:
    """`keys`: the SQL of each key where they are an add_index's (key_sql: expressions); else the
    columns, quoted (a copy's: its column is made in the same step, not in `table` yet)."""
    kind = "UNIQUE INDEX" if unique else "INDEX"
    pred = f" WHERE {where}" if where else ""
    return (f"CREATE {kind} CONCURRENTLY IF NOT EXISTS {ident(name)} ON {qname(table.name)} "
            f"({', '.join(keys) if keys is not None else ident_list(columns)}){pred};")


def drop_index_sql(table: Table, name: str) -> str:
    return f"DROP INDEX CONCURRENTLY IF EXISTS {qname_in(table.name, name)};"


def index_step(ctx: Ctx, table: Table, name: str, columns: list[str], unique: bool, where: Optional[str],
               phase: str = "migrate", title: Optional[str] = None, sql: Optional[str] = None) -> Step:
    """`sql`: the CREATE INDEX CONCURRENTLY to run: an exact copy of another index, or add_index's own with
    its keys' SQL (expressions)."""
    rows = "size unknown" if table.row_estimate is None else f"~{table.row_estimate:,} rows"
    return solo_step(
        phase,
        title or f"build {'unique ' if unique else ''}index {name} on {table.name} ({', '.join(columns)})"
                 f"{where_text(where)}",
        f"{sql};" if sql else create_index_sql(table, name, columns, unique, where),
        drop_index_sql(table, name),
        lock=SHARE_UPDATE_EXCLUSIVE,
        risk=f"builds concurrently, reads and writes go on; {rows}; {HEALS}",
        rollback=f"drop index {name} concurrently",
        squawk_reason=SOLO_REASON,
        guard=drop_invalid_index_sql(table.name, name, retry_for(ctx.settings, ACCESS_EXCLUSIVE),
                                         ctx.settings.statement_timeout),
    )


def index_steps(ctx: Ctx, table: Table, name: str, columns: list[str], unique: bool, where: Optional[str],
                phase: str = "migrate", sql: Optional[str] = None) -> list[Step]:
    """index_step's build, or on a partitioned table the steps that build it partition by partition."""
    step = index_step(ctx, table, name, columns, unique, where, phase=phase, sql=sql)
    rows = "size unknown" if table.row_estimate is None else f"~{table.row_estimate:,} rows"
    create = sql or create_index_sql(table, name, columns, unique, where)
    return index_build_steps(ctx, table, name, create, phase, step.title, rows) or [step]


def _type_of(table: Table, column: str) -> str:
    found = next((c for c in table.columns if c.name == column), None)
    return (found.type or "").strip().lower() if found is not None else ""


def warnings(op: AddIndex, schema: Schema) -> list[Finding]:
    """A btree index on a jsonb column (whole documents compared: one over btree's row limit fails the
    build or a later write; Infisical's audit_logs.actorMetadata). On a partitioned table read from
    the dev database: its partitions are the ones the migrations make, and production's may be others
    (a function, pg_partman or a job makes them by date)."""
    table = require_table(schema, op.table)
    out = [Finding(rule="btree-on-jsonb", severity="warning", message=(
        f"a btree index on {op.table}.{c} (jsonb) compares whole documents: one over about 2,700 bytes fails "
        "the build, or a later write to the table (index row size exceeds btree maximum); for containment "
        "(@>) a GIN index serves, for one key an expression index ((col->>'key'))"))
        for c in op.columns if _type_of(table, c) == "jsonb"]
    children = partitions(schema, table.name) if schema.server is None else []
    if not children:
        return out
    shown = ", ".join(children[:3]) + (f" and {len(children) - 3} more" if len(children) > 3 else "")
    return out + [Finding(rule="partitions-from-migrations", severity="warning", message=(
        f"the steps build the index on the partitions of {table.name} the migrations make ({shown}); "
        "production's may be others (made by a function, pg_partman or a job): a build step fails on one it "
        "lacks, and the attach step refuses, changing nothing, while one has no index; plan against "
        "production (--database-url) to build each of its own"))]


def plan(op: AddIndex, ctx: Ctx) -> list[Step]:
    table = require_table(ctx.schema, op.table)
    where = checked_expr(op.where, table, "index predicate") if op.where is not None else None
    name = index_name(op, table)
    keys = [key_sql(table, c) for c in op.columns]
    create = create_index_sql(table, name, op.columns, op.unique, where, keys)
    if ctx.is_new(table):
        # Created earlier in this plan: empty and unused, so a plain build in a transaction is fine.
        create = create.replace(" CONCURRENTLY", "", 1)
        return [tx_step(ctx, "migrate", f"build index {name} on the new table {table.name}",
                        ["-- squawk-ignore require-concurrent-index-creation -- the table is new in this plan "
                         "and empty", create],
                        [f"DROP INDEX IF EXISTS {qname_in(table.name, name)}"],
                        lock="SHARE", lock_note="new table", risk="new empty table: instant", rollback=f"drop {name}")]
    return [*leftover_steps(table, name),
            *index_steps(ctx, table, name, op.columns, op.unique, where, sql=create.removesuffix(";"))]


def apply(op: AddIndex, schema: Schema) -> None:
    table = require_table(schema, op.table)
    where = checked_expr(op.where, table, "index predicate") if op.where is not None else None
    without_leftover(table, index_name(op, table))
    keys = [key_expr(table, k) or k for k in op.columns]
    table.indexes.append(Index(name=index_name(op, table), columns=keys, unique=op.unique, where=where))


def duplicates(table: Table, columns: list[str], where: Optional[str], build: str) -> RowsCount:
    """The key values more than one row holds (NULLs are distinct: a row with one is never a duplicate)."""
    keys = [key_sql(table, c) for c in columns]
    filled = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    pred = f" AND ({where})" if where else ""
    return RowsCount(
        table=table.name,
        sql=(f"SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {qname(table.name)} "
             f"WHERE {filled}{pred} GROUP BY {', '.join(keys)} HAVING count(*) > 1) AS d"),
        found=f"{table.name} ({', '.join(columns)}): {{0}} held by more than one row ({{1}})", units=["value", "row"],
        fails=f"{build} fails on them, leaving an INVALID index: make the values unique first, then plan again")


def refusing_rows(op: AddIndex, schema: Schema) -> Optional[RowsCount]:
    """A unique index's duplicates."""
    table = require_table(schema, op.table)
    if not op.unique:
        return None
    where = checked_expr(op.where, table, "index predicate") if op.where is not None else None
    return duplicates(table, list(op.columns), where, f"the build of {index_name(op, table)}")


def describe(op: AddIndex) -> str:
    unique = "unique " if op.unique else ""
    return f"add {unique}index on {op.table} ({', '.join(op.columns)}){where_text(op.where)}"
