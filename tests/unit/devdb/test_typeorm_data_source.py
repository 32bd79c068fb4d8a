"""Which file is the project's TypeORM DataSource when no package.json script names one and none
has a usual name: a file that makes one and exports it (what `typeorm -d` and Flux's driver load),
not one that makes one inside a function (ever-gauzy's migration-executor.ts)."""

from __future__ import annotations

from flux_agent.devdb.runners.typeorm import data_source


def _project(root, files: dict) -> None:
    (root / "package.json").write_text('{"dependencies": {"typeorm": "0.3.0"}}')
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


EXECUTOR = ('import { DataSource } from "typeorm";\n'
            "export async function runMigrations(options) {\n"
            "  const dataSource = new DataSource({ ...options, migrations: [] });\n"
            "  await dataSource.initialize();\n}\n")


def test_the_file_exporting_the_data_source(tmp_path):
    _project(tmp_path, {
        "src/lib/database/migration-executor.ts": EXECUTOR,
        "src/app/connection.ts": 'import { DataSource } from "typeorm";\n'
                                 "const connection = new DataSource({ type: \"postgres\" });\n"
                                 "export default connection;\n"})
    assert data_source(tmp_path) == tmp_path / "src/app/connection.ts"


def test_none_when_no_file_exports_one(tmp_path):
    _project(tmp_path, {"src/lib/database/migration-executor.ts": EXECUTOR})
    assert data_source(tmp_path) is None  # the driver then runs the migrations with a data source of its own
