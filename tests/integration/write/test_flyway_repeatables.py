"""A Flyway project whose view is made by a repeatable migration (marquez's R__Datasets_view.sql):
a plan that makes the view again (a rename of a column it reads) says the R__ file must follow,
as Flyway runs it after the versioned migrations on every fresh database, putting its old
definition back on a column the contract drops."""

from __future__ import annotations

import pytest

from flux_agent.devdb.server import find_binaries
from flux_agent.entry import actions
from flux_agent.write.tools import get_writer

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries")]


def test_a_plan_making_a_view_again_names_the_repeatable_migration_that_makes_it(tmp_path):
    folder = tmp_path / "db" / "migration"
    folder.mkdir(parents=True)
    (tmp_path / "flyway.conf").write_text("flyway.locations=filesystem:db/migration\n")
    (folder / "V1__init.sql").write_text("CREATE TABLE accounts (id bigint PRIMARY KEY, full_name text NOT NULL);\n"
                                         "CREATE TABLE notes (id bigint PRIMARY KEY, body text);\n")
    (folder / "R__accounts_view.sql").write_text(
        "CREATE OR REPLACE VIEW accounts_view AS SELECT a.id, a.full_name FROM accounts a;\n")
    writer = get_writer("flyway")
    renamed = actions.plan_migration([{"op": "rename_column", "table": "accounts", "column": "full_name",
                                       "new_name": "display_name"}], str(tmp_path), tool="flyway")
    notes = writer.code_changes(renamed, tmp_path)
    assert [n.path for n in notes] == ["db/migration/R__accounts_view.sql"]
    assert "makes accounts_view, which this plan makes again" in notes[0].why
    other = actions.plan_migration([{"op": "add_column", "table": "notes", "column": "tag", "type": "text"}],
                                   str(tmp_path), tool="flyway")
    assert writer.code_changes(other, tmp_path) == []
