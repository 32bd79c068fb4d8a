"""Lock, rewrite, transaction and timeout rules: SQL in, rule ids out.

Each case goes through flux_agent.lint.engine.lint_sql with a FileContext. Every
positive case is also run through the real squawk (`squawk-cli` on PyPI) with
the matching --assume-in-transaction and --pg-version: a rule in squawk's
default set must be reported by squawk too; an opt-in rule only with `-i`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flux_agent.lint.context import FileContext
from flux_agent.model.schema import Column, Constraint, Schema, Table
from flux_agent.lint.rules import BY_ID
from flux_agent.lint.engine import lint_sql

SCHEMA = Schema(tables=[
    Table(name="orders", columns=[Column(name="id", type="bigint", nullable=False),
                                  Column(name="note", type="character varying(10)"),
                                  Column(name="total", type="integer")],
          constraints=[Constraint(name="orders_note_not_null", kind="check", columns=["note"],
                                  expression="note IS NOT NULL", validated=True)]),
    Table(name="users", columns=[Column(name="id", type="bigint", nullable=False),
                                 Column(name="email", type="text")],
          constraints=[Constraint(name="users_email_not_null", kind="check", columns=["email"],
                                  expression="email IS NOT NULL", validated=False)]),
])

TX = {"transactional": True}
NO_TX = {"transactional": False}
SOLO = {"transactional": False, "one_query": True}  # dbmate transaction:false, golang-migrate
OPT_IN = {"include_rules": {"ban-new-write-restriction"}}

# (rule, sql, FileContext keywords, expected: does the rule fire?)
CASES = [
    # adding-field-with-default
    ("adding-field-with-default", "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", TX, True),
    ("adding-field-with-default", "ALTER TABLE users ADD COLUMN seen timestamptz DEFAULT clock_timestamp();", TX, True),
    ("adding-field-with-default", "ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;",
     {**TX, "pg_version": 10}, True),
    ("adding-field-with-default", "ALTER TABLE t ADD COLUMN total numeric GENERATED ALWAYS AS (a + b) STORED;",
     TX, True),
    ("adding-field-with-default", "ALTER TABLE users ADD COLUMN flag boolean DEFAULT false;", TX, False),
    ("adding-field-with-default", "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();", TX, False),
    ("adding-field-with-default", "ALTER TABLE users ADD COLUMN n int DEFAULT 2 + 2;", TX, False),
    ("adding-field-with-default", "CREATE TABLE t (id bigint);\n"
                                  "ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();", TX, False),
    # adding-foreign-key-constraint
    ("adding-foreign-key-constraint",
     "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);", TX, True),
    ("adding-foreign-key-constraint",
     "ALTER TABLE orders ADD COLUMN IF NOT EXISTS user_id bigint REFERENCES users (id);", TX, True),
    ("adding-foreign-key-constraint",
     "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
     TX, False),
    ("adding-foreign-key-constraint", "CREATE TABLE t (id bigint, user_id bigint);\n"
                                      "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (user_id) REFERENCES users (id);",
     TX, False),
    # adding-not-nullable-field
    ("adding-not-nullable-field", "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;", TX, True),
    ("adding-not-nullable-field", "ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\n"
                                  "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;", TX, True),
    ("adding-not-nullable-field", "BEGIN;\n"
                                  "ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\n"
                                  "COMMIT;\nBEGIN;\n"
                                  "ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;\n"
                                  "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nCOMMIT;\n",
     {**NO_TX, "pg_version": 11}, True),  # before 12 the validated CHECK does not skip the scan
    ("adding-not-nullable-field", "BEGIN;\n"
                                  "ALTER TABLE foo ADD CONSTRAINT bar_not_null CHECK (bar IS NOT NULL) NOT VALID;\n"
                                  "COMMIT;\nBEGIN;\n"
                                  "ALTER TABLE foo VALIDATE CONSTRAINT bar_not_null;\n"
                                  "ALTER TABLE foo ALTER COLUMN bar SET NOT NULL;\nCOMMIT;\n",
     {**NO_TX, "pg_version": 16}, False),
    ("adding-not-nullable-field", "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
     {**TX, "schema": SCHEMA}, False),  # the schema holds a VALIDATED check
    ("adding-not-nullable-field", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
     {**TX, "schema": SCHEMA}, True),  # the schema's check is NOT VALID
    ("adding-not-nullable-field", "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\n"
                                  "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
     {**TX, "schema": SCHEMA}, False),
    ("adding-not-nullable-field", "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
     {**TX, "schema": SCHEMA, "pg_version": 11}, True),
    ("adding-not-nullable-field", "CREATE TABLE t (id bigint, c text);\nALTER TABLE t ALTER COLUMN c SET NOT NULL;",
     TX, False),
    # adding-required-field
    ("adding-required-field", "ALTER TABLE users ADD COLUMN age integer NOT NULL;", TX, True),
    ("adding-required-field", "ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;", TX, False),
    ("adding-required-field", "ALTER TABLE users ADD COLUMN age integer;", TX, False),
    ("adding-required-field", "ALTER TABLE t ADD COLUMN c numeric GENERATED ALWAYS AS (a + b) STORED NOT NULL;",
     TX, False),
    ("adding-required-field", "CREATE TABLE t (id bigint);\nALTER TABLE t ADD COLUMN c text NOT NULL;", TX, False),
    # adding-serial-primary-key-field
    ("adding-serial-primary-key-field", "ALTER TABLE items ADD PRIMARY KEY (id);", TX, True),
    ("adding-serial-primary-key-field", "ALTER TABLE items ADD COLUMN IF NOT EXISTS id bigserial PRIMARY KEY;",
     TX, True),
    ("adding-serial-primary-key-field", "ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;",
     TX, False),
    ("adding-serial-primary-key-field", "CREATE TABLE t (id bigint);\nALTER TABLE t ADD PRIMARY KEY (id);", TX, False),
    # changing-column-type
    ("changing-column-type", "ALTER TABLE products ALTER COLUMN stock TYPE bigint;", TX, True),
    ("changing-column-type", "ALTER TABLE orders ALTER COLUMN total TYPE bigint;", {**TX, "schema": SCHEMA}, True),
    ("changing-column-type", "ALTER TABLE orders ALTER COLUMN note TYPE text;", TX, True),  # old type unknown
    ("changing-column-type", "ALTER TABLE orders ALTER COLUMN note TYPE text;", {**TX, "schema": SCHEMA}, False),
    ("changing-column-type", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);", {**TX, "schema": SCHEMA}, False),
    ("changing-column-type", "CREATE TABLE t (id bigint, c int);\nALTER TABLE t ALTER COLUMN c TYPE bigint;",
     TX, False),
    # constraint-missing-not-valid
    ("constraint-missing-not-valid", "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0);", TX, True),
    ("constraint-missing-not-valid",
     "ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);", NO_TX, True),
    ("constraint-missing-not-valid",
     "ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
     "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;", TX, True),  # same transaction: scans under the add's lock
    ("constraint-missing-not-valid",
     "BEGIN;\nALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
     "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;\nCOMMIT;", NO_TX, True),
    ("constraint-missing-not-valid", "ALTER TABLE products ADD CONSTRAINT products_sku_unique UNIQUE (sku);", TX, True),
    ("constraint-missing-not-valid", "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (balance >= 0) NOT VALID;",
     TX, False),
    ("constraint-missing-not-valid",
     "BEGIN;\nALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
     "COMMIT;\nBEGIN;\nALTER TABLE emails VALIDATE CONSTRAINT fk_user;\nCOMMIT;", NO_TX, False),
    ("constraint-missing-not-valid",
     "ALTER TABLE emails ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
     "ALTER TABLE emails VALIDATE CONSTRAINT fk_user;", NO_TX, False),  # autocommit: two transactions
    ("constraint-missing-not-valid",
     "CREATE TABLE t (age int);\nALTER TABLE t ADD CONSTRAINT age_ok CHECK (age >= 25);", TX, False),
    ("constraint-missing-not-valid", "ALTER TABLE app_email ADD CONSTRAINT email_uniq UNIQUE USING INDEX email_idx;",
     TX, False),
    # disallowed-unique-constraint
    ("disallowed-unique-constraint", "ALTER TABLE t ADD CONSTRAINT field_uniq UNIQUE (field);", TX, True),
    ("disallowed-unique-constraint", "ALTER TABLE foo ADD COLUMN IF NOT EXISTS bar text UNIQUE;", TX, True),
    ("disallowed-unique-constraint", "ALTER TABLE t ADD CONSTRAINT field_uniq UNIQUE USING INDEX field_idx;",
     TX, False),
    ("disallowed-unique-constraint", "CREATE TABLE t (sku text);\nALTER TABLE t ADD CONSTRAINT sku_uniq UNIQUE (sku);",
     TX, False),
    # require-concurrent-index-deletion
    ("require-concurrent-index-deletion", "DROP INDEX IF EXISTS orders_status_idx;", TX, True),
    ("require-concurrent-index-deletion", "DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;", NO_TX, False),
    ("require-concurrent-index-deletion", "CREATE TABLE t (id bigint);\nCREATE INDEX t_id_idx ON t (id);\n"
                                          "DROP INDEX t_id_idx;", TX, False),
    # require-concurrent-reindex
    ("require-concurrent-reindex", "REINDEX TABLE users;", TX, True),
    ("require-concurrent-reindex", "REINDEX (CONCURRENTLY false) INDEX users_email_idx;", TX, True),
    ("require-concurrent-reindex", "REINDEX INDEX CONCURRENTLY users_email_idx;", NO_TX, False),
    ("require-concurrent-reindex", "REINDEX SYSTEM shop;", NO_TX, False),
    # transaction-nesting
    ("transaction-nesting", "BEGIN;\nSELECT 1;\nCOMMIT;", TX, True),
    ("transaction-nesting", "SELECT 1;\nCOMMIT;", NO_TX, True),
    ("transaction-nesting", "BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;", NO_TX, True),
    ("transaction-nesting", "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;", NO_TX, False),
    ("transaction-nesting", "SELECT 1;", TX, False),
    # ban-uncommitted-transaction
    ("ban-uncommitted-transaction", "BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;", NO_TX, True),
    ("ban-uncommitted-transaction", "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;", NO_TX, True),
    ("ban-uncommitted-transaction", "BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\nCOMMIT;",
     NO_TX, False),
    ("ban-uncommitted-transaction", "START TRANSACTION;\nSELECT 1;\nROLLBACK;", NO_TX, False),
    # require-lock-timeout
    ("require-lock-timeout", "ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;", TX, True),
    ("require-lock-timeout", "ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;\nSET lock_timeout = '1s';",
     TX, True),
    ("require-lock-timeout", "SET statement_timeout = '5s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (c);",
     NO_TX, True),
    ("require-lock-timeout", "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);", SOLO, True),
    ("require-lock-timeout", "SET LOCAL lock_timeout = '1s';\nALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;",
     TX, False),
    ("require-lock-timeout", "UPDATE users SET nick = name WHERE id < 1000;", TX, False),
    ("require-lock-timeout", "CREATE TABLE IF NOT EXISTS t (id bigint);", TX, False),
    ("require-lock-timeout", "CREATE TABLE reviews (id bigint, product_id bigint REFERENCES products (id));", TX, True),
    # squawk flags this one; flux does not: nobody else can hold or wait for a lock on a table created here
    ("require-lock-timeout", "CREATE TABLE t (id bigint);\nCREATE INDEX IF NOT EXISTS t_id_idx ON t (id);", TX, False),
    # require-statement-timeout
    ("require-statement-timeout", "ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;", TX, True),
    ("require-statement-timeout", "SET lock_timeout = '1s';\nALTER TABLE users ALTER COLUMN nick SET DEFAULT 'x';",
     TX, True),
    ("require-statement-timeout", "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);",
     SOLO, True),
    ("require-statement-timeout", "SET statement_timeout = 0;\nALTER TABLE users VALIDATE CONSTRAINT users_fk;",
     TX, False),
    ("require-statement-timeout", "SELECT count(*) FROM users;", TX, False),
    # prefer-robust-stmts
    ("prefer-robust-stmts", "SELECT 1;\nALTER TABLE core_foo ADD COLUMN answer_id integer NULL;", NO_TX, True),
    ("prefer-robust-stmts", "CREATE INDEX CONCURRENTLY core_foo_idx ON core_foo (answer_id);", NO_TX, True),
    ("prefer-robust-stmts", "CREATE INDEX CONCURRENTLY core_foo_idx ON core_foo (answer_id);", TX, True),
    ("prefer-robust-stmts", "DROP INDEX CONCURRENTLY email_idx;", NO_TX, True),
    ("prefer-robust-stmts", "ALTER TABLE t ALTER COLUMN c SET NOT NULL;", NO_TX, True),
    ("prefer-robust-stmts", "ALTER TABLE t RENAME COLUMN a TO b;", NO_TX, True),
    ("prefer-robust-stmts", "ALTER TABLE core_foo ADD COLUMN IF NOT EXISTS answer_id integer NULL;", NO_TX, False),
    ("prefer-robust-stmts", "BEGIN;\nALTER TABLE core_foo ADD COLUMN answer_id integer NULL;\nCOMMIT;", NO_TX, False),
    ("prefer-robust-stmts", "ALTER TABLE core_foo ADD COLUMN answer_id integer NULL;", TX, False),
    ("prefer-robust-stmts", "CREATE INDEX CONCURRENTLY ON core_foo (answer_id);", NO_TX, False),
    ("prefer-robust-stmts", "ALTER TABLE app_email DROP CONSTRAINT IF EXISTS email_uniq;\n"
                            "ALTER TABLE app_email ADD CONSTRAINT email_uniq UNIQUE USING INDEX email_idx;",
     NO_TX, False),
    ("prefer-robust-stmts", "CREATE TEMP TABLE scratch (id int) ON COMMIT DROP;", NO_TX, False),
    # a file the tool sends as one query runs in one implicit transaction: nothing is left half done
    ("prefer-robust-stmts", "ALTER TABLE a ADD COLUMN c text;\nALTER TABLE b ADD COLUMN d text;", SOLO, False),
    # ban-create-domain-with-constraint
    ("ban-create-domain-with-constraint", "CREATE DOMAIN positive AS int CHECK (VALUE > 0);", TX, True),
    ("ban-create-domain-with-constraint", "CREATE DOMAIN code AS text NOT NULL;", TX, True),
    ("ban-create-domain-with-constraint", "CREATE DOMAIN code AS text;", TX, False),
    # ban-alter-domain-with-add-constraint
    ("ban-alter-domain-with-add-constraint", "ALTER DOMAIN positive ADD CONSTRAINT gt0 CHECK (VALUE > 0);", TX, True),
    ("ban-alter-domain-with-add-constraint",
     "ALTER DOMAIN positive ADD CONSTRAINT gt0 CHECK (VALUE > 0) NOT VALID;", TX, True),
    ("ban-alter-domain-with-add-constraint", "ALTER DOMAIN positive VALIDATE CONSTRAINT gt0;", TX, False),
    ("ban-alter-domain-with-add-constraint", "ALTER DOMAIN positive DROP CONSTRAINT gt0;", TX, False),
    # require-enum-value-ordering
    ("require-enum-value-ordering", "ALTER TYPE mood ADD VALUE 'meh';", TX, True),
    ("require-enum-value-ordering", "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh';", TX, True),
    ("require-enum-value-ordering", "ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok';", TX, False),
    ("require-enum-value-ordering", "ALTER TYPE mood RENAME VALUE 'meh' TO 'fine';", TX, False),
    # require-concurrent-partition-detach
    ("require-concurrent-partition-detach", "ALTER TABLE events DETACH PARTITION events_2020;", TX, True),
    ("require-concurrent-partition-detach", "ALTER TABLE events DETACH PARTITION events_2020;",
     {**TX, "pg_version": 13}, True),
    ("require-concurrent-partition-detach", "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;",
     NO_TX, False),
    # ban-new-write-restriction (opt-in, as in squawk)
    ("ban-new-write-restriction", "ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;", {**TX, **OPT_IN}, True),
    ("ban-new-write-restriction", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_c_key ON t (c);",
     {**NO_TX, **OPT_IN}, True),
    ("ban-new-write-restriction", "ALTER TABLE t ALTER COLUMN c SET NOT NULL;", {**TX, **OPT_IN}, True),
    ("ban-new-write-restriction", "ALTER TABLE t ALTER CONSTRAINT fk NOT DEFERRABLE;", {**TX, **OPT_IN}, True),
    ("ban-new-write-restriction", "ALTER DOMAIN d SET NOT NULL;", {**TX, **OPT_IN}, True),
    ("ban-new-write-restriction", "ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;", TX, False),  # not asked
    ("ban-new-write-restriction", "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_c_idx ON t (c);", {**NO_TX, **OPT_IN},
     False),
    ("ban-new-write-restriction", "CREATE TABLE t (id bigint);\nALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0);",
     {**TX, **OPT_IN}, False),
    ("ban-new-write-restriction", "ALTER TABLE t ALTER CONSTRAINT fk NOT ENFORCED;", {**TX, **OPT_IN}, False),
    # flux-only: clients that never send a NOT NULL column with a DEFAULT get the default
    ("ban-new-write-restriction", "ALTER TABLE t ADD COLUMN IF NOT EXISTS c text NOT NULL DEFAULT 'x';",
     {**TX, **OPT_IN}, False),
    # flux-only: a plan's contract step runs after the code that writes valid rows has shipped
    ("ban-new-write-restriction", "ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;",
     {**TX, **OPT_IN, "phase": "contract"}, False),
]

MY_RULES = sorted({c[0] for c in CASES})


def _ctx(kw: dict) -> FileContext:
    kw = dict(kw)
    include = kw.pop("include_rules", None)
    ctx = FileContext(**kw)
    if include:
        ctx.include_rules = set(include)
    return ctx


def _case_id(case) -> str:
    rule, sql, _, expected = case
    return f"{rule}-{'fires' if expected else 'quiet'}-{CASES.index(case)}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule(case):
    rule, sql, kw, expected = case
    findings = lint_sql(sql, _ctx(kw))
    fired = [f for f in findings if f.rule == rule]
    assert bool(fired) == expected, (sql, [(f.rule, f.message) for f in findings])
    for f in fired:
        assert f.severity == BY_ID[rule].SEVERITY
        assert f.message and "\n" not in f.message


def test_every_rule_has_both_kinds_of_case():
    for rule in MY_RULES:
        kinds = {c[3] for c in CASES if c[0] == rule}
        assert kinds == {True, False}, rule


@pytest.mark.parametrize("rule", MY_RULES)
def test_module_contract(rule):
    mod = BY_ID[rule]
    assert mod.__name__.rsplit(".", 1)[-1] == rule.replace("-", "_")
    assert mod.SEVERITY in ("error", "warning")
    for text in (mod.MESSAGE, mod.HINT):
        assert text and "\n" not in text
    assert _squawk_default(rule) in (True, False)


def _squawk_default(rule: str) -> bool:
    """The module's `# squawk default: yes|no (opt-in)` line."""
    source = Path(BY_ID[rule].__file__).read_text(encoding="utf-8")
    m = re.search(r"^# squawk default: (yes|no \(opt-in\))$", source, re.M)
    assert m, f"{rule}: no '# squawk default:' line"
    return m.group(1) == "yes"


