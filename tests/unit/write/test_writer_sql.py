import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from flux_agent.errors import FluxInputError, FluxRefused
from flux_agent.model.plan import Finding, Plan, Step
from flux_agent.write.tools import WRITERS, get_writer
from flux_agent.write.base import slug
from flux_agent.write.tools.sql import SqlWriter, layout, render_file, write

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def plan() -> Plan:
    steps = [
        Step(number=1, phase="expand", title="Add column users.email_address",
             up_sql="ALTER TABLE users ADD COLUMN email_address text;",
             down_sql="ALTER TABLE users DROP COLUMN email_address;"),
        Step(number=2, phase="expand", title="Index users.email_address",
             up_sql="CREATE INDEX CONCURRENTLY users_email_address_idx ON users (email_address);",
             down_sql="DROP INDEX CONCURRENTLY users_email_address_idx;", transactional=False),
        Step(number=3, phase="code", title="Use email_address"),
        Step(number=4, phase="backfill", title="Copy email (batched)",
             up_sql="UPDATE users SET email_address = email WHERE email_address IS NULL;",
             rollback="the copied values stay; the column is dropped by step 1's rollback"),
    ]
    return Plan(description="rename", type="expand-contract", tool="sql", operations=[], steps=steps)


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_slug():
    assert slug("Add column users.email_address") == "add_column_users_email_address"
    assert slug("Crème brûlée — ÉTÉ!") == "creme_brulee_ete"
    assert slug("x" * 80) == "x" * 50
    assert slug("—— ✓ ——") == "migration"
    # cut after a whole word (outline's "..._keeping_it_in_sync_w.js"), unless that keeps under half
    assert slug("add shares.slug and a trigger keeping it in sync with urlId") == \
        "add_shares_slug_and_a_trigger_keeping_it_in_sync"
    assert slug("a" * 49 + " bcd") == "a" * 49 and slug("a" * 50 + " b") == "a" * 50
    assert slug("abc " + "x" * 70) == "abc_" + "x" * 46
    # outline's rename steps: a name stays whole, asides go first, no trailing "as"/"on"
    assert slug("validate the copied constraints on shares.is_published") == "validate_the_copied_constraints"
    assert slug("add constraints of published to is_published as NOT VALID") == \
        "add_constraints_of_published_to_is_published"
    assert slug("set shares.is_published NOT NULL (proved by the check, no scan)") == "set_shares_is_published_not_null"
    assert slug("set shares.published NOT NULL (proved)") == "set_shares_published_not_null_proved"  # fits: kept
    # babybuddy: a long column name is cut after one of its own words, not within one ("..._for_the_d")
    assert slug("add column core_child.preferred_nickname_for_the_dashboard") == \
        "add_column_core_child_preferred_nickname"


def test_layout_stamps_increase_from_now(tmp_path):
    out = layout(plan(), tmp_path, "db/migrations", NOW)
    files = [s.files for s in out.steps]
    assert files == [
        ["db/migrations/20250304050607_add_column_users_email_address.sql"],
        ["db/migrations/20250304050608_index_users_email_address.sql"],
        [],
        ["db/migrations/20250304050609_copy_email_batched.sql"],
    ]
    assert plan().steps[0].files == []  # the input plan is left alone


def test_layout_orders_after_existing_files(tmp_path):
    mig = tmp_path / "db" / "migrations"
    mig.mkdir(parents=True)
    (mig / "20300101235959_future.sql").write_text("-- migrate:up\n")
    (mig / "20200101000000_old.sql").write_text("-- migrate:up\n")
    out = layout(plan(), tmp_path, "./db/migrations/", NOW)
    names = [s.files[0].split("/")[-1] for s in out.steps if s.files]
    stamps = [n[:14] for n in names]
    assert stamps == ["20300102000000", "20300102000001", "20300102000002"]
    assert all(s.files[0].startswith("db/migrations/") for s in out.steps if s.files)


def test_layout_naive_now_is_utc_and_bad_existing_stamp(tmp_path):
    mig = tmp_path / "m"
    mig.mkdir()
    (mig / "20251399000000_bad_month.sql").write_text("")
    out = layout(plan(), tmp_path, "m", datetime(2025, 1, 1))
    first = out.steps[0].files[0]
    assert first.startswith("m/20260101000000_")
    assert first.split("/")[1][:14] > "20251399000000"


def test_render_transactional_file():
    text = render_file(plan().steps[0])
    assert text == (
        "-- migrate:up\n"
        "-- Step 1 (expand): Add column users.email_address\n"
        "ALTER TABLE users ADD COLUMN email_address text;\n"
        "\n"
        "-- migrate:down\n"
        "ALTER TABLE users DROP COLUMN email_address;\n"
    )


def test_render_non_transactional_file():
    text = render_file(plan().steps[1])
    lines = text.splitlines()
    assert lines[0] == "-- migrate:up transaction:false"
    assert "-- migrate:down transaction:false" in lines
    assert lines[-1] == "DROP INDEX CONCURRENTLY users_email_address_idx;"
    assert text.endswith(";\n")


