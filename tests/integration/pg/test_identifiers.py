"""Hostile identifiers and injection attempts, on a real PostgreSQL.

Names from users and models (quotes, semicolons, spaces, unicode, reserved
words, 63 bytes, mixed case, schema qualification, comment markers) go through
create_table, add_column, rename_column, add_index, change_column_type,
rename_table and drop_column plans; each plan runs forward, back and forward,
and pg_catalog must then hold exactly the objects the planned schema names
(same bytes, same case), and nothing else (no leftover trigger, function or
view). A 64-byte name is refused with a clear message, never truncated.

Injection: values such as `x; DROP TABLE victims; --` as names, defaults,
expressions, predicates and USING clauses. Every plan flux accepts must parse
into the same statements as the same plan with harmless values (no extra
statement, no DROP), run forward, back and forward, and leave `victims` and
its rows untouched.
"""

from __future__ import annotations

import hashlib

import pglast
import psycopg
import pytest

from flux_agent.verify.runner import connect, forward, rollback, sql_steps
from flux_agent.errors import FluxError, FluxInputError
from flux_agent.model.plan import Plan
from flux_agent.model.schema import Schema
from flux_agent.plan.planner import build_plan, planned_schema
from flux_agent.pg.quote import split_qualified
from flux_agent.entry.actions import parse_operations

from shop import SETTINGS, build_shop, shop_schema

NAMESPACES = ("public", "billing")


# --------------------------------------------------------------------------
# pg_catalog
# --------------------------------------------------------------------------


def catalog(conn: psycopg.Connection) -> dict:
    """Every object flux could make or leave behind, by exact name."""
    q = lambda sql: sorted(tuple(r) for r in conn.execute(sql, (list(NAMESPACES),)).fetchall())  # noqa: E731
    return {
        "relations": q("""SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c
                            JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'v', 'i', 'S', 'm')"""),
        "columns": q("""SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
                          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                          JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = ANY(%s) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"""),
        "constraints": q("""SELECT n.nspname, c.relname, k.conname, k.contype::text, k.convalidated
                              FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(%s)"""),
        "triggers": q("""SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = ANY(%s) AND NOT t.tgisinternal"""),
        "functions": q("""SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                           WHERE n.nspname = ANY(%s)"""),
    }


def model_catalog(schema: Schema) -> dict:
    """What catalog() must show for a schema model: tables, columns and indexes, nothing else
    of flux's making (views, triggers, functions)."""
    tables, columns, indexes = [], [], []
    for t in schema.tables:
        nsp, rel = split_qualified(t.name)
        nsp = nsp or "public"
        tables.append((nsp, rel, "r"))
        columns += [(nsp, rel, c.name, c.type, c.nullable) for c in t.columns]
        indexes += [(nsp, i.name, "i") for i in t.indexes]
    return {"relations": sorted(tables + indexes), "columns": sorted(columns), "triggers": [], "functions": []}


def assert_matches_model(conn, schema: Schema, when: str, lossy: bool = False) -> None:
    live = catalog(conn)
    want = model_catalog(schema)
    if lossy:  # a dropped column comes back empty: no NOT NULL to restore
        live["columns"] = [c[:4] for c in live["columns"]]
        want["columns"] = [c[:4] for c in want["columns"]]
    for key, value in want.items():
        assert live[key] == value, f"{when}: {key} differ\nlive:  {live[key]}\nmodel: {value}"


def run_forward_back_forward(conn, plan: Plan, before: Schema, after: Schema, label: str) -> None:
    steps = sql_steps(plan)
    forward(conn, steps)
    assert_matches_model(conn, after, f"{label}: after forward")
    rollback(conn, steps)
    assert_matches_model(conn, before, f"{label}: after rollback", lossy=any(s.data_loss_on_rollback for s in steps)
                         and plan.operations[0].op == "drop_column")
    forward(conn, steps)
    assert_matches_model(conn, after, f"{label}: after forward again")


# --------------------------------------------------------------------------
# Hostile names through a chain of plans
# --------------------------------------------------------------------------


def variant(name: str, tag: str) -> str:
    """`name` + `tag` within 63 bytes (characters dropped from the end of `name` to fit)."""
    while len((name + tag).encode()) > 63:
        name = name[:-1]
    return name + tag


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


