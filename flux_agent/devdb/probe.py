"""Asks the dev database whether PostgreSQL takes the expressions and types a request gives (a
default, a USING, a backfill, a check, an index's predicate and columns, a key's types) before any
step is planned: each operation's plain DDL run on the project's schema, in one transaction rolled
back. Flux checks the names (plan/ops); only PostgreSQL knows the types: `integer DEFAULT 'abc'`
and `integer DEFAULT now()` were planned and written, and failed in `flux verify`."""

from __future__ import annotations

from typing import Optional, Sequence

import psycopg
from psycopg import errors

from ..errors import FluxError, FluxInputError
from ..model.operations import Operation
from ..model.settings import Settings
from ..pg.parse import expr, is_one_name
from ..pg.quote import ident, ident_list, qname
from ..pg.types import type_name
from .build import Built
from .server import Server, binaries_major, dev_server

# What a probe's failure says of the request: a value or an expression PostgreSQL refuses (class 22,
# data exceptions; and the type and definition errors of class 42). Other failures (a name the
# probes made or dropped differently from the plan, a lock) say nothing of it: that operation is
# not judged.
_REFUSALS = (psycopg.DataError, errors.DatatypeMismatch, errors.UndefinedFunction, errors.CannotCoerce,
             errors.AmbiguousFunction, errors.IndeterminateDatatype, errors.SyntaxError, errors.WrongObjectType,
             errors.InvalidObjectDefinition, errors.InvalidForeignKey, errors.FeatureNotSupported,
             errors.UndefinedObject, errors.InvalidColumnReference, errors.GroupingError)
_PROBE = "flux_probe"


def _value(text: str, what: str) -> str:
    return f"({expr(text, what)})"


def probes(op: Operation) -> list[tuple[str, str]]:
    """(what the statement tries, the statement) for one operation; none for what has no expression
    or type of the request's (a drop, a raw statement)."""
    kind = op.op
    if kind == "create_table":
        cols = []
        for c in op.columns:
            default = f" DEFAULT {_value(c.default, 'default')}" if c.default else ""
            cols.append(f"{ident(c.name)} {type_name(c.type)}{default}{'' if c.nullable else ' NOT NULL'}")
        keys = [c.name for c in op.columns if c.primary_key]
        if keys:
            cols.append(f"PRIMARY KEY ({ident_list(keys)})")
        return [(f"table {op.table}", f"CREATE TABLE {qname(op.table)} ({', '.join(cols)})")]
    table = qname(op.table) if getattr(op, "table", None) else ""
    if kind == "add_column":
        default = f" DEFAULT {_value(op.default, 'default')}" if op.default else ""
        out = [(f"the default {op.default!r} of {op.table}.{op.column} ({op.type})" if op.default
                else f"column {op.table}.{op.column} {op.type}",
                f"ALTER TABLE {table} ADD COLUMN {ident(op.column)} {type_name(op.type)}{default}")]
        return out + ([_filled(op, table, op.backfill, "backfill")] if op.backfill else [])
    if kind == "set_default":
        return [(f"the default of {op.table}.{op.column}",
                 f"ALTER TABLE {table} ALTER COLUMN {ident(op.column)} SET DEFAULT {_value(op.default, 'default')}")]
    if kind == "set_not_null" and op.backfill:
        return [_filled(op, table, op.backfill, "backfill")]
    if kind == "backfill":
        return [_filled(op, table, op.value, "value", f" AND {_value(op.where, 'where')}" if op.where else "")]
    if kind == "change_column_type":
        new = type_name(op.type)
        value = _value(op.using, "using") if op.using else f"CAST({ident(op.column)} AS {new})"
        return [(f"{op.table}.{op.column} as {op.type}", f"ALTER TABLE {table} ADD COLUMN {_PROBE} {new}"),
                (f"{op.table}.{op.column} as {op.type}" + (" by its using expression" if op.using else ""),
                 f"UPDATE {table} SET {_PROBE} = {value} WHERE false")]
    if kind == "add_check":
        return [(f"the check {op.expression!r} on {op.table}",
                 f"ALTER TABLE {table} ADD CONSTRAINT {_PROBE} CHECK {_value(op.expression, 'check')} NOT VALID")]
    if kind == "add_index":
        where = f" WHERE {_value(op.where, 'where')}" if op.where else ""
        keys = ", ".join(_index_key(k) for k in op.columns)
        return [(f"the index on {op.table} ({', '.join(op.columns)})",
                 f"CREATE {'UNIQUE ' if op.unique else ''}INDEX {_PROBE} ON {table} ({keys}){where}")]
    if kind == "add_foreign_key":
        return [(f"the foreign key {op.table} ({', '.join(op.columns)}) -> {op.ref_table}",
                 f"ALTER TABLE {table} ADD CONSTRAINT {_PROBE} FOREIGN KEY ({ident_list(op.columns)}) "
                 f"REFERENCES {qname(op.ref_table)} ({ident_list(op.ref_columns)}) NOT VALID")]
    if kind == "rename_column":  # later operations name the new column
        return [("", f"ALTER TABLE {table} RENAME COLUMN {ident(op.column)} TO {ident(op.new_name)}")]
    if kind == "rename_table":
        return [("", f"ALTER TABLE {table} RENAME TO {ident(op.new_name.split('.')[-1])}")]
    return []


