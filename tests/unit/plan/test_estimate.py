"""Duration estimates: each kind of work, monotonic in size, "size unknown"
without statistics, and annotate() over whole plans. No timing assertions."""

from __future__ import annotations

import re

import pytest

from flux_agent.plan.estimate import Rates, annotate, assess, duration_text, estimate, step_table
from flux_agent.model.operations import (
    AddColumn, AddIndex, Backfill, ChangeColumnType, CreateTable, ColumnSpec, SetNotNull,
)
from flux_agent.model.schema import DEFAULT_SERVER, Column, Constraint, Index, Schema, ServerFacts, Table
from flux_agent.model.plan import Plan, Step
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan

SETTINGS = Settings()


def users(rows=1_000_000, size=240_000_000) -> Table:
    return Table(
        name="users",
        columns=[Column(name="id", type="bigint", nullable=False), Column(name="email", type="text"),
                 Column(name="n", type="integer"), Column(name="name", type="character varying(50)")],
        primary_key=["id"],
        row_estimate=rows,
        size_bytes=size,
    )


def schema(rows=1_000_000, size=240_000_000) -> Schema:
    return Schema(tables=[users(rows, size)])


def sql_step(sql: str, phase="migrate") -> Step:
    return Step(phase=phase, title="t", up_sql=sql)


def plan_steps(op, rows=1_000_000, size=240_000_000):
    return build_plan([op], schema(rows, size), SETTINGS).steps


REWRITE = "ALTER TABLE users ALTER COLUMN n TYPE bigint"
SCAN = "ALTER TABLE users VALIDATE CONSTRAINT users_n_check"
INDEX = "CREATE INDEX CONCURRENTLY users_n_idx ON users (n)"


def backfill_step(rows=1_000_000, size=240_000_000) -> Step:
    return plan_steps(Backfill(table="users", column="n", value="1"), rows, size)[0]


# --------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "ALTER TABLE users ADD COLUMN note text",
    "ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT false",
    "ALTER TABLE users ALTER COLUMN name TYPE text",  # binary-coercible
    "ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0) NOT VALID",
    "ALTER TABLE users RENAME COLUMN email TO mail",
    "DROP INDEX CONCURRENTLY IF EXISTS users_n_idx",
    "SET LOCAL lock_timeout = '1s'; ALTER TABLE users DROP COLUMN email",
])
def test_catalog_only(sql):
    est = assess(sql_step(sql), users())
    assert (est.kind, est.seconds, est.text) == ("catalog-only", 0.0, "instant (catalog only)")


@pytest.mark.parametrize("sql", [
    REWRITE,
    "ALTER TABLE users ALTER COLUMN name TYPE varchar(20)",  # shorter: not coercible
    "ALTER TABLE users ALTER COLUMN n TYPE text USING n::text",
    "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE users ADD COLUMN seq bigserial",
    "ALTER TABLE users ADD COLUMN k bigint GENERATED ALWAYS AS IDENTITY",
])
def test_table_rewrite(sql):
    est = assess(sql_step(sql), users(size=700_000_000), Rates(rewrite_mb_per_s=70))
    assert est.kind == "table rewrite"
    assert est.seconds == pytest.approx(10.0)
    assert est.text.startswith("~10 s (table rewrite of ~1,000,000 rows, 700 MB")


@pytest.mark.parametrize("sql", [
    SCAN,
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
    "ALTER TABLE users ADD CONSTRAINT c CHECK (n > 0)",
    "ALTER TABLE users ADD CONSTRAINT f FOREIGN KEY (n) REFERENCES users (id)",
])
def test_full_scan(sql):
    est = assess(sql_step(sql), users(size=1_200_000_000), Rates(scan_mb_per_s=100))
    assert est.kind == "full scan"
    assert est.seconds == pytest.approx(12.0)
    assert "full scan of ~1,000,000 rows, 1.1 GB at 100 MB/s" in est.text


