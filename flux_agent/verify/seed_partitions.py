"""How verify's synthetic rows reach a partitioned table: through the table itself, routed by
PostgreSQL, with partition-key values its partitions accept, read from the catalogs (each
partition's lower bound of a RANGE key, its values of a LIST key). Rows made from the row number
alone fall outside time-ranged partitions (hatchet's daily ones: "no partition ... found for
row"), and a partition filled directly would hold rows its bounds refuse."""

from __future__ import annotations

from typing import Optional

import psycopg
from pglast import ast
from pglast.parser import ParseError

from ..model.schema import Schema
from ..pg.parse import parse_sql, render


def partition_links(schema: Schema) -> list[tuple[str, str]]:
    """(partitioned table, partition) pairs: a partition is filled through its parent."""
    deps = schema.dependencies
    return [(d.table, d.name) for d in deps.dependents if d.kind == "partition"] if deps is not None else []


def key_values(conn: psycopg.Connection, table: str) -> dict[str, list[str]]:
    """column -> SQL literals the partitions of `table` accept, for a table partitioned by RANGE
    or LIST on one column; empty where any value is accepted (HASH, a DEFAULT partition) or the
    key is more than one plain column (then the rows are tried as they are)."""
    try:
        row = conn.execute("SELECT pg_get_partkeydef(%s::regclass)", (table,)).fetchone()
    except psycopg.Error:
        return {}
    spec = _parsed(f"CREATE TABLE flux_t (flux_c int) PARTITION BY {row[0]}") if row and row[0] else None
    if spec is None or spec.partspec is None or len(spec.partspec.partParams) != 1:
        return {}
    column = spec.partspec.partParams[0].name
    if column is None:  # an expression key
        return {}
    rows = conn.execute("SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY c.relname",
                        (table,)).fetchall()
    values: list[str] = []
    for (bound,) in rows:
        parsed = _parsed(f"CREATE TABLE flux_t PARTITION OF flux_p {bound}") if bound else None
        spec_ = parsed.partbound if parsed is not None else None
        if spec_ is None or spec_.is_default or spec_.strategy == "h":
            return {}  # any value finds a partition
        datums = spec_.lowerdatums[:1] if spec_.strategy == "r" else list(spec_.listdatums or ())
        values += [render(d) for d in datums if isinstance(d, ast.A_Const) and not d.isnull]
    return {column: values} if values else {}


def _parsed(sql: str) -> Optional[ast.CreateStmt]:
    try:
        stmt = parse_sql(sql)[0].stmt
    except (ParseError, IndexError):
        return None
    return stmt if isinstance(stmt, ast.CreateStmt) else None
