"""The rows around a plan run: per-column checksums a lossless rollback must
give back, the keys no forward run may lose, and the values a forward run
must leave where the plan says it sets them (a backfill's rows, a copied or
converted column, a new column's value for the rows already there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import psycopg

from ..model.schema import Schema, Table
from ..pg.quote import canonical_table, ident, ident_list, qname

# A row key (primary key values, as psycopg returns them), per table.
Keys = dict[str, set[tuple]]
Sums = dict[tuple[str, Optional[str]], str]


def _tables(schema: Schema) -> list[tuple[str, list[str], list[str]]]:
    return [(t.name, list(t.primary_key), [c.name for c in t.columns]) for t in schema.tables]


def checksums(conn: psycopg.Connection, schema: Schema) -> Sums:
    """(table, column) -> md5 of the column's values in key order (whole-row order without a key);
    (table, None) -> the row count."""
    out: Sums = {}
    for table, pk, cols in _tables(schema):
        if not cols:
            continue
        order = ", ".join(f"flux_t.{ident(c)}" for c in pk) if pk else "flux_t::text"
        aggs = ", ".join(f"md5(coalesce(string_agg(quote_nullable(flux_t.{ident(c)}::text), ',' ORDER BY {order}), ''))"
                         for c in cols)
        try:
            row = conn.execute(f"SELECT count(*), {aggs} FROM {qname(table)} AS flux_t").fetchone()
        except psycopg.Error:
            continue  # the table or a column is not there: the catalog comparison says so
        out[(table, None)] = f"{row[0]} rows"
        out.update({(table, c): v for c, v in zip(cols, row[1:])})
    return out


def lost_by_plan(operations: Sequence, lossy: bool) -> Optional[set[tuple[str, Optional[str]]]]:
    """What the plan declares lost on rollback: (table, column) or (table, None) for a whole table;
    None when it may be anything (proposed SQL). Only a plan with a step that declares data loss
    on rollback loses anything."""
    if not lossy:
        return set()
    lost: set[tuple[str, Optional[str]]] = set()
    for op in operations:
        if op.op == "drop_table":
            lost.add((canonical_table(op.table), None))
        elif op.op in ("drop_column", "backfill") or op.op == "set_not_null" and op.backfill is not None \
                or op.op == "change_column_type" and op.using is not None:
            lost.add((canonical_table(op.table), op.column))
        elif op.op == "raw_sql":
            return None  # what proposed SQL's rollback loses is not known here
    return lost


def checksum_differences(before: Sums, after: Sums, operations: Sequence, lossy: bool,
                         skip_tables: Sequence[str] = (), fired: Sequence[str] = (),
                         notes: Optional[list[str]] = None) -> list[str]:
    """Data a rollback should have given back and did not. `fired`: tables whose backfill fires row
    triggers of the project's, as the plan warns (plan/triggers.py): what their columns lost is a note
    (added to `notes`), the warning's news, not a failure the plan did not say."""
    lost = lost_by_plan(operations, lossy)
    if lost is None:
        return []
    out = []
    for (table, column), value in before.items():
        if (table, None) in lost or (table, column) in lost or table in skip_tables \
                or (table, column) not in after or after[(table, column)] == value:
            continue
        if column is not None and table in fired:
            if notes is not None:
                notes.append(f"the values of {table}.{column} differ after the rollback from before the plan: the "
                             f"backfill fired {table}'s update triggers, as the plan warns (backfill-fires-triggers)")
            continue
        if column is None:
            out.append(f"table {table} holds {after[(table, None)]} after the rollback, {value} before the plan, "
                       "and the plan declares no data loss there")
        else:
            out.append(f"the values of {table}.{column} differ after the rollback from before the plan, and the "
                       "plan declares no data loss there")
    return out


# --------------------------------------------------------------------------
# Keys: no forward run loses a row
# --------------------------------------------------------------------------


def row_keys(conn: psycopg.Connection, schema: Schema) -> Keys:
    return {t: {tuple(r) for r in conn.execute(f"SELECT {ident_list(pk)} FROM {qname(t)}").fetchall()}
            for t, pk, _ in _tables(schema) if pk}


def renamed_tables(operations: Sequence, before: Schema) -> dict[str, Optional[str]]:
    """Before-plan table -> its name after the plan (None when the plan drops it or it cannot be followed)."""
    from ..plan.ops import OPS

    work = before.model_copy(deep=True)
    # Each table followed as an object while an operation changes it in place (a rename), and by its
    # name where an operation makes the tables again (raw SQL is replayed into new objects). The
    # objects are held, so no new table takes a freed one's id (CI once read users as notes).
    follow: list[tuple[Optional[Table], str]] = [(t, t.name) for t in work.tables]
    for op in operations:
        OPS[op.op].validate(op, work)
        OPS[op.op].apply(op, work)
        present = {id(t) for t in work.tables}
        follow = [(t if t is None or id(t) in present else work.table(t.name), first) for t, first in follow]
    return {first: (t.name if t is not None else None) for t, first in follow}


