"""The static readers agree with the dev database on the real fixtures: the same source,
read by Flux's own reader and built by PostgreSQL, gives the same tables, columns, types,
defaults, indexes and constraints. Where they differ, the difference is named here."""

from __future__ import annotations


import pytest

from flux_agent.devdb.build import Script, build, inputs_hash
from flux_agent.devdb.server import dev_server, find_binaries
from flux_agent.devdb.sources import created_extensions, project_scripts, schema_file_scripts
from flux_agent.model.schema import Schema
from flux_agent.project.config import load_settings
from flux_agent.project.detect import detect
from flux_agent.schema.project import read_project_schema
from flux_agent.schema.readers.pg_dump import read_pg_dump

from conftest import FIXTURES_REAL, dev_server_has

pytestmark = [
    pytest.mark.pg,  # every reader side by side with the dev database (PostgreSQL)
    pytest.mark.skipif(not FIXTURES_REAL.is_dir(), reason="../shared/fixtures/real is not beside the project"),
    pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine"),
    pytest.mark.skipif(not dev_server_has("pgcrypto", "pg_trgm", "citext", "uuid-ossp"), reason="the dev database server lacks the contrib extensions "
                       "the fixtures use (install postgresql-contrib)"),
]

# fixture, settings that point detection at it (detection of these layouts is issue 17's)
HISTORIES = {
    "dbmate-upchieve": {"tool": "dbmate", "migrations_dir": "database/migrations"},
    "golang-migrate-pocket-id": {},
    "drizzle-dokploy": {"tool": "drizzle", "migrations_dir": "drizzle"},
    "prisma-umami": {},  # its migration history builds from the start
}
SCHEMA_FILES = {
    "rails-maybe": {"tool": "rails"},
    "prisma-umami": {},
    "prisma-documenso": {"tool": "prisma", "migrations_dir": "migrations"},
    "prisma-rallly": {},
}


def _compare(static: Schema, built: Schema) -> list[str]:
    """Differences in tables, columns, types, defaults, indexes and constraints (views are
    compared by name: PostgreSQL prints their queries its own way)."""
    out = []
    a, b = {t.name: t for t in static.tables}, {t.name: t for t in built.tables}
    out += [f"table {n} only read statically" for n in sorted(set(a) - set(b))]
    out += [f"table {n} only in PostgreSQL" for n in sorted(set(b) - set(a))]
    for name in sorted(set(a) & set(b)):
        ta, tb = a[name].model_dump(exclude={"row_estimate", "size_bytes"}), b[name].model_dump(
            exclude={"row_estimate", "size_bytes"})
        for key in ta:
            if key in ("indexes", "constraints"):  # as sets: readers list them in their own order
                ta[key], tb[key] = (sorted(x[key], key=lambda d: d["name"]) for x in (ta, tb))
            if ta[key] != tb[key]:
                out.append(f"{name}.{key}: {ta[key]!r} != {tb[key]!r}"[:400])
    if {e.name: e.values for e in static.enums} != {e.name: e.values for e in built.enums}:
        out.append("enums differ")
    if {v.name for v in static.views} != {v.name for v in built.views}:
        out.append("views differ")
    return out


def _built(scripts: list[Script], label: str) -> Schema:
    server = dev_server()
    result = build(server, scripts, inputs_hash(scripts, server.major, label))
    return result.schema


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_history_replay_agrees_with_postgresql(name):
    project = FIXTURES_REAL / name
    settings = load_settings(project, **HISTORIES[name])
    found = detect(project, None, settings)
    static = read_project_schema(project, found.tool if found.tool != "prisma" else "sql", found.migrations_dir)
    scripts = project_scripts(project, found) if found.tool != "prisma" else project_scripts(
        project, found.model_copy(update={"tool": "sql"}))
    assert scripts, "no migration files found"
    assert _compare(static, _built(scripts, f"agree {name}")) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_schema_file_reader_agrees_with_postgresql(name):
    project = FIXTURES_REAL / name
    settings = load_settings(project, **SCHEMA_FILES[name])
    found = detect(project, None, settings)
    static = read_project_schema(project, found.tool, found.migrations_dir)
    # As the dev database builds a schema file: with the extensions the project's history creates
    # (documenso's pg_trgm for its gin_trgm_ops indexes); an extension named as a missing type
    # (rallly's citext, which no file creates) is created by the build.
    extensions = created_extensions(project_scripts(project, found) or [])
    assert _compare(static, _built(schema_file_scripts(project, found.tool, extensions), f"agree file {name}")) == []


@pytest.mark.slow
def test_pg_dump_reader_agrees_with_postgresql():
    dump = FIXTURES_REAL / "dbmate-upchieve" / "database" / "db_init" / "schema.sql"
    text = dump.read_text(encoding="utf-8")
    script = Script("schema.sql", "\n".join("" if line.startswith("\\") else line for line in text.split("\n")),
                    transactional=False)
    assert _compare(read_pg_dump(dump), _built([script], "agree dump upchieve")) == []


@pytest.mark.slow
def test_every_upchieve_migration_runs_on_the_dev_database():
    """All 282 dbmate migrations of upchieve run on the dev database, extensions included
    (pgserver, without contrib, failed 4 of them); the one statement the project's own
    history cannot run (a COMMENT on a column no migration creates) is named, not hidden."""
    project = FIXTURES_REAL / "dbmate-upchieve"
    settings = load_settings(project, **HISTORIES["dbmate-upchieve"])
    found = detect(project, None, settings)
    scripts = project_scripts(project, found)
    assert len(scripts) == 282
    server = dev_server()
    built = build(server, scripts, inputs_hash(scripts, server.major, "upchieve all"))
    assert len(built.schema.tables) == 152
    skipped = [n for n in built.notes if "statement skipped" in n]
    assert skipped == ['database/migrations/20260622211455_add-comments.sql:1972: statement skipped: column '
                       '"progress_report_id" of relation "upchieve.users_surveys" does not exist']
