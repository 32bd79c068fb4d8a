"""Every operation and strategy, run on a real PostgreSQL holding seeded rows:
forward, every rollback in reverse, forward again, checked by `flux verify`'s
own checks (flux_agent.verify.check): after each forward run the columns of
the planned schema, every row and the values the plan sets; after the
rollback the whole catalog from before the plan (columns with defaults,
indexes, constraints, triggers, views, sequences, types) and, where the plan
declares no data loss, the same data. Broken plans are shown to fail them."""

from __future__ import annotations

import pytest

from flux_agent.verify.runner import connect, forward, rollback, sql_steps
from flux_agent.plan.planner import build_plan
from flux_agent.entry.actions import parse_operations
from flux_agent.verify.check import PlanCheck

from cases import CASES
from shop import SETTINGS, build_shop, invalid_indexes, live_columns, model_columns, shop_schema


def run_and_check(conn, plan, schema) -> list[str]:
    """Forward, rollback, forward again with flux verify's own checks after each run
    (flux_agent.verify.check): the problems found, each prefixed with when."""
    steps = sql_steps(plan)
    check = PlanCheck(conn, plan, schema)
    problems = []
    forward(conn, steps)
    problems += [f"forward: {p}" for p in check.forward_done()]
    problems += [f"forward: invalid index {i}" for i in invalid_indexes(conn)]
    rollback(conn, steps)
    problems += [f"rollback: {p}" for p in check.rollback_done()]
    check.forward_starts()
    forward(conn, steps)
    problems += [f"forward again: {p}" for p in check.forward_done()]
    problems += [f"forward again: invalid index {i}" for i in invalid_indexes(conn)]
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("case_id, ops, phases", CASES, ids=[c[0] for c in CASES])
def test_forward_rollback_forward(pg_url, case_id, ops, phases):
    schema = shop_schema()
    operations = parse_operations(ops)
    plan = build_plan(operations, schema, SETTINGS)
    if phases is not None:
        assert [s.phase for s in plan.steps] == phases
    with connect(pg_url) as conn:
        build_shop(conn)
        assert live_columns(conn) == model_columns(schema)  # the replayed schema is the real one
        assert run_and_check(conn, plan, schema) == []


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


@pytest.mark.slow
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
    with connect(pg_url) as conn:
        build_shop(conn)
        assert run_and_check(conn, plan, schema) == []


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


# --------------------------------------------------------------------------
# The checks catch broken plans (each breakage made by hand in a copy once let the suite pass)
# --------------------------------------------------------------------------


def _change(plan, phase, field, old, new):
    steps = []
    for s in plan.steps:
        if s.phase == phase and old in (getattr(s, field) or ""):
            s = s.model_copy(update={field: "" if new is None else getattr(s, field).replace(old, new)})
        steps.append(s)
    assert steps != plan.steps, f"no {phase} step holds {old!r}"
    return plan.model_copy(update={"steps": steps})


