"""Alembic and Django migrations judged by the same rules, under the same rule ids, as the SQL
they send (lint/readers/alembic.py, django.py): each unsafe migration in the tool's own format
is flagged at the line of the .py file that sends the SQL, each safe twin is clean of it, and
what cannot be read (RunPython) is a not-analysed finding at its line. The expected rule ids
come from the SQL twin through lint_sql, never written by hand."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from django_site import MANAGE, initial_book, settings
from flux_agent.devdb.server import find_binaries
from flux_agent.lint.context import FileContext
from flux_agent.lint.engine import NOT_ANALYSED, lint_sql, validate_file
from flux_agent.lint.readers import reader_for
from flux_agent.model.settings import Settings

pytest.importorskip("pglast")
pytest.importorskip("alembic")
pytest.importorskip("django")
pytestmark = [pytest.mark.pg,
              pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")]

SETTINGS = Settings().model_copy(update={"require_down": False})  # the twins have no down part either


def write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    return root


def twin_rules(sql: str, transactional: bool = True) -> set[str]:
    """The rule ids the SQL twin gets from the engine."""
    ctx = FileContext.for_settings(SETTINGS, path="twin.sql", transactional=transactional)
    return {f.rule for f in lint_sql(sql, ctx)}


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def judged(path: Path, project: Path, tool: str) -> list:
    return validate_file(path, SETTINGS, None, display=str(path), project=project, tool=tool)


# --- Alembic ---------------------------------------------------------------------------------------------

ALEMBIC_INI = """
    [alembic]
    script_location = %(here)s/alembic
    sqlalchemy.url = postgresql://acme@db.acme.invalid/acme
    """

ALEMBIC_HEAD = '''
    """{doc}"""
    import sqlalchemy as sa
    from alembic import op

    revision = "{rev}"
    down_revision = {down}


    def upgrade():
    '''

ALEMBIC = {  # name: (upgrade's body, downgrade's body, the SQL twin, does the twin run in a transaction)
    "a1_add_age": ("op.add_column('users', sa.Column('age', sa.Integer(), nullable=False))",
                   "op.drop_column('users', 'age')", "ALTER TABLE users ADD COLUMN age integer NOT NULL", True),
    "a2_age_index": ("op.create_index('users_age_idx', 'users', ['age'])", "op.drop_index('users_age_idx')",
                     "CREATE INDEX users_age_idx ON users (age)", True),
    "a3_age_index_concurrently": ("with op.get_context().autocommit_block():\n"
                                  "        op.create_index('users_age_idx', 'users', ['age'], "
                                  "postgresql_concurrently=True)",
                                  "with op.get_context().autocommit_block():\n"
                                  "        op.drop_index('users_age_idx', postgresql_concurrently=True)",
                                  "CREATE INDEX CONCURRENTLY users_age_idx ON users (age)", False),
}


@pytest.fixture(scope="module")
def alembic_project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("alembic")
    files = {"alembic.ini": ALEMBIC_INI, "alembic/env.py": "raise RuntimeError('env.py is never run')\n"}
    down = "None"
    for name, (body, undo, _, _) in ALEMBIC.items():
        rev = name.split("_")[0]
        files[f"alembic/versions/{name}.py"] = (textwrap.dedent(ALEMBIC_HEAD).format(doc=name, rev=rev, down=down)
                                                + f"    {body}\n\n\ndef downgrade():\n    {undo}\n")
        down = repr(rev)
    return write(root, files)


@pytest.mark.parametrize("name", list(ALEMBIC))
def test_alembic_revision_gets_the_rules_of_its_sql_twin(alembic_project, name):
    body, _, twin, transactional = ALEMBIC[name]
    path = alembic_project / "alembic" / "versions" / f"{name}.py"
    assert reader_for(path, path.read_text(), "alembic").tool == "alembic"
    started = time.perf_counter()
    found = judged(path, alembic_project, "alembic")
    assert time.perf_counter() - started < 2
    expected = twin_rules(twin, transactional)
    assert {f.rule for f in found} == expected
    op_line = line_of(path, "op.create_index" if "create_index" in body else "op.add_column")
    assert {f.line for f in found} == {op_line}
    if name == "a1_add_age":
        assert "adding-required-field" in expected
    elif name == "a2_age_index":
        assert "require-concurrent-index-creation" in expected
    else:  # in an autocommit block: clean of it, and of every error
        assert "require-concurrent-index-creation" not in expected
        assert not [f for f in found if f.severity == "error"]


def test_alembic_op_get_bind_is_not_analysed_at_its_line(tmp_path):
    project = write(tmp_path, {"alembic.ini": ALEMBIC_INI, "alembic/versions/b1_backfill.py": textwrap.dedent(
        ALEMBIC_HEAD).format(doc="backfill", rev="b1", down="None")
        + "    conn = op.get_bind()\n"
        + "    for (user_id,) in conn.execute(sa.text('SELECT id FROM users')).fetchall():\n"
        + "        op.execute(f'UPDATE users SET age = 0 WHERE id = {user_id}')\n"})
    path = project / "alembic" / "versions" / "b1_backfill.py"
    found = judged(path, project, "alembic")
    unread = [f for f in found if f.rule == NOT_ANALYSED]
    assert {f.line for f in unread} == {line_of(path, "op.get_bind()"), line_of(path, ".fetchall()")}
    assert all(f.severity == "warning" for f in unread)


def test_a_downgrade_that_fails_offline_is_not_read_as_an_empty_rollback(tmp_path):
    """redash's e7004224f284: op.drop_constraint(None, ...) raises when rendered offline, before the
    drop_column after it; the rollback is said not to be read, never judged as empty."""
    project = write(tmp_path, {"alembic.ini": ALEMBIC_INI, "alembic/versions/c1_fk.py": textwrap.dedent(
        ALEMBIC_HEAD).format(doc="fk", rev="c1", down="None")
        + "    op.add_column('favorites', sa.Column('org_id', sa.BigInteger(), nullable=True))\n\n\n"
        + "def downgrade():\n"
        + "    op.drop_constraint(None, 'favorites', type_='foreignkey')\n"
        + "    op.drop_column('favorites', 'org_id')\n"})
    path = project / "alembic" / "versions" / "c1_fk.py"
    found = validate_file(path, Settings(), None, display=str(path), project=project, tool="alembic")  # down judged
    assert "missing-rollback" not in {f.rule for f in found}
    unread = [f for f in found if f.rule == NOT_ANALYSED]
    assert [f.line for f in unread] == [line_of(path, "op.drop_constraint")]
    assert "downgrade() raised" in unread[0].message


def test_alembic_revision_whose_imports_fail_is_not_analysed(tmp_path):
    project = write(tmp_path, {"alembic.ini": ALEMBIC_INI, "alembic/versions/c1_models.py": textwrap.dedent(
        ALEMBIC_HEAD).format(doc="models", rev="c1", down="None").replace(
        "from alembic import op", "from alembic import op\nfrom acme_missing.models import Base") + "    pass\n"})
    found = judged(project / "alembic" / "versions" / "c1_models.py", project, "alembic")
    assert [(f.rule, f.line) for f in found] == [(NOT_ANALYSED, 1)]
    assert "acme_missing" in found[0].message


# --- Django ----------------------------------------------------------------------------------------------

# The application's own database, unreachable: the reader must never go there.
DJANGO_SETTINGS = settings("django.contrib.postgres", "library")

MODELS = """
    from django.db import models


    class Book(models.Model):
        name = models.TextField()
        pages = models.BigIntegerField(null=True)
    """

INITIAL = initial_book('("name", models.TextField())', '("pages", models.BigIntegerField(null=True))')


def django_migration(previous: str, operations: str, head: str = "", atomic: bool = True) -> str:
    return (f"from django.db import migrations, models\n{head}\n\n"
            "def fill(apps, schema_editor):\n    pass\n\n\n"
            "class Migration(migrations.Migration):\n"
            + ("" if atomic else "    atomic = False\n")
            + f"    dependencies = [('library', '{previous}')]\n"
            "    operations = [\n" + "".join(f"        {op},\n" for op in operations.strip().splitlines()) + "    ]\n")


DJANGO = {
    "0002_pages_index": ('migrations.AddIndex(model_name="book", index=models.Index(fields=["pages"], '
                         'name="book_pages_idx"))', "", True,
                         'CREATE INDEX "book_pages_idx" ON "library_book" ("pages")', "migrations.AddIndex"),
    "0003_pages_index_concurrently": ('AddIndexConcurrently(model_name="book", index=models.Index(fields=["name"], '
                                      'name="book_name_idx"))',
                                      "from django.contrib.postgres.operations import AddIndexConcurrently", False,
                                      'CREATE INDEX CONCURRENTLY "book_name_idx" ON "library_book" ("name")',
                                      "AddIndexConcurrently("),
    "0004_rename": ('migrations.RenameField(model_name="book", old_name="name", new_name="title")', "", True,
                    'ALTER TABLE "library_book" RENAME COLUMN "name" TO "title"', "migrations.RenameField"),
}


@pytest.fixture(scope="module")
def django_project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("django")
    files = {"manage.py": MANAGE, "acme/__init__.py": "", "acme/settings.py": DJANGO_SETTINGS,
             "library/__init__.py": "", "library/models.py": MODELS, "library/migrations/__init__.py": "",
             "library/migrations/0001_initial.py": INITIAL}
    previous = "0001_initial"
    for name, (op, head, atomic, _, _) in DJANGO.items():
        files[f"library/migrations/{name}.py"] = django_migration(previous, op, head, atomic)
        previous = name
    files["library/migrations/0005_backfill.py"] = django_migration(previous, """
        migrations.RunPython(fill, migrations.RunPython.noop)
        migrations.RunSQL("UPDATE library_book SET pages = 0 WHERE id = 1", reverse_sql="SELECT 1")
        """)
    return write(root, files)


@pytest.mark.parametrize("name", list(DJANGO))
def test_django_migration_gets_the_rules_of_its_sql_twin(django_project, name):
    _, _, atomic, twin, marker = DJANGO[name]
    path = django_project / "library" / "migrations" / f"{name}.py"
    assert reader_for(path, path.read_text(), "django").tool == "django"
    found = judged(path, django_project, "django")
    expected = twin_rules(twin, atomic)
    assert {f.rule for f in found} == expected
    assert {f.line for f in found} == {line_of(path, marker)}
    if name == "0002_pages_index":
        assert "require-concurrent-index-creation" in expected
    elif name == "0004_rename":
        assert "renaming-column" in expected
    else:  # AddIndexConcurrently with atomic = False: clean of it, and of every error
        assert "require-concurrent-index-creation" not in expected
        assert not [f for f in found if f.severity == "error"]


def test_django_run_python_is_not_analysed_at_its_line(django_project):
    path = django_project / "library" / "migrations" / "0005_backfill.py"
    found = judged(path, django_project, "django")
    python = line_of(path, "migrations.RunPython")
    assert [(f.rule, f.line) for f in found if f.rule == NOT_ANALYSED] == [(NOT_ANALYSED, python)]
    assert "RunPython" in next(f.message for f in found if f.rule == NOT_ANALYSED)
    # The RunSQL beside it is read, and judged at its own line, as its twin is.
    sql = [f for f in found if f.rule != NOT_ANALYSED]
    assert {f.rule for f in sql} == twin_rules("UPDATE library_book SET pages = 0 WHERE id = 1")
    assert {f.line for f in sql} <= {line_of(path, "migrations.RunSQL")}


def test_django_reader_gives_the_down_sql(django_project):
    from flux_agent.lint.readers import django as reader

    path = django_project / "library" / "migrations" / "0004_rename.py"
    read = reader.read(path, path.read_text(), django_project)
    assert [p.sql for p in read.down] == ['ALTER TABLE "library_book" RENAME COLUMN "title" TO "name";']
    assert read.transactional and not read.unread


def test_operations_an_app_adds_to_a_migration_are_not_the_files(tmp_path):
    """contenttypes adds a RunPython after each RenameModel of a migration `migrate` runs (saleor's
    renames): it was said not analysed, and every finding of the file stood at its class line, the
    operations no longer one per item of the file's list. And a RunPython with no reverse: Django
    refuses to unapply the migration, which missing-rollback says at that call, in Django's words."""
    from flux_agent.entry.validate import validate_paths

    files = {"manage.py": MANAGE, "acme/__init__.py": "",
             "acme/settings.py": settings("django.contrib.contenttypes", "library"),
             "library/__init__.py": "", "library/migrations/__init__.py": "",
             "library/migrations/0001_initial.py": INITIAL,
             "library/migrations/0002_rename.py": django_migration("0001_initial", """
                 migrations.RenameModel(old_name="Book", new_name="Volume")
                 migrations.AddField(model_name="volume", name="isbn", field=models.TextField(null=True))
                 """),
             "library/migrations/0003_fill.py": django_migration("0002_rename", """
                 migrations.AddField(model_name="volume", name="note", field=models.TextField(null=True))
                 migrations.RunPython(fill)
                 """)}
    root = write(tmp_path, files)
    folder = root / "library" / "migrations"
    _, found = validate_paths([str(folder)], project_dir=str(root))
    rename, fill = folder / "0002_rename.py", folder / "0003_fill.py"
    at = {(Path(f.path).name, f.line, f.rule) for f in found}
    assert ("0002_rename.py", line_of(rename, "RenameModel"), "renaming-table") in at, at
    assert not [f for f in found if Path(f.path).name == "0002_rename.py" and f.rule == NOT_ANALYSED], found
    assert not [f for f in found if f.line == line_of(rename, "class Migration")], found
    rollback = [f for f in found if Path(f.path).name == "0003_fill.py" and f.rule == "missing-rollback"]
    assert [f.line for f in rollback] == [line_of(fill, "RunPython")], found
    assert "IrreversibleError" in rollback[0].message and "RunPython.noop" in rollback[0].hint