def test_set_not_null_after_a_validated_check_is_catalog_only():
    table = users()
    table.constraints.append(Constraint(name="c", kind="check", expression="email IS NOT NULL", columns=["email"]))
    step = sql_step("ALTER TABLE users ALTER COLUMN email SET NOT NULL")
    assert assess(step, table).kind == "catalog-only"
    table.constraints[0].validated = False
    assert assess(step, table).kind == "full scan"
    table.constraints[0].validated, table.constraints[0].expression = True, "name IS NOT NULL"
    assert assess(step, table).kind == "full scan"


def test_index_build_concurrently_costs_passes():
    rates = Rates(index_rows_per_s=100_000, concurrent_passes=2.5)
    plain = assess(sql_step("CREATE INDEX users_n_idx ON users (n)"), users(), rates)
    conc = assess(sql_step(INDEX), users(), rates)
    assert (plain.kind, conc.kind) == ("index build", "index build")
    assert plain.seconds == pytest.approx(10.0)
    assert conc.seconds == pytest.approx(25.0)
    assert conc.text == ("~25 s (index build over ~1,000,000 rows, 240 MB, concurrently, ~2.5 passes "
                         "at 100,000 rows/s)")
    unique = assess(sql_step("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"), users(), rates)
    assert unique.kind == "index build" and unique.seconds == pytest.approx(10.0)


def test_planner_index_step():
    step = plan_steps(AddIndex(table="users", columns=["email"]))[0]
    est = assess(step, users())
    assert est.kind == "index build" and "concurrently" in est.text


def test_batched_backfill_counts_batches_and_pauses():
    rates = Rates(update_rows_per_s=500_000, batch_overhead_s=0.01)
    est = assess(backfill_step(), users(), rates)
    assert est.kind == "batched backfill"
    # 5,000 rows at 2 us hold their locks the 20 ms target with the 10 ms overhead: full batches.
    # 200 batches x (5,000 x 2 us + 0.01 s + 0.01 s pause) = 6 s
    assert est.seconds == pytest.approx(200 * (0.01 + 0.01 + 0.01))
    assert est.text == ("~6 s (batched backfill of ~1,000,000 rows: 200 batches of 5,000 with 10 ms pauses; "
                        "if throttled throughout, up to ~83 min at its floor of 200 rows/s; writes ~654 MB of WAL "
                        "(set max_wal_size to at least 1.2 GB first: the default 1.0 GB starts a checkpoint "
                        "during the walk, which stalls the application's commits))")


def indexed(n: int, **kw) -> Table:
    t = users(**kw)
    t.indexes = [Index(name=f"users_i{i}", columns=["email"]) for i in range(n)]
    return t


def test_slow_rows_shrink_the_batches_as_the_block_does():
    # The block sizes batches to hold their row locks ~target_ms (20), its COMMIT included: with
    # 10 us a row and 5 ms of overhead that is 1,500 rows, not the 5,000 of the batch size.
    rates = Rates(update_rows_per_s=100_000, batch_overhead_s=0.005)
    est = assess(backfill_step(), users(size=None), rates)
    assert "667 batches of ~1,500 with 10 ms pauses" in est.text
    assert est.seconds == pytest.approx(667 * (1500 * 10e-6 + 0.005 + 0.01))
    # Never below 100 rows a batch, however slow a row is.
    crawl = assess(backfill_step(), users(size=None), Rates(update_rows_per_s=1_000, batch_overhead_s=0.005))
    assert "10,000 batches of ~100 with" in crawl.text


def test_each_index_makes_a_row_slower():
    rates = Rates(update_rows_per_s=1_000_000, index_entry_s=0.000003, batch_overhead_s=0.005)
    times = [assess(backfill_step(), indexed(n, size=None), rates).seconds for n in (1, 2, 8, 15)]
    assert times == sorted(times) and times[3] > 5 * times[0]
    # 15 indexes: 1 us + 14 x 3 us = 43 us a row, so (20 - 5) ms / 43 us = 348.8: 349 rows a batch
    assert "2,866 batches of ~349" in assess(backfill_step(), indexed(15, size=None), rates).text
    # the one-transaction UPDATE prices its rows the same way
    one = assess(sql_step("UPDATE users SET n = 1"), indexed(15, size=None), rates)
    assert one.seconds == pytest.approx(1_000_000 * 43e-6) and "at 23,256 rows/s" in one.text