HOSTILE = [
    ('a"b', 'a"b'),
    ("semi;colon", "semi;colon"),
    ("with space", "with space"),
    ("naïve_ünïcode", "naïve_ünïcode"),
    ("select", "select"),
    ("MixedCase", "MixedCase"),
    ("t" * 63, "c" * 63),
    ("é" * 31 + "x", "ü" * 31 + "y"),  # 63 bytes in two-byte characters
    ("billing.Invoices", "InvoiceTotal"),
    ("a--b", "c--d"),
    ("a/*b", "c/*d*/"),
    ("int", "between"),  # keywords PostgreSQL lets through unquoted in some places only
    ("user", "left"),
    ('"QuotedInput"', "table"),  # a leading quote means SQL syntax: the table is QuotedInput
    ("$flux$", "x$flux$y"),  # the dollar-quote tag of flux's DO blocks and function bodies
]


@pytest.mark.slow
@pytest.mark.parametrize("table, column", HOSTILE, ids=[f"{t}|{c}" for t, c in HOSTILE])
def test_hostile_names_make_exactly_the_named_objects(pg_url, table, column):
    schema = Schema()
    nsp, bare = split_qualified(table)
    n_col, a_col, b_col, r_col = (variant(column, t) for t in ("_n", "_a", "_b", "_r"))
    new_table = variant(bare, "_t") if nsp is None else f"{nsp}.{variant(bare, '_t')}"
    chain = [
        ("create_table", {"op": "create_table", "table": table, "columns": [
            {"name": "id", "type": "bigint", "primary_key": True},
            {"name": column, "type": "text", "default": "'d'"},
            {"name": n_col, "type": "integer"}]}),
        ("add_column constant default", {"op": "add_column", "table": table, "column": a_col, "type": "text",
                                         "nullable": False, "default": "'v'"}),
        ("add_column with backfill", {"op": "add_column", "table": table, "column": b_col, "type": "bigint",
                                      "nullable": False, "backfill": f"{quoted('id')} * 2"}),
        ("rename_column", {"op": "rename_column", "table": table, "column": column, "new_name": r_col}),
        ("add_index", {"op": "add_index", "table": table, "columns": [r_col]}),
        ("add_index named, partial", {"op": "add_index", "table": table, "columns": [n_col], "unique": True,
                                      "name": variant(column, "_i"), "where": f"{quoted(n_col)} > 0"}),
        ("change_column_type", {"op": "change_column_type", "table": table, "column": n_col, "type": "bigint",
                                "using": f"CASE WHEN {quoted(n_col)} > 0 THEN {quoted(n_col)} ELSE 0 END"}),
        ("set_not_null", {"op": "set_not_null", "table": table, "column": n_col, "backfill": "0"}),
        ("rename_table", {"op": "rename_table", "table": table, "new_name": variant(bare, "_t")}),
        ("drop_column", {"op": "drop_column", "table": new_table, "column": a_col}),
    ]
    with connect(pg_url) as conn:
        if nsp:
            conn.execute(f"CREATE SCHEMA {quoted(nsp)}")
        for label, op in chain:
            ops = parse_operations(op)
            plan = build_plan(ops, schema, SETTINGS)
            after = planned_schema(ops, schema)
            run_forward_back_forward(conn, plan, schema, after, label)
            if label == "create_table":  # rows for the backfills, the sync trigger and the copies to carry
                t = ".".join(quoted(p) for p in split_qualified(table) if p) if nsp else quoted(
                    split_qualified(table)[1])
                conn.execute(f"INSERT INTO {t} (id, {quoted(column)}, {quoted(n_col)}) "
                             "SELECT g, 'row ' || g, g FROM generate_series(1, 50) g")
            schema = after
        # the final names, exactly (bytes and case): the renamed table holds the renamed column
        live = catalog(conn)
        final_table = split_qualified(new_table)
        cols = {c[2] for c in live["columns"] if (c[0], c[1]) == ((final_table[0] or "public"), final_table[1])}
        assert cols == {"id", r_col, n_col, b_col}
        assert ((final_table[0] or "public"), variant(column, "_i"), "i") in live["relations"]
        count = conn.execute(f"SELECT count(*) FROM "
                             f"{'.'.join(quoted(p) for p in final_table if p)}").fetchone()[0]
        assert count == 50


TOO_LONG = ["y" * 64, "é" * 32, "ü" * 31 + "yy"]  # 64 bytes: PostgreSQL would keep only 63