def judged_operations(django_project: Path, operations: str) -> list:
    """The findings of library's 0009_sql.py holding `operations` (its list's items, from line 7)."""
    path = django_project / "library" / "migrations" / "0009_sql.py"
    path.write_text("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
                    '    dependencies = [("library", "0005_backfill")]\n    operations = [\n'
                    + textwrap.indent(textwrap.dedent(operations), " " * 8) + "    ]\n")
    try:
        return judged(path, django_project, "django")
    finally:
        path.unlink()


def test_the_statements_of_a_run_sql_stand_at_their_own_lines(django_project, tmp_path):
    """saleor's order/0134: a RunSQL of many statements, every finding at the `RunSQL(` line. Each
    statement Django renders stands where the file's literal writes it."""
    found = judged_operations(django_project, '''\
            migrations.RunSQL(
                """
                ALTER TABLE library_book ADD COLUMN isbn text;
                CREATE INDEX book_isbn_idx
                    ON library_book (isbn);
                """,
                reverse_sql="SELECT 1",
            ),
            migrations.RunSQL(["SELECT 1", "CREATE INDEX book_name_idx ON library_book (name)"],
                              reverse_sql="SELECT 1"),
''')
    index = {f.line for f in found if f.rule == "require-concurrent-index-creation"}
    assert index == {10, 15}, found  # the first CREATE INDEX's own line; the list's item on the call's line
    assert 9 in {f.line for f in found if f.rule == "require-lock-timeout"}, found  # the ALTER TABLE's


