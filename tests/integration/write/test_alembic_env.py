"""Alembic's default env.py runs every pending revision in one transaction, so a step's lock
would last through the steps after it (the NOT VALID constraint's ACCESS EXCLUSIVE through the
VALIDATE scan). --write adds transaction_per_migration=True to env.py's context.configure calls;
alembic's own offline run (`upgrade head --sql`) shows each revision in its own transaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flux_agent.entry.cli import main
from flux_agent.write.tools._alembic_env import env_change

pytest.importorskip("alembic")

INIT = '''"""init"""
from alembic import op
revision = "aaaa00000001"
down_revision = None
def upgrade():
    op.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total int)")
def downgrade():
    op.execute("DROP TABLE orders")
'''
CHECK = {"op": "add_check", "table": "orders", "name": "total_pos", "expression": "total >= 0"}


def _alembic(project: Path, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture
def project(tmp_path):
    _alembic(tmp_path, "init", "-t", "generic", "alembic")
    ini = tmp_path / "alembic.ini"
    ini.write_text("\n".join("sqlalchemy.url = postgresql+psycopg://u@localhost/x" if line.startswith(
        "sqlalchemy.url") else line for line in ini.read_text().splitlines()) + "\n")
    (tmp_path / "alembic" / "versions" / "aaaa00000001_init.py").write_text(INIT)
    return tmp_path


def _transactions(sql: str) -> int:
    return sum(1 for line in sql.splitlines() if line.strip() == "COMMIT;")


def test_write_gives_each_revision_its_own_transaction(project, capsys):
    assert _transactions(_alembic(project, "upgrade", "head", "--sql")) == 1  # the default: one for all
    (project / "alembic" / "env.py").chmod(0o755)  # full-stack-fastapi-template's is executable
    assert main(["plan", "--project", str(project), "--op", json.dumps(CHECK), "--write", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    env = next(c for c in plan["code_changes"] if c["path"] == "alembic/env.py")
    assert env["applied_on_write"] and "transaction_per_migration=True" in env["patch"]
    assert "transaction_per_migration=True" in plan["summary"]
    # init plus Flux's two revisions (NOT VALID, then VALIDATE): three transactions, not one
    assert _transactions(_alembic(project, "upgrade", "head", "--sql")) == 3
    assert (project / "alembic" / "env.py").stat().st_mode & 0o777 == 0o755  # replaced, its mode kept
    assert main(["plan", "--project", str(project), "--op", json.dumps({**CHECK, "name": "other"}),
                 "--json"]) == 0  # planned again: env.py already says so, nothing more to change
    again = json.loads(capsys.readouterr().out)
    assert not [c for c in again["code_changes"] if c["path"] == "alembic/env.py"]


def test_an_explicit_choice_and_an_env_without_configure_are_left_alone(tmp_path):
    (tmp_path / "env.py").write_text("from alembic import context\ncontext.configure(url='x', "
                                     "transaction_per_migration=False)\n")
    assert env_change(tmp_path, "env.py") is None
    (tmp_path / "env.py").write_text("print('no alembic here')\n")
    assert env_change(tmp_path, "env.py") is None
    assert env_change(tmp_path, "missing/env.py") is None
    (tmp_path / "env.py").write_text("from alembic import context\ncontext.configure()\n"
                                     "context.configure(\n    url='é',\n    literal_binds=True,\n)\n")
    change = env_change(tmp_path, "env.py")
    assert change is not None and change.patch.count("+") >= 2
    from flux_agent.write.code_changes import apply
    after = apply((tmp_path / "env.py").read_text(), change.patch)
    assert "context.configure(transaction_per_migration=True)" in after
    assert "literal_binds=True,\n    transaction_per_migration=True,\n)" in after  # a line of its own, as laid out


@pytest.mark.parametrize("args,transactions", [("{}", 3), ('{"transaction_per_migration": False}', 1)])
def test_a_call_taking_its_arguments_from_elsewhere_gets_it_as_their_default(project, capsys, args, transactions):
    """Flask-Migrate's env.py (redash's) passes **configure_args online: the keyword goes in as the default
    under them (`**{"transaction_per_migration": True, **args}`), so production's online run gets it, a
    value the project gives there still wins, and none is passed twice. redash's steps ran in one
    transaction online, the NOT VALID's lock held through the VALIDATE scan."""
    env = project / "alembic" / "env.py"
    text = env.read_text()
    assert text.count("context.configure(") == 2
    env.write_text(text.replace("context.configure(", "context.configure(**configure_args, ")
                   .replace("config = context.config\n", f"config = context.config\nconfigure_args = {args}\n", 1))
    assert main(["plan", "--project", str(project), "--op", json.dumps(CHECK), "--write", "--json"]) == 0
    capsys.readouterr()
    assert env.read_text().count('**{"transaction_per_migration": True, **configure_args}') == 2
    assert _transactions(_alembic(project, "upgrade", "head", "--sql")) == transactions


def test_a_call_unpacking_two_mappings_is_named_not_edited(tmp_path):
    (tmp_path / "env.py").write_text("from alembic import context\ncontext.configure(url='x')\n"
                                     "context.configure(connection=c, **args, **more)\n")
    change = env_change(tmp_path, "env.py")
    assert "line 3" in change.why and "+context.configure(url='x', transaction_per_migration=True)" in change.patch
    assert "**more, transaction" not in change.patch and "True, **args" not in change.patch
    (tmp_path / "env.py").write_text("from alembic import context\ncontext.configure(connection=c, **a, **b)\n")
    only = env_change(tmp_path, "env.py")
    assert only.patch == "" and not only.applied_on_write and "line 2" in only.why
