"""The live catalog reader against the replay reader: one schema built by SQL
migrations on a real PostgreSQL, read three ways (replay of the migration
files, pg_dump --schema-only replayed, the catalogs), must give equal models."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Schema
from flux_agent.schema.readers.live import normal_expr, normal_view, normalise_schema, read_live
from flux_agent.schema.replay.engine import read_migrations_dir, replay_sql, up_sql_of
from tests.shop import build_shop, shop_schema

# Every object kind the model keeps, written the way people write migrations.
MIGRATIONS = {
    "001_users.sql": """
-- migrate:up
CREATE TYPE mood AS ENUM ('sad', 'ok');
ALTER TYPE mood ADD VALUE 'happy';
ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
CREATE SCHEMA billing;
CREATE TYPE billing.state AS ENUM ('open', 'paid', 'void');
CREATE TABLE users (
    id serial PRIMARY KEY,
    email text NOT NULL,
    name varchar(100) DEFAULT 'anon',
    score numeric(10,2) NOT NULL DEFAULT 0,
    level integer DEFAULT -1,
    ratio double precision DEFAULT 1.5,
    active boolean NOT NULL DEFAULT false,
    feeling mood DEFAULT 'ok',
    tags text[] DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    touched_at timestamp DEFAULT CURRENT_TIMESTAMP,
    deleted_at timestamptz,
    CONSTRAINT users_score_check CHECK (score >= 0),
    CHECK (email LIKE '%@%')
);
CREATE UNIQUE INDEX users_email_live ON users (email) WHERE deleted_at IS NULL;
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX ON users (created_at DESC, id);
-- migrate:down
DROP TABLE users;
""",
    "002_billing.sql": """
-- migrate:up
CREATE TABLE billing.invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state billing.state NOT NULL DEFAULT 'open',
    amount numeric(12,2) NOT NULL CHECK (amount > 0),
    kind text CHECK (kind IN ('a', 'b')),
    code varchar(10) CHECK (code <> '' AND code NOT IN ('x', 'y')),
    issued_on date NOT NULL DEFAULT CURRENT_DATE,
    UNIQUE (user_id, amount)
);
CREATE INDEX invoices_open_idx ON billing.invoices (user_id) WHERE state = 'open';
CREATE TABLE billing.bookings (
    id bigserial PRIMARY KEY,
    room integer NOT NULL,
    during tstzrange NOT NULL,
    EXCLUDE USING gist (during WITH &&)
);
-- migrate:down
DROP TABLE billing.bookings;
DROP TABLE billing.invoices;
""",
    "003_items.sql": """
-- migrate:up
CREATE TABLE line_items (
    invoice_id bigint NOT NULL,
    n integer NOT NULL,
    qty integer NOT NULL,
    legacy text,
    PRIMARY KEY (invoice_id, n)
);
ALTER TABLE line_items ADD CONSTRAINT line_items_invoice_fk
    FOREIGN KEY (invoice_id) REFERENCES billing.invoices (id) ON DELETE RESTRICT NOT VALID;
ALTER TABLE line_items ADD CONSTRAINT line_items_qty_check CHECK (qty > 0 AND qty <= 100) NOT VALID;
ALTER TABLE line_items ADD COLUMN note varchar(200);
ALTER TABLE line_items DROP COLUMN legacy;
ALTER TABLE line_items RENAME COLUMN note TO remark;
ALTER TABLE line_items ALTER COLUMN qty TYPE bigint;
ALTER TABLE users ADD COLUMN nickname text NOT NULL DEFAULT '';
ALTER TABLE users ALTER COLUMN nickname DROP DEFAULT;
CREATE VIEW active_users AS SELECT id, email FROM users WHERE deleted_at IS NULL AND name <> 'x';
CREATE VIEW billing.open_invoices AS
    SELECT i.id, u.email FROM billing.invoices i JOIN users u ON u.id = i.user_id WHERE i.state = 'open';
CREATE MATERIALIZED VIEW user_counts AS SELECT count(*) AS n FROM users;
-- migrate:down
DROP VIEW active_users;
""",
    "004_generated.sql": """
