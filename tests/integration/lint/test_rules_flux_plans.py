"""The flux-only rules on the planner's own plans (clean) and through `flux validate` on the
command line; both read the project's schema from the dev database (PostgreSQL). The rules on
SQL alone: tests/unit/lint/test_rules_flux.py."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from flux_agent.entry.cli import main
from flux_agent.model.settings import Settings
from flux_agent.lint.engine import validate_plan

from cases import CASES
from shop import SHOP
from tests.unit.lint.test_rules_flux import SCHEMA, lint

pytestmark = pytest.mark.pg  # plans and validate read the shop through the dev database (PostgreSQL)


@pytest.mark.parametrize("case_id,ops,_phases", CASES, ids=[c[0] for c in CASES])
def test_planner_plans_have_no_error_findings(tmp_path, case_id, ops, _phases):
    from flux_agent.entry import actions as tools
    proj = tmp_path / "shop"
    shutil.copytree(SHOP, proj)
    plan = tools.plan_migration(ops, str(proj))
    errors = [f"step {f.step}: {f.rule}: {f.message}" for f in plan.findings if f.severity == "error"]
    assert not errors, "\n".join(errors)


def test_plan_steps_are_judged_against_the_schema_the_earlier_steps_leave():
    """The set-not-null plan validates its CHECK one step before SET NOT NULL; judged
    against the original schema alone, that last step would be flagged."""
    from flux_agent.entry import actions as tools
    ops = next(c[1] for c in CASES if c[0] == "set-not-null")
    plan = tools.plan_migration(ops, str(SHOP))
    last = [s for s in plan.steps if s.up_sql and "SET NOT NULL" in s.up_sql][-1]
    # (the step silences adding-not-nullable-field with its reason; the opt-in rule, switched on, has none)
    alone = lint(last.up_sql, phase="contract", include=["set-not-null-without-check"])
    assert "set-not-null-without-check" in {f.rule for f in alone}
    on = Settings(include_rules=["set-not-null-without-check"])
    assert not [f for f in validate_plan(plan, SCHEMA, on) if f.severity == "error"]


def test_plan_with_errors_is_refused_and_nothing_written(tmp_path, capsys):
    proj = tmp_path / "shop"
    shutil.copytree(SHOP, proj)
    before = sorted(p.name for p in (proj / "db" / "migrations").iterdir())
    op = {"op": "raw_sql", "up": "CREATE INDEX orders_note_idx ON orders (note);", "down": None}
    code = main(["plan", "--project", str(proj), "--op", json.dumps(op), "--write", "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    plan = json.loads(out)
    assert "require-concurrent-index-creation" in {f["rule"] for f in plan["findings"]}
    assert "nothing written" in err
    assert sorted(p.name for p in (proj / "db" / "migrations").iterdir()) == before


TIMEOUTS = "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\n"


def _write(path: Path, up: str, down: str = "") -> Path:
    path.write_text(f"-- migrate:up\n{up}\n\n-- migrate:down\n{down}\n")
    return path


def test_cli_validate_json_and_exit_codes(tmp_path, capsys):
    clean = _write(tmp_path / "001_nickname.sql", TIMEOUTS + "ALTER TABLE users ADD COLUMN nickname text;",
                   "ALTER TABLE users DROP COLUMN nickname;")
    bad = _write(tmp_path / "002_drop.sql", "ALTER TABLE orders DROP COLUMN note;",
                 "ALTER TABLE orders ADD COLUMN note varchar(200);")
    assert main(["validate", str(clean), "--project", str(SHOP), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["validate", str(tmp_path), "--project", str(SHOP), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert {f["rule"] for f in findings} >= {"destructive-outside-contract", "expand-contract-required"}
    for f in findings:
        assert set(f) == {"path", "line", "rule", "severity", "message", "hint"}
        assert f["path"] == str(bad)
    assert {f["line"] for f in findings if f["rule"] == "expand-contract-required"} == {2}
    assert main(["validate", str(tmp_path / "nope.sql")]) == 2
    assert "flux:" in capsys.readouterr().err


def test_cli_validate_text_lines_and_summary(tmp_path, capsys):
    bad = _write(tmp_path / "001_rename.sql", TIMEOUTS + "ALTER TABLE users RENAME COLUMN email TO email_address;",
                 "ALTER TABLE users RENAME COLUMN email_address TO email;")
    assert main(["validate", str(bad), "--project", str(SHOP)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{bad}:4: error expand-contract-required: renaming users.email") for line in lines)
    assert all(re.match(rf"{re.escape(str(bad))}:\d+: (error|warning) [a-z-]+: .+", line) for line in lines[:-1])
    errors = sum(": error " in line for line in lines[:-1])
    warnings = len(lines) - 1 - errors
    assert lines[-1] == f"1 file(s) checked, 1 with findings: {errors} error(s), {warnings} warning(s)"


def test_warnings_alone_exit_zero(tmp_path, capsys):
    f = _write(tmp_path / "001_title_optional.sql", TIMEOUTS + "ALTER TABLE products ALTER COLUMN title DROP NOT NULL;",
               "ALTER TABLE products ALTER COLUMN title SET NOT NULL;")
    assert main(["validate", str(f), "--project", str(SHOP), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(x["rule"], x["severity"]) for x in found] == [("ban-drop-not-null", "warning")]


def test_file_in_migrations_folder_is_judged_against_earlier_migrations_only(tmp_path, capsys):
    proj = tmp_path / "shop"
    shutil.copytree(SHOP, proj)
    folder = proj / "db" / "migrations"
    # Creates a table and indexes it: judged against its own effects, nothing would be wrong
    # either way; judged against the later schema, a column renamed afterwards would be unknown.
    _write(folder / "20250301000000_coupons.sql",
           "CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);",
           "DROP TABLE coupons;")
    _write(folder / "20250302000000_rename_code.sql",
           "-- flux-ignore expand-contract-required: coupons is not read by any released code yet\n"
           "ALTER TABLE coupons RENAME COLUMN code TO coupon_code;",
           "ALTER TABLE coupons RENAME COLUMN coupon_code TO code;")
    early = _write(folder / "20250301000100_coupon_idx.sql",
                   "CREATE INDEX CONCURRENTLY coupons_code_idx ON coupons (code);",
                   "DROP INDEX CONCURRENTLY coupons_code_idx;")
    code = main(["validate", str(early), "--project", str(proj), "--json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)}
    assert "unknown-table-or-column" not in rules
    # The same SQL outside the folder is judged against the full history: code was renamed.
    outside = tmp_path / "elsewhere.sql"
    outside.write_text(early.read_text())
    main(["validate", str(outside), "--project", str(proj), "--json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)}
    assert "unknown-table-or-column" in rules
    assert code in (0, 1)