def test_batched_backfill_says_the_wal_it_writes():
    rates = Rates(wal_per_row=0, wal_per_table_byte=2.0)
    small = assess(backfill_step(), users(size=100_000_000), rates).text
    assert "; writes ~200 MB of WAL)" in small and "max_wal_size" not in small
    # 1.2 GB of WAL: past the ~565 MB after which the default 1 GB starts a checkpoint; 1.2 x 1.9 = 2.28
    big = assess(backfill_step(), users(size=600_000_000), rates).text
    assert ("; writes ~1.1 GB of WAL (set max_wal_size to at least 2.2 GB first: the default 1.0 GB starts a "
            "checkpoint during the walk") in big
    assert "WAL" not in assess(backfill_step(), users(size=None), rates).text  # size unknown: no guess
    # Each row costs its own record and index entries, however narrow: 1,000,000 rows x 300 bytes
    narrow = assess(backfill_step(), users(size=1), Rates(wal_per_row=300, wal_per_table_byte=0)).text
    assert "; writes ~300 MB of WAL)" in narrow
    both = assess(backfill_step(), users(size=100_000_000), Rates(wal_per_row=300, wal_per_table_byte=2.0)).text
    assert "; writes ~500 MB of WAL)" in both


def server(max_wal_gb: float, target: float = 0.9, version: int = 150018) -> ServerFacts:
    return ServerFacts(version_num=version, max_wal_size_bytes=int(max_wal_gb * 1024**3),
                       checkpoint_completion_target=target)


def test_when_a_checkpoint_starts_follows_postgresql():
    assert DEFAULT_SERVER.checkpoint_after_bytes() == int(1024**3 / 1.9)
    assert server(4).checkpoint_after_bytes() == int(4 * 1024**3 / 1.9)
    assert server(1, target=0.5).checkpoint_after_bytes() == int(1024**3 / 1.5)
    assert server(1, version=100012).checkpoint_after_bytes() == int(1024**3 / 2.9)  # 10 kept two checkpoints
    for facts in (DEFAULT_SERVER, server(2, 0.5), server(1, version=90624)):
        wal = 700_000_000
        need = facts.max_wal_size_for(wal)
        bigger = facts.model_copy(update={"max_wal_size_bytes": need})
        smaller = facts.model_copy(update={"max_wal_size_bytes": need - 1024**2})
        assert bigger.checkpoint_after_bytes() >= wal - 1 > smaller.checkpoint_after_bytes()


def test_wal_advice_weighs_the_live_servers_settings():
    rates = Rates(wal_per_row=0, wal_per_table_byte=2.0)
    step, table = backfill_step(), users(size=600_000_000)  # 1.2 GB of WAL
    roomy = assess(step, table, rates, server(4)).text
    assert "; writes ~1.1 GB of WAL" in roomy and "max_wal_size" not in roomy  # 4 GB starts one after 2.2
    tight = assess(step, table, rates, server(2)).text
    assert ("(set max_wal_size to at least 2.2 GB first: this server's 2.0 GB starts a checkpoint during "
            "the walk, which stalls the application's commits)") in tight
    old = assess(step, table, rates, server(2, target=0.5, version=100000)).text  # 10: x 2.5 = 2.8 GB
    assert "to at least 2.8 GB first: this server's 2.0 GB" in old
    # annotate() takes the server from the schema it plans on, as a live read gives it
    live = Schema(tables=[table], server=server(2))
    assert "this server's 2.0 GB" in annotate(Plan(description="d", type="safe", tool="sql", operations=[], steps=[step]),
                                              live, rates).steps[0].risk


def test_backfill_reads_batch_size_and_pause_from_the_step():
    slow = build_plan([Backfill(table="users", column="n", value="1", batch_size=1000)], schema(),
                      Settings(backfill_sleep_ms=200)).steps[0]
    est = assess(slow, users(), Rates(update_rows_per_s=1e12, batch_overhead_s=0))
    assert est.seconds == pytest.approx(1000 * 0.2)
    assert "1,000 batches of 1,000 with 200 ms pauses" in est.text


