"""Replaying DDL migrations into the Schema model: SQL in, exact model out."""

from __future__ import annotations

from pathlib import Path

import pytest

from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column, Constraint, EnumType, Index, Schema, Table, View
from flux_agent.schema.replay.engine import read_migrations_dir, replay_sql, up_sql_of
from flux_agent.schema.replay.names import make_object_name
from flux_agent.pg.quote import canonical_table

from shop import ROOT

REAL = ROOT.parent / "shared" / "fixtures" / "real"


def pk(name, cols):
    return Constraint(name=name, kind="primary_key", columns=cols)


def pk_index(name, cols):
    return Index(name=name, columns=cols, unique=True, primary=True)


def con(schema: Schema, table: str, name: str) -> Constraint:
    return next(c for c in schema.table(table).constraints if c.name == name)


def idx(schema: Schema, table: str, name: str) -> Index:
    return next(i for i in schema.table(table).indexes if i.name == name)


# --------------------------------------------------------------------------
# CREATE TABLE
# --------------------------------------------------------------------------


def test_create_table_columns_and_inline_constraints():
    s = replay_sql(
        """
        CREATE TABLE orgs (id serial PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS public.users (
            id bigserial PRIMARY KEY,
            email varchar(255) NOT NULL UNIQUE,
            org_id int REFERENCES orgs ON DELETE CASCADE,
            age int CHECK (age > 0),
            score numeric(10, 2) DEFAULT 0,
            status text DEFAULT 'new'::text,
            note text DEFAULT NULL,
            created timestamptz NOT NULL DEFAULT now(),
            CHECK (age < 200 AND score >= 0)
        );
        """
    )
    users = s.table("users")
    assert users.columns == [
        Column(name="id", type="bigint", nullable=False, default="nextval('users_id_seq'::regclass)"),
        Column(name="email", type="character varying(255)", nullable=False),
        Column(name="org_id", type="integer"),
        Column(name="age", type="integer"),
        Column(name="score", type="numeric(10,2)", default="0"),
        Column(name="status", type="text", default="'new'"),
        Column(name="note", type="text"),  # DEFAULT NULL stores no default
        Column(name="created", type="timestamp with time zone", nullable=False, default="now()"),
    ]
    assert users.primary_key == ["id"]
    assert users.indexes == [
        pk_index("users_pkey", ["id"]),
        Index(name="users_email_key", columns=["email"], unique=True),
    ]
    assert users.constraints == [
        Constraint(name="users_age_check", kind="check", columns=["age"], expression="age > 0"),
        Constraint(name="users_check", kind="check", columns=["age", "score"], expression="age < 200 AND score >= 0"),
        pk("users_pkey", ["id"]),
        Constraint(name="users_email_key", kind="unique", columns=["email"]),
        Constraint(
            name="users_org_id_fkey",
            kind="foreign_key",
            columns=["org_id"],
            ref_table="orgs",
            ref_columns=["id"],  # the referenced table's primary key
            on_delete="CASCADE",
        ),
    ]


def test_create_table_table_level_constraints_and_schema_key():
    s = replay_sql(
        """
        CREATE TABLE billing.accounts (id uuid, region text, PRIMARY KEY (id, region));
        CREATE TABLE billing.invoices (
            id integer GENERATED ALWAYS AS IDENTITY,
            account_id uuid,
            region text,
            parent_id integer REFERENCES billing.invoices,
            number text,
            CONSTRAINT invoices_pk PRIMARY KEY (id),
            UNIQUE (account_id, number),
            FOREIGN KEY (account_id, region) REFERENCES billing.accounts (id, region) ON DELETE SET NULL NOT VALID
        );
        """
    )
    assert [t.name for t in s.tables] == ["billing.accounts", "billing.invoices"]
    accounts = s.table("billing.accounts")
    assert accounts.primary_key == ["id", "region"]
    assert [(c.name, c.nullable) for c in accounts.columns] == [("id", False), ("region", False)]
    inv = s.table("billing.invoices")
    assert inv.column("id") == Column(name="id", type="integer", nullable=False)
    assert inv.indexes == [
        pk_index("invoices_pk", ["id"]),
        Index(name="invoices_account_id_number_key", columns=["account_id", "number"], unique=True),
    ]
    assert con(s, "billing.invoices", "invoices_parent_id_fkey") == Constraint(
        name="invoices_parent_id_fkey",
        kind="foreign_key",
        columns=["parent_id"],
        ref_table="billing.invoices",
        ref_columns=["id"],  # a self-reference resolves to the primary key declared later
    )
    # NOT VALID means nothing in CREATE TABLE: the new table is empty, so PostgreSQL marks it valid.
    assert con(s, "billing.invoices", "invoices_account_id_region_fkey") == Constraint(
        name="invoices_account_id_region_fkey",
        kind="foreign_key",
        columns=["account_id", "region"],
        ref_table="billing.accounts",
        ref_columns=["id", "region"],
        on_delete="SET NULL",
    )


