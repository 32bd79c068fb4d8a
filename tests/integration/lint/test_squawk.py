"""Every file `flux plan --write` creates passes the real squawk linter.

For each case in CASES the CLI writes the migration into a copy of
examples/shop; the up block of each file goes to squawk (`squawk-cli` on
PyPI) as its own .sql file, told whether dbmate runs it in a transaction.
A test on hand-written unsafe SQL proves the same helper does report findings.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.entry.cli import main

from cases import CASES
from shop import SHOP

UP = re.compile(r"^-- migrate:up(?P<opts>.*)$")
DOWN = re.compile(r"^-- migrate:down\b")


def _squawk() -> str:
    exe = shutil.which("squawk")
    if exe is None:
        pytest.skip("the squawk binary is not on PATH (pip install squawk-cli)")
    return exe


def up_block(text: str) -> tuple[str, bool]:
    """(the SQL between `-- migrate:up` and `-- migrate:down`, runs in a transaction?)."""
    lines = text.splitlines()
    ups = [i for i, line in enumerate(lines) if UP.match(line)]
    downs = [i for i, line in enumerate(lines) if DOWN.match(line)]
    assert len(ups) == 1, f"expected one `-- migrate:up` line, found {len(ups)}"
    assert len(downs) == 1, f"expected one `-- migrate:down` line, found {len(downs)}"
    start, end = ups[0], downs[0]
    assert start < end, "`-- migrate:up` must come before `-- migrate:down`"
    in_transaction = "transaction:false" not in UP.match(lines[start]).group("opts")
    return "\n".join(lines[start + 1:end]) + "\n", in_transaction


def squawk_findings(sql_file: Path, in_transaction: bool) -> list[dict]:
    """Run the real squawk on one file; its findings as parsed JSON."""
    cmd = [_squawk(), "--reporter", "json", "--pg-version", "16"]
    if in_transaction:
        cmd.append("--assume-in-transaction")
    cmd.append(sql_file.name)
    # cwd: the file's own folder, so no .squawk.toml of this repository is picked up.
    proc = subprocess.run(cmd, cwd=sql_file.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), f"squawk failed ({proc.returncode}): {proc.stderr.strip()}"
    findings = json.loads(proc.stdout or "[]")
    assert isinstance(findings, list), proc.stdout
    assert (proc.returncode == 1) == bool(findings), (proc.returncode, proc.stdout)
    return findings


def bad_ignores(text: str) -> list[str]:
    """Lines with `squawk-ignore` that lack a one-line reason after ` -- `."""
    bad = []
    for line in text.splitlines():
        if "squawk-ignore" not in line:
            continue
        rest = line.split("squawk-ignore", 1)[1]
        rules, sep, reason = rest.partition(" -- ")
        if not sep or not rules.strip() or not reason.strip():
            bad.append(line)
    return bad


def _write_case(tmp_path: Path, ops: list[dict]) -> tuple[Path, list[Path]]:
    proj = tmp_path / "shop"
    shutil.copytree(SHOP, proj)
    before = set((proj / "db" / "migrations").iterdir())
    out, err = io.StringIO(), io.StringIO()
    # The CLI's summary is swallowed so that `-s` shows only the squawk counts.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["plan", "--project", str(proj), "--op", json.dumps(ops), "--write"])
        assert code == 0, err.getvalue()
        # Later deploys' steps: written by `flux continue` (as after each code deploy).
        while main(["continue", "--project", str(proj)]) == 0:
            pass
    written = sorted(set((proj / "db" / "migrations").iterdir()) - before)
    assert written, "plan --write wrote no files"
    return proj, written


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.parametrize("case_id, ops", [c[:2] for c in CASES], ids=[c[0] for c in CASES])
def test_written_files_pass_squawk(tmp_path, case_id, ops):
    _squawk()
    _, written = _write_case(tmp_path, ops)
    out = tmp_path / "squawk"
    out.mkdir()
    problems = []
    total = 0
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert not bad_ignores(text), f"{path.name}: squawk-ignore without a reason: {bad_ignores(text)}"
        sql, in_tx = up_block(text)
        assert sql.strip(), f"{path.name}: empty up block"
        target = out / path.name
        target.write_text(sql, encoding="utf-8")
        findings = squawk_findings(target, in_tx)
        total += len(findings)
        problems += [f"{path.name}:{f.get('line')}: {f.get('rule_name')}: {f.get('message')}" for f in findings]
    print(f"squawk {case_id}: {len(written)} file(s) checked, {total} finding(s)")
    assert problems == []


def test_unsafe_sql_has_findings(tmp_path):
    """The check can fail: plain CREATE INDEX and SET NOT NULL are flagged."""
    _squawk()
    path = tmp_path / "unsafe.sql"
    path.write_text("CREATE INDEX i ON orders (user_id);\n"
                    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n", encoding="utf-8")
    findings = squawk_findings(path, in_transaction=True)
    rules = {f["rule_name"] for f in findings}
    print(f"squawk: 1 unsafe file checked, {len(findings)} finding(s): {sorted(rules)}")
    assert "require-concurrent-index-creation" in rules
    assert "adding-not-nullable-field" in rules


def test_up_block_and_ignore_helpers():
    text = ("-- migrate:up transaction:false\n"
            "-- squawk-ignore ban-drop-column -- unused since the code step\n"
            "SELECT 1;\n\n-- migrate:down transaction:false\nSELECT 2;\n")
    sql, in_tx = up_block(text)
    assert in_tx is False
    assert "SELECT 1;" in sql and "SELECT 2;" not in sql and "migrate" not in sql
    assert up_block("-- migrate:up\nSELECT 1;\n-- migrate:down\n")[1] is True
    assert bad_ignores(text) == []
    assert bad_ignores("-- squawk-ignore ban-drop-column\n") == ["-- squawk-ignore ban-drop-column"]
    assert bad_ignores("-- squawk-ignore ban-drop-column --   \n") != []


@pytest.mark.parametrize("tool", ["flyway", "sqitch"])
@pytest.mark.parametrize("case_id", ["add-index", "add-unique", "rename-column"])
def test_a_guarded_build_passes_squawk(tmp_path, tool, case_id):
    """Where the file holds the guard before the build (tools that run statements one by one)."""
    from tests.unit.write.test_writers_golden import jobs_for

    _squawk()
    _, laid, jobs = jobs_for(tool, tmp_path, case_id)
    content = {j.rel: j.content for j in jobs}
    guarded = [s for s in laid.steps if s.guard_sql]
    assert guarded
    for step in guarded:
        target = tmp_path / "up.sql"
        target.write_text(content[step.files[0]], encoding="utf-8")
        assert "NOT indisvalid" in target.read_text()
        assert squawk_findings(target, in_transaction=False) == []
