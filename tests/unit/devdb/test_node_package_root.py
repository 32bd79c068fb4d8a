"""Where a Node tool runs (runners/_node.package_root): the package its migrations belong to. A
package.json that only sets how Node loads the files beside it is no package (boxel's
migrations/package.json, `{"type": "commonjs"}` in an ES-module package): taken for the root, the
tool ran without the scripts' options and every migration failed."""

from __future__ import annotations

import json

from flux_agent.devdb.runners import node_pg_migrate
from flux_agent.devdb.runners._node import package_root


def test_a_type_only_package_json_is_not_the_package(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"name": "app", "type": "module", "scripts": {
        "migrate": "node-pg-migrate -m migrations --ignore-pattern 'package\\\\.json'"}}))
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "package.json").write_text('{"type": "commonjs"}')
    root = package_root(tmp_path, tmp_path / "migrations")
    assert root == tmp_path
    kept, folder = node_pg_migrate.options(node_pg_migrate.script_args(root))
    assert kept[0] == "--ignore-pattern" and folder == "migrations"
    # A package of its own in the folder (a workspace) is still the package.
    (tmp_path / "migrations" / "package.json").write_text('{"name": "db", "type": "commonjs"}')
    assert package_root(tmp_path, tmp_path / "migrations") == tmp_path / "migrations"
