"""Every operation and strategy, run on a real PostgreSQL holding seeded rows:
forward, every rollback in reverse, forward again. The live schema must equal
the planned one, and rollbacks that promise no data loss must leave the rows
exactly as they were."""

from __future__ import annotations

import pytest

from flux_agent.apply import connect, forward, rollback, sql_steps
from flux_agent.planner import build_plan, planned_schema
from flux_agent.tools import parse_operations

from cases import CASES, CHECKSUM_COLUMNS
from shop import SETTINGS, build_shop, invalid_indexes, live_columns, model_columns, shop_schema, table_checksum

LOSSY_OPS = {"drop_column", "drop_table", "backfill"}


def _shape(columns: dict, lossy: set[str]) -> dict:
    """A dropped column comes back empty, so it cannot be NOT NULL again: compare names and types there."""
    return {t: [c[:2] if t in lossy else c for c in cols] for t, cols in columns.items()}


def _checksums(conn, skip: set[str]) -> dict[str, str]:
    return {t: table_checksum(conn, t, cols) for t, cols in CHECKSUM_COLUMNS.items() if t not in skip}


@pytest.mark.parametrize("case_id, ops, phases", CASES, ids=[c[0] for c in CASES])
def test_forward_rollback_forward(pg_url, case_id, ops, phases):
    schema = shop_schema()
    operations = parse_operations(ops)
    plan = build_plan(operations, schema, SETTINGS)
    if phases is not None:
        assert [s.phase for s in plan.steps] == phases
    intended = model_columns(planned_schema(operations, schema))
    lossy = {op.table for op in operations
             if op.op in LOSSY_OPS or getattr(op, "backfill", None) is not None and op.op == "set_not_null"
             or op.op == "change_column_type" and op.using is not None}
    steps = sql_steps(plan)
    with connect(pg_url) as conn:
        build_shop(conn)
        original_columns = live_columns(conn)
        assert original_columns == model_columns(schema)  # the replayed schema is the real one
        before = _checksums(conn, lossy)

        forward(conn, steps)
        assert live_columns(conn) == intended
        assert invalid_indexes(conn) == []

        rollback(conn, steps)
        assert _shape(live_columns(conn), lossy) == _shape(original_columns, lossy)
        assert _checksums(conn, lossy) == before

        forward(conn, steps)
        assert live_columns(conn) == intended
        assert invalid_indexes(conn) == []


def test_lossless_rollbacks_are_declared_so():
    """Steps that declare a lossless rollback are the ones whose table data the test above compares."""
    schema = shop_schema()
    for case_id, ops, _ in CASES:
        plan = build_plan(parse_operations(ops), schema, SETTINGS)
        kinds = {op["op"] for op in ops}
        if kinds <= {"rename_column", "change_column_type", "rename_table", "add_index"} and \
                not any(op.get("using") for op in ops):
            assert not any(s.data_loss_on_rollback for s in plan.steps), case_id
        if kinds == {"set_not_null"}:
            assert [s.data_loss_on_rollback for s in plan.steps if s.phase == "backfill"] == [True], case_id
            assert not any(s.data_loss_on_rollback for s in plan.steps if s.phase != "backfill"), case_id
        if kinds & {"drop_column", "drop_table"}:
            assert plan.steps[-1].data_loss_on_rollback and not plan.steps[-2].data_loss_on_rollback, case_id


def test_new_rows_keep_working_through_renamed_table_view(pg_url):
    """Old code inserts through the compatibility view; identity defaults still apply."""
    schema = shop_schema()
    plan = build_plan(parse_operations([{"op": "rename_table", "table": "legacy_events", "new_name": "events"}]),
                      schema, SETTINGS)
    with connect(pg_url) as conn:
        build_shop(conn)
        forward(conn, sql_steps(plan)[:1])
        new_id = conn.execute(
            "INSERT INTO legacy_events (kind) VALUES ('via-view') RETURNING id").fetchone()[0]
        assert conn.execute("SELECT kind FROM events WHERE id = %s", (new_id,)).fetchone()[0] == "via-view"
        conn.execute("UPDATE legacy_events SET kind = 'changed' WHERE id = %s", (new_id,))
        assert conn.execute("SELECT kind FROM events WHERE id = %s", (new_id,)).fetchone()[0] == "changed"


OLD_SERVER_CASES = [c for c in CASES if c[0] in {
    "add-not-null-constant-default", "rename-column", "change-type-rewrite", "set-not-null"}]


@pytest.mark.parametrize("case_id, ops, phases", OLD_SERVER_CASES, ids=[c[0] for c in OLD_SERVER_CASES])
def test_plans_for_older_servers_run(pg_url, case_id, ops, phases):
    """--pg-version 10: no fast defaults, no CHECK-proved SET NOT NULL, EXECUTE PROCEDURE triggers."""
    schema = shop_schema()
    settings = SETTINGS.model_copy(update={"pg_version": 10})
    plan = build_plan(parse_operations(ops), schema, settings)
    all_sql = "\n".join(s.up_sql or "" for s in plan.steps)
    assert "SET NOT NULL" not in all_sql  # PostgreSQL 10 would scan under ACCESS EXCLUSIVE
    if case_id == "add-not-null-constant-default":
        assert [s.phase for s in plan.steps][:2] == ["expand", "backfill"]  # no fast default before 11
    if case_id in ("rename-column", "change-type-rewrite"):
        assert "EXECUTE PROCEDURE" in all_sql
    steps = sql_steps(plan)
    with connect(pg_url) as conn:
        build_shop(conn)
        forward(conn, steps)
        rollback(conn, steps)
        forward(conn, steps)
        assert invalid_indexes(conn) == []


def test_rolled_back_drop_table_accepts_old_code_inserts(pg_url):
    """After the final drop is rolled back the table is empty, but old code that
    inserts without an id must work again (found by `flux verify --load`)."""
    plan = build_plan(parse_operations([{"op": "drop_table", "table": "legacy_events"}]), shop_schema(), SETTINGS)
    steps = sql_steps(plan)
    with connect(pg_url) as conn:
        build_shop(conn)
        forward(conn, steps)
        rollback(conn, steps)
        new_id = conn.execute("INSERT INTO legacy_events (kind) VALUES ('again') RETURNING id").fetchone()[0]
        assert new_id is not None
