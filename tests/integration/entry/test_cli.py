"""The `flux` command in-process (DESIGN.md section 3) on a copy of examples/shop:
bad input exits 2 with one `flux:` line on stderr and writes nothing; the
happy paths print the documented JSON shapes and write exactly the planned files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from flux_agent.entry.cli import main
from flux_agent.model.plan import Step

from cases import CASES
from shop import SHOP

PLAN_KEYS = {"description", "type", "tool", "dialect", "operations", "steps", "findings", "code_changes", "summary"}
STEP_KEYS = {"number", "phase", "title", "files", "up_sql", "down_sql", "transactional", "lock", "risk",
             "data_loss_on_rollback"}
PHASES = {"migrate", "expand", "backfill", "code", "contract"}
SHOP_TABLES = {"users", "products", "orders", "order_items", "legacy_events"}
ADD_INDEX = {"op": "add_index", "table": "orders", "columns": ["user_id"]}
STAMP = re.compile(r"^(\d{14})_")


@pytest.fixture
def proj(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


def listing(root: Path) -> list[str]:
    """Every path under `root`, sorted, so a stray staging folder shows up too."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def migrations(proj: Path) -> list[str]:
    return sorted(p.name for p in (proj / "db" / "migrations").iterdir())


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def plan_json(capsys, proj: Path, ops, *extra: str) -> dict:
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(ops), "--json", *extra])
    assert code == 0, err
    assert err == ""
    return json.loads(out)  # the whole of stdout is one JSON document


# --- bad input: exit 2, one line on stderr, nothing on stdout, nothing written ---------------------------

def _op(**fields) -> list[str]:
    return ["--op", json.dumps(fields)]


BAD_INPUT = [
    ("unknown-table", _op(op="add_column", table="customers", column="x", type="text")),
    ("unknown-column", _op(op="drop_column", table="users", column="nickname")),
    ("bad-type", _op(op="add_column", table="users", column="nickname", type="strng")),
    ("malformed-json", ["--op", '{"op": "add_column",']),
    ("unknown-op", _op(op="add_colum", table="users", column="nickname", type="text")),
    ("missing-required-field", _op(op="add_column", table="users", column="nickname")),
    ("extra-unknown-field", _op(op="add_column", table="users", column="nickname", type="text", colour="red")),
    ("expression-injection", _op(op="add_column", table="users", column="score", type="integer",
                                 default="1; DROP TABLE users")),
    ("missing-op-file", ["--op", "@missing.json"]),
    ("unknown-tool", ["--tool", "liquibase", "--op", json.dumps(ADD_INDEX)]),
    ("unreadable-request", ["frobnicate", "the", "orders", "table"]),
    ("request-naming-unknown-table", ["add", "an", "index", "on", "customers.user_id"]),
    ("unknown-flag", ["--frobnicate", "--op", json.dumps(ADD_INDEX)]),
]