def test_primary_key_unique_on_one_column_makes_one_index():
    s = replay_sql("CREATE TABLE us_states (code varchar(2) PRIMARY KEY NOT NULL UNIQUE, name text UNIQUE)")
    t = s.table("us_states")
    assert [i.name for i in t.indexes] == ["us_states_pkey", "us_states_name_key"]
    assert [c.name for c in t.constraints] == ["us_states_pkey", "us_states_name_key"]


def test_like_inherits_and_partition_keep_columns():
    s = replay_sql(
        """
        CREATE TABLE base (id int NOT NULL, tag text DEFAULT 'x');
        CREATE TABLE copy1 (LIKE base, extra int);
        CREATE TABLE copy2 (LIKE base INCLUDING ALL);
        CREATE TABLE child (more text) INHERITS (base);
        CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
        CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE events_2025 PARTITION OF events (at WITH OPTIONS NOT NULL, PRIMARY KEY (id, at))
            FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        """
    )
    assert [(c.name, c.nullable, c.default) for c in s.table("copy1").columns] == [
        ("id", False, None),
        ("tag", True, None),
        ("extra", True, None),
    ]
    assert s.table("copy2").column("tag").default == "'x'"
    assert [c.name for c in s.table("child").columns] == ["id", "tag", "more"]
    assert [c.name for c in s.table("events_2024").columns] == ["id", "at"]
    assert s.table("events_2025").columns == [
        Column(name="id", type="integer", nullable=False),
        Column(name="at", type="date", nullable=False),
    ]
    assert s.table("events_2025").primary_key == ["id", "at"]


def test_default_names_are_truncated_and_deduplicated_like_postgres():
    long_table = "t" * 40
    long_col = "c" * 40
    s = replay_sql(
        f"""
        CREATE TABLE {long_table} ({long_col} int UNIQUE);
        CREATE TABLE t (a int, b int);
        CREATE INDEX ON t (a);
        CREATE INDEX ON t (a);
        CREATE INDEX ON t ((a + b));
        CREATE INDEX ON t (lower(b::text), b);
        """
    )
    name = s.table(long_table).indexes[0].name
    assert name == make_object_name(long_table, long_col, "key") == "t" * 29 + "_" + "c" * 29 + "_key"
    assert len(name) == 63
    assert [i.name for i in s.table("t").indexes] == ["t_a_idx", "t_a_idx1", "t_expr_idx", "t_lower_b_idx"]
    assert s.table("t").indexes[2].columns == ["a + b"]


# --------------------------------------------------------------------------
# ALTER TABLE
# --------------------------------------------------------------------------

BASE = replay_sql(
    """
    CREATE TABLE orgs (id int PRIMARY KEY, name text);
    CREATE TABLE users (
        id int PRIMARY KEY,
        email text,
        org_id int REFERENCES orgs,
        nick text,
        UNIQUE (email, nick)
    );
    CREATE INDEX users_lower_email ON users (lower(email)) WHERE nick IS NOT NULL;
    CREATE INDEX users_nick ON users (nick);
    CREATE VIEW user_orgs AS SELECT u.email, o.name FROM users u JOIN orgs o ON o.id = u.org_id;
    """
)


def test_replay_does_not_mutate_the_input_schema():
    before = BASE.model_copy(deep=True)
    after = replay_sql("ALTER TABLE users DROP COLUMN email; DROP TABLE orgs CASCADE;", BASE)
    assert BASE == before
    assert after.table("orgs") is None


def test_add_column_with_inline_constraints_and_if_not_exists():
    s = replay_sql(
        """
        ALTER TABLE IF EXISTS ONLY users
            ADD COLUMN IF NOT EXISTS email text NOT NULL,
            ADD COLUMN code varchar(8) NOT NULL DEFAULT 'a' UNIQUE,
            ADD COLUMN manager_id int REFERENCES users ON DELETE SET NULL,
            ADD COLUMN level int CONSTRAINT level_positive CHECK (level > 0);
        ALTER TABLE missing ADD COLUMN x int;
        """,
        BASE,
    )
    users = s.table("users")
    assert users.column("email") == Column(name="email", type="text")  # already there: unchanged
    assert users.column("code") == Column(name="code", type="character varying(8)", nullable=False, default="'a'")
    assert idx(s, "users", "users_code_key") == Index(name="users_code_key", columns=["code"], unique=True)
    assert con(s, "users", "users_manager_id_fkey") == Constraint(
        name="users_manager_id_fkey",
        kind="foreign_key",
        columns=["manager_id"],
        ref_table="users",
        ref_columns=["id"],
        on_delete="SET NULL",
    )
    assert con(s, "users", "level_positive").expression == "level > 0"
    assert s.table("missing") is None