BROKEN = [
    ("add-index", "migrate", "down_sql", "DROP INDEX", None,
     "rollback: index orders_user_id_idx on orders is new (is: CREATE INDEX orders_user_id_idx ON public.orders "
     "USING btree (user_id))"),
    ("set-default", "migrate", "down_sql", "SET DEFAULT 'pending'", "DROP DEFAULT",
     "rollback: column orders.status differs: was text NOT NULL DEFAULT 'pending'::text; is text NOT NULL"),
    ("backfill", "backfill", "up_sql", "<= flux_stop_0", "< flux_stop_0",
     "forward: backfill of orders.status: 1 of 3334 row(s) of orders do not hold the planned value after the "
     "forward run (e.g. key (5000,): status is 'pending', expected 'PENDING')"),
    ("backfill-composite-key", "backfill", "up_sql", "<= (flux_stop_0, flux_stop_1)", "< (flux_stop_0, flux_stop_1)",
     "forward: backfill of order_items.quantity: 1 of 5000 row(s) of order_items do not hold the planned value "
     "after the forward run (e.g. key (5000, 201): quantity is '3', expected '4')"),
    ("drop-column", "contract", "down_sql", "RENAME COLUMN flux_dropped_note TO note",
     "RENAME COLUMN flux_dropped_note TO note; UPDATE orders SET total = 0",
     "rollback: the values of orders.total differ after the rollback from before the plan, and the plan declares "
     "no data loss there"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case_id, phase, field, old, new, problem", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_plans_fail_the_checks(pg_url, case_id, phase, field, old, new, problem):
    ops = next(c[1] for c in CASES if c[0] == case_id)
    schema = shop_schema()
    plan = _change(build_plan(parse_operations(ops), schema, SETTINGS), phase, field, old, new)
    with connect(pg_url) as conn:
        build_shop(conn)
        problems = run_and_check(conn, plan, schema)
    assert problems[:1] == [problem], problems


def test_a_narrower_varchar_is_never_filled_by_cutting_values_short(pg_url):
    """The shadow column was filled with CAST(email AS varchar(12)), which cuts a longer value short
    without a word: once the swap dropped the original, the cut values were all there was (found on
    brocoders' nestjs-boilerplate). The copy fails on a value too long, as ALTER COLUMN TYPE does."""
    import psycopg

    plan = build_plan(parse_operations([{"op": "change_column_type", "table": "users", "column": "email",
                                         "type": "varchar(12)"}]), shop_schema(), SETTINGS)
    up = "".join(s.up_sql or "" for s in plan.steps)
    # never assigned through a cast that cuts (compared through one, as the copy holds values, is fine)
    assert ":= CAST(new.email AS character varying(12))" not in up and "= CAST(email AS character varying(12))" \
        not in up.replace("IS DISTINCT FROM CAST(email", "")
    [warned] = [f for f in plan.findings if f.rule == "narrowing-type"]  # says so before the deploy, with a query
    with connect(pg_url) as conn:
        build_shop(conn)
        assert conn.execute(warned.message.split("find them before deploying: ")[1]).fetchone()[0] == 3000
        with pytest.raises(psycopg.errors.StringDataRightTruncation, match="too long"):
            forward(conn, sql_steps(plan))  # the batched copy: user1@example.com is 17 characters
        with pytest.raises(psycopg.errors.StringDataRightTruncation):  # the sync trigger, as the copy
            conn.execute("INSERT INTO users (email, name) VALUES ('x@example.org', 'X')")
        conn.execute("INSERT INTO users (email, name) VALUES ('x@example.o', 'X')")  # 12 fit
        assert conn.execute("SELECT count(*) FROM users WHERE char_length(email_flux) = 12 "
                            "AND email_flux <> email").fetchone()[0] == 0


@pytest.mark.slow
def test_a_rounding_copy_leaves_the_old_column_alone(pg_url):
    """double precision -> numeric(3,1): the copy holds 4.25 as 4.3. The sync trigger compared it
    with the unrounded CAST(rating AS numeric), took the copy for a write of the new code, and wrote
    4.3 back into the old column during the backfill (mealie's recipes.rating), while the rollback
    said the old column still held every value."""
    from flux_agent.schema.readers.live import read_live

    with connect(pg_url) as conn:
        conn.execute("CREATE TABLE recipes (id bigserial PRIMARY KEY, rating double precision)")
        conn.execute("INSERT INTO recipes (rating) VALUES (4.25), (3.14159), (NULL), (2)")
        plan = build_plan(parse_operations([{"op": "change_column_type", "table": "recipes", "column": "rating",
                                             "type": "numeric(3,1)"}]), read_live(pg_url), SETTINGS)
        # said before the deploy, each with the query that finds such values
        warned = {f.message.split(" WHERE ")[-1]: f.message for f in plan.findings if f.rule == "narrowing-type"}
        assert [conn.execute(f"SELECT count(*) FROM recipes WHERE {w}").fetchone()[0] for w in sorted(warned)] \
            == [0, 2]  # none too big for numeric(3,1); 4.25 and 3.14159 rounded
        code = next(s.number for s in plan.steps if s.is_code)
        forward(conn, [s for s in sql_steps(plan) if s.number < code])
        rows = conn.execute("SELECT rating, rating_flux FROM recipes ORDER BY id").fetchall()
        assert [r[0] for r in rows] == [4.25, 3.14159, None, 2.0]  # the old column as it was
        assert [str(r[1]) for r in rows] == ["4.3", "3.1", "None", "2.0"]
        conn.execute("UPDATE recipes SET rating = 1.05 WHERE id = 4")  # old code writes: the copy follows
        conn.execute("UPDATE recipes SET rating_flux = 7.5 WHERE id = 2")  # new code writes: the old follows
        conn.execute("INSERT INTO recipes (rating) VALUES (9.99)")
        rows = conn.execute("SELECT rating, rating_flux FROM recipes ORDER BY id").fetchall()
        assert [(r[0], str(r[1])) for r in rows] == [(4.25, "4.3"), (7.5, "7.5"), (None, "None"), (1.05, "1.1"),
                                                     (9.99, "10.0")]