@pytest.mark.parametrize("name", TOO_LONG, ids=["ascii", "two-byte", "mixed"])
def test_64_byte_names_are_refused_not_truncated(name):
    shop = shop_schema()
    attempts = [
        {"op": "create_table", "table": name, "columns": [{"name": "id", "type": "bigint"}]},
        {"op": "create_table", "table": "fine", "columns": [{"name": name, "type": "bigint"}]},
        {"op": "create_table", "table": f"billing.{name}", "columns": [{"name": "id", "type": "bigint"}]},
        {"op": "add_column", "table": "users", "column": name, "type": "text"},
        {"op": "rename_column", "table": "users", "column": "name", "new_name": name},
        {"op": "rename_table", "table": "legacy_events", "new_name": name},
        {"op": "add_index", "table": "orders", "columns": ["status"], "name": name},
        {"op": "add_check", "table": "products", "expression": "price >= 0", "name": name},
        {"op": "add_unique", "table": "products", "columns": ["sku"], "name": name},
    ]
    for op in attempts:
        with pytest.raises(FluxInputError) as info:
            build_plan(parse_operations(op), shop, SETTINGS)
        text = str(info.value)
        assert "64 bytes" in text and "63" in text and "\n" not in text, (op, text)


def test_names_with_control_characters_are_refused():
    shop = shop_schema()
    for name in ["a\nDROP TABLE victims; --", "tab\there", "cr\rhere", "nul\x00here"]:
        for op in ({"op": "add_column", "table": "users", "column": name, "type": "text"},
                   {"op": "rename_table", "table": "legacy_events", "new_name": name},
                   {"op": "create_table", "table": name, "columns": [{"name": "id", "type": "bigint"}]}):
            with pytest.raises(FluxInputError) as info:
                build_plan(parse_operations(op), shop, SETTINGS)
            assert len(str(info.value).splitlines()) == 1


@pytest.mark.parametrize("name", ['"a"b', '"x"; DROP TABLE victims', '"a.b"', '"a".b.c', "a.b.c", '"x" AS y'])
def test_table_names_that_are_not_exactly_a_name_are_refused(name):
    with pytest.raises(FluxInputError) as info:
        build_plan(parse_operations({"op": "create_table", "table": name, "columns": [
            {"name": "id", "type": "bigint"}]}), Schema(), SETTINGS)
    assert len(str(info.value).splitlines()) == 1


# --------------------------------------------------------------------------
# Injection
# --------------------------------------------------------------------------

INJECTIONS = [
    "x; DROP TABLE victims; --",
    "1); DROP TABLE victims; --",
    "'); DROP TABLE victims; --",
    '"; DROP TABLE victims; --',
    "$flux$; DROP TABLE victims; --",
    "*/ DROP TABLE victims; /*",
    "a\nDROP TABLE victims; --",
]
# Expressions: the same, and string constants that carry them (these are accepted: a constant is data).
EXPR_INJECTIONS = INJECTIONS + [
    "'x''); DROP TABLE victims; --'",
    "'$flux$; DROP TABLE victims; DO $flux$ BEGIN '",
    "$$'); DROP TABLE victims; --$$",
    "E'\\'); DROP TABLE victims; --'",
    "'a' /* ; DROP TABLE victims; */",
    "'--'; DROP TABLE victims",
    "(SELECT 1); DROP TABLE victims",
    "1 /* */; DROP TABLE victims",
]
BENIGN_NAME = "benign_name"
BENIGN_EXPR = "'benign'"


def _name_cases(h: str):
    yield {"op": "add_column", "table": "users", "column": h, "type": "text"}
    yield {"op": "add_column", "table": "users", "column": h, "type": "bigint", "nullable": False,
           "backfill": "1"}
    yield {"op": "create_table", "table": h, "columns": [{"name": "id", "type": "bigint", "primary_key": True},
                                                         {"name": h, "type": "text", "default": "'x'"}]}
    yield {"op": "rename_column", "table": "users", "column": "name", "new_name": h}
    yield {"op": "rename_table", "table": "legacy_events", "new_name": h}
    yield {"op": "add_index", "table": "orders", "columns": ["status"], "name": h}
    yield {"op": "add_check", "table": "products", "expression": "price >= 0", "name": h}
    yield {"op": "add_unique", "table": "products", "columns": ["sku"], "name": h}
    yield {"op": "add_column", "table": h, "column": "x", "type": "text"}  # unknown table: refused
    yield {"op": "drop_column", "table": "users", "column": h}  # unknown column: refused