def test_timeout_reported_once_per_file():
    sql = "ALTER TABLE a ADD COLUMN IF NOT EXISTS c text;\nALTER TABLE b ADD COLUMN IF NOT EXISTS d text;"
    findings = lint_sql(sql, FileContext(transactional=True))
    assert [f.line for f in findings if f.rule == "require-lock-timeout"] == [1]
    assert [f.line for f in findings if f.rule == "require-statement-timeout"] == [1]


def test_timeout_in_a_file_that_must_hold_one_statement_says_so():
    sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);"
    solo = lint_sql(sql, _ctx(SOLO))
    for rule in ("require-lock-timeout", "require-statement-timeout"):
        (f,) = [f for f in solo if f.rule == rule]
        assert "alone in its file" in f.message
    # A statement that may run in a transaction block can take a SET before it: plain message.
    plain = lint_sql("ALTER TABLE users ADD COLUMN IF NOT EXISTS nick text;", _ctx(SOLO))
    assert all("alone" not in f.message for f in plain if f.rule == "require-lock-timeout")


def test_squawk_ignore_comment_silences_a_rule():
    sql = ("-- squawk-ignore require-concurrent-index-deletion -- the index is unused and tiny\n"
           "DROP INDEX IF EXISTS orders_status_idx;")
    assert "require-concurrent-index-deletion" not in {f.rule for f in lint_sql(sql, FileContext())}