def _index_key(key: str) -> str:
    """A key of add_index as CREATE INDEX lists it: an expression in parentheses, a column quoted (the
    planner checked each is one or the other: a name that reads as no expression is a column's)."""
    if is_one_name(key):
        return ident(key)
    try:
        return _value(key, "index expression")
    except FluxInputError:
        return ident(key)


def _filled(op: Operation, table: str, value: str, what: str, where: str = "") -> tuple[str, str]:
    """The probe of a backfill's value: typed against the column, on no row (WHERE false)."""
    return (f"the backfill of {op.table}.{op.column}",
            f"UPDATE {table} SET {ident(op.column)} = {_value(value, what)} WHERE false{where}")


def refusal(server: Server, built: Built, operations: Sequence[Operation]) -> Optional[str]:
    """The one line saying what PostgreSQL refused of the operations, run in turn on the dev database
    `built` made (None: it took them, or it is gone from the server)."""
    try:
        conn = psycopg.connect(server.database_url(built.database), connect_timeout=10)
    except psycopg.Error:
        return None  # dropped since its schema was cached: nothing to judge on
    with conn:
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("SET LOCAL statement_timeout = '10s'")
        try:
            for n, op in enumerate(operations):
                for what, sql in probes(op):
                    try:
                        with conn.transaction():  # a savepoint: a failure not of the request's leaves the rest
                            conn.execute(sql.replace(_PROBE, f"{_PROBE}_{n}"))
                    except _REFUSALS as exc:
                        if what:
                            return f"operation {n}: PostgreSQL refuses {what}: {_said(exc, f'{_PROBE}_{n}')}"
                    except errors.UndefinedTable as exc:
                        # a relation the expression names (nextval('no_such_seq')), where the operation's
                        # own table is there: not one an operation the probes leave out would make
                        if what and _there(conn, op):
                            return f"operation {n}: PostgreSQL refuses {what}: {_said(exc, f'{_PROBE}_{n}')}"
                    except psycopg.Error:
                        continue
        finally:
            conn.rollback()
    return None


def _there(conn: psycopg.Connection, op: Operation) -> bool:
    """Is the operation's table there (a new table's: always, it makes it)?"""
    if op.op == "create_table":
        return True
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (qname(op.table),)).fetchone()[0]


def _said(exc: psycopg.Error, probe: str) -> str:
    """PostgreSQL's message, its detail and hint, with the probe's own names out of it."""
    diag = exc.diag
    parts = [diag.message_primary or str(exc).splitlines()[0], diag.message_detail, diag.message_hint]
    text = " ".join(p.strip().rstrip(".") + "." for p in parts if p).rstrip(".")
    for named, plain in ((f'column "{probe}"', "the new column"), (f' "{probe}"', ""), (probe, "it")):
        text = text.replace(named, plain)
    return text


def refused(built: Built, settings: Settings, operations: Sequence[Operation]) -> Optional[str]:
    """refusal() on the dev server that holds `built`; None where no operation gives an expression or
    a type (no server is started for a rename) or the server cannot be had."""
    if not any(what for op in operations for what, _ in probes(op)):
        return None
    try:
        server = dev_server(settings.dev_url, binaries_major(settings) or settings.pg_version)
    except FluxError:
        return None
    return refusal(server, built, operations)