def test_drop_column_drops_indexes_and_constraints_that_involve_it():
    s = replay_sql("ALTER TABLE users DROP COLUMN IF EXISTS nick, DROP COLUMN IF EXISTS nope;", BASE)
    users = s.table("users")
    assert [c.name for c in users.columns] == ["id", "email", "org_id"]
    assert [i.name for i in users.indexes] == ["users_pkey"]  # unique pair, partial index, plain index gone
    assert [c.name for c in users.constraints] == ["users_pkey", "users_org_id_fkey"]
    s = replay_sql("ALTER TABLE orgs DROP COLUMN id CASCADE;", BASE)
    assert s.table("orgs").primary_key == []
    assert [c.name for c in s.table("users").constraints] == ["users_pkey", "users_email_nick_key"]
    # a key into a unique column goes with it too; a column in no key has none into it (no scan of them)
    s = replay_sql("CREATE TABLE codes (code text UNIQUE, note text);\n"
                   "CREATE TABLE uses (code text REFERENCES codes (code));\n"
                   "ALTER TABLE codes DROP COLUMN note;\n", BASE)
    assert [c.kind for c in s.table("uses").constraints] == ["foreign_key"]
    s = replay_sql("ALTER TABLE codes DROP COLUMN code CASCADE;", s)
    assert s.table("uses").constraints == []


def test_rename_column_follows_into_indexes_constraints_and_foreign_keys():
    s = replay_sql(
        """
        ALTER TABLE users RENAME COLUMN email TO mail;
        ALTER TABLE users RENAME nick TO "Nick";
        ALTER TABLE orgs RENAME COLUMN id TO org_pk;
        """,
        BASE,
    )
    users = s.table("users")
    assert [c.name for c in users.columns] == ["id", "mail", "org_id", "Nick"]
    assert idx(s, "users", "users_email_nick_key").columns == ["mail", "Nick"]
    assert idx(s, "users", "users_lower_email") == Index(
        name="users_lower_email", columns=["lower(mail)"], where='"Nick" IS NOT NULL'
    )
    assert con(s, "users", "users_email_nick_key").columns == ["mail", "Nick"]
    assert s.table("orgs").primary_key == ["org_pk"]
    assert con(s, "users", "users_org_id_fkey").ref_columns == ["org_pk"]


def test_rename_table_and_set_schema_follow_into_foreign_keys_and_views():
    s = replay_sql("ALTER TABLE orgs RENAME TO companies;", BASE)
    assert s.table("orgs") is None and s.table("companies") is not None
    assert con(s, "users", "users_org_id_fkey").ref_table == "companies"
    assert s.view("user_orgs").depends_on == ["companies", "users"]
    # Indexes keep their names when the table is renamed.
    assert s.table("companies").indexes == [pk_index("orgs_pkey", ["id"])]
    s = replay_sql("ALTER TABLE public.orgs SET SCHEMA crm;", BASE)
    assert s.table("crm.orgs") is not None
    assert con(s, "users", "users_org_id_fkey").ref_table == "crm.orgs"


def test_alter_column_type_null_and_default():
    s = replay_sql(
        """
        ALTER TABLE users
            ALTER COLUMN email TYPE varchar(100) USING email::varchar(100),
            ALTER COLUMN email SET NOT NULL,
            ALTER COLUMN nick SET DEFAULT 'anon',
            ALTER org_id SET DEFAULT 1;
        ALTER TABLE users ALTER COLUMN org_id DROP DEFAULT, ALTER COLUMN email DROP NOT NULL;
        ALTER TABLE users ALTER COLUMN id TYPE bigint, ALTER COLUMN nick SET DEFAULT NULL;
        """,
        BASE,
    )
    users = s.table("users")
    assert users.column("email") == Column(name="email", type="character varying(100)")
    assert users.column("org_id") == Column(name="org_id", type="integer")
    assert users.column("nick") == Column(name="nick", type="text")
    assert users.column("id") == Column(name="id", type="bigint", nullable=False)


