"""Any statement form that holds a lock blocking writes (or reads) on an existing table while
it reads every row or rewrites the table, taken from PostgreSQL's table of forms
(pg/form_table.py): a form nobody wrote a rule for still gets this finding. Forms with a rule
of their own (CREATE INDEX, ADD CONSTRAINT, SET NOT NULL, ...) are left to it."""

from pglast import ast

from ...model.schema import Schema
from ...pg.forms import Form, blocks_reads, blocks_writes, lookup, target
from ._flux_common import matview_at, refresh_key, working_names
from ._rule import Rule, Verdict, flags, passes

SHOP = ("CREATE TABLE orders (id bigint PRIMARY KEY, total numeric, placed date);\n"
        "CREATE MATERIALIZED VIEW order_totals AS SELECT placed, sum(total) AS total FROM orders GROUP BY placed;\n"
        "CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);\n"
        "CREATE TABLE events_2026 (id bigint, at date);\n"
        "CREATE TABLE events_2027 (id bigint, at date CHECK (at >= '2027-01-01' AND at < '2028-01-01'));\n"
        "CREATE DOMAIN cents AS bigint;\nCREATE TABLE prices (amount cents);")

RULE = Rule(
    id="blocking-scan",
    severity="error",
    message="a statement that blocks writes to a table while it reads or rewrites all of it",
    hint="use the form that does not block (CONCURRENTLY; a CHECK before ATTACH), or run it in a maintenance window",
    squawk=None,
    reads_schema=True,
    # The statements of the forms that scan or rewrite under a lock blocking writes or reads, with no
    # rule of their own (the form table's examples parsed: tests/unit/lint/test_blocking_scan_nodes.py).
    nodes=(ast.AlterDomainStmt, ast.AlterTableStmt, ast.ClusterStmt, ast.RefreshMatViewStmt, ast.VacuumStmt),
    examples=[
        flags("CLUSTER orders USING orders_pkey;", schema_sql=SHOP),
        flags("VACUUM FULL orders;", transactional=False, schema_sql=SHOP),
        flags("REFRESH MATERIALIZED VIEW order_totals;", schema_sql=SHOP),
        flags("REFRESH MATERIALIZED VIEW order_days;", schema_sql=SHOP + "\nCREATE MATERIALIZED VIEW order_days AS "
              "SELECT placed::date AS day, count(*) AS n FROM orders GROUP BY 1;"),
        passes("CREATE MATERIALIZED VIEW order_days AS SELECT placed::date AS day FROM orders WITH NO DATA;\n"
               "REFRESH MATERIALIZED VIEW order_days;", schema_sql=SHOP,
               why="a view that holds no rows: nothing reads it yet, and CONCURRENTLY is refused there"),
        flags("ALTER TABLE orders SET TABLESPACE fast_disk;", schema_sql=SHOP),
        flags("ALTER INDEX orders_pkey SET TABLESPACE fast_disk;", schema_sql=SHOP),
        flags("ALTER TABLE orders SET UNLOGGED;", schema_sql=SHOP),
        flags("ALTER TABLE orders ADD CONSTRAINT one_per_day EXCLUDE USING btree (placed WITH =);", schema_sql=SHOP),
        flags("ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
              schema_sql=SHOP),
        flags("ALTER DOMAIN cents VALIDATE CONSTRAINT cents_positive;", schema_sql=SHOP),
        passes("REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;", schema_sql=SHOP),
        passes("VACUUM orders;", transactional=False, schema_sql=SHOP),
        passes("CREATE TABLE staging (id bigint PRIMARY KEY);\nCLUSTER staging USING staging_pkey;", schema_sql=SHOP),
        passes("ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');",
               schema_sql=SHOP),
        passes("CREATE TABLE orders_copy AS SELECT * FROM orders;", schema_sql=SHOP,
               why="ACCESS SHARE on orders: writes go on"),
        passes("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);", schema_sql=SHOP,
               why="a type change has its own rule (changing-column-type)"),
    ],
)

_REMEDY = {
    "CLUSTER": "pg_repack, or a maintenance window",
    "VACUUM FULL": "pg_repack, or a maintenance window (plain VACUUM does not block writes)",
    "REFRESH MATERIALIZED VIEW": "REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the view)",
    "ALTER TABLE ATTACH PARTITION": "first add a CHECK constraint matching the bound (NOT VALID, then VALIDATE "
                                    "CONSTRAINT, which does not block writes); ATTACH then skips the scan",
}


def _work(form: Form) -> str:
    return "rewrites it" if form.rewrites == "yes" else "reads every row"


def check(stmt, ctx):
    for key, form in lookup(stmt, ctx.pg_version):
        if form is None or form.rule is not None or not (form.scans or form.rewrites == "yes"):
            continue  # unknown-statement reports an unknown form; a form with its own rule is judged there
        for relation, lock in _locked(stmt, key, form, ctx):
            # Nobody writes to a materialized view: what matters there is whether reads wait.
            blocking = blocks_reads if "MATERIALIZED VIEW" in key else blocks_writes
            if relation is None or ctx.table_is_new(relation) or not blocking(lock):
                continue
            if key == "ALTER TABLE ATTACH PARTITION" and _has_check(working_names(ctx, stmt), relation):
                continue  # PostgreSQL skips the scan when a CHECK constraint proves the bound
            remedy = _REMEDY.get(key, "a maintenance window, or a new table filled in batches and swapped in")
            if key == "REFRESH MATERIALIZED VIEW":
                view = matview_at(ctx, stmt, stmt.node.relation)
                if view is not None and not view.populated:
                    continue  # nothing reads a view that holds no rows (it fails), and CONCURRENTLY is refused
                remedy = _refresh_remedy(view) if view is not None else remedy
            blocked = "reads and writes" if blocks_reads(lock) else "writes"
            return Verdict(f"{key} takes {lock} on {relation} and {_work(form)}: {blocked} on {relation} wait until it "
                           f"finishes; {remedy}")
    return None


def _refresh_remedy(view) -> str:
    key = refresh_key(view)
    if key is not None:
        return f"REFRESH MATERIALIZED VIEW CONCURRENTLY (its unique index {key.name} lets it match rows)"
    return (f"REFRESH MATERIALIZED VIEW CONCURRENTLY, once {view.name} has a unique index on plain columns to match "
            f"rows by (CREATE UNIQUE INDEX CONCURRENTLY first): it has none")


def _locked(stmt, key: str, form: Form, ctx) -> list[tuple]:
    """(relation, lock) pairs where the form's blocking lock and its work meet. Column types and
    validated CHECKs are read in the replay's own names: no normalised snapshot."""
    if key.startswith("ALTER TABLE ATTACH PARTITION"):
        part = next((c.def_.name for c in stmt.node.cmds or () if isinstance(getattr(c, "def_", None),
                                                                          ast.PartitionCmd)), None)
        from ...pg.quote import relation_name

        return [(relation_name(part) if part is not None else None, form.others.get("partition", form.lock))]
    if "domain's tables" in form.others:
        domain = ".".join(n.sval for n in stmt.node.typeName or () if isinstance(n, ast.String))
        return [(t, form.others["domain's tables"]) for t in _tables_using(working_names(ctx, stmt), domain)]
    return [(target(stmt), form.lock)]


def _has_check(schema: Schema, table: str) -> bool:
    found = schema.table(table) if schema is not None else None
    return found is not None and any(c.kind == "check" and c.validated for c in found.constraints)


def _tables_using(schema: Schema, type_name: str) -> list[str]:
    if schema is None:
        return []
    return [t.name for t in schema.tables if any(c.type == type_name for c in t.columns)]
