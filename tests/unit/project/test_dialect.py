"""A project whose tool's config names another database (taxonomy: Prisma on MySQL) is said to be
so by `flux detect`, and refused in one line (exit 2, nothing written) by validate and plan,
instead of every file reported as a syntax error at MySQL's backticks."""

from __future__ import annotations

import pytest

from flux_agent.entry.cli import main
from flux_agent.project.detect import detect
from flux_agent.project.dialect import dialect_of
from flux_agent.project.scan import Scan

DATASOURCE = 'datasource db {\n  provider = "%s"\n  url = env("DATABASE_URL")\n}\n'


def _prisma(root, provider: str, lock: str | None) -> None:
    folder = root / "prisma" / "migrations" / "20221021182747_init"
    folder.mkdir(parents=True)
    (folder / "migration.sql").write_text("CREATE TABLE `User` (`id` VARCHAR(191) NOT NULL, PRIMARY KEY (`id`));\n")
    (root / "prisma" / "schema.prisma").write_text(DATASOURCE % provider + "model User {\n  id String @id\n}\n")
    if lock is not None:
        (root / "prisma" / "migrations" / "migration_lock.toml").write_text(f'provider = "{lock}"\n')


@pytest.mark.parametrize("provider, lock, dialect, where", [
    ("mysql", "mysql", "mysql", 'prisma/migrations/migration_lock.toml: provider = "mysql"'),
    ("mysql", None, "mysql", 'prisma/schema.prisma: datasource provider = "mysql"'),
    ("postgresql", "postgresql", "postgresql", 'prisma/migrations/migration_lock.toml: provider = "postgresql"'),
    ("cockroachdb", None, "postgresql", 'prisma/schema.prisma: datasource provider = "cockroachdb"'),
])
def test_prisma_dialect(tmp_path, provider, lock, dialect, where):
    _prisma(tmp_path, provider, lock)
    found = detect(tmp_path)
    assert (found.tool, found.dialect) == ("prisma", dialect)
    assert (f"dialect: {where}" in found.evidence) == (dialect != "postgresql")
    assert dialect_of(Scan(tmp_path), "prisma", "prisma/migrations")[1] == where


def test_drizzle_dialect_and_none_said(tmp_path):
    (tmp_path / "drizzle").mkdir()
    (tmp_path / "drizzle.config.ts").write_text('export default { dialect: "sqlite", out: "./drizzle" };\n')
    assert detect(tmp_path).dialect == "sqlite"
    (tmp_path / "drizzle.config.ts").write_text('export default { out: "./drizzle" };\n')
    found = detect(tmp_path)
    assert found.dialect == "postgresql" and not any(e.startswith("dialect:") for e in found.evidence)


@pytest.mark.parametrize("argv", [["validate", "prisma/migrations"], ["plan", "add column User.x text", "--write"]])
def test_another_database_is_refused_in_one_line(tmp_path, monkeypatch, capsys, argv):
    _prisma(tmp_path, "mysql", "mysql")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLUX_DEVDB", "off")
    before = sorted(p for p in tmp_path.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['flux: the project\'s migrations are for MySQL (prisma/migrations/migration_lock.toml: provider = '
                   '"mysql"); Flux reads and writes PostgreSQL\'s only']
    assert sorted(p for p in tmp_path.rglob("*")) == before