def test_add_validate_drop_and_rename_constraints():
    s = replay_sql(
        """
        ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;
        ALTER TABLE users ADD CONSTRAINT nick_len CHECK (length(nick) < 20) NOT VALID;
        ALTER TABLE users ADD CHECK (id > 0);
        """,
        BASE,
    )
    assert con(s, "users", "users_org_fk").validated is False
    assert con(s, "users", "nick_len") == Constraint(
        name="nick_len", kind="check", columns=["nick"], expression="length(nick) < 20", validated=False
    )
    assert con(s, "users", "users_id_check").expression == "id > 0"
    s = replay_sql(
        """
        ALTER TABLE users VALIDATE CONSTRAINT users_org_fk;
        ALTER TABLE users DROP CONSTRAINT IF EXISTS users_org_id_fkey, DROP CONSTRAINT IF EXISTS nope;
        ALTER TABLE users DROP CONSTRAINT users_email_nick_key;
        ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk;
        """,
        s,
    )
    users = s.table("users")
    assert con(s, "users", "users_org_fk").validated is True
    assert [c.name for c in users.constraints] == ["users_pk", "users_org_fk", "nick_len", "users_id_check"]
    # The unique constraint's index went with it; the primary key's index follows the rename.
    assert [i.name for i in users.indexes] == ["users_pk", "users_lower_email", "users_nick"]
    s = replay_sql("ALTER TABLE users DROP CONSTRAINT users_pk", s)
    assert s.table("users").primary_key == [] and [i.name for i in s.table("users").indexes][0] == "users_lower_email"


def test_constraints_using_an_existing_index():
    s = replay_sql(
        """
        CREATE TABLE t (id int, code text);
        CREATE UNIQUE INDEX CONCURRENTLY t_id_idx ON t (id);
        CREATE UNIQUE INDEX CONCURRENTLY t_code_idx ON t (code);
        ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx;
        ALTER TABLE t ADD UNIQUE USING INDEX t_code_idx;
        """
    )
    t = s.table("t")
    assert t.primary_key == ["id"]
    assert t.column("id").nullable is False
    assert t.indexes == [pk_index("t_pkey", ["id"]), Index(name="t_code_idx", columns=["code"], unique=True)]
    assert t.constraints == [pk("t_pkey", ["id"]), Constraint(name="t_code_idx", kind="unique", columns=["code"])]


def test_exclusion_constraint():
    s = replay_sql(
        "CREATE TABLE booking (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&))"
    )
    t = s.table("booking")
    assert t.indexes == [Index(name="booking_room_during_excl", columns=["room", "during"], method="gist")]
    assert t.constraints == [Constraint(name="booking_room_during_excl", kind="exclude", columns=["room", "during"])]


# --------------------------------------------------------------------------
# Indexes
# --------------------------------------------------------------------------


def test_create_index_forms():
    s = replay_sql(
        """
        CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_uq ON public.users USING btree (lower(email)) WHERE org_id IS NULL;
        CREATE INDEX IF NOT EXISTS users_nick ON users (email);
        CREATE INDEX ON ONLY users USING gin (nick gin_trgm_ops);
        CREATE INDEX ON users (org_id DESC NULLS LAST, id);
        CREATE INDEX ON nowhere (x);
        """,
        BASE,
    )
    new = s.table("users").indexes[len(BASE.table("users").indexes) :]
    assert new == [
        Index(name="users_email_uq", columns=["lower(email)"], unique=True, where="org_id IS NULL"),
        Index(name="users_nick_idx", columns=["nick"], method="gin", opclasses=["gin_trgm_ops"]),
        Index(name="users_org_id_id_idx", columns=["org_id", "id"], orders=["DESC NULLS LAST", ""]),
    ]
    assert idx(s, "users", "users_nick").columns == ["nick"]  # IF NOT EXISTS kept the first one


def test_drop_and_rename_index():
    s = replay_sql(
        """
        DROP INDEX CONCURRENTLY IF EXISTS users_nick;
        DROP INDEX IF EXISTS public.users_lower_email, nope;
        ALTER INDEX users_email_nick_key RENAME TO users_email_nick_uq;
        ALTER INDEX IF EXISTS nope RENAME TO nope2;
        """,
        BASE,
    )
    assert [i.name for i in s.table("users").indexes] == ["users_pkey", "users_email_nick_uq"]
    # Renaming a constraint's index renames the constraint too.
    assert con(s, "users", "users_email_nick_uq").kind == "unique"


