"""Drop, rename, column-type and compatibility rules (ids shared with squawk).

Each rule gets SQL that must trigger it and SQL that must not, through
flux_agent.lint.engine.lint_sql. The same snippets then go to the real squawk
binary: a positive snippet must get the same rule id from squawk (with
`-i <rule>` for squawk's opt-in rules), a negative one must not, and squawk
must report the rule without `-i` exactly when it is in its default set.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.lint.context import FileContext
from flux_agent.lint.rules import BY_ID
from flux_agent.lint.engine import lint_sql

ROOT = Path(__file__).resolve().parents[1]

# rule id -> (in squawk's default set?, positive snippets, negative snippets)
CASES: dict[str, tuple[bool, list[str], list[str]]] = {
    "ban-drop-column": (True, [
        "ALTER TABLE t DROP COLUMN c;",
        "ALTER TABLE t DROP COLUMN IF EXISTS c CASCADE;",
        "ALTER FOREIGN TABLE ft DROP COLUMN c;",
        "ALTER TYPE ty DROP ATTRIBUTE a;",
        "CREATE TABLE t (c text); ALTER TABLE t DROP COLUMN c;",
    ], [
        "ALTER TABLE t ADD COLUMN c text;",
        "ALTER TABLE t DROP CONSTRAINT k;",
    ]),
    "ban-drop-table": (True, [
        "DROP TABLE t;",
        "DROP TABLE IF EXISTS t, u CASCADE;",
        "DROP FOREIGN TABLE ft;",
    ], [
        "DROP VIEW v;",
        "TRUNCATE t;",
    ]),
    "ban-drop-database": (True, [
        "DROP DATABASE d;",
        "DROP DATABASE IF EXISTS d WITH (FORCE);",
    ], [
        "CREATE DATABASE d;",
        "DROP SCHEMA s;",
    ]),
    "ban-drop-not-null": (True, [
        "ALTER TABLE t ALTER COLUMN c DROP NOT NULL;",
        "ALTER FOREIGN TABLE ft ALTER COLUMN c DROP NOT NULL;",
        "ALTER DOMAIN d DROP NOT NULL;",
    ], [
        "ALTER TABLE t ALTER COLUMN c SET NOT NULL;",
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
    ]),
    "ban-drop-constraint": (True, [
        "ALTER TABLE t DROP CONSTRAINT k;",
        "ALTER TABLE t DROP CONSTRAINT IF EXISTS k CASCADE;",
        "ALTER DOMAIN d DROP CONSTRAINT k;",
    ], [
        "ALTER TABLE t ADD CONSTRAINT k CHECK (c > 0) NOT VALID;",
        "ALTER TABLE t DROP COLUMN c;",
    ]),
    "ban-drop-default": (True, [
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT, ALTER COLUMN d DROP DEFAULT;",
        "ALTER FOREIGN TABLE ft ALTER COLUMN c DROP DEFAULT;",
        "ALTER VIEW v ALTER COLUMN c DROP DEFAULT;",
        "ALTER DOMAIN d DROP DEFAULT;",
    ], [
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;",
        "ALTER DOMAIN d SET DEFAULT 1;",
    ]),
    "ban-drop-domain": (True, ["DROP DOMAIN d;", "DROP DOMAIN IF EXISTS d CASCADE;"],
                        ["DROP TYPE ty;", "CREATE DOMAIN d AS text;"]),
    "ban-drop-extension": (True, ["DROP EXTENSION e;", "DROP EXTENSION IF EXISTS e;"],
                           ["CREATE EXTENSION IF NOT EXISTS e;", "DROP SCHEMA s;"]),
    "ban-drop-function": (True, [
        "DROP FUNCTION f();",
        "DROP FUNCTION IF EXISTS f(int) CASCADE;",
        "DROP PROCEDURE p();",
        "DROP ROUTINE r();",
        "DROP AGGREGATE a(int);",
    ], [
        "DROP TRIGGER tr ON t;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';",
    ]),
    "ban-drop-schema": (True, ["DROP SCHEMA s;", "DROP SCHEMA IF EXISTS s CASCADE;"],
                        ["CREATE SCHEMA s;", "DROP TABLE s.t;"]),
    "ban-drop-sequence": (True, ["DROP SEQUENCE s;", "DROP SEQUENCE IF EXISTS s;"],
                          ["CREATE SEQUENCE s;", "ALTER SEQUENCE s OWNED BY t.c;"]),
    "ban-drop-type": (True, [
        "DROP TYPE ty;",
        "DROP TYPE IF EXISTS ty CASCADE;",
        "DROP CAST (int AS text);",
        "DROP OPERATOR + (int, int);",
        "DROP OPERATOR CLASS oc USING btree;",
    ], [
        "DROP DOMAIN d;",
        "DROP COLLATION c;",
        "CREATE TYPE ty AS ENUM ('a');",
    ]),
    "ban-drop-view": (True, ["DROP VIEW v;", "DROP VIEW IF EXISTS v CASCADE;", "DROP MATERIALIZED VIEW mv;"],
                      ["DROP TABLE t;", "CREATE VIEW v AS SELECT 1;"]),
    "ban-drop-generated-expression": (True, [
        "ALTER TABLE t ALTER COLUMN c DROP EXPRESSION;",
        "ALTER TABLE t ALTER COLUMN c DROP EXPRESSION IF EXISTS;",
    ], [
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
        "ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS (1) STORED;",
    ]),
    "ban-truncate-cascade": (True, ["TRUNCATE t CASCADE;", "TRUNCATE TABLE a, b RESTART IDENTITY CASCADE;"],
                             ["TRUNCATE t;", "TRUNCATE t RESTRICT;"]),
    "renaming-column": (True, [
        "ALTER TABLE t RENAME COLUMN a TO b;",
        "ALTER TABLE t RENAME a TO b;",
        "ALTER VIEW v RENAME COLUMN a TO b;",
        "ALTER MATERIALIZED VIEW mv RENAME COLUMN a TO b;",
        "ALTER TYPE ty RENAME ATTRIBUTE a TO b;",
    ], [
        "ALTER TABLE t RENAME TO u;",
        "ALTER TABLE t ADD COLUMN b text;",
    ]),
    "renaming-table": (True, ["ALTER TABLE t RENAME TO u;", "ALTER TABLE IF EXISTS ONLY t RENAME TO u;"],
                       ["ALTER VIEW v RENAME TO w;", "ALTER TABLE t RENAME COLUMN a TO b;"]),
    "renaming-object": (True, [
        "ALTER VIEW v RENAME TO w;",
        "ALTER MATERIALIZED VIEW mv RENAME TO mw;",
        "ALTER FOREIGN TABLE ft RENAME TO fu;",
        "ALTER INDEX i RENAME TO j;",
        "ALTER SEQUENCE s RENAME TO s2;",
        "ALTER SCHEMA s RENAME TO s2;",
        "ALTER TYPE ty RENAME TO tz;",
        "ALTER TYPE ty RENAME VALUE 'a' TO 'b';",
        "ALTER DOMAIN d RENAME TO d2;",
        "ALTER DOMAIN d RENAME CONSTRAINT a TO b;",
        "ALTER FUNCTION f() RENAME TO g;",
        "ALTER PROCEDURE p() RENAME TO q;",
        "ALTER AGGREGATE a(int) RENAME TO b;",
        "ALTER TABLE t RENAME CONSTRAINT k TO k2;",
        "ALTER TRIGGER tr ON t RENAME TO tr2;",
        "ALTER POLICY p ON t RENAME TO p2;",
        "ALTER DATABASE d RENAME TO e;",
        "ALTER ROLE r RENAME TO s;",
    ], [
        "ALTER TABLE t RENAME TO u;",
        "ALTER TABLE t RENAME COLUMN a TO b;",
        "ALTER COLLATION c RENAME TO d;",
        "ALTER TYPE ty ADD VALUE 'c';",
    ]),
    "ban-char-field": (True, [
        "CREATE TABLE t (c char(10));",
        "CREATE TABLE t (c character);",
        "CREATE TABLE t (c bpchar);",
        "CREATE TABLE t (c char[]);",
        "ALTER TABLE t ADD COLUMN c char(2);",
    ], [
        "CREATE TABLE t (c varchar(10));",
        "CREATE TABLE t (c text);",
        "CREATE TYPE ty AS (c char(2));",
    ]),
    "prefer-bigint-over-int": (True, [
        "CREATE TABLE t (c int);",
        "CREATE TABLE t (c integer);",
        "CREATE TABLE t (c int4);",
        "CREATE TABLE t (c serial);",
        "CREATE TABLE t (c int[]);",
        "CREATE TABLE t (c int GENERATED ALWAYS AS IDENTITY);",
        "ALTER TABLE t ADD COLUMN c int;",
        "ALTER TABLE t ALTER COLUMN c TYPE int;",
    ], [
        "CREATE TABLE t (c bigint);",
        "CREATE TABLE t (c bigserial);",
        "CREATE TABLE t (c smallint);",
        "CREATE TABLE t (c int4range);",
        "CREATE FOREIGN TABLE ft (c int) SERVER s;",
        "CREATE DOMAIN d AS int;",
    ]),
    "prefer-bigint-over-smallint": (True, [
        "CREATE TABLE t (c smallint);",
        "CREATE TABLE t (c int2);",
        "CREATE TABLE t (c smallserial);",
        "ALTER TABLE t ADD COLUMN c smallint;",
    ], [
        "CREATE TABLE t (c bigint);",
        "CREATE TABLE t (c int);",
    ]),
    "prefer-identity": (True, [
        "CREATE TABLE t (c serial);",
        "CREATE TABLE t (c bigserial);",
        "CREATE TABLE t (c serial8);",
        "CREATE TABLE t (c SMALLSERIAL);",
        "ALTER TABLE t ADD COLUMN c bigserial;",
    ], [
        "CREATE TABLE t (c bigint GENERATED BY DEFAULT AS IDENTITY);",
        "CREATE TABLE t (c bigint);",
    ]),
    "prefer-text-field": (True, [
        "CREATE TABLE t (c varchar(10));",
        "CREATE TABLE t (c character varying(5));",
        "CREATE TABLE t (c varchar(5)[]);",
        "ALTER TABLE t ADD COLUMN c varchar(256);",
        "ALTER TABLE t ALTER COLUMN c TYPE varchar(1000);",
    ], [
        "CREATE TABLE t (c varchar);",
        "CREATE TABLE t (c text);",
    ]),
    "prefer-timestamp-tz": (True, [
        "CREATE TABLE t (c timestamp);",
        "CREATE TABLE t (c timestamp without time zone);",
        "CREATE TABLE t (c timestamp(3));",
        "CREATE TABLE t (c timestamp[]);",
        "ALTER TABLE t ALTER COLUMN c TYPE timestamp;",
    ], [
        "CREATE TABLE t (c timestamptz);",
        "CREATE TABLE t (c timestamp with time zone);",
        "CREATE TABLE t (c time);",
    ]),
    "ban-set-schema": (True, [
        "ALTER TABLE t SET SCHEMA s;",
        "ALTER VIEW v SET SCHEMA s;",
        "ALTER MATERIALIZED VIEW mv SET SCHEMA s;",
        "ALTER FUNCTION f() SET SCHEMA s;",
        "ALTER TYPE ty SET SCHEMA s;",
        "ALTER SEQUENCE q SET SCHEMA s;",
        "ALTER DOMAIN d SET SCHEMA s;",
        "ALTER EXTENSION e SET SCHEMA s;",
    ], [
        "ALTER TABLE t OWNER TO app;",
        "ALTER COLLATION c SET SCHEMA s;",
    ]),
    "ban-duplicate-column-assignments": (True, [
        "UPDATE t SET a = 1, a = 2;",
        "UPDATE t SET (a, b) = (1, 2), a = 3;",
        "UPDATE t SET a = 1, a.x = 2;",
        'UPDATE t SET "a" = 1, A = 2;',
        "INSERT INTO t (a, a) VALUES (1, 2);",
        "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2;",
        "MERGE INTO k USING j ON k.id = j.id WHEN MATCHED THEN UPDATE SET a = 1, a = 2;",
        "MERGE INTO k USING j ON k.id = j.id WHEN NOT MATCHED THEN INSERT (a, a) VALUES (1, 2);",
        "WITH q AS (UPDATE t SET a = 1, a = 2 RETURNING 1) SELECT 1;",
        "CREATE TABLE t (a text, A text);",
        "CREATE FOREIGN TABLE ft (a int, a text) SERVER s;",
        "CREATE VIEW v (a, a) AS SELECT 1, 2;",
        "CREATE VIEW v AS SELECT 1 a, 2 a;",
        "CREATE VIEW v AS SELECT x.a, y.a FROM x, y;",
        "CREATE VIEW v AS SELECT 1, 2;",
        "CREATE VIEW v AS SELECT count(*), count(x) FROM x;",
        "CREATE VIEW v AS SELECT coalesce(a, 1), coalesce(b, 2) FROM t;",
        "CREATE VIEW v AS SELECT a[1], a[2] FROM t;",
        "CREATE VIEW v AS SELECT a::text, a FROM t;",
        "CREATE VIEW v AS SELECT (SELECT x FROM t), x FROM u;",
        "CREATE VIEW v AS SELECT CASE WHEN true THEN 1 ELSE a END, a FROM t;",
        "CREATE VIEW v AS SELECT current_user, current_user;",
        "CREATE MATERIALIZED VIEW v AS SELECT 1 a, 2 a;",
        "CREATE TABLE z (a, a) AS SELECT 1, 2;",
        "SELECT 1 a, 2 a INTO z;",
    ], [
        "UPDATE t SET a = 1, b = 2;",
        "UPDATE t SET a.x = 1, a.y = 2;",
        "UPDATE t SET a[1] = 1, a[2] = 2;",
        'UPDATE t SET "A" = 1, A = 2;',
        "INSERT INTO t (a.x, a.y) VALUES (1, 2);",
        "CREATE VIEW v (a, b) AS SELECT 1 a, 2 a;",
        "CREATE VIEW v AS SELECT 1::int, 2::text;",
        "CREATE VIEW v AS SELECT x.*, y.* FROM x, y;",
        "CREATE VIEW v AS SELECT current_user, session_user;",
        "CREATE VIEW v AS SELECT ARRAY[1]::text[], ROW(1)::text;",
        'CREATE VIEW v AS SELECT a AS "x", b AS "X" FROM t;',
        "CREATE VIEW v AS SELECT a FROM x UNION SELECT a FROM y;",
        "SELECT 1 a, 2 a;",
    ]),
    "ban-alter-identity": (True, [
        "ALTER TABLE t ALTER COLUMN c ADD GENERATED ALWAYS AS IDENTITY;",
        "ALTER TABLE t ALTER COLUMN c ADD GENERATED BY DEFAULT AS IDENTITY;",
        "ALTER TABLE t ALTER COLUMN c DROP IDENTITY IF EXISTS;",
        "ALTER TABLE t ALTER COLUMN c SET GENERATED ALWAYS;",
        "ALTER TABLE t ALTER COLUMN c SET GENERATED ALWAYS SET INCREMENT BY 2;",
    ], [
        "ALTER TABLE t ALTER COLUMN c SET GENERATED BY DEFAULT;",
        "ALTER TABLE t ALTER COLUMN c RESTART WITH 10;",
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;",
    ]),
    # ---- opt-in in squawk (`squawk -i <rule>`); flux runs them when ctx.include_rules names them
    "ban-drop-index": (False, ["DROP INDEX i;", "DROP INDEX CONCURRENTLY IF EXISTS i;"],
                       ["CREATE INDEX CONCURRENTLY i ON t (c);", "DROP TABLE t;"]),
    "ban-drop-policy": (False, ["DROP POLICY p ON t;", "DROP POLICY IF EXISTS p ON t;"],
                        ["CREATE POLICY p ON t USING (true);"]),
    "ban-drop-trigger": (False, ["DROP TRIGGER tr ON t;", "DROP TRIGGER IF EXISTS tr ON t;"],
                         ["DROP EVENT TRIGGER et;", "DROP RULE r ON t;"]),
    "ban-alter-system-options": (False, ["ALTER SYSTEM SET work_mem = '1MB';", "ALTER SYSTEM RESET ALL;"],
                                 ["ALTER DATABASE d SET work_mem = '1MB';", "SET work_mem = '1MB';"]),
    "ban-alter-database-options": (False, [
        "ALTER DATABASE d SET work_mem = '1MB';",
        "ALTER DATABASE d RESET ALL;",
        "ALTER DATABASE d WITH CONNECTION LIMIT 5;",
    ], [
        "ALTER DATABASE d OWNER TO r;",
        "ALTER DATABASE d SET TABLESPACE ts;",
        "ALTER DATABASE d RENAME TO e;",
    ]),
    "ban-alter-role-options": (False, [
        "ALTER ROLE r NOLOGIN;",
        "ALTER USER u WITH PASSWORD 'x';",
        "ALTER ROLE r SET work_mem = '1MB';",
        "ALTER ROLE ALL SET work_mem = '1MB';",
        "ALTER USER u RESET ALL;",
    ], [
        "ALTER GROUP g ADD USER u;",
        "ALTER ROLE r RENAME TO s;",
    ]),
    "ban-alter-function-options": (False, [
        "ALTER FUNCTION f() SECURITY DEFINER;",
        "ALTER FUNCTION f() SET search_path TO private;",
        "ALTER PROCEDURE p() RESET ALL;",
        "ALTER ROUTINE f() IMMUTABLE;",
    ], [
        "ALTER FUNCTION f() OWNER TO r;",
        "ALTER FUNCTION f() RENAME TO g;",
    ]),
    "ban-alter-view-options": (False, [
        "ALTER VIEW v SET (security_barrier = true);",
        "ALTER VIEW v RESET (security_barrier);",
    ], [
        "ALTER VIEW v RENAME TO w;",
        "ALTER MATERIALIZED VIEW mv SET (fillfactor = 50);",
        "ALTER TABLE t SET (fillfactor = 50);",
    ]),
    "ban-alter-extension": (False, [
        "ALTER EXTENSION e UPDATE;",
        "ALTER EXTENSION e UPDATE TO '2.0';",
        "ALTER EXTENSION e DROP FUNCTION f();",
    ], [
        "ALTER EXTENSION e ADD FUNCTION f();",
        "CREATE EXTENSION e;",
    ]),
    "ban-alter-row-level-security": (False, [
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE t DISABLE ROW LEVEL SECURITY;",
        "ALTER TABLE t FORCE ROW LEVEL SECURITY;",
        "ALTER TABLE t NO FORCE ROW LEVEL SECURITY;",
    ], [
        "ALTER TABLE t ADD COLUMN c text;",
        "ALTER TABLE t REPLICA IDENTITY FULL;",
    ]),
    "ban-alter-policy-roles": (False, ["ALTER POLICY p ON t TO r;", "ALTER POLICY p ON t TO r USING (true);"],
                               ["ALTER POLICY p ON t USING (true);", "ALTER POLICY p ON t RENAME TO q;"]),
    "ban-alter-policy-condition": (False, [
        "ALTER POLICY p ON t USING (true);",
        "ALTER POLICY p ON t WITH CHECK (true);",
    ], [
        "ALTER POLICY p ON t TO r;",
    ]),
    "ban-create-policy": (False, ["CREATE POLICY p ON t USING (true);"],
                          ["ALTER POLICY p ON t USING (true);", "DROP POLICY p ON t;"]),
    "ban-revoke": (False, [
        "REVOKE SELECT ON t FROM r;",
        "REVOKE GRANT OPTION FOR SELECT ON t FROM r;",
        "REVOKE r FROM u;",
        "ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM r;",
    ], [
        "GRANT SELECT ON t TO r;",
        "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r;",
    ]),
    "ban-replica-identity": (False, ["ALTER TABLE t REPLICA IDENTITY FULL;", "ALTER TABLE t REPLICA IDENTITY DEFAULT;"],
                             ["ALTER TABLE t ENABLE ROW LEVEL SECURITY;"]),
    "ban-disable-trigger": (False, [
        "ALTER TABLE t DISABLE TRIGGER tr;",
        "ALTER TABLE t DISABLE TRIGGER ALL;",
        "ALTER TABLE t ENABLE REPLICA TRIGGER tr;",
        "ALTER TABLE t DISABLE RULE r;",
        "ALTER TABLE t DISABLE ROW LEVEL SECURITY;",
        "ALTER TABLE t FORCE ROW LEVEL SECURITY;",
    ], [
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE t ADD COLUMN c text;",
    ]),
    "ban-detach-inheritance": (False, [
        "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;",
        "ALTER TABLE p DETACH PARTITION c FINALIZE;",
        "ALTER TABLE c NO INHERIT p;",
        "CREATE TABLE IF NOT EXISTS c (id bigint); ALTER TABLE c NO INHERIT p;",
    ], [
        "CREATE TABLE c (id bigint); ALTER TABLE c NO INHERIT p;",
        "ALTER TABLE c INHERIT p;",
    ]),
    "ban-set-default": (False, [
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;",
        "ALTER FOREIGN TABLE ft ALTER COLUMN c SET DEFAULT 1;",
        "ALTER VIEW v ALTER COLUMN c SET DEFAULT 1;",
        "ALTER DOMAIN d SET DEFAULT 1;",
    ], [
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;",
        "ALTER DOMAIN d DROP DEFAULT;",
    ]),
    "ban-replace-view-function": (False, [
        "CREATE OR REPLACE VIEW v AS SELECT 1 AS id;",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';",
        "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'select 1';",
        "CREATE OR REPLACE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();",
        "CREATE OR REPLACE RULE r AS ON INSERT TO t DO NOTHING;",
    ], [
        "CREATE VIEW v AS SELECT 1;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';",
    ]),
    "ban-add-composite-attribute": (False, [
        "ALTER TYPE ty ADD ATTRIBUTE b text;",
        "ALTER TYPE public.ty ADD ATTRIBUTE b text;",
    ], [
        "CREATE TYPE ty AS (a text); ALTER TYPE ty ADD ATTRIBUTE b text;",
        "ALTER TYPE ty DROP ATTRIBUTE b;",
    ]),
    "require-table-schema": (False, [
        "CREATE TABLE t (c text);",
        "CREATE UNLOGGED TABLE t (c text);",
        "CREATE TABLE t AS SELECT 1;",
        "ALTER TABLE t ADD COLUMN c text;",
        "ALTER TABLE t RENAME TO u;",
        "ALTER TABLE t OWNER TO r;",
        "DROP TABLE public.t, u;",
    ], [
        "CREATE TABLE public.t (c text);",
        "CREATE TEMP TABLE t (c text);",
        "CREATE TEMP TABLE t AS SELECT 1;",
        "ALTER TABLE public.t ADD COLUMN c text;",
        "DROP TABLE public.t;",
        "CREATE FOREIGN TABLE ft (c text) SERVER s;",
    ]),
    "ban-alter-sequence-values": (False, [
        "ALTER SEQUENCE s RESTART WITH 5;",
        "ALTER SEQUENCE s INCREMENT BY 2;",
        "ALTER SEQUENCE s AS bigint;",
        "CREATE SEQUENCE IF NOT EXISTS s; ALTER SEQUENCE s RESTART;",
        "ALTER TABLE t ALTER COLUMN c RESTART WITH 5;",
        "ALTER TABLE t ALTER COLUMN c SET INCREMENT BY 2;",
    ], [
        "ALTER SEQUENCE s OWNED BY t.c;",
        "ALTER SEQUENCE s OWNER TO r;",
        "CREATE SEQUENCE s; ALTER SEQUENCE s RESTART;",
        "CREATE TABLE t (c bigint GENERATED ALWAYS AS IDENTITY); ALTER TABLE t ALTER COLUMN c RESTART;",
        "ALTER TABLE t ALTER COLUMN c SET GENERATED BY DEFAULT;",
    ]),
}

# Where flux deliberately reports more than squawk: the same type reached through
# another spelling, which squawk's syntax-based check does not recognise.
FLUX_ONLY = {
    "prefer-timestamp-tz": ["CREATE TABLE t (c pg_catalog.timestamp);", 'CREATE TABLE t (c "timestamp");'],
    # PostgreSQL rejects all three (columns text/text, ?column?/?column?, a/a); squawk does not
    # derive a name through a cast, nor check CREATE TABLE AS select lists.
    "ban-duplicate-column-assignments": ["CREATE VIEW v AS SELECT (CASE WHEN true THEN 1 END)::text, 'a'::text;",
                                         "CREATE VIEW v AS SELECT (SELECT 1)::text, 1;",
                                         "CREATE TABLE z AS SELECT 1 a, 2 a;"],
}

ALWAYS_ON = {"ban-alter-system-options"}  # opt-in in squawk, but flux always reports it


def rule_ids(sql: str, **ctx_kw) -> set[str]:
    include = ctx_kw.pop("include", ())
    ctx = FileContext(**ctx_kw)
    ctx.include_rules = set(include)
    return {f.rule for f in lint_sql(sql, ctx)}


POSITIVE = [(rule, sql) for rule, (_, pos, _) in CASES.items() for sql in pos]
NEGATIVE = [(rule, sql) for rule, (_, _, neg) in CASES.items() for sql in neg]


def test_every_rule_has_a_module_and_cases():
    for rule, (default, pos, neg) in CASES.items():
        assert rule in BY_ID, f"no module for {rule}"
        assert pos and neg, rule
        mod = BY_ID[rule]
        assert mod.SEVERITY in ("error", "warning")
        assert "\n" not in mod.MESSAGE and "\n" not in mod.HINT
        source = Path(mod.__file__).read_text(encoding="utf-8")
        mark = "# squawk default: yes" if default else "# squawk default: no (opt-in)"
        assert mark in source, f"{mod.__file__} should say `{mark}`"
        assert getattr(mod, "OPT_IN", False) == (not default and rule not in ALWAYS_ON), rule


def test_severities():
    for rule in CASES:
        sev = BY_ID[rule].SEVERITY
        if rule.startswith(("prefer-", "ban-char-field")):
            assert sev == "warning", rule
        if rule.startswith(("ban-drop-", "renaming-")) or rule in (
                "ban-truncate-cascade", "ban-alter-system-options"):
            assert sev == "error", rule


@pytest.mark.parametrize("rule,sql", POSITIVE)
def test_positive(rule, sql):
    assert rule in rule_ids(sql, include={rule}), sql


@pytest.mark.parametrize("rule,sql", NEGATIVE)
def test_negative(rule, sql):
    assert rule not in rule_ids(sql, include={rule}), sql


@pytest.mark.parametrize("rule,sql", [(r, s) for r, ss in FLUX_ONLY.items() for s in ss])
def test_flux_only(rule, sql):
    assert rule in rule_ids(sql)


@pytest.mark.parametrize("rule", [r for r, (default, _, _) in CASES.items() if not default and r not in ALWAYS_ON])
def test_opt_in_rules_are_silent_unless_included(rule):
    assert rule not in rule_ids(CASES[rule][1][0])


def test_ignore_comment_silences_a_drop_in_a_contract_step():
    sql = ("-- squawk-ignore ban-drop-column -- the application stopped using c in the code step\n"
           "ALTER TABLE t DROP COLUMN c;\n")
    assert "ban-drop-column" not in rule_ids(sql, phase="contract")
    assert "ban-drop-column" in rule_ids("ALTER TABLE t DROP COLUMN c;", phase="contract")


def test_plan_tables_count_as_new_for_detach():
    sql = "ALTER TABLE c NO INHERIT p;"
    assert "ban-detach-inheritance" in rule_ids(sql, include={"ban-detach-inheritance"}, phase="expand")
    assert "ban-detach-inheritance" not in rule_ids(sql, include={"ban-detach-inheritance"}, phase="expand",
                                                    created_tables={"c"})


def test_duplicate_assignment_message_names_the_column():
    ctx = FileContext()
    [f] = [f for f in lint_sql("UPDATE t SET total = 1, total = 2;", ctx)
           if f.rule == "ban-duplicate-column-assignments"]
    assert "'total'" in f.message


# --------------------------------------------------------------------------
# Side by side with the real squawk
# --------------------------------------------------------------------------


def _squawk() -> str:
    exe = shutil.which("squawk")
    if exe is None:
        pytest.skip("the squawk binary is not on PATH (pip install squawk-cli); side-by-side check skipped")
    return exe


def squawk_rules(tmp_path: Path, sql: str, include: str | None = None) -> set[str]:
    f = tmp_path / "case.sql"
    f.write_text(sql + "\n", encoding="utf-8")
    cmd = [_squawk(), "--reporter", "json", "--pg-version", "16"]
    if include:
        cmd += ["-i", include]
    cmd.append(f.name)
    # cwd: the file's own folder, so no .squawk.toml of this repository is picked up.
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), f"squawk failed ({proc.returncode}): {proc.stderr.strip()}"
    found = {x["rule_name"] for x in json.loads(proc.stdout or "[]")}
    assert "syntax-error" not in found, f"squawk cannot parse {sql!r}"
    return found


@pytest.mark.parametrize("rule,sql", POSITIVE)
def test_squawk_agrees_on_positive(tmp_path, rule, sql):
    default = CASES[rule][0]
    assert (rule in squawk_rules(tmp_path, sql)) == default, \
        f"squawk {'does not report' if default else 'reports'} {rule} by default for {sql!r}"
    if not default:
        assert rule in squawk_rules(tmp_path, sql, include=rule), f"squawk -i {rule} does not report {sql!r}"


@pytest.mark.parametrize("rule,sql", NEGATIVE)
def test_squawk_agrees_on_negative(tmp_path, rule, sql):
    assert rule not in squawk_rules(tmp_path, sql, include=rule), f"squawk reports {rule} for {sql!r}"