def test_unbatched_update():
    est = assess(sql_step("UPDATE users SET n = 1"), users(), Rates(update_rows_per_s=100_000))
    assert est.kind == "update" and est.seconds == pytest.approx(10.0)


def test_several_statements_add_up():
    est = assess(sql_step(f"{SCAN}; {REWRITE}"), users(size=700_000_000), Rates(rewrite_mb_per_s=70,
                                                                                    scan_mb_per_s=700))
    assert est.seconds == pytest.approx(11.0)
    assert est.kind == "table rewrite" and est.text.endswith("; +1 more)")


def test_code_steps_and_unknown_work():
    assert estimate(Step(phase="code", title="deploy"), users()) == ""
    assert estimate(sql_step("DO $$ BEGIN PERFORM 1; END $$"), users()) == "duration unknown (DO block)"


# --------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: sql_step(REWRITE), lambda: sql_step(SCAN), lambda: sql_step(INDEX), lambda: backfill_step(),
    lambda: sql_step("UPDATE users SET n = 1"),
])
def test_monotonic_in_rows(make):
    seconds = [assess(make(), users(rows=r, size=r * 240)).seconds for r in (0, 1, 10_000, 1_000_000, 50_000_000)]
    assert seconds == sorted(seconds)
    assert seconds[-1] > seconds[-2] > seconds[0]


@pytest.mark.parametrize("make", [
    lambda: sql_step(REWRITE), lambda: sql_step(SCAN), lambda: sql_step(INDEX), lambda: backfill_step(),
])
def test_size_unknown_without_statistics(make):
    est = assess(make(), users(rows=None, size=None))
    assert est.seconds is None
    assert est.text.startswith("size unknown")
    assert estimate(make(), None).startswith("size unknown")


def test_catalog_only_needs_no_statistics():
    assert estimate(sql_step("ALTER TABLE users ADD COLUMN note text"), None) == "instant (catalog only)"


def test_empty_table_is_instant():
    est = assess(sql_step(INDEX), users(rows=0, size=0))
    assert est.seconds == 0 and est.text == "< 1 s (index build of an empty table)"


def test_faster_rates_give_shorter_estimates():
    slow = assess(sql_step(REWRITE), users(), Rates(rewrite_mb_per_s=10)).seconds
    fast = assess(sql_step(REWRITE), users(), Rates(rewrite_mb_per_s=20)).seconds
    assert slow == pytest.approx(2 * fast)


@pytest.mark.parametrize("seconds, text", [
    (0.2, "< 1 s"), (1.0, "~1 s"), (3.25, "~3.2 s"), (40.4, "~40 s"), (89, "~89 s"), (125, "~2.1 min"),
    (3000, "~50 min"), (7200, "~2 h"), (100_000, "~28 h"),
])
def test_duration_text(seconds, text):
    assert duration_text(seconds) == text


def test_rates_are_validated():
    with pytest.raises(ValueError):
        Rates(scan_mb_per_s=0)
    assert Rates().concurrent_passes >= 1


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


def test_annotate_appends_to_risk_and_states_the_basis():
    op = AddColumn(table="users", column="plan", type="text", nullable=False, backfill="'free'")
    plan = build_plan([op], schema(), SETTINGS)
    out = annotate(plan, schema())
    assert [s.risk.split("; estimate: ")[0] for s in out.steps] == [s.risk for s in plan.steps]
    by_title = {s.title: s.risk for s in out.steps}
    fill = next(r for t, r in by_title.items() if "backfill" in t)
    assert re.search(r"estimate: ~\d.* \(batched backfill of ~1,000,000 rows", fill)
    validate = next(r for t, r in by_title.items() if t.startswith("validate"))
    assert "estimate: " in validate and "full scan of ~1,000,000 rows" in validate
    # SET NOT NULL comes after the CHECK was validated in an earlier step: no scan.
    set_nn = next(r for t, r in by_title.items() if "NOT NULL (proved" in t)
    assert set_nn.endswith("estimate: instant (catalog only)")
    assert plan.steps[0].risk == build_plan([op], schema(), SETTINGS).steps[0].risk  # input untouched