def test_drop_index_in_another_schema():
    s = replay_sql(
        """
        CREATE TABLE app.t (a int);
        CREATE INDEX t_a ON app.t (a);
        CREATE TABLE t (a int);
        CREATE INDEX t_a ON t (a);
        DROP INDEX app.t_a;
        """
    )
    assert s.table("app.t").indexes == [] and [i.name for i in s.table("t").indexes] == ["t_a"]


# --------------------------------------------------------------------------
# DROP TABLE, enums, views
# --------------------------------------------------------------------------


def test_drop_tables():
    s = replay_sql("DROP TABLE IF EXISTS nope, orgs CASCADE;", BASE)
    assert [t.name for t in s.tables] == ["users"]
    assert [c.name for c in s.table("users").constraints] == ["users_pkey", "users_email_nick_key"]
    assert s.views == []  # CASCADE took the view that read orgs
    s = replay_sql("DROP TABLE users, orgs;", BASE)
    assert s.tables == [] and [v.name for v in s.views] == ["user_orgs"]


def test_a_table_made_again_replaces_the_old_one_and_keeps_the_keys_into_it():
    # PostgreSQL refuses the second CREATE TABLE; the replay takes the later text, and the foreign
    # keys that name the table (and the views that read it) name the new one.
    s = replay_sql("CREATE TABLE orgs (id bigint PRIMARY KEY, title text);", BASE)
    assert [t.name for t in s.tables] == ["users", "orgs"]
    assert [c.name for c in s.table("orgs").columns] == ["id", "title"]
    assert con(s, "users", "users_org_id_fkey").ref_table == "orgs"
    assert [v.name for v in s.views] == ["user_orgs"]


def test_drop_schema_cascade_and_rename_index_via_alter_table():
    s = replay_sql(
        """
        CREATE TABLE app.a (id int PRIMARY KEY);
        CREATE TYPE app.e AS ENUM ('x');
        CREATE TABLE b (a_id int REFERENCES app.a);
        ALTER TABLE users_nick RENAME TO users_nick_idx;
        DROP SCHEMA app CASCADE;
        """,
        BASE,
    )
    assert [t.name for t in s.tables] == ["orgs", "users", "b"]
    assert s.enums == [] and s.table("b").constraints == []
    assert idx(s, "users", "users_nick_idx").columns == ["nick"]


def test_enums():
    s = replay_sql(
        """
        CREATE TYPE mood AS ENUM ('sad', 'ok');
        CREATE TYPE app.level AS ENUM ('low');
        ALTER TYPE mood ADD VALUE 'happy';
        ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy';
        ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok';
        ALTER TYPE public.mood ADD VALUE 'glad' AFTER 'ok';
        ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';
        CREATE TABLE people (m mood NOT NULL, ms mood[], l app.level);
        ALTER TYPE mood RENAME TO feeling;
        CREATE TYPE gone AS ENUM ();
        DROP TYPE IF EXISTS gone, nope;
        """
    )
    assert s.enums == [
        EnumType(name="feeling", values=["blue", "meh", "ok", "glad", "happy"]),
        EnumType(name="app.level", values=["low"]),
    ]
    assert [c.type for c in s.table("people").columns] == ["feeling", "feeling[]", "app.level"]
    s = replay_sql("ALTER TYPE feeling SET SCHEMA app;", s)
    assert s.table("people").column("m").type == "app.feeling"


def test_views():
    s = replay_sql(
        """
        CREATE VIEW active AS
            WITH recent AS (SELECT * FROM users WHERE id > 10)
            SELECT r.email FROM recent r JOIN public.orgs o ON o.id = r.org_id;
        CREATE OR REPLACE VIEW active AS SELECT email FROM users;
        CREATE MATERIALIZED VIEW IF NOT EXISTS stats.counts AS SELECT count(*) FROM users, active;
        CREATE VIEW gone AS SELECT 1;
        DROP VIEW IF EXISTS gone, nope;
        """,
        BASE,
    )
    assert s.views == [
        BASE.view("user_orgs"),
        View(name="active", definition="SELECT email FROM users", depends_on=["users"]),
        View(name="stats.counts", definition="SELECT count(*) FROM users, active", depends_on=["active", "users"],
             materialized=True),
    ]
    s = replay_sql(
        """
        ALTER TABLE active RENAME TO live;
        ALTER MATERIALIZED VIEW stats.counts RENAME TO totals;
        DROP MATERIALIZED VIEW stats.totals;
        """,
        s,
    )
    assert [v.name for v in s.views] == ["user_orgs", "live"]


