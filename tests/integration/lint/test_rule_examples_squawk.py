"""Every rule's declared examples side by side with the real squawk (the examples themselves
are run by tests/unit/lint/test_rule_examples.py).

For a rule whose id squawk shares, the same SQL goes to the real squawk (`squawk-cli` on PyPI,
with the example's --pg-version and --assume-in-transaction): squawk must report a flagged
example under the same id, without `-i` exactly when the rule is in squawk's default set, and
must not report a clean one; examples where flux deliberately reads the SQL otherwise say so
(squawk_agrees=False, with why).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.lint.test_rule_examples import EXAMPLES, _id


def squawk_rules(tmp_path: Path, example, include: str | None = None) -> set[str]:
    exe = shutil.which("squawk")
    if exe is None:
        pytest.skip("the squawk binary is not on PATH (pip install squawk-cli): side-by-side check skipped")
    path = tmp_path / "case.sql"
    path.write_text(example.sql + "\n", encoding="utf-8")
    cmd = [exe, "--reporter", "json", "--pg-version", str(example.pg_version)]
    if example.transactional:
        cmd.append("--assume-in-transaction")
    if include:
        cmd += ["-i", include]
    cmd.append(path.name)
    # cwd: the file's own folder, so no .squawk.toml of this repository is picked up.
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), f"squawk failed ({proc.returncode}): {proc.stderr.strip()}"
    found = {f["rule_name"] for f in json.loads(proc.stdout or "[]")}
    assert "syntax-error" not in found, f"squawk cannot parse {example.sql!r}"
    return found


SHARED = [(r, e) for r, e in EXAMPLES if r.squawk is not None and e.squawk_agrees]


@pytest.mark.slow
@pytest.mark.parametrize("case", SHARED, ids=[_id(c) for c in SHARED])
def test_squawk_agrees(tmp_path, case):
    rule, example = case
    if not example.flagged:
        assert rule.id not in squawk_rules(tmp_path, example, include=rule.id), f"squawk reports {rule.id}"
        return
    default = rule.squawk == "default"
    assert (rule.id in squawk_rules(tmp_path, example)) == default, \
        f"squawk {'does not report' if default else 'reports'} {rule.id} by default"
    if not default:
        assert rule.id in squawk_rules(tmp_path, example, include=rule.id), f"squawk -i {rule.id} does not report it"


OTHERWISE = [(r, e) for r, e in EXAMPLES if not e.squawk_agrees]


@pytest.mark.parametrize("case", OTHERWISE, ids=[_id(c) for c in OTHERWISE])
def test_squawk_reads_otherwise_where_an_example_says_so(tmp_path, case):
    """squawk_agrees=False is true of the example (squawk, even asked with -i, decides the other
    way), and it says why."""
    rule, example = case
    assert rule.squawk is not None and example.why
    assert (rule.id in squawk_rules(tmp_path, example, include=rule.id)) != example.flagged