-- migrate:up
CREATE TABLE measures (
    id integer PRIMARY KEY,
    width integer NOT NULL,
    label varchar(20),
    area bigint GENERATED ALWAYS AS (width * 2) STORED
);
ALTER TABLE measures ADD COLUMN tag text GENERATED ALWAYS AS (lower(label)) STORED;
ALTER TABLE measures ADD COLUMN scratch integer;
ALTER TABLE measures ADD COLUMN from_scratch integer GENERATED ALWAYS AS (scratch + 1) STORED;
ALTER TABLE measures DROP COLUMN scratch CASCADE;
ALTER TABLE measures RENAME COLUMN width TO breadth;
ALTER TABLE measures ADD COLUMN frozen integer GENERATED ALWAYS AS (id + 1) STORED;
ALTER TABLE measures ALTER COLUMN frozen DROP EXPRESSION;
-- migrate:down
DROP TABLE measures;
""",
}

# Written in ways PostgreSQL stores differently: only a replay that normalises matches.
SPELLINGS = """
CREATE TABLE spellings (
    id integer PRIMARY KEY,
    status text DEFAULT 'new'::text,
    n integer,
    CONSTRAINT spellings_n_check CHECK (n BETWEEN 1 AND 10)
);
"""



def canon(schema: Schema) -> dict:
    """The model with statistics cleared and object lists in name order (their order carries no meaning)."""
    s = schema.model_copy(deep=True)
    for t in s.tables:
        t.row_estimate = t.size_bytes = None
        t.indexes.sort(key=lambda i: i.name)
        t.constraints.sort(key=lambda c: c.name)
    for v in s.views:
        v.indexes.sort(key=lambda i: i.name)
    s.tables.sort(key=lambda t: t.name)
    s.enums.sort(key=lambda e: e.name)
    s.views.sort(key=lambda v: v.name)
    return s.model_dump(exclude={"dependencies", "server"})  # only a database read knows them


def write_migrations(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def migrate(url: str, folder: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for path in sorted(folder.glob("*.sql")):
            conn.execute(up_sql_of(path, path.read_text()))


def pg_dump_bin() -> str:
    try:
        import pgserver

        candidate = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
        if candidate.exists() and not os.environ.get("DATABASE_URL"):
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("pg_dump")
    if not found:
        pytest.skip("pg_dump not found")
    return found


def dump_schema(url: str) -> Schema:
    out = subprocess.run([pg_dump_bin(), "--schema-only", "--no-owner", "--no-privileges", "-d", url],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        pytest.skip(f"pg_dump failed: {out.stderr.strip()[:200]}")
    try:
        from flux_agent.schema.readers.pg_dump import read_pg_dump_text
    except ImportError:  # the dump reader is not there: psql meta-commands (\restrict) are not SQL
        return replay_sql("\n".join(line for line in out.stdout.splitlines() if not line.startswith("\\")))
    return read_pg_dump_text(out.stdout)


@pytest.fixture
def three_ways(pg_url, tmp_path):
    folder = write_migrations(tmp_path / "migrations", MIGRATIONS)
    migrate(pg_url, folder)
    return read_migrations_dir(folder), dump_schema(pg_url), read_live(pg_url)


# --------------------------------------------------------------------------
# The equality
# --------------------------------------------------------------------------


def test_live_equals_replayed_migrations(three_ways):
    replayed, _, live = three_ways
    assert canon(live) == canon(replayed)
    # And the schema really holds what the test means to cover.
    kinds = {c.kind for t in live.tables for c in t.constraints}
    assert kinds == {"primary_key", "unique", "check", "foreign_key", "exclude"}
    assert {t.name for t in live.tables} == {"users", "billing.invoices", "billing.bookings", "line_items", "measures"}
    # Generated columns: the rename followed into the expression, CASCADE's drop, DROP EXPRESSION's plain column.
    assert {c.name: c.generated for c in live.table("measures").columns} == {
        "id": None, "breadth": None, "label": None, "area": "breadth * 2", "tag": "lower(label)", "frozen": None}
    assert {v.name for v in live.views} == {"active_users", "billing.open_invoices", "user_counts"}
    assert live.enums[0].values == ["sad", "meh", "ok", "happy"]


def test_live_equals_normalised_pg_dump(three_ways):
    _, dumped, live = three_ways
    assert canon(normalise_schema(dumped)) == canon(live)


def test_live_equals_replayed_pg_dump(three_ways):
    _, dumped, live = three_ways
    assert canon(dumped) == canon(live)


def test_normal_form_is_a_fixed_point(three_ways):
    replayed, _, live = three_ways
    assert canon(normalise_schema(live)) == canon(live)
    assert canon(normalise_schema(replayed)) == canon(replayed)


def test_spellings_postgres_resolves(pg_url, tmp_path):
    folder = write_migrations(tmp_path / "m", {"001.sql": SPELLINGS})
    migrate(pg_url, folder)
    live = read_live(pg_url)
    assert canon(normalise_schema(read_migrations_dir(folder))) == canon(live)
    assert live.table("spellings").column("status").default == "'new'"
    check = next(c for c in live.table("spellings").constraints if c.kind == "check")
    assert check.expression == "n >= 1 AND n <= 10"


def test_spellings_replay_unnormalised(pg_url, tmp_path):
    folder = write_migrations(tmp_path / "m", {"001.sql": SPELLINGS})
    migrate(pg_url, folder)
    assert canon(read_migrations_dir(folder)) == canon(read_live(pg_url))


def test_live_read_gives_the_servers_checkpoint_settings(pg_url):
    with psycopg.connect(pg_url) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                 for name in ("max_wal_size", "checkpoint_completion_target", "server_version_num")}
    facts = read_live(pg_url).server
    units = {"MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
    number, unit = shown["max_wal_size"][:-2], shown["max_wal_size"][-2:]  # SHOW prints 1GB, 80MB
    assert facts.max_wal_size_bytes == int(number) * units[unit]
    assert facts.checkpoint_completion_target == float(shown["checkpoint_completion_target"])
    assert facts.version_num == int(shown["server_version_num"])


def test_shop_live_equals_shop_schema(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        build_shop(conn)
    live = read_live(pg_url)
    assert canon(live) == canon(shop_schema())
    # Seeded and analysed: statistics come through.
    assert live.table("users").row_estimate == 3000
    assert live.table("orders").row_estimate == 5000
    assert all(t.size_bytes and t.size_bytes > 0 for t in live.tables)


# --------------------------------------------------------------------------
# Statistics, scope and errors
# --------------------------------------------------------------------------


def test_row_estimates_and_sizes(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE counted (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO counted SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g")
        conn.execute("ANALYZE counted")
        conn.execute("CREATE TABLE unknown (id int)")
        conn.execute("INSERT INTO unknown SELECT generate_series(1, 10)")
        # Rows added after ANALYZE: the estimate follows the table's current size, as the planner's does.
        conn.execute("CREATE TABLE grown (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO grown SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g")
        conn.execute("ANALYZE grown")
        conn.execute("INSERT INTO grown SELECT g, repeat('x', 100) FROM generate_series(1001, 3000) g")
        conn.execute("CREATE TABLE parts (id int, at date NOT NULL) PARTITION BY RANGE (at)")
        conn.execute("CREATE TABLE parts_2024 PARTITION OF parts FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
        conn.execute("CREATE TABLE parts_2025 PARTITION OF parts FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")
        conn.execute("INSERT INTO parts SELECT g, date '2024-06-01' + (g % 400) FROM generate_series(1, 800) g")
        conn.execute("ANALYZE parts")
    live = read_live(pg_url)
    counted = live.table("counted")
    assert counted.row_estimate == 2000
    assert counted.size_bytes > 2000 * 100
    assert live.table("unknown").row_estimate is None  # never analysed
    assert live.table("unknown").size_bytes > 0
    assert 2500 <= live.table("grown").row_estimate <= 3500
    parts = live.table("parts")
    assert parts.row_estimate == 800
    assert parts.size_bytes == live.table("parts_2024").size_bytes + live.table("parts_2025").size_bytes


def test_skips_system_temporary_and_extension_objects(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int)")
        conn.execute("CREATE TABLE owned_by_extension (id int)")
        conn.execute("CREATE TYPE ext_enum AS ENUM ('a')")
        conn.execute("ALTER EXTENSION plpgsql ADD TABLE owned_by_extension")
        conn.execute("ALTER EXTENSION plpgsql ADD TYPE ext_enum")
        conn.execute("CREATE TEMPORARY TABLE scratch (id int)")
        live = read_live(pg_url)  # while the temporary table exists
        conn.execute("ALTER EXTENSION plpgsql DROP TABLE owned_by_extension")
        conn.execute("ALTER EXTENSION plpgsql DROP TYPE ext_enum")
    assert [t.name for t in live.tables] == ["kept"]
    assert live.enums == []


def test_reads_in_a_read_only_transaction(pg_url, monkeypatch):
    seen = []
    real = psycopg.Connection.execute

    def spy(self, query, *args, **kwargs):
        seen.append(str(query).split("\n")[0] if isinstance(query, str) else query)
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", spy)
    read_live(pg_url)
    assert seen[0] == "SET TRANSACTION READ ONLY"
    assert any("statement_timeout" in q for q in seen[:4])


def test_unreachable_database_is_an_input_error(tmp_path):
    with pytest.raises(FluxInputError, match="cannot read the schema"):
        read_live(f"postgresql://nobody@/nodb?host={tmp_path}&connect_timeout=2")


# --------------------------------------------------------------------------
# The normal form
# --------------------------------------------------------------------------


@pytest.mark.parametrize("stored, written, target", [
    # Defaults: the column's type is the context that gives a literal its cast back.
    ("'pending'::text", "'pending'", "text"),
    ("'anon'::character varying", "'anon'", "character varying(100)"),
    ("'-1'::integer", "-1", "integer"),
    ("'-1.5'::numeric", "-1.5", "numeric"),
    ("(0)::numeric", "0", "numeric(10,2)"),
    ("'{}'::text[]", "'{}'", "text[]"),
    ("'ok'::public.mood", "'ok'", "mood"),
    ("nextval('public.users_id_seq'::regclass)", "nextval('users_id_seq'::regclass)", "integer"),
    ("nextval('billing.t_id_seq'::regclass)", "nextval('billing.t_id_seq'::regclass)", "bigint"),
    ("ARRAY['a'::text, 'b'::text]", "ARRAY['a', 'b']::text[]", "text[]"),
    ("ARRAY['a'::mood, 'b'::mood]", "ARRAY['a', 'b']::mood[]", "mood[]"),
    ("NULL::text", None, "text"),
    # Expressions: a cast stays unless the other side of a comparison, or a function's text argument, implies it.
    ("(kind = ANY (ARRAY['a'::text, 'b'::text]))", "kind IN ('a', 'b')", None),
    ("((code)::text <> ALL ((ARRAY['x'::character varying, 'y'::character varying])::text[]))",
     "code NOT IN ('x', 'y')", None),
    ("((code)::text <> ''::text)", "code <> ''", None),
    ("(email ~~ '%@%'::text)", "email LIKE '%@%'", None),
    ("(email !~~* 'a'::text)", "email NOT ILIKE 'a'", None),
    ("((n >= 1) AND (n <= 10))", "n BETWEEN 1 AND 10", None),
    ("((n < 1) OR (n > 10))", "n NOT BETWEEN 1 AND 10", None),
    ("(now() - '1 day'::interval)", "now() - interval '1 day'", None),
    ("date_trunc('day'::text, created_at)", "date_trunc('day', created_at)", None),
    ("((payload ->> 'kind'::text) = 'x'::text)", "payload ->> 'kind' = 'x'", None),
    ("(id)::text", "id::text", None),
])
def test_normal_expr(stored, written, target):
    types = {"code": "character varying(10)", "id": "integer"}
    assert normal_expr(stored, types, target) == (normal_expr(written, types, target) if written else None)


@pytest.mark.parametrize("text", [
    "now() - '1 day'::interval",  # without the cast PostgreSQL reads '1 day' as a timestamp
    "to_json('x'::text)",  # to_json takes any type: an untyped literal is an error there
    "CAST(2 AS numeric) / CAST(3 AS numeric)",  # integer division without them
    "CAST('abc' AS varchar(2))",  # the cast truncates
    "CAST(c AS text) = 'x'",  # character(n) compares without trailing blanks, text with them
])
def test_normal_expr_keeps_casts_that_matter(text):
    types = {"c": "character(3)"}
    assert normal_expr(text, types) == normal_expr(normal_expr(text, types), types)
    assert "CAST(" in normal_expr(text, types)


def test_normal_expr_keeps_what_it_cannot_read():
    assert normal_expr("not ( valid", {}) == "not ( valid"


def test_normal_view_drops_public_and_casts():
    stored = " SELECT id, email FROM public.users WHERE ((name)::text <> 'x'::text);"
    assert normal_view(stored, {"name": "character varying(100)"}) == \
        "SELECT id, email FROM users WHERE name <> 'x'"


TAKEN_NAMES = """
CREATE TABLE t (a int, b int);
CREATE INDEX t_a_key ON t (b);
ALTER TABLE t ADD UNIQUE (a);
CREATE INDEX ON t (a);
CREATE INDEX ON t (a);
CREATE TABLE u (id int PRIMARY KEY, t_a int CHECK (t_a > 0), CHECK (t_a < 10));
ALTER TABLE u ADD CONSTRAINT u_id_fkey CHECK (id > 0);
ALTER TABLE u ADD FOREIGN KEY (id) REFERENCES u (id);
CREATE TABLE u_pkey_owner (u_pkey int);
CREATE INDEX u_pkey1 ON u_pkey_owner (u_pkey);
ALTER TABLE u_pkey_owner ADD CONSTRAINT w_pkey UNIQUE (u_pkey);
CREATE TABLE w (id int PRIMARY KEY);
"""


def test_names_postgresql_chooses_when_the_first_choice_is_taken(pg_url, tmp_path):
    """Replay names an unnamed constraint or index as PostgreSQL does (ChooseConstraintName,
    ChooseRelationName): the next free of name, name1, name2 among the schema's relations and
    constraints."""
    folder = write_migrations(tmp_path / "m", {"001.sql": TAKEN_NAMES})
    migrate(pg_url, folder)
    live, replayed = read_live(pg_url), read_migrations_dir(folder)
    for schema in (live, replayed):
        assert sorted(i.name for i in schema.table("t").indexes) == ["t_a_idx", "t_a_idx1", "t_a_key", "t_a_key1"]
        assert sorted(c.name for c in schema.table("u").constraints) == [
            "u_id_fkey", "u_id_fkey1", "u_pkey", "u_t_a_check", "u_t_a_check1"]
        assert [c.name for c in schema.table("w").constraints if c.kind == "primary_key"] == ["w_pkey1"]
    assert canon(replayed) == canon(live)


MATVIEWS = """
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric NOT NULL, placed timestamptz NOT NULL, "Kind" text);
CREATE MATERIALIZED VIEW daily AS
    SELECT date_trunc('day', placed) AS day, "Kind", sum(total) AS total FROM orders GROUP BY date_trunc('day', placed), "Kind";
