"""A real PostgreSQL for the tests: DATABASE_URL when given, else an embedded
server from the pgserver wheel. Each test that asks for `pg_url` gets a fresh
database, dropped afterwards."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
FIXTURES_REAL = SHARED / "fixtures" / "real"


@pytest.fixture(scope="session", autouse=True)
def dev_database_home():
    """The dev database server and build cache of this test session, in a folder of its own
    (reachable by the unprivileged user PostgreSQL runs as when tests run as root); the
    server is stopped at the end."""
    folder = tempfile.mkdtemp(prefix="flux-devdb-")
    os.chmod(folder, 0o755)
    os.environ["FLUX_DEVDB_DIR"] = folder
    # validate's cache: this session's own (shared by its tests, as by a user's runs), not ~/.cache
    os.environ.setdefault("FLUX_VALIDATE_CACHE", os.path.join(folder, "validate-cache"))
    yield Path(folder)
    from flux_agent.devdb.server import stop_all

    stop_all()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory):
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    pgserver = pytest.importorskip("pgserver")
    # Not under pytest's 0700 tmp tree: as root, pgserver runs PostgreSQL as its
    # own unprivileged user, which must be able to reach the data folder.
    folder = tempfile.mkdtemp(prefix="flux-pg-")
    os.chmod(folder, 0o755)
    srv = pgserver.get_server(folder, cleanup_mode="stop")
    yield srv.get_uri()
    srv.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def _with_db(url: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


@contextmanager
def scratch_database(admin_url: str, prefix: str = "flux_test"):
    """An empty database of its own on the test server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_admin_url):
    with scratch_database(pg_admin_url) as url:
        yield url


# Hypothesis: reproducible by default. The "ci" profile derives every example from the test
# function itself (derandomize) and keeps no example database, so a run never depends on an
# earlier one; HYPOTHESIS_PROFILE=explore draws fresh random examples for a deeper local hunt.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
_hypothesis_settings.register_profile("explore", derandomize=False, database=None, deadline=None, print_blob=True)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def dev_server_has(*extensions: str) -> bool:
    """Does the dev database server ship these extensions? (pgserver, the fallback, has no contrib.)"""
    from flux_agent.devdb.server import dev_server, find_binaries

    if not find_binaries():
        return False
    with psycopg.connect(dev_server().url, autocommit=True) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}
    return set(extensions) <= names


# What a test needs, as markers (registered in pyproject.toml) a run can select on: `pg` for every
# test that takes a PostgreSQL fixture (the tests that reach PostgreSQL otherwise, through the dev
# database or a flux process, carry it themselves), `node`, `ruby`, `claude` and `slow` written on
# the tests. Under tests/unit a test needs nothing but Python: a need there is a misplaced test.
NEEDS = ("pg", "node", "ruby", "claude")
UNIT = Path(__file__).resolve().parent / "unit"


@pytest.hookimpl(tryfirst=True)  # before -m deselects, so `-m "not pg"` sees the markers added here
def pytest_collection_modifyitems(config, items):
    misplaced = []
    for item in items:
        if {"pg_url", "pg_admin_url"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pg)
        needs = [m for m in NEEDS if item.get_closest_marker(m)]
        if needs and UNIT in item.path.parents:
            misplaced.append(f"{item.nodeid} ({', '.join(needs)})")
    if misplaced:
        raise pytest.UsageError("tests under tests/unit need nothing but Python; move these to tests/integration: "
                                + "; ".join(misplaced))