def test_view_definition_and_depends_on_with_cte():
    s = replay_sql(
        """
        CREATE VIEW v AS WITH recent AS (SELECT * FROM users WHERE id > 10)
        SELECT r.email FROM recent r JOIN public.orgs o ON o.id = r.org_id
        """,
        BASE,
    )
    assert s.view("v").depends_on == ["orgs", "users"]
    assert s.view("v").definition == (
        "WITH recent AS (SELECT * FROM users WHERE id > 10) "
        "SELECT r.email FROM recent AS r INNER JOIN orgs AS o ON o.id = r.org_id"
    )


def test_harmless_statements_are_ignored():
    s = replay_sql(
        """
        BEGIN;
        SET statement_timeout = '5s';
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
        CREATE SEQUENCE users_seq;
        INSERT INTO users (id) VALUES (1);
        UPDATE users SET nick = 'x' WHERE id = 1;
        DELETE FROM users WHERE id = 2;
        GRANT SELECT ON users TO reader;
        COMMENT ON TABLE users IS 'people';
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
        DO $$ BEGIN RAISE NOTICE 'hi'; END $$;
        SELECT 1;
        ALTER TABLE users OWNER TO app, ENABLE ROW LEVEL SECURITY;
        COMMIT;
        """,
        BASE,
    )
    assert s == BASE.model_copy(update={"extensions": ["pgcrypto"]})  # the one thing kept: the schema needs it


def test_extensions_come_and_go():
    s = replay_sql("CREATE EXTENSION citext; CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" SCHEMA public; "
                   "CREATE EXTENSION plpgsql", BASE)
    assert s.extensions == ["citext", "uuid-ossp"]
    assert replay_sql("DROP EXTENSION IF EXISTS citext CASCADE", s).extensions == ["uuid-ossp"]


def test_ddl_inside_do_blocks_is_replayed():
    s = replay_sql(
        """
        DO $$ BEGIN
         CREATE TYPE "Role" AS ENUM('admin', 'user');
        EXCEPTION
         WHEN duplicate_object THEN null;
        END $$;
        CREATE TABLE "Account" ("role" "Role" DEFAULT 'user' NOT NULL, "orgId" int);
        DO $$ BEGIN
         ALTER TABLE "Account" ADD CONSTRAINT "Account_orgId_fk" FOREIGN KEY ("orgId") REFERENCES "orgs"("id") ON DELETE cascade;
        EXCEPTION
         WHEN duplicate_object THEN null;
        END $$;
        """,
        BASE,
    )
    assert s.enums == [EnumType(name="Role", values=["admin", "user"])]
    assert s.table("Account").column("role") == Column(name="role", type='"Role"', nullable=False, default="'user'")
    assert con(s, "Account", "Account_orgId_fk").ref_table == "orgs"


def test_search_path_decides_where_unqualified_names_go():
    s = replay_sql(
        """
        SET search_path TO app, public;
        CREATE TYPE state AS ENUM ('on');
        CREATE TABLE t (id int PRIMARY KEY, s state);
        CREATE TABLE u (t_id int REFERENCES t);
        ALTER TABLE orgs ADD COLUMN x int;
        RESET search_path;
        CREATE TABLE t (id int);
        """,
        BASE,
    )
    assert [t.name for t in s.tables] == ["orgs", "users", "app.t", "app.u", "t"]
    assert s.table("app.t").column("s").type == "app.state"
    assert con(s, "app.u", "u_t_id_fkey").ref_table == "app.t"
    assert s.table("orgs").column("x") is not None


def test_table_keys_agree_with_canonical_table():
    s = replay_sql("CREATE TABLE public.a (x int); CREATE TABLE sales.b (x int); CREATE TABLE \"Mixed\" (x int);")
    assert [t.name for t in s.tables] == [canonical_table("public.a"), canonical_table("sales.b"), "Mixed"]


# --------------------------------------------------------------------------
# Errors, files and folders
# --------------------------------------------------------------------------


def test_parse_error_is_one_line_with_the_line_number():
    with pytest.raises(FluxInputError) as exc:
        replay_sql("CREATE TABLE a (x int);\n\nCREATE TABLE b (x int,);\n")
    assert str(exc.value) == 'cannot parse SQL (line 3): syntax error at or near ")"'


