"""`flux validate --trace` on a copy of the dev database with rows in its tables: a blocking index,
a volatile default, a type change and a concurrent index, each reported with the lock and the
rewrite PostgreSQL shows; a table of forms made wrong on purpose is caught as a mismatch; a
statement PostgreSQL refuses stops its file with a finding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flux_agent.entry.cli import main
from flux_agent.model.settings import Settings
from flux_agent.pg import form_table
from flux_agent.verify import trace
from shop import ROOT

pytestmark = [pytest.mark.pg, pytest.mark.slow]  # a dev database copy per run (about 2 s)

UNSAFE = """-- migrate:up
CREATE INDEX orders_status_trace ON orders (status);
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE products ALTER COLUMN stock TYPE bigint;

-- migrate:down
SELECT 1;
"""
CONCURRENT = """-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY orders_user_trace ON orders (user_id);

-- migrate:down
DROP INDEX CONCURRENTLY orders_user_trace;
"""


@pytest.fixture
def shop(tmp_path) -> Path:
    dst = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", dst)
    (dst / "db" / "migrations" / "20250201000000_unsafe.sql").write_text(UNSAFE)
    (dst / "db" / "migrations" / "20250201000100_concurrent.sql").write_text(CONCURRENT)
    return dst


def _files(shop: Path) -> list[Path]:
    return sorted((shop / "db" / "migrations").glob("202502*.sql"))


def test_trace_reports_what_postgresql_shows(shop):
    report = trace.run_trace(_files(shop), shop, Settings(), "dbmate", rows=500)
    by_line = {(Path(t.path).name, t.line): t for t in report.statements}
    index = by_line[("20250201000000_unsafe.sql", 2)]
    assert index.locks["orders"] == "SHARE" and "orders" not in index.rewrote
    default = by_line[("20250201000000_unsafe.sql", 3)]
    assert default.locks["orders"] == "ACCESS EXCLUSIVE" and "orders" in default.rewrote
    retype = by_line[("20250201000000_unsafe.sql", 4)]
    assert retype.locks["products"] == "ACCESS EXCLUSIVE" and "products" in retype.rewrote
    concurrent = by_line[("20250201000100_concurrent.sql", 2)]
    assert concurrent.locks["orders"] == "SHARE UPDATE EXCLUSIVE" and concurrent.rewrote == []
    # The three in one transaction hold their locks until it commits: the first, longest.
    assert index.held_ms >= default.held_ms >= retype.held_ms > 0
    assert all(t.matches for t in report.statements), [t for t in report.statements if not t.matches]
    assert trace.findings(report) == []
    assert report.rows == 500 and "copy of the dev database" in report.database


def test_a_wrong_table_of_forms_is_reported_as_a_mismatch(shop, monkeypatch):
    row = form_table.BY_KEY["CREATE INDEX"][0]
    monkeypatch.setitem(form_table.BY_KEY, "CREATE INDEX", [row.model_copy(update={"lock": "SHARE UPDATE EXCLUSIVE"})])
    report = trace.run_trace(_files(shop)[:1], shop, Settings(), "dbmate", rows=100)
    found = trace.findings(report)
    assert [(f.rule, f.line) for f in found] == [("trace-mismatch", 2)], found
    assert "PostgreSQL took SHARE; the table of forms says SHARE UPDATE EXCLUSIVE" in found[0].message


def test_a_statement_postgresql_refuses_stops_its_file(shop):
    bad = shop / "db" / "migrations" / "20250201000200_bad.sql"
    bad.write_text("-- migrate:up\nALTER TABLE orders ADD COLUMN user_id bigint;\nCREATE INDEX x ON orders (id);\n")
    report = trace.run_trace([bad], shop, Settings(), "dbmate", rows=10)
    assert [t.line for t in report.statements] == [2]  # the index after it was not run
    found = trace.findings(report)
    assert found[0].rule == "trace-failed" and 'column "user_id" of relation "orders" already exists' in found[0].message


def test_cli_trace_prints_and_fails_on_nothing_new(shop, capsys):
    code = main(["validate", str(_files(shop)[1]), "--project", str(shop), "--trace", "--rows", "50", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0  # the concurrent index alone: warnings only
    assert out["trace"]["statements"][0]["locks"] == {"orders": "SHARE UPDATE EXCLUSIVE"}
    assert all(f["rule"] != "trace-mismatch" for f in out["findings"])
