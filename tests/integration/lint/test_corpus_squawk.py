"""The migration corpus under tests/corpus (judged by flux in tests/unit/lint/test_corpus.py)
side by side with squawk: the up section of every corpus file goes to the real squawk
(`squawk --reporter json --pg-version 16`, told whether dbmate wraps the file in a
transaction). Every (statement, rule) squawk reports under a rule id flux also has must be
reported by flux on the same statement.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.pg.split import split_statements
from flux_agent.lint.rules import RULES
from flux_agent.lint.engine import read_sections

from tests.unit.lint.test_corpus import SAFE, UNSAFE, flux

SHARED_IDS = {r.id for r in RULES if r.squawk}  # the rule ids squawk has too


def _squawk_exe() -> str:
    exe = shutil.which("squawk")
    if exe is None:
        pytest.skip("the squawk binary is not on PATH (pip install squawk-cli)")
    return exe


def _statement_of(starts: list[int], line: int) -> int:
    """Index of the statement holding `line` (the last one starting at or before it)."""
    idx = 0
    for i, start in enumerate(starts):
        if start <= line:
            idx = i
    return idx


def squawk_vs_flux(path: Path, tmp: Path) -> tuple[set, set]:
    """(squawk's (statement, rule) pairs under shared ids, flux's (statement, rule) pairs)."""
    sec = read_sections(path, path.read_text(encoding="utf-8"))
    target = tmp / path.name
    target.write_text(sec.up, encoding="utf-8")
    cmd = [_squawk_exe(), "--reporter", "json", "--pg-version", "16"]
    if sec.transactional:
        cmd.append("--assume-in-transaction")
    cmd.append(target.name)
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), f"squawk failed on {path.name}: {proc.stderr.strip()}"
    raw = json.loads(proc.stdout or "[]")
    starts = [s.line for s in split_statements(sec.up, sec.up_line)]
    theirs = {(_statement_of(starts, f["line"] + 1 + sec.up_line), f["rule_name"])
              for f in raw if f["rule_name"] in SHARED_IDS}
    ours = {(_statement_of(starts, f.line), f.rule) for f in flux(path)}
    return theirs, ours


def test_flux_agrees_with_squawk_on_shared_rule_ids(tmp_path):
    shared_total, agreed = 0, 0
    misses: list[str] = []
    per_rule: dict[str, list[int]] = {}
    for path in UNSAFE + SAFE:
        theirs, ours = squawk_vs_flux(path, tmp_path)
        for stmt, rule in sorted(theirs):
            shared_total += 1
            counts = per_rule.setdefault(rule, [0, 0])
            counts[0] += 1
            if (stmt, rule) in ours:
                agreed += 1
                counts[1] += 1
            else:
                misses.append(f"{path.parent.name}/{path.name}: statement {stmt + 1}: {rule}")
    print(f"\nsquawk findings with shared ids: {shared_total}, flux agreed: {agreed}")
    for rule, (n, ok) in sorted(per_rule.items()):
        print(f"  {rule}: {ok}/{n}")
    assert shared_total > 0
    assert not misses, "flux missed what squawk reports under the same id:\n" + "\n".join(misses)
