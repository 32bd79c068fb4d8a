"""The copy of the project `flux fix` plans in links the project's packages and Python instead of
copying or leaving them out: paperless-ngx keeps its .venv beside src/manage.py, and the copy had
none, so its Django ran with Flux's Python ("No module named 'celery'")."""

from flux_agent.entry.fix import project_before
from flux_agent.project.detect import Detection


def test_the_copy_links_virtualenvs_and_node_modules_wherever_they_are(tmp_path):
    project = tmp_path / "app"
    for rel in (".venv/bin/python", "src/venv/lib/x.py", "web/node_modules/pg/index.js",
                "db/migrations/001_a.sql", "db/migrations/002_b.sql", ".git/HEAD"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("x")
    found = Detection(tool="sql", migrations_dir="db/migrations", evidence=[], candidates=[], ambiguous=False)
    with project_before(project, found, (project / "db/migrations/002_b.sql").resolve()) as (copy, folder):
        assert folder == "db/migrations"
        for rel in (".venv", "src/venv", "web/node_modules"):
            assert (copy / rel).is_symlink() and (copy / rel).resolve() == (project / rel).resolve(), rel
        assert (copy / "db/migrations/001_a.sql").is_file() and not (copy / "db/migrations/002_b.sql").exists()
        assert not (copy / ".git").exists()
    assert (project / "db/migrations/002_b.sql").is_file()  # the project itself untouched