def test_up_sql_of():
    dbmate = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n"
    assert up_sql_of("db/migrations/1_x.sql", dbmate) == "CREATE INDEX CONCURRENTLY i ON t (a);\n"
    goose = "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE t (a int);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE t;\n"
    assert up_sql_of(Path("00001_t.sql"), goose) == "-- +goose StatementBegin\nCREATE TABLE t (a int);\n-- +goose StatementEnd"
    assert up_sql_of("1_t.down.sql", "DROP TABLE t;") == ""
    assert up_sql_of("1_t.up.sql", "CREATE TABLE t (a int);") == "CREATE TABLE t (a int);"
    assert up_sql_of("V1__t.sql", "-- just a comment\nCREATE TABLE t (a int);") == "-- just a comment\nCREATE TABLE t (a int);"


def test_read_migrations_dir(tmp_path):
    (tmp_path / "002_add.up.sql").write_text("ALTER TABLE t ADD COLUMN b text;")
    (tmp_path / "002_add.down.sql").write_text("ALTER TABLE t DROP COLUMN b;")
    (tmp_path / "001_init.sql").write_text(
        "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\nDROP TABLE t;\n"
    )
    prisma = tmp_path / "003_more"
    prisma.mkdir()
    (prisma / "migration.sql").write_text('CREATE INDEX "t_b_idx" ON "t"("b");')
    (tmp_path / "notes").mkdir()
    (tmp_path / "README.md").write_text("not sql")
    s = read_migrations_dir(tmp_path)
    assert s.tables == [
        Table(
            name="t",
            columns=[Column(name="a", type="integer"), Column(name="b", type="text")],
            indexes=[Index(name="t_b_idx", columns=["b"])],
        )
    ]


def test_read_migrations_dir_names_the_broken_file(tmp_path):
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE t (a int);")
    bad = tmp_path / "002_bad.sql"
    bad.write_text("-- migrate:up\nCREATE TABLE u (a int);\nALTER TABLE t ADD COLUMN;\n-- migrate:down\n")
    with pytest.raises(FluxInputError) as exc:
        read_migrations_dir(tmp_path)
    assert str(exc.value) == f'{bad}: cannot parse SQL (line 3): syntax error at or near ";"'
    assert "\n" not in str(exc.value)
    with pytest.raises(FluxInputError):
        read_migrations_dir(tmp_path / "absent")


# --------------------------------------------------------------------------
# Real-world history: UPchieve's 282 dbmate migrations
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upchieve() -> Schema:
    folder = REAL / "dbmate-upchieve" / "database" / "migrations"
    if not folder.is_dir():
        pytest.skip(f"real-world fixtures not present at {folder} (they live in ../shared, outside a user's clone)")
    assert len(list(folder.glob("*.sql"))) == 282
    return read_migrations_dir(folder)


def test_upchieve_counts(upchieve):
    # The pg_dump in db_init/schema.sql lists the same 152 tables plus dbmate's own schema_migrations.
    assert len(upchieve.tables) == 152
    assert len(upchieve.enums) == 8
    assert sorted(v.name for v in upchieve.views) == [
        "upchieve.column_descriptions",
        "upchieve.current_grade_levels",
        "upchieve.table_descriptions",
        "upchieve.user_session_metrics_view",
        "upchieve.users_unlocked_subjects_view",
    ]


def test_upchieve_columns(upchieve):
    from tests.unit.schema.test_schema_rails_pgdump import _without_comments

    upchieve = _without_comments(upchieve)
    users = upchieve.table("upchieve.users")
    assert users.column("email") == Column(name="email", type="text", nullable=False)
    assert users.column("sms_consent") == Column(name="sms_consent", type="boolean", nullable=False, default="FALSE")
    assert users.column("mongo_id") == Column(name="mongo_id", type="character varying(24)")
    # 20241120210732_live-media-bans: enum renamed away, recreated, column retyped, old one dropped.
    assert users.column("ban_type") == Column(name="ban_type", type="upchieve.ban_types")
    assert next(e for e in upchieve.enums if e.name == "upchieve.ban_types").values == ["shadow", "complete", "live_media"]
    msgs = upchieve.table("upchieve.censored_session_messages")
    # Created as public.moderation_system, moved by 20260408183957_move_enums_from_public_to_upchieve_schema.
    assert msgs.column("censored_by") == Column(name="censored_by", type="upchieve.moderation_system", nullable=False)
    # 20240521195415: ALTER COLUMN sent_at TYPE TIMESTAMPTZ.
    assert msgs.column("sent_at") == Column(name="sent_at", type="timestamp with time zone", nullable=False)


