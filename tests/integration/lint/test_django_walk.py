"""`flux validate` of Django migrations judges each against the schema the migrations before it
make (lint/readers/django.py's walk): the project's own `migrate` runs once on a scratch
database, and before each migration asked about, the migration is rendered on that database as
it stands (Django's schema editor introspects it: the constraint a unique=False drops is found)
and the database's catalogs are read. Without it, every file was rendered on an empty database
and judged without a schema: a varchar widened was "type unknown, may rewrite", an int narrowed
the same, and the DROP CONSTRAINT of unique=False was not in the SQL at all."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from django_site import MANAGE, initial_book, settings
from flux_agent.devdb.server import find_binaries
from flux_agent.entry.validate import validate_paths

pytest.importorskip("pglast")
pytest.importorskip("django")
pytestmark = [pytest.mark.pg,
              pytest.mark.skipif(not find_binaries(), reason="no PostgreSQL server binaries on this machine")]

SETTINGS = settings("library")

INITIAL = initial_book('("code", models.CharField(max_length=32, unique=True))', '("rank", models.IntegerField(default=0))')


def migration(previous: str, operation: str) -> str:
    return ("from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [('library', '{previous}')]\n"
            f"    operations = [\n        {operation},\n    ]\n")


STEPS = {
    "0002_widen_code": 'migrations.AlterField("book", "code", models.CharField(max_length=64, unique=True))',
    "0003_narrow_rank": 'migrations.AlterField("book", "rank", models.SmallIntegerField(default=0))',
    "0004_code_not_unique": 'migrations.AlterField("book", "code", models.CharField(max_length=64))',
    "0005_code_to_text": 'migrations.AlterField("book", "code", models.TextField())',
}


def project(root: Path, steps: dict) -> Path:
    files = {"manage.py": MANAGE, "acme/__init__.py": "", "acme/settings.py": SETTINGS, "library/__init__.py": "",
             "library/models.py": "", "library/migrations/__init__.py": "",
             "library/migrations/0001_initial.py": INITIAL}
    previous = "0001_initial"
    for name, op in steps.items():
        files[f"library/migrations/{name}.py"] = migration(previous, op)
        previous = name
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    return root


def findings(root: Path) -> dict[str, list]:
    _, found = validate_paths([str(root / "library" / "migrations")], str(root), tool="django")
    out: dict[str, list] = {}
    for f in found:
        out.setdefault(Path(f.path).stem, []).append(f)
    return out


def test_each_migration_is_judged_against_the_schema_before_it(tmp_path, monkeypatch):
    from flux_agent.devdb.runners import _python

    runs = []
    real = _python.run_child
    monkeypatch.setattr(_python, "run_child", lambda *a, **k: runs.append(a[4]) or real(*a, **k))
    found = findings(project(tmp_path, STEPS))
    # One run of the project's migrate for all the files: none rendered alone.
    assert len(runs) == 1 and "walk" in runs[0], runs
    # varchar(32) -> varchar(64) changes no stored value: not a rewrite, so not flagged.
    assert "changing-column-type" not in {f.rule for f in found.get("0002_widen_code", [])}
    narrow = [f for f in found["0003_narrow_rank"] if f.rule == "changing-column-type"]
    assert len(narrow) == 1 and "integer -> smallint rewrites" in narrow[0].message, narrow
    # Django found the unique constraint in the database to drop it: the DROP CONSTRAINT is judged.
    assert "ban-drop-constraint" in {f.rule for f in found["0004_code_not_unique"]}
    # Django writes `TYPE text USING "code"::text`: converted as without USING, varchar -> text is no rewrite.
    assert "changing-column-type" not in {f.rule for f in found.get("0005_code_to_text", [])}


def test_files_after_a_failing_migration_are_read_alone(tmp_path):
    steps = {"0002_fails": 'migrations.RunSQL("SELECT * FROM no_such_table", migrations.RunSQL.noop)',
             "0003_narrow_rank": STEPS["0003_narrow_rank"]}
    found = findings(project(tmp_path, steps))
    # The walk stopped at 0002; 0003 was still read (on an empty database) and judged, without a schema.
    narrow = [f for f in found["0003_narrow_rank"] if f.rule == "changing-column-type"]
    assert len(narrow) == 1 and "current type is unknown" in narrow[0].message, narrow
    # ... and 0002 says it fails (netbox: nothing said, and every later file judged without a schema silently)
    [fails] = [f for f in found["0002_fails"] if f.rule == "migration-fails"]
    assert fails.severity == "error" and 'relation "no_such_table" does not exist' in fails.message, fails


def test_the_scratch_database_is_dropped(tmp_path):
    import psycopg

    from flux_agent.devdb.server import dev_server
    from flux_agent.model.settings import Settings

    findings(project(tmp_path, {"0002_widen_code": STEPS["0002_widen_code"]}))
    server = dev_server(None, Settings().pg_version)
    with psycopg.connect(server.url, autocommit=True) as admin:
        left = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'flux\\_verify\\_walk\\_%'").fetchall()
    assert left == []


def test_another_apps_migrations_need_no_build_of_the_whole_schema(tmp_path, monkeypatch):
    """Flux detects one migrations folder; another app's migrations were 'proposed' changes, judged
    against the project's schema, which was built (the whole history) before the first file was
    judged, though the walk gives each file the schema before it."""
    from flux_agent.entry import validate

    root = project(tmp_path, {"0002_widen_code": STEPS["0002_widen_code"]})
    (root / "acme" / "settings.py").write_text(textwrap.dedent(settings("library", "shelf")))
    for rel, text in {"shelf/__init__.py": "", "shelf/models.py": "", "shelf/migrations/__init__.py": "",
                      "shelf/migrations/0001_initial.py": migration("x", "").replace(
                          "[('library', 'x')]", "[('library', '0002_widen_code')]").replace(
                          "        ,\n", '        migrations.RunSQL("ALTER TABLE library_book ALTER COLUMN rank '
                                         'TYPE smallint", migrations.RunSQL.noop),\n')}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)

    def refused(*args, **kwargs):
        raise AssertionError("the project's whole schema was read")

    monkeypatch.setattr(validate, "current_schema", refused)
    _, found = validate_paths([str(root / "shelf" / "migrations")], str(root), tool="django")
    narrow = [f for f in found if f.rule == "changing-column-type"]
    assert len(narrow) == 1 and "integer -> smallint" in narrow[0].message, [f.message for f in found]


def test_a_manage_py_naming_no_settings_takes_the_users(tmp_path, monkeypatch):
    """babybuddy's manage.py names no settings module (its docs: export DJANGO_SETTINGS_MODULE): the
    user's variable was dropped from the child's environment with the database settings, and every
    file was not analysed. Without it, one run says so in one line (nothing can be judged: exit 2);
    with it, the files are read."""
    from flux_agent.errors import FluxInputError

    from flux_agent.devdb.runners import _python

    root = project(tmp_path, {"0002_narrow_rank": STEPS["0003_narrow_rank"]})
    manage = textwrap.dedent(MANAGE).lstrip()
    (root / "manage.py").write_text("".join(line for line in manage.splitlines(keepends=True) if "setdefault" not in line))
    runs = []
    real = _python.run_child
    monkeypatch.setattr(_python, "run_child", lambda *a, **k: runs.append(a[4]) or real(*a, **k))
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    with pytest.raises(FluxInputError, match="DJANGO_SETTINGS_MODULE is not set where Flux runs.*nothing was judged"):
        findings(root)
    assert len(runs) == 1, "each file was run alone after the walk failed the same way"
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "acme.settings")
    narrow = [f for f in findings(root)["0002_narrow_rank"] if f.rule == "changing-column-type"]
    assert len(narrow) == 1 and "integer -> smallint" in narrow[0].message, narrow


def test_settings_the_projects_python_cannot_import_stop_validate_with_one_line(tmp_path):
    """netbox validated without its packages: every migration had one not-analysed warning (the
    settings import storages), exit 0, so CI passed with nothing judged."""
    from flux_agent.entry.cli import main
    from flux_agent.errors import FluxInputError

    root = project(tmp_path / "site", {"0002_widen_code": STEPS["0002_widen_code"]})
    (root / "acme" / "settings.py").write_text("import storages_not_installed_here\n"
                                                + textwrap.dedent(SETTINGS).lstrip())
    with pytest.raises(FluxInputError, match=r"cannot read the project's Django migrations with .*: the settings "
                                             r"module acme.settings cannot be imported .*storages_not_installed_here"
                                             r".*: nothing was judged"):
        validate_paths([str(root / "library" / "migrations")], str(root), tool="django")
    assert main(["validate", str(root / "library" / "migrations"), "--project", str(root)]) == 2


def test_an_operation_reading_what_an_earlier_one_of_its_migration_made_is_rendered(tmp_path):
    """netbox's squashed virtualization migration: AlterUniqueTogether, then another undoing it; the
    second, collected against the database as it stood before the migration, found no constraint to
    drop ("Found wrong number (0) of constraints"): not analysed. Run as migrate runs them, then undone."""
    pair = ('migrations.AlterUniqueTogether(name="book", unique_together={("code", "rank")}),\n'
            '        migrations.AlterUniqueTogether(name="book", unique_together=set())')
    found = findings(project(tmp_path, {"0002_pair": pair, "0003_narrow_rank": STEPS["0003_narrow_rank"]}))
    assert not [f for f in found["0002_pair"] if f.rule in ("not-analysed", "migration-fails")], found["0002_pair"]
    assert any(f.line == 7 and f.rule == "disallowed-unique-constraint" for f in found["0002_pair"])
    # the walk's migrate then ran on the database as the render left it: as before (0003 knows the type)
    narrow = [f for f in found["0003_narrow_rank"] if f.rule == "changing-column-type"]
    assert narrow and "integer -> smallint" in narrow[0].message, narrow