def test_a_run_sql_inside_separate_database_and_state_stands_at_its_own_line(django_project):
    """netbox's users/0008: RunSQL in SeparateDatabaseAndState(database_operations=[...]): its 74
    findings all stood at the SeparateDatabaseAndState line."""
    found = judged_operations(django_project, '''\
            migrations.SeparateDatabaseAndState(
                state_operations=[],
                database_operations=[
                    migrations.RunSQL("SELECT 1", reverse_sql="SELECT 1"),
                    migrations.RunSQL(
                        "CREATE INDEX book_name_idx ON library_book (name)",
                        reverse_sql="DROP INDEX book_name_idx",
                    ),
                ],
            ),
''')
    assert {f.line for f in found if f.rule == "require-concurrent-index-creation"} == {12}, found


def test_a_django_folder_validated_again_unchanged_starts_no_python(tmp_path, monkeypatch):
    """saleor's order and product apps: 320 s cold, 245-269 s each warm run, the project's `migrate`
    walked again every time. What the walk rendered is kept by everything it read: the same folder
    again is read from that (the same findings); a migration or a module the walk loaded changed, or
    a module added, walks again; a module it did not load changed (netbox: a view) does not."""
    from flux_agent.devdb.runners import _python
    from flux_agent.entry.validate import validate_paths

    files = {"manage.py": MANAGE, "acme/__init__.py": "", "acme/settings.py": DJANGO_SETTINGS,
             "library/__init__.py": "", "library/migrations/__init__.py": "", "library/views.py": "",
             "library/migrations/0001_initial.py": INITIAL,
             "library/migrations/0002_index.py": django_migration("0001_initial", """
                 migrations.AddIndex(model_name="book", index=models.Index(fields=["pages"], name="book_pages_idx"))
                 """)}
    root = write(tmp_path, files)
    folder = root / "library" / "migrations"
    monkeypatch.setenv("FLUX_VALIDATE_CACHE", "off")  # the per-file cache aside: the reader itself is tested
    _, first = validate_paths([str(folder)], project_dir=str(root))
    assert "require-concurrent-index-creation" in {f.rule for f in first}, first

    def no_python(*args, **kwargs):
        raise AssertionError("the project's Python ran again")
    with monkeypatch.context() as m:
        m.setattr(_python, "run_child", no_python)
        _, again = validate_paths([str(folder)], project_dir=str(root))
    assert again == first
    (root / "library" / "views.py").write_text("# not loaded by migrate\n")
    with monkeypatch.context() as m:
        m.setattr(_python, "run_child", no_python)
        assert validate_paths([str(folder)], project_dir=str(root))[1] == first
    real = _python.run_child
    for change in ("library/__init__.py", "library/fields.py"):  # loaded by migrate; a module added
        (root / change).write_text("# the app's code: a custom field's SQL type lives there\n")
        runs = []
        with monkeypatch.context() as m:
            m.setattr(_python, "run_child", lambda *a, **k: runs.append(1) or real(*a, **k))
            assert validate_paths([str(folder)], project_dir=str(root))[1] == first
        assert runs, f"{change}: not walked again"
        with monkeypatch.context() as m:
            m.setattr(_python, "run_child", no_python)
            assert validate_paths([str(folder)], project_dir=str(root))[1] == first
    index = folder / "0002_index.py"
    index.write_text(index.read_text().replace("book_pages_idx", "book_pages_ix"))
    runs.clear()
    monkeypatch.setattr(_python, "run_child", lambda *a, **k: runs.append(1) or real(*a, **k))
    _, changed = validate_paths([str(folder)], project_dir=str(root))
    assert runs and changed != first and "book_pages_ix" in " ".join(f.message for f in changed), changed