def test_annotate_without_statistics_says_size_unknown():
    plan = build_plan([SetNotNull(table="users", column="email", backfill="''")], schema(None, None), SETTINGS)
    risks = [s.risk for s in annotate(plan, schema(None, None)).steps if s.phase != "code"]
    assert any("estimate: size unknown" in r for r in risks)


def test_annotate_treats_tables_created_by_the_plan_as_empty():
    ops = [CreateTable(table="events", columns=[ColumnSpec(name="id", type="bigint", primary_key=True),
                                                ColumnSpec(name="kind", type="text")]),
           AddIndex(table="events", columns=["kind"])]
    out = annotate(build_plan(ops, schema(), SETTINGS), schema())
    assert all("size unknown" not in s.risk for s in out.steps)


def test_annotate_follows_the_shadow_column_plan():
    plan = build_plan([ChangeColumnType(table="users", column="n", type="bigint")], schema(), SETTINGS)
    out = annotate(plan, schema())
    for step in out.steps:
        if step.phase == "code":
            assert "estimate" not in step.risk
        else:
            assert "estimate: " in step.risk
    assert any("batched backfill" in s.risk for s in out.steps)


def test_step_table_finds_the_table():
    assert step_table(backfill_step(), schema()).name == "users"
    assert step_table(sql_step(INDEX), schema()).name == "users"
    assert step_table(sql_step("SELECT 1"), schema()) is None
    assert step_table(Step(phase="code", title="x"), schema()) is None


def test_plan_model_round_trips():
    out = annotate(build_plan([AddIndex(table="users", columns=["n"])], schema(), SETTINGS), schema())
    assert Plan.model_validate(out.model_dump()) == out


def test_backfill_estimate_reads_the_pacing_floor_from_the_step():
    """The throttled worst case comes from the step's Batching (the settings at plan time)."""
    step = build_plan([Backfill(table="users", column="n", value="1")], schema(),
                      Settings(backfill_min_rows_per_s=1000, backfill_max_commit_ms=30, backfill_max_pause_ms=700)).steps[0]
    b = step.batching
    assert (b.min_rows_per_s, b.max_commit_ms, b.max_pause_ms, b.max_lag_bytes) == (1000, 30, 700, 16 * 1024 * 1024)
    assert "IF flux_ms > 30 THEN" in step.up_sql and ", 700," in step.up_sql and "/ 1000 - flux_ms" in step.up_sql
    est = assess(step, users(size=None), Rates(update_rows_per_s=50_000, batch_overhead_s=0.01))
    assert est.text.endswith("if throttled throughout, up to ~17 min at its floor of 1,000 rows/s)")
    fast = build_plan([Backfill(table="users", column="n", value="1")], schema(),
                      Settings(backfill_min_rows_per_s=1_000_000)).steps[0]
    assert "throttled" not in assess(fast, users(), Rates()).text  # the floor is faster than the estimate


def test_backfill_reads_no_replica_lag_before_postgresql_10():
    step = build_plan([Backfill(table="users", column="n", value="1")], schema(), Settings(pg_version=9)).steps[0]
    assert step.batching.max_lag_bytes is None and "pg_stat_replication" not in step.up_sql


def test_a_size_unknown_says_what_would_give_it():
    # Read live (its size is known) but never analysed: ANALYZE gives the rows; read offline (no
    # size at all): reading the schema live does (ever-gauzy's tables, read with --database-url,
    # were told to read the schema live).
    live = users(rows=None, size=8192)
    assert assess(sql_step(INDEX), live).text == "size unknown (the table was never analysed: ANALYZE it)"
    offline = users(rows=None, size=None)
    assert assess(sql_step(INDEX), offline).text == "size unknown (no table statistics; read the schema live)"
