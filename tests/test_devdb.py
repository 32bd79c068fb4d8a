"""The dev database: a real PostgreSQL holds the project's schema, built from the project's
own files, cached by their hash, and never the application's database."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import psycopg
import pytest

from flux_agent.devdb.build import Script, build, cached, inputs_hash
from flux_agent.devdb.project import project_schema
from flux_agent.devdb.server import find_binaries
from flux_agent.project.config import load_settings
from flux_agent.project.detect import detect
from flux_agent.schema.normal import normal_expr

from shop import SHOP

pytestmark = pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")


def test_jsonb_default_is_compared_as_postgresql_stores_it():
    # PostgreSQL keeps a jsonb value, not its text: keys shortest first, then in byte order.
    assert normal_expr('\'{"server":{"port":1,"type":"x"},"a":[1,2.50]}\'::jsonb', target="jsonb") == \
        '\'{"a": [1, 2.50], "server": {"port": 1, "type": "x"}}\''


def _shop(tmp_path) -> Path:
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


def _schema_of(project: Path, **settings):
    loaded = load_settings(project, **settings)
    return project_schema(project, detect(project, None, loaded), loaded)


def test_shop_builds_then_comes_from_the_cache(tmp_path):
    project = _shop(tmp_path)
    first = _schema_of(project)
    assert {t.name for t in first.schema.tables} == {"users", "products", "orders", "order_items", "legacy_events"}
    again = _schema_of(project)
    assert again.cached and again.schema == first.schema
    # A change to any input is a new build that sees it.
    (project / "db" / "migrations" / "20260101000000_more.sql").write_text(
        "-- migrate:up\nALTER TABLE users ADD COLUMN nickname text;\n-- migrate:down\n"
        "ALTER TABLE users DROP COLUMN nickname;\n")
    changed = _schema_of(project)
    assert not changed.cached and changed.schema.table("users").column("nickname") is not None