def test_a_migration_naming_a_squashed_original_is_read(tmp_path):
    """paperless-ngx squashed documents' first migrations into 0001_squashed and deleted them, and
    paperless_mail's squashed migration still depends on ('documents', '0001_initial'), as Django
    allows (it reads the squashed one in its place). The reader's loader kept every original as its
    own node, found that one missing, and no migration of the project could be read."""
    squashed = textwrap.dedent(INITIAL).replace("initial = True", "initial = True\n    replaces = [('library', "
                                                                  "'0001_initial')]")
    mail = textwrap.dedent("""
        from django.db import migrations, models


        class Migration(migrations.Migration):
            dependencies = [("library", "0001_initial")]
            operations = [
                migrations.CreateModel(name="Rule", fields=[("id", models.BigAutoField(primary_key=True)),
                                                            ("book", models.ForeignKey("library.Book", models.CASCADE))]),
            ]
        """)
    project = write(tmp_path, {
        "manage.py": MANAGE, "acme/__init__.py": "",
        "acme/settings.py": settings("django.contrib.postgres", "library", "mail"),
        "library/__init__.py": "", "library/models.py": MODELS, "library/migrations/__init__.py": "",
        "library/migrations/0001_squashed.py": squashed,
        "library/migrations/0002_pages_index.py": django_migration("0001_squashed", DJANGO["0002_pages_index"][0]),
        "mail/__init__.py": "", "mail/models.py": "", "mail/migrations/__init__.py": "",
        "mail/migrations/0001_initial.py": mail})
    index = judged(project / "library" / "migrations" / "0002_pages_index.py", project, "django")
    assert {f.rule for f in index} == twin_rules(DJANGO["0002_pages_index"][3]), [f.message for f in index]
    rule = judged(project / "mail" / "migrations" / "0001_initial.py", project, "django")
    assert NOT_ANALYSED not in {f.rule for f in rule}, [f.message for f in rule]


