"""An Alembic revision rendered offline runs its own upgrade() and downgrade(): what they must
never do there (reach a service, start a program) raises inside them instead, said at its line;
what they say is the same every run; and `flux validate` renders a folder's revisions in one go."""

from __future__ import annotations

import socket
import sys
import textwrap
from pathlib import Path

import pytest

from flux_agent.devdb.run_memo import RunMemo, remembering
from flux_agent.lint.engine import NOT_ANALYSED, validate_file
from flux_agent.model.settings import Settings

pytest.importorskip("alembic")
pytest.importorskip("pglast")


def revision(folder: Path, rev: str, down, upgrade: str, downgrade: str = "pass", imports: str = "") -> Path:
    """A revision file whose upgrade() body is `upgrade` (its first line is line 10 without `imports`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rev}_x.py"
    head = f'"""{rev}"""\nimport sqlalchemy as sa\nfrom alembic import op\n{imports}\nrevision = "{rev}"\n' \
           f"down_revision = {down!r}\n\n\ndef upgrade():\n"
    body = textwrap.indent(textwrap.dedent(upgrade), "    ")
    path.write_text(f"{head}{body}\n\n\ndef downgrade():\n    {downgrade}\n")
    return path


def not_analysed(path: Path, root: Path) -> list:
    found = validate_file(path, Settings(), display=path.name, project=root, tool="alembic")
    return [(f.line, f.message) for f in found if f.rule == NOT_ANALYSED]


def test_a_revision_reaching_a_service_or_starting_a_program_is_stopped_there(tmp_path):
    """redash's e5c7a4e2df4d deletes keys in Redis in its upgrade(): rendered offline, it reached a
    Redis on localhost when one was up. Nothing is reached and nothing started: the call raises."""
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    marker = tmp_path / "started"
    path = revision(tmp_path / "alembic" / "versions", "r1", None, f'''\
        import socket, subprocess
        op.add_column("users", sa.Column("age", sa.Integer()))
        try:
            subprocess.run([{sys.executable!r}, "-c", "open({str(marker)!r}, 'w')"])
        except PermissionError:
            pass
        socket.create_connection(("127.0.0.1", {server.getsockname()[1]}))
        op.drop_column("users", "name")''')
    unread = not_analysed(path, tmp_path)
    with pytest.raises(socket.timeout):
        server.accept()  # no connection arrived
    server.close()
    assert not marker.exists()
    assert [line for line, _ in unread] == [16] and "raised PermissionError: socket.connect blocked when rendered offline" in unread[0][1], unread
    # what came before the call is judged; Flux's own process can connect again afterwards
    found = validate_file(path, Settings(), display=path.name, project=tmp_path, tool="alembic")
    assert 11 in {f.line for f in found if f.rule != NOT_ANALYSED}
    with socket.socket() as again:  # the fence is off outside a render
        again.bind(("127.0.0.1", 0))
        again.listen(1)
        socket.create_connection(again.getsockname()).close()


def test_what_a_failure_says_is_the_same_every_run(tmp_path):
    """A default repr names a memory address (`<... object at 0x7fcc...>`): dispatch's not-analysed
    message differed between two runs of the same files."""
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    path = revision(tmp_path / "alembic" / "versions", "r1", None, "raise RuntimeError(object())")
    first, second = not_analysed(path, tmp_path), not_analysed(path.with_name(path.name), tmp_path)
    assert first == second and "at 0x…" in first[0][1] and "0x7" not in first[0][1], first


def test_a_folder_is_rendered_by_the_projects_python_in_one_process(tmp_path, monkeypatch):
    """redash's 14 revisions needing the project's Python each started it (3-5 s apiece, 48 s a run):
    validate renders the folder's revisions first, those Flux's own interpreter cannot in one child."""
    from flux_agent.devdb.runners import _python
    from flux_agent.lint.readers import read_ahead

    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    folder = tmp_path / "alembic" / "versions"
    paths = [revision(folder, f"r{i}", f"r{i - 1}" if i else None,
                      f'op.add_column("users", sa.Column("c{i}", sa.Text()))', imports=f"import acme_missing_{i}\n")
             for i in range(3)]
    children = []
    monkeypatch.setattr(_python, "other_environment", lambda python: True)
    real = _python.run_child
    monkeypatch.setattr(_python, "run_child", lambda *a, **k: children.append(a[4]["files"]) or real(*a, **k))
    with remembering(RunMemo()):
        read_ahead(paths, tmp_path, "alembic")
        unread = [not_analysed(p, tmp_path) for p in paths]
    assert children == [[str(p.resolve()) for p in paths]]  # one child, every revision, none again after
    assert all(u and "acme_missing" in u[0][1] for u in unread), unread


def test_a_constraint_without_a_name_fails_with_a_database_too(tmp_path):
    """dispatch's autogenerated downgrades drop constraints named None: SQLAlchemy cannot compile that
    for any database, so it is no artefact of rendering offline, and the message does not say it is."""
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    path = revision(tmp_path / "alembic" / "versions", "r1", None, 'op.add_column("orders", sa.Column("c", sa.Text()))',
                    downgrade='op.drop_constraint(None, "orders", type_="foreignkey")')
    unread = not_analysed(path, tmp_path)
    assert len(unread) == 1 and "CompileError" in unread[0][1], unread
    assert "fails so when run against a database too" in unread[0][1] and "no database" not in unread[0][1]
