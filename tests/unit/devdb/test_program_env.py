"""The environment a project's migration tool runs in names no database but the dev database:
nothing of Flux's own environment that could point elsewhere reaches it."""

from __future__ import annotations

from flux_agent.devdb.program import as_url, scrubbed_env, tool_run


DATABASE_SETTINGS = {
    # by name
    "DATABASE_URL": "postgresql://prod/app", "PGHOST": "prod.example.com", "PGPASSWORD": "secret",
    "DB_URL": "postgresql://prod/app", "TYPEORM_URL": "x", "APP_DB_HOST": "prod-db", "POSTGRES_PASSWORD": "pw",
    "SQLALCHEMY_DATABASE_URI": "x", "READ_REPLICA_DSN": "x", "FLUX_DEVDB_JOB": "{}",
    # by value: a database URL or a libpq string under any name
    "CACHE_URL": "postgres://prod/cache", "DB_ENGINE": "postgres://prod/app", "WAREHOUSE": "postgresql+psycopg2://prod/wh", "LEGACY": "mysql://prod/x",
    "APP_CONN": "host=prod.example.com dbname=app user=app", "ANALYTICS": " jdbc:postgresql://prod/a",
    # chosen by Flux or by the project's own files
    "DJANGO_SETTINGS_MODULE": "app.settings.production", "NODE_ENV": "production",
}
NOT_DATABASE_SETTINGS = {  # what a project's config needs besides (plane's settings: REDIS_URL)
    "SECRET_KEY": "s3cret", "REDIS_URL": "redis://localhost:6379/0", "AWS_REGION": "eu-west-1",
    "DEBUG": "1", "LC_ALL": "C.UTF-8", "DEBUGGER": "off",
    "DB_CLIENT": "pg", "DATABASE_DIALECT": "postgres",  # which driver, not where (kutt's knexfile: DB_CLIENT)
    "DATABASE_TYPE": "postgres",  # brocoders' nestjs-boilerplate: its data source's `type`
}


def test_no_database_setting_reaches_the_tool_and_the_rest_does(monkeypatch):
    for name, value in {**DATABASE_SETTINGS, **NOT_DATABASE_SETTINGS}.items():
        monkeypatch.setenv(name, value)
    job = tool_run(__import__("pathlib").Path("/p"), "migrations",
                   "host=/tmp/sock port=5433 user=postgres dbname=flux_building_x", "m")
    assert job.env["DATABASE_URL"] == job.url == "postgresql://postgres@/flux_building_x?host=%2Ftmp%2Fsock&port=5433"
    assert (job.env["PGHOST"], job.env["PGPORT"], job.env["PGDATABASE"], job.env["PGPASSWORD"]) == \
        ("/tmp/sock", "5433", "flux_building_x", "")
    for name in DATABASE_SETTINGS:
        assert name not in job.env or name in ("DATABASE_URL", "PGHOST", "PGPASSWORD", "NODE_ENV"), name
    assert job.env["NODE_ENV"] == "development"
    for name, value in NOT_DATABASE_SETTINGS.items():
        assert job.env[name] == value, name
    assert "prod" not in " ".join(job.env.values())


def test_urls_quote_what_a_url_cannot_hold():
    assert as_url({"user": "a b", "password": "p@ss/w", "host": "db.local", "port": 5432, "database": "d x"}) == \
        "postgresql://a%20b:p%40ss%2Fw@db.local:5432/d%20x"
    assert scrubbed_env({"host": "h", "port": 1, "user": "u", "password": "", "database": "d"}, "U")["DATABASE_URL"] == "U"


def test_the_dev_database_under_the_part_names_settings_read(monkeypatch):
    """dispatch's config reads DATABASE_HOSTNAME and DATABASE_CREDENTIALS ("user:password"): scrubbed
    as database settings and left unset, its settings failed (KeyError) before any revision ran."""
    monkeypatch.setenv("DATABASE_HOSTNAME", "prod-db.internal")
    monkeypatch.setenv("DB_PASSWORD", "prod-secret")
    env = scrubbed_env({"host": "/tmp/sock", "port": 5433, "user": "postgres", "password": "pw",
                        "database": "flux_building_x"}, "U")
    assert (env["DATABASE_HOSTNAME"], env["DATABASE_CREDENTIALS"], env["DATABASE_NAME"], env["DATABASE_PORT"]) == \
        ("/tmp/sock", "postgres:pw", "flux_building_x", "5433")
    assert (env["DB_HOST"], env["DB_USER"], env["DB_PASSWORD"]) == ("/tmp/sock", "postgres", "pw")
    assert "prod" not in " ".join(env.values())


def test_the_project_s_env_file_is_read_as_its_own_scripts_read_it(tmp_path, monkeypatch):
    """brocoders/nestjs-boilerplate's DataSource takes its driver from DATABASE_TYPE, which its npm
    scripts load from .env (env-cmd): without it TypeORM refused `"undefined"` as a driver."""
    from flux_agent.devdb.program import dotenv

    (tmp_path / ".env").write_text(
        "# the app\nexport DATABASE_TYPE=postgres\nDATABASE_URL=postgres://prod:pw@db/app\nAPP_NAME=\"My App\"\n"
        "SECRET='s # not a comment'\nPORT=3000 # a comment\nNOT A LINE\nTOKEN=from-file\n")
    monkeypatch.setenv("TOKEN", "from-env")
    values = dotenv(tmp_path)
    assert values["DATABASE_TYPE"] == "postgres" and values["APP_NAME"] == "My App"
    assert values["SECRET"] == "s # not a comment" and values["PORT"] == "3000"
    env = scrubbed_env({"host": "h", "port": 1, "user": "u", "password": "", "database": "d"}, "U", values)
    assert env["DATABASE_TYPE"] == "postgres" and env["APP_NAME"] == "My App"
    assert env["DATABASE_URL"] == "U" and "prod" not in " ".join(env.values())  # the file's database is not used
    assert env["TOKEN"] == "from-env"  # the environment wins, as with dotenv
    assert dotenv(tmp_path / "none") == {}


def test_a_variable_that_only_chooses_postgresql_is_kept(monkeypatch):
    """healthchecks' settings use PostgreSQL where DB=postgres, SQLite otherwise: scrubbed as a database
    setting, its settings fell back to SQLite and Flux said the project's database was sqlite3. A value that
    only names PostgreSQL is no server; one that names a server is dropped as before."""
    monkeypatch.setenv("DB", "postgres")
    monkeypatch.setenv("DB_ENGINE_CHOICE", "PostgreSQL")
    monkeypatch.setenv("DB_NAME_PROD", "prod-db.internal")
    monkeypatch.setenv("APP_DB", "postgres://prod:pw@db/app")
    env = scrubbed_env({"host": "h", "port": 1, "user": "u", "password": "", "database": "d"}, "U")
    assert env["DB"] == "postgres" and env["DB_ENGINE_CHOICE"] == "PostgreSQL"
    assert "DB_NAME_PROD" not in env and "APP_DB" not in env