CREATE UNIQUE INDEX ON daily (day, "Kind");
CREATE INDEX ON daily (lower("Kind")) WHERE total > 0;
CREATE INDEX daily_total_idx ON daily (total);
CREATE INDEX ON orders (total);
CREATE INDEX orders_placed_idx ON daily (day);
CREATE INDEX ON orders (placed);
ALTER INDEX daily_total_idx RENAME TO by_total;
CREATE INDEX ON daily (total);
CREATE MATERIALIZED VIEW empty_daily AS SELECT day, total FROM daily WITH NO DATA;
CREATE INDEX ON empty_daily (day);
CREATE MATERIALIZED VIEW filled AS SELECT id FROM orders WITH NO DATA;
REFRESH MATERIALIZED VIEW filled;
CREATE MATERIALIZED VIEW gone AS SELECT id FROM orders;
CREATE INDEX gone_id ON gone (id);
DROP MATERIALIZED VIEW gone;
CREATE INDEX gone_id ON orders (id);
"""


def test_materialized_views_keep_their_indexes_and_whether_they_hold_rows(pg_url, tmp_path):
    """A materialized view's indexes, named by PostgreSQL where unnamed (in the one name space of
    relations, shared with the tables' indexes), renamed and dropped with it, and whether it holds
    rows (WITH NO DATA until REFRESH), replayed as the catalogs read them."""
    folder = write_migrations(tmp_path / "m", {"001.sql": MATVIEWS})
    migrate(pg_url, folder)
    live, replayed = read_live(pg_url), read_migrations_dir(folder)
    assert canon(replayed) == canon(live)
    assert sorted(i.name for i in live.view("daily").indexes) == [
        "by_total", "daily_day_Kind_idx", "daily_lower_idx", "daily_total_idx", "orders_placed_idx"]
    assert [i.name for i in live.table("orders").indexes] == [
        "orders_pkey", "orders_total_idx", "orders_placed_idx1", "gone_id"]
    assert [(v.name, v.materialized, v.populated) for v in live.views] == [
        ("daily", True, True), ("empty_daily", True, False), ("filled", True, True)]


def test_temporary_tables_end_with_the_file_that_made_them(pg_url, tmp_path):
    """Each migration file runs in a session of its own: its temporary tables (a data migration's
    work tables) are gone after it, from the database and from the replayed schema alike."""
    folder = write_migrations(tmp_path / "m", {
        "001.sql": "CREATE TABLE notes (id bigint PRIMARY KEY, kind text, body text);\n"
                   "CREATE TEMP TABLE work AS SELECT * FROM notes WHERE kind = 'x';\n"
                   "ALTER TABLE work ADD COLUMN done boolean;\n"
                   "CREATE TEMPORARY TABLE scratch (id bigint);\n"
                   "UPDATE notes SET body = w.body FROM work w WHERE w.id = notes.id;\n",
        "002.sql": "CREATE TABLE work (id bigint PRIMARY KEY, note_id bigint REFERENCES notes (id));\n",
    })
    for path in sorted(folder.glob("*.sql")):
        with psycopg.connect(pg_url, autocommit=True) as conn:  # a session per file, as the tools run them
            conn.execute(up_sql_of(path, path.read_text()))
    live, replayed = read_live(pg_url), read_migrations_dir(folder)
    assert sorted(t.name for t in live.tables) == sorted(t.name for t in replayed.tables) == ["notes", "work"]
    assert canon(replayed) == canon(live)
    alone = replay_sql("CREATE TEMP TABLE t (id int);\nCREATE TABLE kept (id int);\n")
    assert [t.name for t in alone.tables] == ["kept"]


def test_a_table_made_from_a_query_over_one_table_has_the_columns_postgresql_gives_it(pg_url, tmp_path):
    """CREATE TABLE AS (or SELECT INTO) over one table copies its columns' names and types
    (nullable, no default), as PostgreSQL does, so a later file naming them is judged against them;
    a result only a database can type (an aggregate, a join) is left without columns."""
    folder = write_migrations(tmp_path / "m", {"001.sql": """
        CREATE TABLE oppgave (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'new', n integer);
        CREATE TABLE arkiv AS TABLE oppgave;
        CREATE TABLE picked AS SELECT o.id, o.status AS st FROM oppgave o WHERE n > 1;
        CREATE TABLE renamed (x, y) AS SELECT * FROM public.oppgave WITH NO DATA;
        SELECT id, n INTO kopi FROM oppgave WHERE n > 0;
        SELECT * INTO TEMP scratch FROM oppgave;
        SELECT count(*) FROM kopi;
    """})
    migrate(pg_url, folder)
    assert canon(read_migrations_dir(folder)) == canon(read_live(pg_url))
    assert [c.name for c in read_migrations_dir(folder).table("arkiv").columns] == ["id", "status", "n"]
    assert [c.name for c in read_migrations_dir(folder).table("kopi").columns] == ["id", "n"]
    assert replay_sql("CREATE TABLE t (id int);\nCREATE TABLE c AS SELECT count(*) FROM t;").table("c").columns == []


def test_a_partitioned_table_is_read_alike_three_ways(pg_url, tmp_path):
    """relkind 'p': the table PARTITION BY makes is partitioned and its partitions are not, read
    alike from the catalogs, from the migrations replayed and from pg_dump's SQL (the rules read it:
    a partition's name the history's functions may have made, an index CONCURRENTLY cannot build)."""
    folder = write_migrations(tmp_path / "m", {"001.sql": """