def test_upchieve_indexes_and_constraints(upchieve):
    users = upchieve.table("upchieve.users")
    assert users.primary_key == ["id"]
    # 20251104141004: CREATE UNIQUE INDEX users_lower_case_email_key ON upchieve.users ((lower(email)) text_ops)
    assert idx(upchieve, "upchieve.users", "users_lower_case_email_key") == Index(
        name="users_lower_case_email_key", columns=["lower(email)"], unique=True
    )
    assert con(upchieve, "upchieve.users", "users_email_proxy_email_differ") == Constraint(
        name="users_email_proxy_email_differ",
        kind="check",
        columns=["email", "proxy_email"],
        expression="lower(email) <> lower(proxy_email)",
    )
    # 20240517164134: sender_id uuid REFERENCES upchieve.users (id) NOT NULL
    assert con(upchieve, "upchieve.censored_session_messages", "censored_session_messages_sender_id_fkey") == Constraint(
        name="censored_session_messages_sender_id_fkey",
        kind="foreign_key",
        columns=["sender_id"],
        ref_table="upchieve.users",
        ref_columns=["id"],
    )
    # 20211026204728: code varchar(2) PRIMARY KEY NOT NULL UNIQUE makes only us_states_pkey.
    assert [i.name for i in upchieve.table("upchieve.us_states").indexes] == ["us_states_pkey", "us_states_name_key"]


def test_generated_columns_keep_their_expression_through_renames_drops_and_set_expression():
    s = replay_sql("""
        CREATE TABLE m (id int PRIMARY KEY, w int, h int, area int GENERATED ALWAYS AS (w * h) STORED);
        ALTER TABLE m ADD COLUMN half int GENERATED ALWAYS AS (h / 2) STORED;
        ALTER TABLE m RENAME COLUMN w TO width;
        ALTER TABLE m ALTER COLUMN half SET EXPRESSION AS (h / 3);
        ALTER TABLE m DROP COLUMN h CASCADE;
    """)
    # area and half were computed from h: PostgreSQL's CASCADE drops them with it.
    assert s.table("m").columns == [Column(name="id", type="integer", nullable=False),
                                    Column(name="width", type="integer")]
    s = replay_sql("""
        CREATE TABLE m (w int, area int GENERATED ALWAYS AS (w * 2) STORED, twice int GENERATED ALWAYS AS (w + w) STORED);
        ALTER TABLE m RENAME COLUMN w TO width;
        ALTER TABLE m ALTER COLUMN twice SET EXPRESSION AS (width * 3);
        ALTER TABLE m ALTER COLUMN area DROP EXPRESSION;
    """)
    assert [(c.name, c.generated, c.default) for c in s.table("m").columns] == [
        ("width", None, None), ("area", None, None), ("twice", "width * 3", None)]
    assert replay_sql("CREATE TABLE m (w int, d int GENERATED ALWAYS AS (w * 2) STORED)").table("m").column("d") \
        == Column(name="d", type="integer", generated="w * 2")


def test_materialized_view_indexes_and_data():
    """A materialized view holds indexes (named, renamed and dropped as a table's are, in the one name
    space of its schema) and is populated unless made WITH NO DATA, until REFRESH says otherwise."""
    s = replay_sql(
        """
        CREATE MATERIALIZED VIEW totals AS SELECT org_id, count(*) AS n FROM users GROUP BY 1 WITH NO DATA;
        CREATE UNIQUE INDEX totals_org ON totals (org_id);
        CREATE INDEX ON totals ((n * 2)) WHERE n > 0;
        CREATE INDEX active_idx ON active (email);
        CREATE INDEX totals_org ON users (email);
        """,
        BASE.model_copy(update={"views": [View(name="active", definition="SELECT email FROM users")]}),
    )
    totals = s.view("totals")
    assert (totals.materialized, totals.populated) == (True, False)
    assert [(i.name, i.columns, i.unique, i.where) for i in totals.indexes] == [
        ("totals_org", ["org_id"], True, None), ("totals_expr_idx", ["n * 2"], False, "n > 0")]
    assert s.view("active").indexes == []  # PostgreSQL refuses an index on a plain view
    assert "totals_org" not in [i.name for i in s.table("users").indexes]  # the name is the view's index's
    s = replay_sql("REFRESH MATERIALIZED VIEW totals; ALTER INDEX totals_org RENAME TO by_org; "
                   "DROP INDEX totals_expr_idx;", s)
    assert (s.view("totals").populated, [i.name for i in s.view("totals").indexes]) == (True, ["by_org"])
    s = replay_sql("REFRESH MATERIALIZED VIEW totals WITH NO DATA; CREATE OR REPLACE VIEW active AS SELECT 1", s)
    assert (s.view("totals").populated, [i.name for i in s.view("totals").indexes]) == (False, ["by_org"])