def test_render_nothing_to_undo():
    text = render_file(plan().steps[3])
    assert text.endswith(
        "-- migrate:down\n-- nothing to undo: the copied values stay; the column is dropped by step 1's rollback\n"
    )
    bare = plan().steps[3].model_copy(update={"rollback": ""})
    assert render_file(bare).endswith("-- nothing to undo: this step changes no data\n")


def test_write_creates_folder_and_files(tmp_path):
    laid = layout(plan(), tmp_path, "db/migrations", NOW)
    paths = write(laid, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [s.files[0] for s in laid.steps if s.files]
    assert paths[1].read_text() == render_file(laid.steps[1])
    # no staging folder left behind
    assert listing(tmp_path) == ["db", "db/migrations"] + sorted(s.files[0] for s in laid.steps if s.files)


def test_write_refuses_existing_target_and_writes_nothing(tmp_path):
    laid = layout(plan(), tmp_path, "db/migrations", NOW)
    target = tmp_path / laid.steps[0].files[0]
    target.parent.mkdir(parents=True)
    target.write_text("mine")
    before = listing(tmp_path)
    with pytest.raises(FluxInputError, match="overwrite"):
        write(laid, tmp_path)
    assert listing(tmp_path) == before
    assert target.read_text() == "mine"


def test_write_all_or_nothing_when_second_file_collides(tmp_path, monkeypatch):
    laid = layout(plan(), tmp_path, "db/migrations", NOW)
    second = tmp_path / laid.steps[1].files[0]
    real_link = os.link
    calls = []

    def racing_link(src, dst, *a, **kw):
        # Someone else creates the second file between the checks and the move.
        calls.append(dst)
        if Path(dst) == second:
            second.write_text("theirs")
        return real_link(src, dst, *a, **kw)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(FluxInputError, match="overwrite"):
        write(laid, tmp_path)
    assert len(calls) == 2
    assert listing(tmp_path) == ["db", "db/migrations", laid.steps[1].files[0]]
    assert second.read_text() == "theirs"


def test_write_cleans_up_created_folders_on_failure(tmp_path, monkeypatch):
    laid = layout(plan(), tmp_path, "db/migrations", NOW)

    def broken_link(src, dst, *a, **kw):
        raise FileExistsError(dst)

    monkeypatch.setattr(os, "link", broken_link)
    with pytest.raises(FluxInputError):
        write(laid, tmp_path)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("bad", ["../outside/x.sql", "/tmp/x.sql", "db/../../x.sql", "C:\\x.sql"])
def test_write_refuses_paths_outside(tmp_path, bad):
    laid = layout(plan(), tmp_path, "db/migrations", NOW)
    laid.steps[0].files = [bad]
    with pytest.raises(FluxInputError, match="outside the project"):
        write(laid, tmp_path)
    assert listing(tmp_path) == []


def test_write_refuses_symlinked_folder_out(tmp_path):
    project, elsewhere = tmp_path / "p", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "db").symlink_to(elsewhere, target_is_directory=True)
    laid = layout(plan(), project, "db/migrations", NOW)
    with pytest.raises(FluxInputError, match="outside the project"):
        write(laid, project)
    assert listing(elsewhere) == []


def test_layout_refuses_escaping_folder(tmp_path):
    with pytest.raises(FluxInputError):
        layout(plan(), tmp_path, "../migrations", NOW)


def test_write_refuses_plan_with_errors(tmp_path):
    laid = layout(plan(), tmp_path, "db/migrations", NOW)
    laid.findings = [Finding(rule="adding-not-null", severity="error", message="needs a default\nor backfill", step=1)]
    with pytest.raises(FluxRefused) as err:
        write(laid, tmp_path)
    assert "\n" not in str(err.value) and "adding-not-null" in str(err.value)
    assert listing(tmp_path) == []


def test_write_needs_laid_out_plan(tmp_path):
    with pytest.raises(FluxInputError, match="exactly one file"):
        write(plan(), tmp_path)


def test_registry():
    from flux_agent.project.detect import TOOLS

    assert isinstance(WRITERS["sql"], SqlWriter) and get_writer("dbmate") is WRITERS["dbmate"]
    with pytest.raises(FluxInputError, match="unknown tool"):
        get_writer("liquibase")
    for tool in TOOLS:  # every tool of the contract has its writer module
        assert get_writer(tool).tool == tool or tool == "sql"


def test_nothing_to_undo_is_said_once():
    from flux_agent.model.plan import Step
    from flux_agent.write.tools.sql import render_file

    step = Step(phase="backfill", title="fill", up_sql="SELECT 1;", transactional=False,
                rollback="nothing to undo: the rows keep their values")
    text = render_file(step)
    assert "-- nothing to undo: the rows keep their values" in text
    assert text.count("nothing to undo") == 1


def test_a_hashed_name_is_left_out_of_the_slug():
    """TypeORM names an index IDX_ and a hash (plan/naming.py): in a class name it ran into the
    timestamp (BuildUniqueIndexUqE12875dfb3b1d92d7d7c5377e2217...) and said nothing."""
    assert slug("build index IDX_9a27ee81fbc0bb9e5260ed6f82 on session (hash)") == "build_index_on_session_hash"
    assert slug("add fk_rails_f43038a68e and cafe_babe_deadbeef") == "add_fk_rails_f43038a68e_and_cafe_babe_deadbeef"