def _expr_cases(e: str):
    yield {"op": "add_column", "table": "users", "column": "nick", "type": "text", "default": e}
    yield {"op": "add_column", "table": "users", "column": "nick", "type": "text", "nullable": False,
           "backfill": e}
    yield {"op": "set_default", "table": "orders", "column": "status", "default": e}
    yield {"op": "backfill", "table": "orders", "column": "note", "value": e, "where": f"note <> {e}"}
    yield {"op": "add_check", "table": "orders", "expression": f"coalesce(note, {e}) IS NOT NULL"}
    yield {"op": "add_index", "table": "orders", "columns": ["status"], "where": f"status <> {e}"}
    yield {"op": "change_column_type", "table": "orders", "column": "note", "type": "varchar(600)",
           "using": f"note || {e}"}
    yield {"op": "set_not_null", "table": "orders", "column": "note", "backfill": e}
    yield {"op": "create_table", "table": "made", "columns": [
        {"name": "id", "type": "bigint", "primary_key": True}, {"name": "v", "type": "text", "default": e}]}


def _twin(op: dict, hostile: str, benign: str) -> dict:
    """The same operation with the hostile value replaced by a harmless one."""
    def swap(v):
        if isinstance(v, str):
            return v.replace(hostile, benign)
        if isinstance(v, list):
            return [swap(x) for x in v]
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        return v
    return swap(op)


def _shape(plan: Plan) -> list[list[list[str]]]:
    """Per step, the kinds of statement in its forward and rollback SQL."""
    out = []
    for step in plan.steps:
        out.append([[type(r.stmt).__name__ for r in pglast.parse_sql(sql)] if sql else []
                    for sql in (step.up_sql, step.down_sql)])
    return out


def _drops(plan: Plan) -> list[str]:
    from pglast import ast
    from flux_agent.pg.parse import iter_nodes

    names = []
    for step in plan.steps:
        for sql in (step.up_sql, step.down_sql):
            for raw in pglast.parse_sql(sql or ""):
                if isinstance(raw.stmt, ast.DropStmt):
                    names += [n.sval for n in iter_nodes(raw.stmt.objects) if isinstance(n, ast.String)]
    return names


VICTIMS = "CREATE TABLE victims (id int PRIMARY KEY, secret text NOT NULL); " \
          "INSERT INTO victims SELECT g, md5(g::text) FROM generate_series(1, 100) g;"


def _victims(conn) -> str:
    rows = conn.execute("SELECT id, secret FROM victims ORDER BY id").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.mark.slow
def test_injection_never_runs(pg_url):
    schema = shop_schema()
    cases = []
    for h in INJECTIONS:
        cases += [(op, h, BENIGN_NAME) for op in _name_cases(h)]
    for e in EXPR_INJECTIONS:
        cases += [(op, e, BENIGN_EXPR) for op in _expr_cases(e)]
    accepted, refused = [], []
    with connect(pg_url) as conn:
        build_shop(conn)
        conn.execute(VICTIMS)
        victims = _victims(conn)
        start = catalog(conn)
        for op, hostile, benign in cases:
            try:
                plan = build_plan(parse_operations(op), schema, SETTINGS)
            except FluxError as exc:
                assert len(str(exc).splitlines()) == 1
                refused.append(op)
                continue
            accepted.append(op)
            twin = build_plan(parse_operations(_twin(op, hostile, benign)), schema, SETTINGS)
            # exactly the statements the plan means: the hostile value changed no statement's kind or count
            assert _shape(plan) == _shape(twin), op
            assert "victims" not in _drops(plan), op
            steps = sql_steps(plan)
            forward(conn, steps)
            after = catalog(conn)
            if benign == BENIGN_NAME:  # the object carries the hostile name, exactly
                assert any(hostile in row for rows in after.values() for row in rows), op
            rollback(conn, steps)
            assert catalog(conn) == start, f"rollback left changes: {op}"
            forward(conn, steps)
            assert catalog(conn) == after, op
            rollback(conn, steps)
            assert catalog(conn) == start, f"database not back where it started after {op}"
            assert _victims(conn) == victims, op
        assert _victims(conn) == victims
    # every name is accepted (quoted) but those with a line break; of the expressions, the string constants
    assert len(accepted) >= 60, len(accepted)
    assert not any("\n" in str(op) for op in accepted)
    assert len(refused) >= 40, len(refused)