# --- the CLI ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_flux_validate_cli_reads_both_tools(alembic_project, django_project):
    for project, folder, flagged in (
            (alembic_project, "alembic/versions", {("a1_add_age.py", "adding-required-field"),
                                                   ("a2_age_index.py", "require-concurrent-index-creation")}),
            (django_project, "library/migrations", {("0002_pages_index.py", "require-concurrent-index-creation"),
                                                    ("0004_rename.py", "renaming-column"),
                                                    ("0005_backfill.py", NOT_ANALYSED)})):
        done = subprocess.run([sys.executable, "-m", "flux_agent.entry.cli", "validate", str(project / folder),
                               "--project", str(project)], capture_output=True, text=True, timeout=300)
        assert "Traceback" not in done.stderr, done.stderr
        out = done.stdout
        for file, rule in flagged:
            path = project / folder / file
            hits = [line for line in out.splitlines() if line.startswith(f"{path}:") and f" {rule}:" in line]
            assert hits, out
        assert not [line for line in out.splitlines() if " error " in line and (
            "a3_age_index_concurrently.py" in line or "0003_pages_index_concurrently.py" in line)], out


@pytest.mark.parametrize("shadow", [False, True])
def test_alembic_revision_imports_what_the_projects_virtualenv_has(tmp_path, shadow):
    """mealie's .venv and Flux's both resolve to pyenv's python3.11: the revision whose import failed
    in Flux's interpreter was never tried in the project's, whose packages differ (8 revisions not
    analysed). A virtualenv is its own environment, wherever its python links to. `shadow`: dispatch
    keeps a types.py beside its alembic.ini, which took the place of Python's own `types` in the
    child (started there): every revision needing the project's Python was not analysed."""
    import subprocess
    import sysconfig

    body = textwrap.dedent(ALEMBIC_HEAD).format(doc="slug", rev="s1", down="None").replace(
        "from alembic import op", "from alembic import op\nfrom acme_slug import slugify") + \
        '    op.add_column("recipes", sa.Column(slugify("Slug Name"), sa.Text()))\n'
    project = write(tmp_path, {"alembic.ini": ALEMBIC_INI, "alembic/versions/s1_slug.py": body,
                               "deps/acme_slug.py": "def slugify(s):\n    return s.lower().replace(' ', '_')\n",
                               **({"types.py": "# the project's own module\n"} if shadow else {})})
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    site = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True,
                          check=True).stdout.strip()
    # the project's environment: Flux's packages (alembic, sqlalchemy) and one of its own
    Path(site, "deps.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{project / 'deps'}\n")
    found = judged(project / "alembic" / "versions" / "s1_slug.py", project, "alembic")
    assert NOT_ANALYSED not in {f.rule for f in found}, [f.message for f in found]


