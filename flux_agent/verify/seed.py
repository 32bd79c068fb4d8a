"""Fill every table with N synthetic rows that respect types, keys and constraints.

One `INSERT ... SELECT ... FROM generate_series(1, N) g` per table, parents
before children. Values come from the row number, so they are unique per
column; foreign keys point at existing parent rows (row g takes parent row
g, wrapping around); enum values and `CHECK (col IN (...))` choices are
cycled; nullable columns hold values too, NULL on every tenth row. A table
that cannot be filled gets a note, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import psycopg
import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind

from ..model.schema import Constraint, Schema, Table
from ..pg.ddl import identity_column, sequence_of
from ..pg.quote import ident, ident_list, literal, qname
from .values import sql_value


@dataclass
class SeedResult:
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fk_order(schema: Schema) -> list[Table]:
    """Tables with every referenced table before them (cycles keep model order)."""
    done: list[Table] = []
    names: set[str] = set()
    left = list(schema.tables)
    while left:
        ready = [t for t in left if all(c.ref_table in names or c.ref_table == t.name or schema.table(c.ref_table)
                                        is None for c in t.constraints if c.kind == "foreign_key")]
        pick = ready[0] if ready else left[0]
        done.append(pick)
        names.add(pick.name)
        left.remove(pick)
    return done


def seed(conn: psycopg.Connection, schema: Schema, rows: int) -> SeedResult:
    result = SeedResult()
    for table in fk_order(schema):
        if rows <= 0:
            result.counts[table.name] = 0
            continue
        if not table.columns:
            result.notes.append(f"{table.name}: not filled (its columns are not known)")
            continue
        error = None
        for null_optional in (False, True):
            try:
                sql = insert_sql(schema, table, rows, result.counts, null_optional)
                with conn.transaction():
                    conn.execute(sql)
                error = None
                break
            except _CannotFill as exc:
                error = str(exc)
                break
            except psycopg.Error as exc:
                error = (exc.diag.message_primary or str(exc)).strip()
        if error is not None:
            result.notes.append(f"{table.name}: not filled: {error}")
            result.counts[table.name] = 0
            continue
        result.counts[table.name] = conn.execute(f"SELECT count(*) FROM {qname(table.name)}").fetchone()[0]
        _reset_sequences(conn, table)
    conn.execute("ANALYZE")
    return result


class _CannotFill(Exception):
    pass


def insert_sql(schema: Schema, table: Table, rows: int, counts: dict[str, int], null_optional: bool) -> str:
    exprs: dict[str, str] = {}
    joins: list[str] = []
    choices = check_choices(table)
    for col in table.columns:
        if col.name in choices:
            items = ", ".join(choices[col.name])
            exprs[col.name] = f"(ARRAY[{items}])[1 + g % {len(choices[col.name])}]::{col.type}"
            continue
        value = sql_value(col.type, "g", col.name, schema)
        if value is None:
            if col.default is not None or col.nullable:
                continue  # its default (or NULL) fills it
            value = f"(g::text)::{col.type}"
        exprs[col.name] = value
    for n, con in enumerate(c for c in table.constraints if c.kind == "foreign_key"):
        _foreign_key(schema, table, con, n, exprs, joins, counts)
    for col in table.columns:
        if col.name not in exprs or col.name in table.primary_key or not col.nullable:
            continue
        if null_optional:
            del exprs[col.name]
        else:
            exprs[col.name] = f"CASE WHEN g % 10 = 0 THEN NULL ELSE {exprs[col.name]} END"
    names = [c.name for c in table.columns if c.name in exprs]
    if not names:
        return f"INSERT INTO {qname(table.name)} SELECT FROM generate_series(1, {rows}) g"
    values = ", ".join(exprs[c] for c in names)
    return (f"INSERT INTO {qname(table.name)} ({ident_list(names)}) SELECT {values} "
            f"FROM generate_series(1, {rows}) g{''.join(joins)}")


def _foreign_key(schema: Schema, table: Table, con: Constraint, n: int, exprs: dict[str, str],
                 joins: list[str], counts: dict[str, int]) -> None:
    parent = schema.table(con.ref_table) if con.ref_table else None
    refs = con.ref_columns or (parent.primary_key if parent is not None else [])
    cols = [c for c in con.columns if table.column(c) is not None]
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
    picked = ", ".join(f"{ident(r)} AS k{i}" for i, r in enumerate(refs))
    not_null = " AND ".join(f"{ident(r)} IS NOT NULL" for r in refs)
    joins.append(f" JOIN (SELECT {picked}, row_number() OVER (ORDER BY {ident_list(refs)}) AS rn "
                 f"FROM {qname(parent.name)} WHERE {not_null}) {alias} ON {alias}.rn = 1 + (g - 1) % {count}")
    for i, c in enumerate(cols):
        exprs[c] = f"{alias}.k{i}"


def check_choices(table: Table) -> dict[str, list[str]]:
    """column -> SQL literals from `CHECK (col IN (...))` / `col = ANY (ARRAY[...])` constraints."""
    out: dict[str, list[str]] = {}
    for con in table.constraints:
        if con.kind != "check" or not con.expression:
            continue
        try:
            node = pglast.parse_sql(f"SELECT {con.expression}")[0].stmt.targetList[0].val
        except Exception:  # an expression pglast cannot read back: no choices from it
            continue
        parts = node.args if isinstance(node, ast.BoolExpr) and node.boolop == 0 else (node,)  # AND
        for part in parts:
            found = _in_list(part)
            if found:
                out[found[0]] = found[1]
    return out


def _in_list(node) -> Optional[tuple[str, list[str]]]:
    if not isinstance(node, ast.A_Expr) or not isinstance(node.lexpr, ast.ColumnRef):
        return None
    items = None
    if node.kind == A_Expr_Kind.AEXPR_IN and isinstance(node.rexpr, (list, tuple)):
        items = node.rexpr
    elif node.kind == A_Expr_Kind.AEXPR_OP_ANY:
        arr = node.rexpr.arg if isinstance(node.rexpr, ast.TypeCast) else node.rexpr
        items = arr.elements if isinstance(arr, ast.A_ArrayExpr) else None
    if not items:
        return None
    values = []
    for item in items:
        item = item.arg if isinstance(item, ast.TypeCast) else item
        if not isinstance(item, ast.A_Const) or item.isnull:
            return None
        v = item.val
        values.append(literal(v.sval) if hasattr(v, "sval") else str(getattr(v, "ival", getattr(v, "fval", ""))))
    field = node.lexpr.fields[-1]
    return (field.sval, values) if isinstance(field, ast.String) else None


def _reset_sequences(conn: psycopg.Connection, table: Table) -> None:
    """Identity and serial columns continue after the seeded ids."""
    cols = [c.name for c in table.columns if sequence_of(c.default)]
    ident_col = identity_column(table)
    if ident_col:
        cols.append(ident_col)
    for col in cols:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max({ident(col)}), 0) + 1, false) "
            f"FROM {qname(table.name)}", (qname(table.name), col))