def missing_rows(conn: psycopg.Connection, keys: Keys, names: dict[str, Optional[str]], after: Schema) -> list[str]:
    """Keys there before a forward run and gone after it (`names`: renamed_tables)."""
    out = []
    for table, before in keys.items():
        now = names.get(table, table)
        model = after.table(now) if now else None
        if model is None or not model.primary_key or not before:
            continue
        have = {tuple(r) for r in conn.execute(f"SELECT {ident_list(model.primary_key)} FROM {qname(now)}")}
        gone = before - have
        if gone:
            out.append(f"{len(gone)} row(s) of {now} are gone after the forward run (e.g. key {sorted(gone)[0]})")
    return out


# --------------------------------------------------------------------------
# Values: what the plan sets is there
# --------------------------------------------------------------------------


@dataclass
class Expected:
    what: str
    table: str  # before the plan
    pk: list[str]
    column: str  # after the plan
    strict: bool  # the value must equal `expected`; else only: a row the plan changes no longer holds its old value
    rows: dict[tuple, tuple[Optional[str], Optional[str]]] = field(default_factory=dict)  # key -> (old, expected)


def _expectation(conn, what: str, table, column_after: str, old_sql: str, new_sql: str, where: Optional[str],
                 strict: bool, notes: list[str]) -> Optional[Expected]:
    pk = list(table.primary_key)
    if not pk:
        return None
    filt = f" WHERE {where}" if where else ""
    sql = f"SELECT {ident_list(pk)}, ({old_sql})::text, ({new_sql})::text FROM {qname(table.name)}{filt}"
    try:
        rows = conn.execute(sql).fetchall()
    except psycopg.Error as exc:
        notes.append(f"{what}: the expected values could not be worked out beforehand "
                     f"({(exc.diag.message_primary or str(exc)).strip()}); not checked")
        return None
    n = len(pk)
    return Expected(what, table.name, pk, column_after, strict,
                    {tuple(r[:n]): (r[n], r[n + 1]) for r in rows})


def expectations(conn: psycopg.Connection, operations: Sequence, before: Schema, notes: list[str]) -> list[Expected]:
    """Before a forward run: for each operation that sets values in existing rows, what they must become."""
    out: list[Optional[Expected]] = []
    for op in operations:
        key = canonical_table(getattr(op, "table", "") or "")
        table = before.table(key) if key else None
        if table is None:
            continue
        col = table.column(getattr(op, "column", None) or "") if hasattr(op, "column") else None
        if op.op == "backfill" and col is not None:
            out.append(_expectation(conn, f"backfill of {key}.{op.column}", table, op.column, ident(op.column),
                                    f"CAST(({op.value}) AS {col.type})", op.where, False, notes))
        elif op.op == "set_not_null" and op.backfill is not None and col is not None:
            out.append(_expectation(conn, f"backfill of NULLs in {key}.{op.column}", table, op.column,
                                    ident(op.column), f"CAST(({op.backfill}) AS {col.type})",
                                    f"{ident(op.column)} IS NULL", False, notes))
        elif op.op == "add_column" and table.column(op.column) is None and (op.backfill or op.default):
            value = op.backfill or op.default
            out.append(_expectation(conn, f"the new column {key}.{op.column} in the rows already there", table,
                                    op.column, "NULL", f"CAST(({value}) AS {op.type})", None, False, notes))
        elif op.op == "change_column_type" and col is not None:
            value = op.using or ident(op.column)
            out.append(_expectation(conn, f"the converted values of {key}.{op.column}", table, op.column,
                                    ident(op.column), f"CAST(({value}) AS {op.type})", None, True, notes))
        elif op.op == "rename_column" and col is not None:
            out.append(_expectation(conn, f"the values of {key}.{op.column} under its new name {op.new_name}",
                                    table, op.new_name, ident(op.column), ident(op.column), None, True, notes))
    return [e for e in out if e is not None]


def wrong_values(conn: psycopg.Connection, expected: Sequence[Expected], names: dict[str, Optional[str]],
                 skip: Optional[Keys] = None) -> list[str]:
    """After a forward run: rows that do not hold what the plan sets (rows the application wrote meanwhile,
    `skip`, are the load test's to judge)."""
    out = []
    for e in expected:
        table = names.get(e.table, e.table)
        if table is None or not e.rows:
            continue
        try:
            rows = conn.execute(f"SELECT {ident_list(e.pk)}, {ident(e.column)}::text FROM {qname(table)}").fetchall()
        except psycopg.Error as exc:
            out.append(f"{e.what}: cannot read {table}.{e.column} after the forward run: "
                       f"{(exc.diag.message_primary or str(exc)).strip()}")
            continue
        n = len(e.pk)
        now = {tuple(r[:n]): r[n] for r in rows}
        passed = (skip or {}).get(e.table, set())
        bad = []
        for k, (old, want) in e.rows.items():
            if k not in now or k in passed:
                continue
            got = now[k]
            if (got != want) if e.strict else (got == old and want != old):
                bad.append((k, got, want))
        if bad:
            k, got, want = sorted(bad, key=lambda b: repr(b[0]))[-1]
            out.append(f"{e.what}: {len(bad)} of {len(e.rows)} row(s) of {table} do not hold the planned value "
                       f"after the forward run (e.g. key {k}: {e.column} is {_val(got)}, expected {_val(want)})")
    return out


def _val(v: Optional[str]) -> str:
    return "NULL" if v is None else repr(v if len(v) <= 80 else v[:79] + "…")