@pytest.mark.pg
@pytest.mark.parametrize("args", [a for _, a in BAD_INPUT], ids=[i for i, _ in BAD_INPUT])
@pytest.mark.parametrize("write", [False, True], ids=["dry-run", "write"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(proj, tmp_path, monkeypatch, capsys, args, write):
    monkeypatch.chdir(tmp_path)  # `@missing.json` is looked up here, and is not there
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # an unreadable request must not reach the agent
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    before_migrations, before_all = migrations(proj), listing(tmp_path)
    argv = ["plan", "--project", str(proj), *args, *(["--write"] if write else [])]
    code, out, err = run(capsys, argv)
    assert code == 2
    assert out == ""
    assert err.startswith("flux:")
    assert err.endswith("\n") and err.count("\n") == 1, f"stderr is not exactly one line: {err!r}"
    assert len(err.strip()) > len("flux:")
    assert migrations(proj) == before_migrations
    assert listing(tmp_path) == before_all


@pytest.mark.pg
def test_plain_language_request_points_to_op(proj, capsys, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    code, out, err = run(capsys, ["plan", "--project", str(proj), "add", "a", "nickname", "to", "users"])
    assert code == 2 and out == ""
    assert "no type given for the new column 'nickname'" in err and "--op" in err


@pytest.mark.pg
def test_plain_language_request_plans(proj, capsys):
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--nl", "--json",
                                  "add", "an", "index", "on", "orders.user_id"])
    assert code == 0, err
    assert json.loads(out)["operations"] == [
        {"op": "add_index", "table": "orders", "columns": ["user_id"], "unique": False, "name": None, "where": None}]


@pytest.mark.pg
def test_nl_flag_never_calls_the_agent(proj, capsys, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--nl", "frobnicate", "the", "users"])
    assert code == 2 and out == ""
    assert "cannot understand 'frobnicate the users'" in err


def test_no_request_at_all_points_to_op(proj, capsys):
    code, out, err = run(capsys, ["plan", "--project", str(proj)])
    assert code == 2 and out == ""
    assert err.startswith("flux:") and err.count("\n") == 1
    assert "--op" in err


# --- happy paths -----------------------------------------------------------------------------------------

@pytest.mark.pg
def test_plan_json_has_the_contract_keys(proj, capsys):
    ops = CASES[[c[0] for c in CASES].index("drop-column")][1]
    before = migrations(proj)
    plan = plan_json(capsys, proj, ops)
    assert set(plan) == PLAN_KEYS
    assert plan["type"] in {"safe", "expand-contract", "backfill"}
    assert plan["dialect"] == "postgresql"
    assert plan["tool"] == "dbmate"
    assert [o["op"] for o in plan["operations"]] == ["drop_column"]
    assert isinstance(plan["summary"], str) and plan["summary"].strip()
    assert isinstance(plan["findings"], list)
    assert plan["steps"], "a plan with no steps"
    for n, step in enumerate(plan["steps"], start=1):
        assert STEP_KEYS <= set(step), f"step {n} lacks {STEP_KEYS - set(step)}"
        assert step["number"] == n
        assert step["phase"] in PHASES
        assert isinstance(step["transactional"], bool)
        assert isinstance(step["data_loss_on_rollback"], bool)
        if step["phase"] == "code":
            assert step["files"] == [] and not step["up_sql"]
        else:
            assert len(step["files"]) == 1 and step["up_sql"].strip()
    assert any(s["phase"] == "code" for s in plan["steps"])  # drop-column goes through a code step
    assert migrations(proj) == before, "plan without --write wrote something"


@pytest.mark.pg
@pytest.mark.parametrize("case_id", ["add-index", "add-not-null-volatile-default", "drop-column",
                                     "add-not-null-backfill-no-default"])
def test_write_creates_exactly_the_files_before_the_first_deploy(proj, capsys, case_id):
    """--write writes the steps before the first code deploy; `flux continue` writes the rest."""
    ops = CASES[[c[0] for c in CASES].index(case_id)][1]
    before = set(listing(proj))
    plan = plan_json(capsys, proj, ops, "--write")
    phases = [s["phase"] for s in plan["steps"]]
    first_code = phases.index("code") if "code" in phases else len(phases)
    now = [f for s in plan["steps"][:first_code] for f in s["files"]]
    later = [s for s in plan["steps"][first_code:] if s["phase"] != "code"]
    written = set(listing(proj)) - before
    assert {f for f in written if f.startswith("db/migrations/")} == set(now)
    records = {f for f in written if f.startswith(".flux/plans/") and f.endswith(".json")}
    assert len(records) == 1  # every written plan is kept: `flux status` reads against it
    for step in plan["steps"][:first_code]:
        for f in step["files"]:
            text = (proj / f).read_text(encoding="utf-8")
            assert text.startswith("-- migrate:up")
            # up_sql is one try; the file holds it as run, retried on a lock timeout where it says so
            assert Step.model_validate(step).up_file_sql.strip() in text
    # After the deploy: continue writes the rest, one group per deploy, then says it is done.
    steps_written = 0
    while later and main(["continue", "--project", str(proj), "--json"]) == 0:
        out = json.loads(capsys.readouterr().out)
        steps_written += len(out["written_steps"])
        for f in out["files"]:
            assert (proj / f).read_text(encoding="utf-8").startswith("-- migrate:up")
        if not out["remaining_steps"]:
            break
    assert steps_written == len(later)
    assert main(["continue", "--project", str(proj)]) == 2
    capsys.readouterr()


@pytest.mark.pg
def test_write_again_adds_later_files_and_keeps_earlier_ones(proj, capsys):
    ops = {"op": "backfill", "table": "orders", "column": "status", "value": "upper(status)"}
    first = plan_json(capsys, proj, ops, "--write")
    first_files = [f for s in first["steps"] for f in s["files"]]
    assert first_files
    first_bytes = {f: (proj / f).read_bytes() for f in first_files}
    before_second = set(migrations(proj))

    second = plan_json(capsys, proj, ops, "--write")
    second_files = [f for s in second["steps"] for f in s["files"]]
    assert len(second_files) == len(first_files)
    assert not set(second_files) & set(first_files)
    assert set(migrations(proj)) - before_second == {Path(f).name for f in second_files}
    last_first = max(STAMP.match(Path(f).name).group(1) for f in first_files)
    first_second = min(STAMP.match(Path(f).name).group(1) for f in second_files)
    assert first_second > last_first
    assert {f: (proj / f).read_bytes() for f in first_files} == first_bytes


@pytest.mark.pg
def test_op_from_yaml_file_with_two_operations(proj, tmp_path, capsys):
    ops_file = tmp_path / "ops.yaml"
    ops_file.write_text(
        "- op: add_column\n"
        "  table: users\n"
        "  column: locale\n"
        "  type: text\n"
        "  default: \"'en'\"\n"
        "- op: add_index\n"
        "  table: users\n"
        "  columns: [locale]\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", f"@{ops_file}", "--json"])
    assert code == 0, err
    plan = json.loads(out)
    assert [o["op"] for o in plan["operations"]] == ["add_column", "add_index"]
    assert plan["operations"][0]["default"] == "'en'"
    assert plan["operations"][1]["columns"] == ["locale"]
    assert len(plan["steps"]) >= 2


def test_detect_json_on_shop(proj, capsys):
    code, out, err = run(capsys, ["detect", "--project", str(proj), "--json"])
    assert code == 0, err
    found = json.loads(out)
    assert found["tool"] == "dbmate"
    assert found["migrations_dir"] == "db/migrations"


@pytest.mark.pg
def test_schema_json_on_shop(proj, capsys):
    code, out, err = run(capsys, ["schema", "--project", str(proj), "--json"])
    assert code == 0, err
    schema = json.loads(out)
    tables = {t["name"]: t for t in schema["tables"]}
    assert set(tables) == SHOP_TABLES
    assert len(schema["tables"]) == 5
    assert [c["name"] for c in tables["users"]["columns"]] == ["id", "email", "name", "created_at"]


@pytest.mark.pg
@pytest.mark.parametrize("case_id, ops", [c[:2] for c in CASES], ids=[c[0] for c in CASES])
def test_plain_plan_summary_is_short_and_names_every_step(proj, capsys, case_id, ops):
    plan = plan_json(capsys, proj, ops)
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(ops)])
    assert code == 0, err
    lines = out.splitlines()
    tail = [i for i, line in enumerate(lines) if line.startswith("Nothing written")]
    assert len(tail) == 1, "a dry run must say it wrote nothing"
    head = lines[:tail[0]]
    while head and not head[-1].strip():
        head.pop()
    assert 0 < len(head) <= 40, f"{case_id}: summary has {len(head)} lines"
    for step in plan["steps"]:
        n = step["number"]
        assert any(line.startswith(f"{n}. ") for line in head), f"{case_id}: step {n} not in the summary"


