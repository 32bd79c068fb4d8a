"""flux verify runs on a copy of the dev database: the project's schema as PostgreSQL built
it from the project's own files, which Flux's model of the schema could not always rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.devdb.server import find_binaries
from flux_agent.verify import verify

from conftest import dev_server_has

pytestmark = [pytest.mark.pg,  # verify builds the schema in the dev database (PostgreSQL)
              pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")]


def _project(root: Path, migrations: dict[str, str]) -> Path:
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, up in migrations.items():
        (folder / name).write_text(f"-- migrate:up\n{up}\n-- migrate:down\n")
    return root


def test_foreign_key_on_a_unique_index_a_later_migration_made(tmp_path):
    # Built from the model, the foreign key came before the index it needs: verify failed to start.
    project = _project(tmp_path / "p", {
        "001_codes.sql": "CREATE TABLE codes (id bigint PRIMARY KEY, code text NOT NULL);",
        "002_unique.sql": "CREATE UNIQUE INDEX codes_code_idx ON codes (code);",
        "003_uses.sql": "CREATE TABLE uses (id bigint PRIMARY KEY, code text REFERENCES codes (code));",
    })
    report = verify(project, operations=[{"op": "add_column", "table": "uses", "column": "note", "type": "text"}],
                    rows=50)
    assert report.ok, report.failure
    assert "dev database" in report.database


@pytest.mark.skipif(not dev_server_has("citext"), reason="the dev database server has no citext (install "
                    "postgresql-contrib)")
def test_column_of_an_extension_type(tmp_path):
    # The model has no CREATE EXTENSION: a citext column could not be built; the dev database runs the migration.
    project = _project(tmp_path / "p", {
        "001_ext.sql": "CREATE EXTENSION IF NOT EXISTS citext;",
        "002_people.sql": "CREATE TABLE people (id bigint PRIMARY KEY, email citext NOT NULL);",
    })
    report = verify(project, operations=[{"op": "add_index", "table": "people", "columns": ["email"]}], rows=50)
    assert report.ok, report.failure
    assert report.seeded.get("people") == 50