def test_a_folder_needing_the_projects_python_is_read_in_one_child_importing_the_app_once(tmp_path):
    """redash's revisions import its app, which registers types in a package's registry (refusing a
    second registration): one child per revision took 41 s a run; one child for the folder, the app
    imported again for each revision, failed 12 of them ("already registered"). The child keeps the
    project's modules between revisions: 3.6 s, the same findings."""
    import subprocess
    import sysconfig

    from flux_agent.devdb.run_memo import RunMemo, remembering
    from flux_agent.devdb.runners import _python
    from flux_agent.lint.readers import read_ahead

    deps = write(tmp_path / "site", {"acme_registry.py": "SEEN = set()\ndef register(name):\n"
                                                        "    assert name not in SEEN, name\n    SEEN.add(name)\n"})
    files = {"alembic.ini": ALEMBIC_INI,
             "app/__init__.py": "", "app/models.py": "import acme_registry\nacme_registry.register('User')\n"}
    for i in range(3):
        body = textwrap.dedent(ALEMBIC_HEAD).format(doc=f"r{i}", rev=f"r{i}", down=repr(f"r{i - 1}") if i else "None")
        files[f"alembic/versions/r{i}_x.py"] = body.replace("from alembic import op", "from alembic import op\nimport app.models") \
            + f'    op.add_column("users", sa.Column("c{i}", sa.Text()))\n'
    project = write(tmp_path / "app", files)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    site = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True,
                          check=True).stdout.strip()
    Path(site, "deps.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{deps}\n")  # a package installed
    children = []
    real = _python.run_child
    revisions = sorted((project / "alembic" / "versions").glob("*.py"))
    with remembering(RunMemo()):
        _python.run_child = lambda *a, **k: children.append(len(a[4]["files"])) or real(*a, **k)
        try:
            read_ahead(revisions, project, "alembic")
            found = [f for r in revisions for f in judged(r, project, "alembic")]
        finally:
            _python.run_child = real
    assert children == [3], children
    assert NOT_ANALYSED not in {f.rule for f in found}, [f.message for f in found]
    assert {f.line for f in found} == {11}, found


