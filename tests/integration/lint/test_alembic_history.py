"""`flux validate` judges an alembic revision of the project against the schema the revisions it
follows build, read offline and replayed (lint/readers/_alembic_history.py), as it judges a SQL file
against its folder's history: it was judged without one, so a SET NOT NULL that an earlier
revision's validated CHECK proves was still a finding, and a type change of a column an earlier
revision made was not (full-stack-fastapi-template's varchar to varchar(255)). A revision whose
history is not all in its folder meets no schema, as before."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from flux_agent.entry.validate import validate_paths
from flux_agent.lint.readers import _alembic_history, alembic as alembic_reader

pytest.importorskip("pglast")
pytest.importorskip("alembic")

INI = "[alembic]\nscript_location = %(here)s/alembic\n"


def revision(rev: str, down: str | None, body: str) -> str:
    return textwrap.dedent(f'''\
        import sqlalchemy as sa
        from alembic import op

        revision = "{rev}"
        down_revision = {down!r}


        def upgrade():
        ''') + textwrap.indent(textwrap.dedent(body).strip(), "    ") + "\n\n\ndef downgrade():\n    pass\n"


HISTORY = {
    "r1_users.py": ("r1", None, """
        op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("age", sa.Integer),
                        sa.Column("email", sa.Text))
        """),
    "r2_check.py": ("r2", "r1", """
        op.create_check_constraint("users_age_not_null", "users", "age IS NOT NULL")
        """),
    "r3_age_required.py": ("r3", "r2", """
        op.alter_column("users", "age", nullable=False)
        """),
    "r4_email_type.py": ("r4", "r3", """
        op.alter_column("users", "email", type_=sa.String(100))
        """),
}


def project(root: Path, history: dict = HISTORY) -> Path:
    (root / "alembic" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text(INI)
    for name, (rev, down, body) in history.items():
        (root / "alembic" / "versions" / name).write_text(revision(rev, down, body))
    return root


def findings(root: Path, name: str) -> dict[str, str]:
    _, found = validate_paths([str(root / "alembic" / "versions")], str(root), tool="alembic")
    return {f.rule: f.message for f in found if f.path.endswith(name)}


def test_a_revision_is_judged_against_the_schema_its_history_builds(tmp_path):
    root = project(tmp_path / "app")
    # r2's CHECK was added validated: r3's SET NOT NULL scans nothing
    required = findings(root, "r3_age_required.py")
    assert "set-not-null-without-check" not in required and "adding-not-nullable-field" not in required, required
    # r1 made email text: r4's change to varchar(100) checks every row under ACCESS EXCLUSIVE
    retyped = findings(root, "r4_email_type.py")
    assert "users.email" in retyped.get("changing-column-type", "") + retyped.get("expand-contract-required", ""), \
        retyped
    # Without r2, the same SET NOT NULL is an error: the schema says no CHECK proves it
    (root / "alembic" / "versions" / "r2_check.py").write_text(revision("r2", "r1", "pass"))
    assert "adding-not-nullable-field" in findings(root, "r3_age_required.py")


SET_NOT_NULL = "op.alter_column('users', 'age', nullable=False)"


@pytest.mark.parametrize("history", [
    # a branch kept in another version location
    {"b2_next.py": ("b2", "elsewhere1", SET_NOT_NULL)},
    # mealie's first revision asks the live database which tables exist: not read offline, so no table
    # would be known, and every later revision would name "unknown" tables
    {"b1_initial.py": ("b1", None, """
        if sa.inspect(op.get_bind()).has_table("users"):
            return
        op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("age", sa.Integer))
        """),
     "b2_next.py": ("b2", "b1", SET_NOT_NULL)},
])
def test_a_history_not_known_whole_gives_no_schema(tmp_path, history):
    root = project(tmp_path / "branch", history)
    path = root / "alembic" / "versions" / "b2_next.py"
    assert _alembic_history.schema_before(path, root) is None
    required = findings(root, "b2_next.py")
    assert "no validated CHECK" in required["adding-not-nullable-field"] and "set-not-null-without-check" not in required
    assert "unknown-table-or-column" not in required


def test_the_project_python_reads_the_history_in_one_process(tmp_path, monkeypatch):
    """Where Flux's own interpreter has no alembic, the revisions a revision follows are read by
    the project's Python, all of them in one child process, not one each."""
    root = project(tmp_path / "child")
    wrapper = tmp_path / "python"  # the project's interpreter: another path to this one
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    runs = []
    from flux_agent.devdb.runners import _python
    from flux_agent.project import places

    real_run = _python.run_child
    monkeypatch.setattr(alembic_reader, "_have_alembic", lambda: False)
    monkeypatch.setattr(places, "project_python", lambda *folders: str(wrapper))
    monkeypatch.setattr(_python, "run_child", lambda job, tool, python, cwd, extra, **kw: runs.append(extra["files"])
                        or real_run(job, tool, python, cwd, extra, **kw))
    alembic_reader._READ.clear()
    monkeypatch.setattr(_alembic_history, "_CHAIN", _alembic_history._Chain())
    schema = _alembic_history.schema_before(root / "alembic" / "versions" / "r4_email_type.py", root)
    assert [len(files) for files in runs] == [3]  # r1, r2, r3 in one child
    users = schema.table("users")
    assert not users.column("age").nullable and users.column("email").type == "text"
    assert any(c.name == "users_age_not_null" for c in users.constraints)
    # Asked again, nothing is read again: the schema after each revision is kept while its files stay
    assert _alembic_history.schema_before(root / "alembic" / "versions" / "r4_email_type.py", root) == schema
    assert len(runs) == 1
    os.utime(root / "alembic" / "versions" / "r2_check.py")
    _alembic_history.schema_before(root / "alembic" / "versions" / "r4_email_type.py", root)
    assert [len(files) for files in runs] == [3, 1]  # r2 changed: read again (r3 replayed again after it)
    # Asked out of order (an earlier revision after a later one): the schema before that one
    before_r3 = _alembic_history.schema_before(root / "alembic" / "versions" / "r3_age_required.py", root)
    assert before_r3.table("users").column("age").nullable
    assert not _alembic_history.schema_before(root / "alembic" / "versions" / "r4_email_type.py", root) \
        .table("users").column("age").nullable


def test_what_a_revision_prints_stays_out_of_the_json(tmp_path):
    """Netflix's dispatch prints from its revisions ("Starting data migration..."): rendered in
    Flux's process, that went into `flux validate --json`'s stdout before the JSON."""
    import json
    import subprocess

    root = project(tmp_path / "loud", {"p1_users.py": ("p1", None, """
        print("Starting data migration...")
        op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True))
        """)})
    done = subprocess.run([sys.executable, "-m", "flux_agent", "validate", "alembic/versions", "--json"], cwd=root,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "FLUX_DAEMON": "off"})
    assert done.returncode in (0, 1), done.stderr
    assert isinstance(json.loads(done.stdout), list), done.stdout[:200]
