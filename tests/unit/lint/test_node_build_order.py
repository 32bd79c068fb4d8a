"""Which earlier file's database a Node tool's file may be built from (lint/readers/_node.py):
only one that certainly runs first in the tool's own order, and only for the tools that can go
on from a copy of it."""

from __future__ import annotations

from flux_agent.lint.readers._node import _runs_before


def test_knex_and_sequelize_compare_names_as_javascript_does():
    for tool in ("knex", "sequelize"):
        assert _runs_before(tool, "20250101000000_a.js", "20250102000000_b.js")
        assert not _runs_before(tool, "20250102000000_b.js", "20250101000000_a.js")
        assert not _runs_before(tool, "20250101000000_a.js", "20250101000000_a.js")
        assert _runs_before(tool, "B.js", "a.js")  # code units: capitals first, as Array.prototype.sort
        # UTF-16 code units, not code points: an emoji's surrogates (D83D ...) sort before U+FF5A
        assert _runs_before(tool, "\U0001f600.js", "\uff5a.js") and not _runs_before(tool, "\uff5a.js", "\U0001f600.js")


def test_never_for_the_tools_whose_order_or_runs_are_not_the_names():
    assert not _runs_before("typeorm", "1735689600000-A.ts", "1735776000000-B.ts")
    assert not _runs_before("node-pg-migrate", "1735689600000_a.js", "1735776000000_b.js")
