"""The environment a project's migration tool runs in names no database but the dev database:
nothing of Flux's own environment that could point elsewhere reaches it."""

from __future__ import annotations

from flux_agent.devdb.program import as_url, scrubbed_env, tool_run


def test_no_database_setting_of_ours_reaches_the_tool(monkeypatch):
    for name, value in {"DATABASE_URL": "postgresql://prod/app", "PGHOST": "prod.example.com",
                        "PGPASSWORD": "secret", "DB_URL": "postgresql://prod/app", "TYPEORM_URL": "x",
                        "DJANGO_SETTINGS_MODULE": "app.settings", "LC_ALL": "C.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    job = tool_run(__import__("pathlib").Path("/p"), "migrations",
                   "host=/tmp/sock port=5433 user=postgres dbname=flux_building_x", "m")
    assert job.env["DATABASE_URL"] == job.url == "postgresql://postgres@/flux_building_x?host=%2Ftmp%2Fsock&port=5433"
    assert (job.env["PGHOST"], job.env["PGPORT"], job.env["PGDATABASE"], job.env["PGPASSWORD"]) == \
        ("/tmp/sock", "5433", "flux_building_x", "")
    for name in ("DB_URL", "TYPEORM_URL", "DJANGO_SETTINGS_MODULE"):
        assert name not in job.env
    assert job.env["LC_ALL"] == "C.UTF-8"
    assert "prod" not in " ".join(job.env.values())


def test_urls_quote_what_a_url_cannot_hold():
    assert as_url({"user": "a b", "password": "p@ss/w", "host": "db.local", "port": 5432, "database": "d x"}) == \
        "postgresql://a%20b:p%40ss%2Fw@db.local:5432/d%20x"
    assert scrubbed_env({"host": "h", "port": 1, "user": "u", "password": "", "database": "d"}, "U")["DATABASE_URL"] == "U"