# The plan's title reads as its descriptions do (each wording: tests/unit/plan/test_describe.py).
@pytest.mark.pg
def test_the_plan_title_reads_well(tmp_path, capsys):
    proj = tmp_path / "shop"
    shutil.copytree(SHOP, proj)
    ops = [{"op": "add_unique", "table": "products", "columns": ["sku"]},
           {"op": "add_check", "table": "orders", "expression": "total > 0"}]
    assert main(["plan", "--project", str(proj), "--op", json.dumps(ops), "--json"]) in (0, 1)
    plan = json.loads(capsys.readouterr().out)
    assert plan["description"] == "add unique constraint on products.sku; add check on orders (total > 0)"
    assert plan["summary"].startswith(f"┌─ Migration: {plan['description']} ─")


def test_error_line_has_one_prefix(capsys):
    from flux_agent.entry.cli import main as flux_main

    assert flux_main(["plan", "--no-such-flag"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flux: ") and not err.startswith("flux: flux:")


def test_a_plan_whose_files_were_deleted_is_given_up(proj, capsys):
    """A plan written, then thrown away with its files (`git clean`), and planned again: `flux
    continue` goes on with the plan whose files are there, not "several plans have steps left"."""
    rename = {"op": "rename_column", "table": "users", "column": "email", "new_name": "email_address"}
    first = plan_json(capsys, proj, [rename], "--write")
    for f in [f for s in first["steps"] for f in s["files"]]:
        (proj / f).unlink(missing_ok=True)  # the plan lists the files of its later steps too
    second = plan_json(capsys, proj, [rename], "--write")
    code, out, err = run(capsys, ["continue", "--project", str(proj), "--json"])
    assert code == 0, err
    done = json.loads(out)
    assert done["written_steps"] and all((proj / f).is_file() for f in done["files"])
    assert done["record"].endswith(".json") and done["record"] != first.get("record")
    # The files of the second plan deleted too: nothing is left to go on with.
    for f in [f for s in second["steps"] for f in s["files"]] + done["files"]:
        (proj / f).unlink(missing_ok=True)
    code, _, err = run(capsys, ["continue", "--project", str(proj)])
    assert code == 2 and "no plan with steps left to write" in err


def test_a_migrations_folder_git_ignores_is_refused_and_nothing_written(proj, capsys):
    """formbricks' prisma.config names a folder its own script fills, which git ignores: a migration
    written there would never be committed. One line, exit 2, nothing written."""
    import subprocess

    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    (proj / ".gitignore").write_text("db/migrations/\n")
    before = listing(proj)
    code, out, err = run(capsys, ["plan", "--project", str(proj), "--op", json.dumps(ADD_INDEX), "--write"])
    assert code == 2 and out == ""
    assert err.startswith("flux: refusing to write db/migrations/") and ".gitignore:1:db/migrations/" in err
    assert len(err.strip().splitlines()) == 1
    assert listing(proj) == before
