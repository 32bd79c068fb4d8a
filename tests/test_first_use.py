"""Issue 12, "wrong results": one regression test per numbered item, each failing on
the code before its fix. Plans run on a copy of examples/shop."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from flux_agent import tools

from shop import SHOP


@pytest.fixture
def proj(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


# -- item 4: the summary names the files as written ----------------------------------------------------

def test_summary_after_write_names_the_files_as_written(proj):
    # Planned "yesterday": the files are named again at write time, a day later.
    then = datetime(2026, 1, 1, tzinfo=timezone.utc)
    plan = tools.plan_migration([{"op": "rename_column", "table": "users", "column": "email",
                                  "new_name": "email_address"}], str(proj), now=then)
    outcome = tools.write_migration(plan, str(proj))
    written = outcome.plan
    assert outcome.files and all((proj / f).is_file() for f in outcome.files)
    named = [f for s in written.steps for f in s.files]
    for name in outcome.files:
        assert name in written.summary  # the summary shows the names on disk ...
    stale = [f for s in plan.steps for f in s.files if f not in named]
    assert stale and not any(f in written.summary for f in stale)  # ... and none of the plan-time ones