def test_alembic_merge_revision_without_imports_is_read(tmp_path):
    """dispatch's merge and empty revisions import nothing of alembic's: they were 'neither SQL nor a
    migration of a tool Flux reads'."""
    project = write(tmp_path, {"alembic.ini": ALEMBIC_INI, "alembic/versions/m1_merge.py": '''
        """merge heads"""
        revision = "m1"
        down_revision = ("a1", "b1")
        branch_labels = None


        def upgrade():
            pass


        def downgrade():
            pass
        '''})
    assert judged(project / "alembic" / "versions" / "m1_merge.py", project, "alembic") == []


def test_a_django_rollback_django_cannot_render_here_is_not_judged_empty(tmp_path):
    """healthchecks' AlterField(db_index=True): Django renders the reverse by reading the database, which
    stands before the migration, so the index its forward SQL makes is not there to drop and the down came
    out empty: a false missing-rollback. Not rendered, the rollback is not judged; a RenameField's is."""
    from flux_agent.lint.readers import django as reader

    files = {"manage.py": MANAGE, "acme/__init__.py": "", "acme/settings.py": DJANGO_SETTINGS,
             "library/__init__.py": "", "library/models.py": MODELS, "library/migrations/__init__.py": "",
             "library/migrations/0001_initial.py": INITIAL,
             "library/migrations/0002_name_index.py": django_migration(
                 "0001_initial", 'migrations.AlterField(model_name="book", name="pages", '
                                 "field=models.BigIntegerField(null=True, db_index=True))")}
    root = write(tmp_path, files)
    path = root / "library" / "migrations" / "0002_name_index.py"
    read = reader.read(path, path.read_text(), root)
    assert read.up and "CREATE INDEX" in read.up[0].sql and read.down is None
    found = validate_file(path, Settings(), None, display=str(path), project=root, tool="django")
    assert "missing-rollback" not in {f.rule for f in found}


def test_a_percent_in_an_alembic_revision_is_read_as_written(tmp_path):
    """Offline, alembic's own env.py renders with paramstyle named; without it every % came out
    doubled, and a DO block's `RAISE NOTICE 'done %', 1` no longer parsed: the type change in it
    went unjudged (polar)."""
    body = ('op.execute("""DO $$ BEGIN ALTER TABLE users ALTER COLUMN email TYPE varchar(10); '
            'RAISE NOTICE \'done %\', 1; END $$""")')
    project = write(tmp_path, {"alembic.ini": ALEMBIC_INI, "alembic/versions/c1_retype.py": textwrap.dedent(
        ALEMBIC_HEAD).format(doc="retype", rev="c1", down="None") + f"    {body}\n"})
    path = project / "alembic" / "versions" / "c1_retype.py"
    assert "changing-column-type" in {f.rule for f in judged(path, project, "alembic")}
