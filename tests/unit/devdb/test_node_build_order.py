"""Which earlier file's database a Node tool's file may be built from (devdb/before_file.py):
only one that runs first in the tool's own order (TypeORM's driver checks the guess), and only for
the tools that can go on from a copy of it."""

from __future__ import annotations

from flux_agent.devdb.before_file import runs_before as _runs_before


def test_knex_sequelize_and_typeorm_compare_names_as_javascript_does():
    # TypeORM's own order is its classes' timestamps: the names are a guess its driver checks
    for tool in ("knex", "sequelize", "typeorm"):
        assert _runs_before(tool, "20250101000000_a.js", "20250102000000_b.js")
        assert not _runs_before(tool, "20250102000000_b.js", "20250101000000_a.js")
        assert not _runs_before(tool, "20250101000000_a.js", "20250101000000_a.js")
        assert _runs_before(tool, "B.js", "a.js")  # code units: capitals first, as Array.prototype.sort
        # UTF-16 code units, not code points: an emoji's surrogates (D83D ...) sort before U+FF5A
        assert _runs_before(tool, "\U0001f600.js", "\uff5a.js") and not _runs_before(tool, "\uff5a.js", "\U0001f600.js")


def test_never_for_node_pg_migrate_whose_driver_counts_from_an_empty_database():
    assert not _runs_before("node-pg-migrate", "1735689600000_a.js", "1735776000000_b.js")
