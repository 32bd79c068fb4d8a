"""Read `pg_dump --schema-only` output: dbmate's db/schema.sql, Rails' db/structure.sql.

A dump is SQL plus a few lines psql reads itself. Those lines are blanked (so
error line numbers still match the file) and the rest goes through the same
replay reader as migrations: `CREATE TABLE` then `ALTER TABLE ONLY ... ADD
CONSTRAINT`, `ALTER ... SET DEFAULT nextval(...)`, `ADD GENERATED ... AS
IDENTITY`, `CREATE INDEX ... USING btree`, `CREATE TYPE ... AS ENUM` and views
are all statements the replay already applies; functions, triggers, sequences,
comments, `SELECT set_config(...)` and `INSERT INTO schema_migrations` change
nothing it keeps and are skipped.

Because pg_dump runs with an empty search_path it qualifies every name. Table
keys come out right already (`public.t` is `t`); afterwards expressions are
brought to what PostgreSQL prints with `public` on the path, so that a dump and
the migrations that built the same database give the same model:
`nextval('public.t_id_seq'::regclass)` becomes `nextval('t_id_seq'::regclass)`
(the form the replay gives a `serial` column), and `public.` before a type or
function name inside a default, CHECK or index expression is dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pglast import ast

from ..errors import FluxInputError
from ..models import Schema
from ..sql import iter_nodes, literal, parse_expr, render
from .replay import replay_sql

__all__ = ["read_pg_dump", "read_pg_dump_text", "without_psql_commands"]


def read_pg_dump(path: Path) -> Schema:
    """The schema a `pg_dump --schema-only` file describes."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"{path}: cannot read: {exc}") from None
    try:
        return read_pg_dump_text(text)
    except FluxInputError as exc:
        raise FluxInputError(f"{path}: {exc}") from None


def read_pg_dump_text(text: str) -> Schema:
    schema = replay_sql(without_psql_commands(text))
    for table in schema.tables:
        for col in table.columns:
            if col.default is not None:
                col.default = _nextval(col.default) or _unqualified(col.default)
        for con in table.constraints:
            if con.expression:
                con.expression = _unqualified(con.expression)
        plain = {c.name for c in table.columns}
        for index in table.indexes:
            index.columns = [c if c in plain else _unqualified(c) for c in index.columns]
            if index.where:
                index.where = _unqualified(index.where)
    return schema


def without_psql_commands(text: str) -> str:
    """`text` with psql meta-command lines (`\\restrict`, `\\connect`, ...) and the
    data lines of `COPY ... FROM stdin;` blocks blanked, line count unchanged."""
    lines = text.split("\n")
    in_copy = False
    for n, line in enumerate(lines):
        if in_copy:
            in_copy = line.rstrip("\r") != "\\."
            lines[n] = ""
        elif line.startswith("\\"):
            lines[n] = ""
        elif line.startswith("COPY ") and line.rstrip().upper().endswith("FROM STDIN;"):
            in_copy = True
    return "\n".join(lines)


# --------------------------------------------------------------------------


def _parsed(text: str):
    try:
        return parse_expr(text)
    except FluxInputError:
        return None  # e.g. an index item with an operator class: left as it is


def _nextval(text: str) -> Optional[str]:
    """`nextval('seq'::regclass)` as PostgreSQL prints it with public on the path."""
    if not text.startswith("nextval("):
        return None
    node = _parsed(text)
    if not isinstance(node, ast.FuncCall) or [n.sval for n in node.funcname][-1] != "nextval":
        return None
    arg = node.args[0] if node.args and len(node.args) == 1 else None
    if isinstance(arg, ast.TypeCast) and arg.typeName.names[-1].sval == "regclass":
        arg = arg.arg
    if not isinstance(arg, ast.A_Const) or not isinstance(arg.val, ast.String):
        return None
    seq = arg.val.sval
    for prefix in ("public.", '"public".'):
        if seq.startswith(prefix):
            seq = seq[len(prefix):]
    return f"nextval({literal(seq)}::regclass)"


def _unqualified(text: str) -> str:
    """Drop `public.` before type and function names; the text is kept when there is none."""
    node = _parsed(text)
    if node is None:
        return text
    changed = False
    for n in iter_nodes(node):
        if isinstance(n, ast.TypeName) and len(n.names) == 2 and n.names[0].sval == "public":
            n.names, changed = n.names[1:], True
        elif isinstance(n, ast.FuncCall) and len(n.funcname) == 2 and n.funcname[0].sval == "public":
            n.funcname, changed = n.funcname[1:], True
    return render(node) if changed else text
