"""Alembic revisions written through the project's own script.py.mako, as `alembic revision` writes
them (redash's template: "Create Date" and "# revision identifiers"; alembic 1.13's: type hints and
docstrings in upgrade() and downgrade()); alembic's own offline run shows every statement; a template
that would not give a runnable revision is not used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flux_agent.entry.cli import main
from tests.integration.write.test_alembic_env import INIT, _alembic

pytest.importorskip("alembic")

REDASH = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''
OPS = {"index": {"op": "add_index", "table": "orders", "columns": ["total"]},  # outside a transaction, a guard
       "check": {"op": "add_check", "table": "orders", "name": "total_pos", "expression": "total >= 0"}}


def _project(root: Path, template: str | None) -> Path:
    root.mkdir()
    _alembic(root, "init", "-t", "generic", "alembic")
    ini = root / "alembic.ini"
    ini.write_text("\n".join("sqlalchemy.url = postgresql+psycopg://u@localhost/x" if line.startswith(
        "sqlalchemy.url") else line for line in ini.read_text().splitlines()) + "\n")
    (root / "alembic" / "versions" / "aaaa00000001_init.py").write_text(INIT)
    if template is not None:
        (root / "alembic" / "script.py.mako").write_text(template)
    return root


def _written(root: Path, op: dict, capsys) -> list[str]:
    assert main(["plan", "--project", str(root), "--op", json.dumps(op), "--write", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    return [(root / f).read_text() for s in plan["steps"] for f in s["files"] if (root / f).is_file()]


@pytest.mark.parametrize("case", list(OPS))
@pytest.mark.parametrize("template", ["redash", "alembic's own"])
def test_revisions_come_in_the_project_s_template_and_run(tmp_path, capsys, case, template):
    root = _project(tmp_path / "app", REDASH if template == "redash" else None)  # None: `alembic init`'s
    texts = _written(root, OPS[case], capsys)
    assert texts
    for text in texts:
        assert "Create Date: " in text and "Written by flux; " in text
        if template == "redash":
            assert "# revision identifiers, used by Alembic.\nrevision = '" in text
        else:  # alembic 1.13 and later: type hints and docstrings
            assert "\nrevision: str = '" in text and '    """Upgrade schema."""\n' in text
    sql = _alembic(root, "upgrade", "head", "--sql")
    assert ("CREATE INDEX CONCURRENTLY" if case == "index" else "NOT VALID") in sql
    assert _alembic(root, "heads").split()[0] in texts[-1]  # one head: Flux's last revision


def test_a_template_that_would_not_run_is_not_used(tmp_path, capsys):
    """Without `${imports}` Flux's SQL would have nowhere to go: the file is Flux's own layout."""
    root = _project(tmp_path / "app", REDASH.replace('${imports if imports else ""}\n', ""))
    [text] = _written(root, OPS["index"], capsys)
    assert "Create Date" not in text and "\nUP_SQL = [\n    '''" in text and "\nrevision = '" in text
    assert "CREATE INDEX CONCURRENTLY" in _alembic(root, "upgrade", "head", "--sql")
