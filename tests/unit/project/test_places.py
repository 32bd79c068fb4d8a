"""The folders Flux looks through for a folder's config, and the project's Python interpreter."""

import sys
from pathlib import Path

from flux_agent.devdb.runners._node import upward
from flux_agent.project.places import folders_up, project_python


def test_folders_up_stops_at_the_project(tmp_path):
    root = tmp_path / "app"
    assert folders_up(root, "db/migrations") == [root / "db/migrations", root / "db", root]
    assert folders_up(root, ".") == [root]
    assert folders_up(root, root / "src") == [root / "src", root]  # absolute inside the project
    assert folders_up(root, tmp_path / "elsewhere") == []


def test_upward_resolves_and_falls_back_to_the_project(tmp_path):
    root = tmp_path / "app"
    (root / "db").mkdir(parents=True)
    (tmp_path / "link").symlink_to(root)
    assert upward(tmp_path / "link", tmp_path / "link" / "db") == [root.resolve() / "db", root.resolve()]
    assert upward(root, tmp_path) == [root.resolve()]


def test_project_python_prefers_the_nearest_virtualenv(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    inner, outer = tmp_path / "svc", tmp_path
    assert project_python(inner, outer) == sys.executable
    (outer / "venv/bin").mkdir(parents=True)
    (outer / "venv/bin/python").write_text("")
    assert project_python(inner, outer) == str(outer / "venv/bin/python")
    (inner / ".venv/bin").mkdir(parents=True)
    (inner / ".venv/bin/python").write_text("")
    assert project_python(inner, outer) == str(inner / ".venv/bin/python")


def test_project_python_takes_the_active_virtualenv(tmp_path, monkeypatch):
    active = tmp_path / "env"
    (active / "bin").mkdir(parents=True)
    (active / "bin/python").write_text("")
    monkeypatch.setenv("VIRTUAL_ENV", str(active))
    assert project_python(tmp_path / "nothing") == str(Path(active) / "bin/python")


def test_the_nearest_configured_node_tool_and_its_binary(tmp_path):
    from flux_agent.project.places import nearest_node_tool

    root = tmp_path / "app"
    (root / "pkg/db").mkdir(parents=True)
    asks = {root: ["prettier"], root / "pkg": ["biome", "prettier"]}
    configured = lambda d: asks.get(d, [])  # noqa: E731
    assert nearest_node_tool(root, "pkg/db", configured) is None  # pkg's config, nothing installed: not root's
    exe = root / "node_modules/.bin/prettier"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    assert nearest_node_tool(root, "pkg/db", configured) is None  # not executable
    exe.chmod(0o755)
    assert nearest_node_tool(root, "pkg/db", configured) == ("prettier", exe, root / "pkg")  # the second asked
    biome = root / "pkg/node_modules/.bin/biome"
    biome.parent.mkdir(parents=True)
    biome.write_text("#!/bin/sh\n")
    biome.chmod(0o755)
    assert nearest_node_tool(root, "pkg/db", configured) == ("biome", biome, root / "pkg")
    assert nearest_node_tool(root, ".", configured) == ("prettier", exe, root)
    assert nearest_node_tool(root, tmp_path / "elsewhere", configured) is None