-- migrate:up
CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE plain (id bigint);
-- migrate:down
DROP TABLE plain;
DROP TABLE events;
"""})
    migrate(pg_url, folder)
    for schema in (read_live(pg_url), read_migrations_dir(folder), dump_schema(pg_url)):
        assert {t.name: t.partitioned for t in schema.tables} == {"events": True, "events_2025": False, "plain": False}


def test_a_schema_read_compiles_no_jit(pg_url, monkeypatch):
    """The catalog queries' estimates pass jit_above_cost: where the server has JIT (on by default),
    compiling them took 0.37 s of a 0.42 s read of 23 tables. The read turns it off for itself."""
    from flux_agent.schema.readers import live

    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "on"  # the test server's default, as most servers'
    seen: list[str] = []
    real = live._read
    monkeypatch.setattr(live, "_read", lambda conn: seen.append(conn.execute("SHOW jit").fetchone()[0]) or real(conn))
    read_live(pg_url)
    assert seen == ["off"]


def test_an_index_s_sort_orders_are_read_replayed_and_made_again(pg_url):
    """stacks' (block_time DESC) and (address, balance DESC, token) read as plain ascending indexes:
    `flux schema` showed them so, and an index on (address, balance, token) was refused as one the table
    had. The catalogs, the replay and the DDL Flux makes again all keep each key's order now."""
    from flux_agent.entry.actions import parse_operations
    from flux_agent.pg.ddl import index_sql
    from flux_agent.plan.planner import build_plan
    from flux_agent.schema.replay.engine import replay_sql
    from shop import SETTINGS

    ddl = ("CREATE TABLE balances (address text, balance numeric, token text, at timestamptz);\n"
           "CREATE INDEX balances_abt ON balances (address, balance DESC, token);\n"
           "CREATE INDEX balances_at ON balances (at DESC NULLS LAST);\n"
           "CREATE INDEX balances_token ON balances (token NULLS FIRST);\n"
           "CREATE INDEX balances_plain ON balances (address ASC NULLS LAST);\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(ddl)
        live = read_live(pg_url)
        orders = {i.name: i.orders for i in live.table("balances").indexes}
        assert orders == {"balances_abt": ["", "DESC", ""], "balances_at": ["DESC NULLS LAST"],
                          "balances_token": ["NULLS FIRST"], "balances_plain": []}
        replayed = normalise_schema(replay_sql(ddl))
        assert replayed.table("balances").indexes == normalise_schema(live).table("balances").indexes
        table = live.table("balances")
        made = [index_sql(table, i) for i in table.indexes]
        conn.execute("; ".join(f"DROP INDEX {i.name}" for i in table.indexes))
        conn.execute("; ".join(made))
        assert read_live(pg_url).table("balances").indexes == table.indexes
    op = parse_operations([{"op": "add_index", "table": "balances", "columns": ["address", "balance", "token"]}])
    plan = build_plan(op, live, SETTINGS)
    assert plan.steps and "balances_address_balance_token_idx" in plan.steps[0].up_sql  # not the DESC one's twin


def test_an_index_s_include_collations_and_nulls_not_distinct_are_read_replayed_and_made_again(pg_url):
    """A covering index's INCLUDE columns, a key's COLLATE and a unique index's NULLS NOT DISTINCT were
    not in the model: an index rebuilt from it (a dropped column's rollback, a retyped column's copy, a
    unique constraint put back) came back without them, and a column only INCLUDEd was not seen as used
    by the index that PostgreSQL drops with it. The catalogs, the replay and the DDL Flux makes agree now."""
    from flux_agent.pg.ddl import constraint_sql, index_sql

    ddl = ("CREATE TABLE docs (id bigint, slug text, title text, body text, PRIMARY KEY (id) INCLUDE (title));\n"
           "CREATE INDEX docs_slug_cover ON docs (slug) INCLUDE (title, body);\n"
           "CREATE INDEX docs_title_c ON docs (title COLLATE \"C\" text_pattern_ops, slug DESC);\n"
           "CREATE UNIQUE INDEX docs_slug_once ON docs (slug) NULLS NOT DISTINCT;\n"
           "ALTER TABLE docs ADD CONSTRAINT docs_title_key UNIQUE NULLS NOT DISTINCT (title) INCLUDE (slug);\n")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(ddl)
        live = read_live(pg_url)
        table = live.table("docs")
        got = {i.name: (i.include, i.collations, i.nulls_not_distinct) for i in table.indexes}
        assert got == {"docs_pkey": (["title"], [], False), "docs_slug_cover": (["title", "body"], [], False),
                       "docs_title_c": ([], ["C", ""], False), "docs_slug_once": ([], [], True),
                       "docs_title_key": (["slug"], [], True)}
        replayed = normalise_schema(replay_sql(ddl))
        assert replayed.table("docs").indexes == normalise_schema(live).table("docs").indexes
        made = [index_sql(table, i) for i in table.indexes if not i.primary and i.name != "docs_title_key"]
        key = constraint_sql(table, next(c for c in table.constraints if c.name == "docs_title_key"))
        conn.execute("ALTER TABLE docs DROP CONSTRAINT docs_title_key; DROP INDEX docs_slug_cover, docs_title_c, "
                     "docs_slug_once")
        conn.execute("; ".join(made + [key]))
        assert read_live(pg_url).table("docs").indexes == table.indexes
    assert all(i.uses("body") for i in table.indexes if i.name == "docs_slug_cover")