# --------------------------------------------------------------------------
# Side by side with the real squawk
# --------------------------------------------------------------------------


def _squawk_rules(tmp_path: Path, sql: str, kw: dict, include: str | None = None) -> set[str]:
    exe = shutil.which("squawk")
    if exe is None:
        pytest.skip("the squawk binary is not on PATH (pip install squawk-cli): side-by-side check skipped")
    path = tmp_path / "case.sql"
    path.write_text(sql + "\n", encoding="utf-8")
    cmd = [exe, "--reporter", "json", "--pg-version", str(kw.get("pg_version", 12))]
    if kw.get("transactional", True):
        cmd.append("--assume-in-transaction")
    if include:
        cmd += ["-i", include]
    cmd.append(path.name)
    # cwd: the file's own folder, so no .squawk.toml of this repository is picked up.
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    return {f["rule_name"] for f in json.loads(proc.stdout or "[]")}


POSITIVE = [c for c in CASES if c[3]]
# Positives where flux reads the SQL more closely than squawk 2.70, which stays quiet.
FLUX_ONLY = {
    "REINDEX (CONCURRENTLY false) INDEX users_email_idx;":
        "squawk 2.70 takes the CONCURRENTLY option as given, whatever its value",
}


@pytest.mark.parametrize("case", POSITIVE, ids=_case_id)
def test_squawk_agrees(tmp_path, case):
    rule, sql, kw, _ = case
    if sql in FLUX_ONLY:
        pytest.skip(f"flux-only positive: {FLUX_ONLY[sql]}")
    if _squawk_default(rule):
        assert rule in _squawk_rules(tmp_path, sql, kw), f"squawk does not report {rule} for:\n{sql}"
    else:
        assert rule not in _squawk_rules(tmp_path, sql, kw), f"{rule} is marked opt-in but squawk reports it"
        assert rule in _squawk_rules(tmp_path, sql, kw, include=rule), f"squawk -i {rule} does not report:\n{sql}"


# --------------------------------------------------------------------------
# The planner's own SQL
# --------------------------------------------------------------------------


def test_planner_steps_raise_no_errors_from_these_rules():
    """Every plan flux writes for examples/shop passes these rules (errors), at
    PostgreSQL 16 and 11 (older servers get other SQL)."""
    from cases import CASES as PLAN_CASES
    from shop import SHOP

    from flux_agent.project.config import load_settings
    from flux_agent.entry.actions import plan_migration, read_schema
    from flux_agent.lint.engine import validate_plan

    schema = read_schema(str(SHOP))
    problems = []
    for pg in (16, 11):
        settings = load_settings(SHOP, pg_version=pg)
        for case_id, ops, _ in PLAN_CASES:
            plan = plan_migration(ops, project_dir=str(SHOP), pg_version=pg)
            problems += [f"pg{pg} {case_id} step {f.step}: {f.rule}: {f.message}"
                         for f in validate_plan(plan, schema, settings)
                         if f.rule in MY_RULES and f.severity == "error"]
    assert not problems, "\n".join(problems)
