"""Whether a database shows a step's effects (effects.py): one read-only catalog query per fact,
names passed as parameters (to_regclass of a quoted name), never pasted into the SQL."""

from __future__ import annotations

from typing import NamedTuple, Optional

from ..pg.quote import qname, split_qualified
from .effects import Effect


class Seen(NamedTuple):
    holds: bool
    text: str  # what the catalogs show, for the report
    invalid_index: bool = False  # an index a CREATE INDEX CONCURRENTLY left INVALID


def seen(conn, effect: Effect) -> Seen:
    kind = effect.kind
    if kind in ("table", "view"):
        row = conn.execute("SELECT c.relkind::text FROM pg_class c WHERE c.oid = to_regclass(%s)",
                           [qname(effect.name)]).fetchone()
        present = row is not None and (row[0] in ("r", "p") if kind == "table" else row[0] in ("v", "m"))
        return _presence(effect, present)
    if kind == "column":
        row = conn.execute("SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) "
                           "AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped",
                           [qname(effect.table), effect.name]).fetchone()
        if effect.want == "not null":
            return Seen(row is not None and row[0], f"{effect} (it is {_nullness(row)})")
        if effect.want == "nullable":
            return Seen(row is not None and not row[0], f"{effect} (it is {_nullness(row)})")
        return _presence(effect, row is not None)
    if kind == "index":
        row = conn.execute("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)",
                           [qname(effect.name)]).fetchone()
        if row is not None and not row[0]:
            return Seen(effect.want == "absent", f"index {effect.name} is INVALID", invalid_index=True)
        return _presence(effect, row is not None)
    if kind == "constraint":
        row = conn.execute("SELECT c.convalidated FROM pg_constraint c WHERE c.conrelid = to_regclass(%s) "
                           "AND c.conname = %s", [qname(effect.table), effect.name]).fetchone()
        if effect.want == "validated":
            state = "missing" if row is None else "validated" if row[0] else "NOT VALID"
            return Seen(row is not None and row[0], f"constraint {effect.name} on {effect.table} is {state}")
        return _presence(effect, row is not None)
    if kind == "trigger":
        row = conn.execute("SELECT 1 FROM pg_trigger t WHERE t.tgrelid = to_regclass(%s) AND t.tgname = %s "
                           "AND NOT t.tgisinternal", [qname(effect.table), effect.name]).fetchone()
        return _presence(effect, row is not None)
    schema, name = split_qualified(effect.name)  # a function, by name in its schema
    row = conn.execute("SELECT 1 FROM pg_proc p WHERE p.proname = %s AND p.pronamespace = "
                       "(SELECT oid FROM pg_namespace WHERE nspname = coalesce(%s, current_schema()))",
                       [name, schema]).fetchone()
    return _presence(effect, row is not None)


ROWS_CAP = 100_000  # rows counted at most: status reads, it does not scan a big table to the end


def rows_left(conn, table: str, pending: str) -> Optional[int]:
    """Rows of `table` for which the backfill's condition still holds (at most ROWS_CAP); None when
    the condition cannot be evaluated (a column the step's expand has not made yet). `pending` is
    the planner's own SQL, with identifiers it quoted; the query runs in a savepoint."""
    import psycopg
    from psycopg import sql

    query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) AS todo").format(
        sql.SQL(qname(table)), sql.SQL(pending), sql.Literal(ROWS_CAP))
    try:
        with conn.transaction():
            return int(conn.execute(query).fetchone()[0])
    except psycopg.Error:
        return None


def rows_breaking(conn, table: str, constraint: str) -> Optional[int]:
    """Rows of `table` that break its NOT VALID check or foreign key `constraint` (at most ROWS_CAP),
    read from the constraint PostgreSQL holds: its expression (pg_get_expr), its key columns; None
    when it is not there NOT VALID, or the count fails (runs in a savepoint)."""
    import psycopg
    from psycopg import sql

    row = conn.execute(
        "SELECT c.contype::text, pg_get_expr(c.conbin, c.conrelid), c.confrelid::regclass::text, "
        "ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a "
        "      ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), "
        "ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a "
        "      ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) "
        "FROM pg_constraint c WHERE c.conrelid = to_regclass(%s) AND c.conname = %s AND NOT c.convalidated",
        [qname(table), constraint]).fetchone()
    if row is None:
        return None
    kind, expression, ref, cols, ref_cols = row
    if kind == "c":  # a row breaks a check where its expression is false (NULL passes)
        breaks = sql.SQL("NOT ({})").format(sql.SQL(expression))  # PostgreSQL's own text of it
    elif kind == "f" and cols and len(cols) == len(ref_cols):  # MATCH SIMPLE: a key with a NULL passes
        breaks = sql.SQL("{} AND NOT EXISTS (SELECT 1 FROM {} AS r WHERE {})").format(
            sql.SQL(" AND ").join(sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in cols),
            sql.SQL(ref),  # regclass's text: quoted where it must be
            sql.SQL(" AND ").join(sql.SQL("r.{} = t.{}").format(sql.Identifier(r), sql.Identifier(c))
                                  for c, r in zip(cols, ref_cols)))
    else:
        return None
    query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} AS t WHERE {} LIMIT {}) AS breaking").format(
        sql.SQL(qname(table)), breaks, sql.Literal(ROWS_CAP))
    try:
        with conn.transaction():
            return int(conn.execute(query).fetchone()[0])
    except psycopg.Error:
        return None


def _presence(effect: Effect, present: bool) -> Seen:
    holds = present if effect.want != "absent" else not present
    return Seen(holds, f"{effect.kind} {_named(effect)} is {'present' if present else 'absent'}")


def _named(effect: Effect) -> str:
    if effect.kind == "column":
        return f"{effect.table}.{effect.name}"
    return f"{effect.name} on {effect.table}" if effect.table and effect.kind in ("constraint", "trigger") else effect.name


def _nullness(row: Optional[tuple]) -> str:
    return "missing" if row is None else "NOT NULL" if row[0] else "nullable"
