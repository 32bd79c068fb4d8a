"""Fill every table with N synthetic rows that respect types, keys and constraints (N in the
tables a plan reaches, a few in the others: seed_scope.py).

One `INSERT ... SELECT ... FROM generate_series(1, N) g` per table, parents
before children. Values come from the row number, so they are unique per
column; foreign keys point at existing parent rows (row g takes parent row
g, wrapping around); enum values and `CHECK (col IN (...))` choices are
cycled; nullable columns hold values too, NULL on every tenth row. A table
that cannot be filled gets a note, never an exception. A table the migrations
already put rows in (documenso's service account, id 1) is filled with row
numbers from FIRST_AFTER_EXISTING, clear of the ids and values they hold, and
its foreign keys take parent rows its own rows do not name yet (a one-to-one
key: documenso's Organisation and its OrganisationClaim). A partial unique index that refuses
the rows (saleor: UNIQUE (is_default) WHERE is_default) is met by leaving out the rows its
predicate, as PostgreSQL prints it, holds for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import psycopg
from ..model.schema import Constraint, Schema, Table
from ..pg.ddl import sequence_of
from ..pg.quote import ident, ident_list, qname
from .check_values import check_choices
from .seed_partitions import key_values, partition_links
from .seed_scope import FEW
from .values import castable_sql, sql_value


FIRST_AFTER_EXISTING = 1_000_001


@dataclass
class SeedResult:
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fk_order(schema: Schema) -> list[Table]:
    """Tables with every referenced table before them. In a cycle, first a table whose required
    (NOT NULL) keys are met, its nullable ones left NULL (plane: workspaces before projects, which
    needs one, though workspaces may name a project); model order only where none is."""
    done: list[Table] = []
    names: set[str] = set()
    left = list(schema.tables)

    def met(table: Table, required_only: bool) -> bool:
        for c in table.constraints:
            if c.kind != "foreign_key" or c.ref_table in names or c.ref_table == table.name \
                    or schema.table(c.ref_table) is None:
                continue
            if required_only and all(table.column(col) is None or table.column(col).nullable for col in c.columns):
                continue
            return False
        return True

    while left:
        ready = [t for t in left if met(t, False)] or [t for t in left if met(t, True)]
        pick = ready[0] if ready else left[0]
        done.append(pick)
        names.add(pick.name)
        left.remove(pick)
    return done


def seed(conn: psycopg.Connection, schema: Schema, rows: int, full: Optional[set[str]] = None,
         converted: Optional[dict[tuple[str, str], str]] = None) -> SeedResult:
    """`rows` rows in each table of `full` (None: every table), FEW (seed_scope.py) in the others.
    `converted`: (table, column) -> the type a plan converts the column to: its text values cast to it."""
    result = SeedResult()
    links = partition_links(schema)
    routed = {child for _, child in links}  # filled through their parents (seed_partitions.py)
    partitioned = {parent for parent, _ in links}
    for table in fk_order(schema):
        if rows <= 0:
            result.counts[table.name] = 0
            continue
        if table.name in routed:
            continue
        if not table.columns:
            result.notes.append(f"{table.name}: not filled (its columns are not known)")
            continue
        keys = key_values(conn, table.name) if table.name in partitioned else {}
        held = conn.execute(f"SELECT EXISTS (SELECT FROM {qname(table.name)})").fetchone()[0]
        try:
            error = _fill(conn, schema, table, rows if full is None or table.name in full else min(rows, FEW),
                          result.counts, keys, held, [], converted or {}) or None
        except _CannotFill as exc:
            error = str(exc)
        if error is not None:
            result.notes.append(f"{table.name}: not filled: {error}")
            result.counts[table.name] = 0
            continue
        result.counts[table.name] = conn.execute(f"SELECT count(*) FROM {qname(table.name)}").fetchone()[0]
        if not result.counts[table.name]:
            result.notes.append(f"{table.name}: not filled: its INSERT added no row (a trigger that routes rows "
                                "away, or foreign keys with no parent row left to point at)")
        _reset_sequences(conn, table)
    for name in sorted(routed):  # what routing put in each partition
        if schema.table(name) is not None and rows > 0:
            result.counts[name] = conn.execute(f"SELECT count(*) FROM {qname(name)}").fetchone()[0]
    _close_cycles(conn, schema, result, routed | partitioned)
    conn.execute("ANALYZE")
    return result


def _close_cycles(conn: psycopg.Connection, schema: Schema, result: SeedResult, skip: set[str]) -> None:
    """The nullable foreign keys a cycle left NULL in every row (their parent was filled after them:
    plane's workspaces.default_project_id) point at parent rows now, NULL in every tenth row as
    elsewhere; one that cannot (a one-to-one key with too few parents) stays NULL, with a note.
    Partitioned tables are left as they are (a row's ctid is not unique across partitions)."""
    for table in schema.tables:
        if table.name in skip or not result.counts.get(table.name):
            continue
        t = qname(table.name)
        for con in table.constraints:
            if con.kind != "foreign_key":
                continue
            parent, cols, refs = _key_columns(schema, table, con)
            if parent is None or parent.name == table.name or parent.name in skip or not cols \
                    or len(refs) != len(cols) or not result.counts.get(parent.name) \
                    or not all(table.column(c).nullable for c in cols):
                continue
            named = " AND ".join(f"{ident(c)} IS NOT NULL" for c in cols)
            if conn.execute(f"SELECT EXISTS (SELECT FROM {t} WHERE {named})").fetchone()[0]:
                continue
            values = ", ".join(f"p.k{i}" for i in range(len(refs)))
            target = ident(cols[0]) if len(cols) == 1 else f"({ident_list(cols)})"
            value = values if len(cols) == 1 else f"ROW({values})"
            try:
                with conn.transaction():
                    conn.execute(
                        f"UPDATE {t} AS flux_child SET {target} = {value} "
                        f"FROM (SELECT ctid AS flux_row, row_number() OVER (ORDER BY ctid) AS rn FROM {t}) r "
                        f"JOIN {_parent_rows(parent, refs)} p ON p.rn = 1 + (r.rn - 1) % p.n "
                        "WHERE flux_child.ctid = r.flux_row AND r.rn % 10 <> 0")
            except psycopg.Error as exc:
                result.notes.append(f"{table.name}.{', '.join(cols)}: left NULL (foreign key {con.name}): "
                                    f"{(exc.diag.message_primary or str(exc)).strip()}")


class _CannotFill(Exception):
    pass


def _partial_unique(conn: psycopg.Connection, table: Table, exc: psycopg.Error) -> Optional[str]:
    """The predicate of the partial unique index a duplicate key broke, as PostgreSQL prints it
    (saleor's customer types: UNIQUE (is_default) WHERE is_default); None for any other error."""
    if not isinstance(exc, psycopg.errors.UniqueViolation) or not exc.diag.constraint_name:
        return None
    found = conn.execute(
        "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND c.relname = %s AND i.indpred IS NOT NULL",
        (qname(table.name), exc.diag.constraint_name)).fetchone()
    return found[0] if found else None


def _fill(conn: psycopg.Connection, schema: Schema, table: Table, rows: int, counts: dict[str, int],
          keys: dict, held: bool, outside: list[str], converted: dict[tuple[str, str], str]) -> str:
    """Insert the rows (the optional columns left out if that fails), keeping only the rows outside
    `outside` and each partial unique index that refuses one (one more each time); the error that
    stopped it, or "" once the rows went in. _CannotFill when the table cannot be filled at all."""
    error = ""
    for null_optional in (False, True):
        try:
            with conn.transaction():
                conn.execute(insert_sql(schema, table, rows, counts, null_optional, keys, held, outside, converted))
            return ""
        except psycopg.Error as exc:
            error = (exc.diag.message_primary or str(exc)).strip()
            where = _partial_unique(conn, table, exc)
            if where is not None and where not in outside:
                return _fill(conn, schema, table, rows, counts, keys, held, outside + [where], converted)
    return error


def insert_sql(schema: Schema, table: Table, rows: int, counts: dict[str, int], null_optional: bool,
               keys: Optional[dict[str, list[str]]] = None, held: bool = False, outside: Sequence[str] = (),
               converted: Optional[dict[tuple[str, str], str]] = None, by_default: bool = False) -> str:
    """`keys`: a partitioned table's partition-key values (seed_partitions.key_values), cycled
    like a CHECK's choices and never NULL. `held`: the table holds rows already. `outside`: SQL
    conditions on the row's columns (partial unique indexes' predicates) no row may meet: the rows
    that would are left out, so fewer than `rows` may go in. `by_default`: a column with a default
    is left to it, as an application's insert naming only some columns leaves it."""
    first = FIRST_AFTER_EXISTING if held else 1
    series = f"generate_series({first}, {first + rows - 1}) g"
    exprs: dict[str, str] = {}
    joins: list[str] = []
    choices = {**check_choices(table, schema), **(keys or {})}
    for col in table.columns:
        if col.generated or (by_default and col.default is not None):
            continue  # PostgreSQL computes it: no value may be given (stacks' mempool_txs was left empty)
        if col.name in choices:
            items = ", ".join(choices[col.name])
            exprs[col.name] = f"(ARRAY[{items}])[1 + g % {len(choices[col.name])}]::{col.type}"
            continue
        target = (converted or {}).get((table.name, col.name))
        value = (target and castable_sql(col.type, target, "g", col.name, schema)) or \
            sql_value(col.type, "g", col.name, schema)
        if value is None:
            if col.default is not None or col.nullable:
                continue  # its default (or NULL) fills it
            value = f"(g::text)::{col.type}"
        exprs[col.name] = value
    # The widest keys first, and a key whose columns a wider one fills already is left to that parent row
    # (formbricks' WorkflowRun: (workflowId, workspaceId) -> Workflow and workspaceId -> Workspace; each taking
    # a row of its own, the pair named no Workflow row). The narrower key holds through the wider one's parent.
    joined: set[str] = set()
    keys = sorted((c for c in table.constraints if c.kind == "foreign_key"), key=lambda c: -len(c.columns))
    for n, con in enumerate(keys):
        if con.columns and set(con.columns) <= joined:
            continue
        _foreign_key(schema, table, con, n, exprs, joins, counts, held)
        joined |= {c for c in con.columns if exprs.get(c, "").startswith(f"p{n}.")}
    for col in table.columns:
        if col.name not in exprs or col.name in table.primary_key or not col.nullable or col.name in (keys or {}):
            continue
        if null_optional:
            del exprs[col.name]
        else:
            exprs[col.name] = f"CASE WHEN g % 10 = 0 THEN NULL ELSE {exprs[col.name]} END"
    names = [c.name for c in table.columns if c.name in exprs]
    if not names:
        return f"INSERT INTO {qname(table.name)} SELECT FROM {series}"
    values = ", ".join(exprs[c] for c in names)
    rows_from = f"FROM {series}{''.join(joins)}"
    select = f"SELECT {values} {rows_from}"
    if outside:  # the conditions read the row's columns by name: the row is made first, then judged
        named = ", ".join(f"{exprs[c]} AS {ident(c)}" for c in names)
        kept = " AND ".join(f"NOT coalesce(({cond}), false)" for cond in outside)
        select = f"SELECT * FROM (SELECT {named} {rows_from}) flux_row WHERE {kept}"
    # OVERRIDING SYSTEM VALUE: a GENERATED ALWAYS identity column takes the row number too (the
    # model does not tell ALWAYS from BY DEFAULT; the clause is a no-op where there is none).
    return f"INSERT INTO {qname(table.name)} ({ident_list(names)}) OVERRIDING SYSTEM VALUE {select}"


def _foreign_key(schema: Schema, table: Table, con: Constraint, n: int, exprs: dict[str, str],
                 joins: list[str], counts: dict[str, int], held: bool = False) -> None:
    parent, cols, refs = _key_columns(schema, table, con)
    nullable = all(table.column(c).nullable for c in cols)
    if parent is None or len(refs) != len(cols) or not cols:
        if not nullable:
            raise _CannotFill(f"foreign key {con.name} points at {con.ref_table}, which is not in the schema")
        for c in cols:
            exprs.pop(c, None)
        return
    if parent.name == table.name:
        # A self-reference: the row points at itself when it must, else nowhere.
        for c, r in zip(cols, refs):
            if nullable or r not in exprs:
                exprs.pop(c, None)
            else:
                exprs[c] = exprs[r]
        if not nullable and any(r not in exprs for r in refs):
            raise _CannotFill(f"foreign key {con.name} refers to its own table through columns without values")
        return
    count = counts.get(parent.name, 0)
    if count <= 0:
        if not nullable:
            raise _CannotFill(f"its parent table {parent.name} has no rows (foreign key {con.name})")
        for c in cols:
            exprs.pop(c, None)
        return
    alias = f"p{n}"
    taken = ""
    if held:  # the parent rows the table's own rows name are taken (a one-to-one key): the others
        named = " AND ".join(f"flux_held.{ident(c)} = flux_parent.{ident(r)}" for c, r in zip(cols, refs))
        taken = f" AND NOT EXISTS (SELECT FROM {qname(table.name)} flux_held WHERE {named})"
    joins.append(f" JOIN {_parent_rows(parent, refs, taken)} {alias} ON {alias}.rn = 1 + (g - 1) % {alias}.n")
    for i, c in enumerate(cols):
        exprs[c] = f"{alias}.k{i}"


def _key_columns(schema: Schema, table: Table, con: Constraint) -> tuple[Optional[Table], list[str], list[str]]:
    """(the parent table or None, the key's columns the table has, the parent columns they name)."""
    parent = schema.table(con.ref_table) if con.ref_table else None
    refs = con.ref_columns or (parent.primary_key if parent is not None else [])
    return parent, [c for c in con.columns if table.column(c) is not None], refs


def _parent_rows(parent: Table, refs: list[str], taken: str = "") -> str:
    """The parent rows a key may point at, as a subquery: their key values (k0, k1, ...), their
    number (rn) and how many there are (n), to be cycled over; `taken` narrows them (flux_parent).
    n counts the rows picked, not the parent's: a nullable referenced column or rows taken leave fewer."""
    picked = ", ".join(f"{ident(r)} AS k{i}" for i, r in enumerate(refs))
    where = " AND ".join(f"{ident(r)} IS NOT NULL" for r in refs) + taken
    return (f"(SELECT {picked}, row_number() OVER (ORDER BY {ident_list(refs)}) AS rn, count(*) OVER () AS n "
            f"FROM {qname(parent.name)} flux_parent WHERE {where})")


def _reset_sequences(conn: psycopg.Connection, table: Table) -> None:
    """Identity and serial columns continue after the seeded ids (identity columns as the catalog
    lists them: a table's identity need not be its one-column key, as v1_dag's (id, inserted_at))."""
    cols = [c.name for c in table.columns if sequence_of(c.default)]
    cols += [name for (name,) in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attidentity <> '' AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (qname(table.name),)) if name not in cols]
    for col in cols:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({ident(col)}), 0) + 1, false) "
            f"FROM {qname(table.name)}", (qname(table.name), col))
