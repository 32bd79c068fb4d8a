"""The flux-only rules, each on SQL it must flag and on SQL it must leave alone,
judged against the examples/shop schema (users, products, orders, order_items,
legacy_events) the way `flux validate` and the plan check call them. The planner's own plans
and `flux validate` on the command line, which read the project's schema from the dev database:
tests/integration/lint/test_rules_flux_plans.py."""

from __future__ import annotations

import pytest

from flux_agent.lint.context import FileContext
from flux_agent.model.schema import Schema
from flux_agent.model.settings import Settings
from flux_agent.lint.rules import BY_ID
from flux_agent.schema.replay.engine import read_migrations_dir
from flux_agent.lint.engine import lint_sql

from shop import MIGRATIONS

SCHEMA = read_migrations_dir(MIGRATIONS)

FLUX_RULES = ["missing-rollback", "expand-contract-required", "destructive-outside-contract",
              "unknown-table-or-column", "unbatched-data-change", "set-not-null-without-check", "dangerous-statement"]


def lint(sql: str, schema: Schema | None = SCHEMA, **kw):
    settings = Settings(pg_version=kw.pop("pg_version", 16), include_rules=kw.pop("include", []))
    kw.setdefault("transactional", True)
    ctx = FileContext.for_settings(settings, path="m.sql", schema=schema, **kw)
    return lint_sql(sql, ctx)


def hits(sql: str, rule: str, **kw) -> list:
    return [f for f in lint(sql, include=[rule], **kw) if f.rule == rule]  # an opt-in rule switched on


def test_every_flux_rule_is_registered():
    for rule_id in FLUX_RULES:
        rule = BY_ID[rule_id]
        assert rule.severity in ("error", "warning")
        assert rule.message and "\n" not in rule.message and rule.hint and "\n" not in rule.hint
        assert rule.check is not None or rule.check_file is not None
        assert rule.squawk is None  # flux's own: its ignore comment is flux-ignore, not squawk-ignore


# --------------------------------------------------------------------------
# missing-rollback
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);",
    "ALTER TABLE users ADD COLUMN nickname text;",
    "CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);",
    "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';",
    "CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid';",
    "CREATE TYPE order_state AS ENUM ('new', 'paid');",
])
def test_missing_rollback_flags_reversible_change_with_empty_down(sql):
    found = hits(sql, "missing-rollback", has_down=False)
    assert len(found) == 1 and found[0].severity == "error" and found[0].line == 1


@pytest.mark.parametrize("sql,has_down", [
    ("ALTER TABLE users ADD COLUMN nickname text;", True),   # a down section with SQL
    ("ALTER TABLE users ADD COLUMN nickname text;", None),   # the format has no down section
    ("INSERT INTO users (email) VALUES ('ops@example.com');", False),  # data, nothing reversible
    ("ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;", False),
])
def test_missing_rollback_leaves_alone(sql, has_down):
    assert not hits(sql, "missing-rollback", has_down=has_down)


def test_missing_rollback_from_a_dbmate_file(tmp_path):
    path = tmp_path / "20250301000000_add_nickname.sql"
    path.write_text("-- migrate:up\nALTER TABLE users ADD COLUMN nickname text;\n\n-- migrate:down\n\n")
    from flux_agent.lint.engine import validate_file
    found = [f for f in validate_file(path, Settings(), SCHEMA) if f.rule == "missing-rollback"]
    assert [f.line for f in found] == [2]
    path.write_text("-- migrate:up\nALTER TABLE users ADD COLUMN nickname text;\n\n"
                    "-- migrate:down\nALTER TABLE users DROP COLUMN nickname;\n")
    assert not [f for f in validate_file(path, Settings(), SCHEMA) if f.rule == "missing-rollback"]


# --------------------------------------------------------------------------
# expand-contract-required
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql,op", [
    ("ALTER TABLE users RENAME COLUMN email TO email_address;", "rename_column"),
    ("ALTER TABLE legacy_events RENAME TO events;", "rename_table"),
    ("ALTER TABLE products ALTER COLUMN stock TYPE bigint;", "change_column_type"),
    ("ALTER TABLE orders ALTER COLUMN total TYPE bigint USING round(total * 100);", "change_column_type"),
    ("ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);", "change_column_type"),  # shrinking: a scan
    ("ALTER TABLE orders DROP COLUMN note;", "drop_column"),
])
def test_expand_contract_flags_one_step_breaking_changes(sql, op):
    found = hits(sql, "expand-contract-required")
    assert len(found) == 1 and found[0].severity == "error"
    assert f'flux plan --op \'{{"op":"{op}"' in found[0].message


@pytest.mark.parametrize("sql,phase", [
    ("ALTER TABLE orders ALTER COLUMN note TYPE text;", None),  # varchar -> text: binary-coercible
    ("ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);", None),  # widening
    ("ALTER TABLE products ALTER COLUMN price TYPE numeric(12,2);", None),
    ("ALTER TABLE orders DROP COLUMN note;", "contract"),
    ("ALTER TABLE products RENAME COLUMN stock_flux TO stock;", "contract"),
    ("CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\nALTER TABLE coupons RENAME COLUMN code TO coupon_code;",
     None),
    ("ALTER TABLE legacy_events RENAME TO events;\nCREATE VIEW legacy_events AS SELECT * FROM events;", "expand"),
    ("ALTER INDEX orders_status_idx RENAME TO orders_state_idx;", None),
])
def test_expand_contract_leaves_alone(sql, phase):
    assert not hits(sql, "expand-contract-required", phase=phase)


# --------------------------------------------------------------------------
# destructive-outside-contract
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "DROP TABLE legacy_events;",
    "ALTER TABLE orders DROP COLUMN note;",
    "TRUNCATE legacy_events;",
    "DELETE FROM legacy_events;",
    "UPDATE orders SET status = 'archived';",
])
@pytest.mark.parametrize("phase", [None, "migrate", "expand"])
def test_destructive_flags_outside_contract(sql, phase):
    found = hits(sql, "destructive-outside-contract", phase=phase)
    assert len(found) == 1 and found[0].severity == "error"


@pytest.mark.parametrize("sql,phase", [
    ("DROP TABLE legacy_events;", "contract"),
    ("UPDATE orders SET status = upper(status);", "backfill"),
    ("DELETE FROM legacy_events WHERE kind = 'debug';", None),
    ("UPDATE orders SET status = 'paid' WHERE id = 42;", None),
    ("CREATE TABLE import_rows (id bigint PRIMARY KEY);\nDELETE FROM import_rows;\nDROP TABLE import_rows;", None),
    ("DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;", None),
])
def test_destructive_leaves_alone(sql, phase):
    assert not hits(sql, "destructive-outside-contract", phase=phase)


# --------------------------------------------------------------------------
# unknown-table-or-column
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql,fragment", [
    ("ALTER TABLE customers ADD COLUMN nickname text;", "table customers is not in the schema"),
    ("ALTER TABLE usres ADD COLUMN nickname text;", "did you mean users?"),
    ("ALTER TABLE orders ALTER COLUMN state SET DEFAULT 'new';", "column orders.state does not exist"),
    ("CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);", "orders.customer_id"),
    ("UPDATE products SET stok = 0 WHERE id = 3;", "did you mean stock?"),
    ("DELETE FROM legacy_event WHERE id = 1;", "legacy_event"),
    ("INSERT INTO users (email, full_name) VALUES ('a@example.com', 'A');", "users.full_name"),
    ("ALTER TABLE order_items ADD CONSTRAINT oi_fk FOREIGN KEY (sku) REFERENCES products (sku) NOT VALID;",
     "order_items.sku"),
    ("ALTER TABLE users RENAME COLUMN mail TO email_address;", "users.mail"),
    # renamed earlier in the same file: the old name is gone
    ("ALTER TABLE users RENAME COLUMN email TO email_address;\nCREATE INDEX CONCURRENTLY u_idx ON users (email);",
     "users.email"),
])
def test_unknown_table_or_column_flags(sql, fragment):
    found = hits(sql, "unknown-table-or-column")
    assert len(found) == 1 and fragment in found[0].message


@pytest.mark.parametrize("sql,schema", [
    ("ALTER TABLE orders ADD COLUMN coupon_code text;", SCHEMA),
    ("CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\nCREATE INDEX coupons_code_idx ON coupons (code);",
     SCHEMA),
    ("ALTER TABLE users ADD COLUMN nickname text;\nUPDATE users SET nickname = name WHERE id = 1;", SCHEMA),
    ("ALTER TABLE orders ADD COLUMN discount numeric, ADD CONSTRAINT orders_discount_check CHECK (discount >= 0);",
     SCHEMA),
    ("ALTER TABLE IF EXISTS old_sessions DROP COLUMN token;", SCHEMA),
    ("ALTER TABLE orders DROP COLUMN IF EXISTS coupon_code;", SCHEMA),
    ("ALTER TABLE anything ADD COLUMN x text;", None),  # no schema to judge against
    ("ALTER TABLE anything ADD COLUMN x text;", Schema()),  # an empty schema: nothing is known
])
def test_unknown_table_or_column_leaves_alone(sql, schema):
    assert not hits(sql, "unknown-table-or-column", schema=schema)


# --------------------------------------------------------------------------
# unbatched-data-change
# --------------------------------------------------------------------------


def _with_rows(table: str, rows: int) -> Schema:
    schema = SCHEMA.model_copy(deep=True)
    schema.table(table).row_estimate = rows
    return schema


def test_unbatched_data_change_is_an_error_when_size_unknown():
    found = hits("UPDATE orders SET status = 'paid' WHERE status = 'settled';", "unbatched-data-change")
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].message.startswith("UPDATE orders in one statement (table size unknown)")
    assert '"op":"backfill"' in found[0].message and "\n" not in found[0].message


def test_unbatched_data_change_names_a_known_large_size():
    found = hits("UPDATE orders SET status = 'paid' WHERE status = 'settled';", "unbatched-data-change",
                 schema=_with_rows("orders", 2_000_000))
    assert len(found) == 1 and found[0].severity == "error" and "2,000,000" in found[0].message


@pytest.mark.parametrize("sql,kind", [
    ("UPDATE orders o SET status = 'void' FROM users u WHERE o.user_id = u.id AND u.email LIKE '%@spam.example';",
     "UPDATE orders"),
    ("UPDATE orders SET total = (SELECT sum(quantity) FROM order_items i WHERE i.order_id = orders.id);",
     "UPDATE orders"),
    ("DELETE FROM order_items i USING orders o WHERE i.order_id = o.id AND o.status = 'cancelled';",
     "DELETE FROM order_items"),
    ("DELETE FROM orders WHERE user_id IN (SELECT id FROM users WHERE name IS NULL);", "DELETE FROM orders"),
    ("WITH moved AS (DELETE FROM legacy_events WHERE kind = 'old' RETURNING id, kind)\n"
     "INSERT INTO legacy_events (kind) SELECT kind FROM moved;",
     "DELETE FROM legacy_events and INSERT INTO legacy_events ... SELECT from moved"),
    ("CREATE TABLE orders_archive (id bigint PRIMARY KEY, status text);\n"
     "INSERT INTO orders_archive SELECT id, status FROM orders WHERE status = 'shipped';",
     "INSERT INTO orders_archive ... SELECT from orders"),
])
def test_unbatched_data_change_flags_every_shape(sql, kind):
    found = hits(sql, "unbatched-data-change")
    assert len(found) == 1 and found[0].severity == "error", found
    assert found[0].message.startswith(kind + " in one statement"), found[0].message


def test_delete_without_where_is_left_to_destructive_outside_contract():
    sql = "DELETE FROM legacy_events;"
    assert [f.rule for f in lint(sql) if f.severity == "error"] == ["destructive-outside-contract"]
    # In a contract step that rule is silent; the size of the DELETE still matters.
    assert [f.severity for f in hits(sql, "unbatched-data-change", phase="contract")] == ["error"]


@pytest.mark.parametrize("sql,schema", [
    ("UPDATE orders SET status = 'paid' WHERE status = 'settled';", _with_rows("orders", 800)),
    ("DELETE FROM orders WHERE status = 'cancelled';", _with_rows("orders", 10_000)),
    ("INSERT INTO legacy_events (kind) SELECT status FROM orders;", _with_rows("orders", 50)),
    ("UPDATE orders SET status = 'paid' WHERE id = 42;", SCHEMA),
    ("UPDATE order_items SET quantity = 2 WHERE order_id = 1 AND product_id = 7;", SCHEMA),
    ("UPDATE orders SET status = 'paid' WHERE id IN (1, 2, 3);", SCHEMA),
    ("DELETE FROM users WHERE email = 'support@example.com';", SCHEMA),  # users_email_key: one row at most
    ("UPDATE orders SET status = 'paid' WHERE id >= 1 AND id < 5001;", SCHEMA),
    ("DELETE FROM order_items WHERE order_id BETWEEN 1 AND 1000;", SCHEMA),
    ("DELETE FROM legacy_events WHERE id IN (SELECT id FROM legacy_events WHERE kind = 'debug' LIMIT 1000);",
     SCHEMA),
    ("INSERT INTO legacy_events (kind) SELECT status FROM orders WHERE id BETWEEN 1 AND 1000;", SCHEMA),
    ("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com');", SCHEMA),
    ("CREATE TABLE staging (id bigint PRIMARY KEY, v text);\nUPDATE staging SET v = 'x';", SCHEMA),
    ("CREATE TABLE staging (id bigint PRIMARY KEY, v text);\nINSERT INTO legacy_events (kind) SELECT v FROM staging;",
     SCHEMA),
    ("DO $$\nBEGIN\n  UPDATE orders SET status = 'paid' WHERE id BETWEEN 1 AND 1000;\n  COMMIT;\nEND\n$$;", SCHEMA),
])
def test_unbatched_data_change_leaves_alone(sql, schema):
    assert not hits(sql, "unbatched-data-change", schema=schema)


# --------------------------------------------------------------------------
# set-not-null-without-check
# --------------------------------------------------------------------------


def test_set_not_null_without_check_flags_and_explains_three_steps():
    found = hits("ALTER TABLE products ALTER COLUMN stock SET NOT NULL;", "set-not-null-without-check")
    assert len(found) == 1 and found[0].severity == "error"
    msg = found[0].message
    assert "CHECK (stock IS NOT NULL) NOT VALID" in msg and "VALIDATE CONSTRAINT" in msg


def test_set_not_null_check_not_yet_validated_is_flagged():
    sql = ("ALTER TABLE products ADD CONSTRAINT products_stock_not_null CHECK (stock IS NOT NULL) NOT VALID;\n"
           "ALTER TABLE products ALTER COLUMN stock SET NOT NULL;")
    assert [f.line for f in hits(sql, "set-not-null-without-check")] == [2]


def test_set_not_null_before_pg12_is_always_flagged():
    sql = ("ALTER TABLE products VALIDATE CONSTRAINT products_stock_not_null;\n"
           "ALTER TABLE products ALTER COLUMN stock SET NOT NULL;")
    found = hits(sql, "set-not-null-without-check", pg_version=11)
    assert len(found) == 1 and "before PostgreSQL 12" in found[0].message


def _schema_with_check(validated: bool) -> Schema:
    from flux_agent.model.schema import Constraint
    schema = SCHEMA.model_copy(deep=True)
    schema.table("products").constraints.append(Constraint(
        name="products_stock_not_null", kind="check", columns=["stock"], expression="stock IS NOT NULL",
        validated=validated))
    return schema


@pytest.mark.parametrize("sql,schema", [
    ("ALTER TABLE products ADD CONSTRAINT products_stock_not_null CHECK (stock IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE products VALIDATE CONSTRAINT products_stock_not_null;\n"
     "ALTER TABLE products ALTER COLUMN stock SET NOT NULL;", SCHEMA),
    ("ALTER TABLE products ALTER COLUMN stock SET NOT NULL;", _schema_with_check(True)),
    ("ALTER TABLE products VALIDATE CONSTRAINT products_stock_not_null;\n"
     "ALTER TABLE products ALTER COLUMN stock SET NOT NULL;", _schema_with_check(False)),
    ("ALTER TABLE products ADD CONSTRAINT products_stock_not_null CHECK (stock IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE products VALIDATE CONSTRAINT products_stock_not_null;\n"
     "ALTER TABLE products ALTER COLUMN stock SET NOT NULL;", None),  # proven in the file, no schema needed
    ("CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\nALTER TABLE coupons ALTER COLUMN code SET NOT NULL;",
     SCHEMA),
    ("ALTER TABLE orders ALTER COLUMN status SET NOT NULL;", SCHEMA),  # already NOT NULL: no scan
])
def test_set_not_null_leaves_alone(sql, schema):
    assert not hits(sql, "set-not-null-without-check", schema=schema)


# --------------------------------------------------------------------------
# dangerous-statement
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "DROP DATABASE shop_staging;",
    "DROP SCHEMA reporting CASCADE;",
    "ALTER SYSTEM SET max_connections = 500;",
    "COPY users (email) FROM PROGRAM 'curl -s https://example.com/users.csv';",
    "SELECT pg_read_file('/etc/passwd');",
    "INSERT INTO legacy_events (kind, payload) SELECT 'import', pg_read_binary_file('/tmp/x')::text::jsonb;",
    "SELECT lo_import('/var/lib/postgresql/dump.bin');",
    "SELECT * FROM dblink('host=prod dbname=shop', 'SELECT id FROM users') AS t(id bigint);",
    "CREATE EXTENSION dblink;",
    "CREATE EXTENSION IF NOT EXISTS plpython3u;",
    "DO $$ BEGIN PERFORM dblink_exec('host=prod', 'DELETE FROM users'); END $$;",
])
def test_dangerous_statement_flags(sql):
    found = hits(sql, "dangerous-statement")
    assert len(found) == 1 and found[0].severity == "error"


@pytest.mark.parametrize("sql", [
    'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";',
    "CREATE EXTENSION IF NOT EXISTS pgcrypto;",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
    "DROP SCHEMA IF EXISTS scratch;",
    "COPY users (email) FROM STDIN;",
    "SELECT set_config('app.mode', 'migrate', true);",
])
def test_dangerous_statement_leaves_alone(sql):
    assert not hits(sql, "dangerous-statement")


# --------------------------------------------------------------------------
# Ignore comments
# --------------------------------------------------------------------------


def test_flux_ignore_with_reason_silences_one_statement():
    sql = ("-- flux-ignore destructive-outside-contract: the table holds a one-off import, emptied on purpose\n"
           "TRUNCATE legacy_events;\nTRUNCATE legacy_events;")
    assert [f.line for f in hits(sql, "destructive-outside-contract")] == [3]


def test_flux_ignore_takes_squawks_separator_too():
    """mastodon's `# flux-ignore rule -- why` was read as the rules `--`, `why`..., and no reason."""
    sql = ("-- flux-ignore destructive-outside-contract -- a one-off import, emptied on purpose\n"
           "TRUNCATE legacy_events;\nTRUNCATE legacy_events;")
    assert [f.line for f in hits(sql, "destructive-outside-contract")] == [3]
    assert not [f for f in lint(sql) if f.rule == "ignore-without-reason"]


def test_flux_ignore_without_reason_is_an_error():
    found = lint("-- flux-ignore destructive-outside-contract\nTRUNCATE legacy_events;")
    rules = {f.rule for f in found}
    assert {"ignore-without-reason", "destructive-outside-contract"} <= rules


def test_set_not_null_judged_without_a_schema_is_said_once():
    """A migration judged alone (Rails' are): the CHECK an earlier migration validated cannot be seen.
    adding-not-nullable-field said "no validated CHECK is known" as an error and this rule "not known"
    as a warning, on the same line (maybe-finance: 22 of them); the first one says it now."""
    sql = "ALTER TABLE products ALTER COLUMN stock SET NOT NULL;"
    assert hits(sql, "set-not-null-without-check", schema=None) == []
    assert [f.severity for f in hits(sql, "adding-not-nullable-field", schema=None)] == ["error"]
    judged = hits(sql, "set-not-null-without-check")  # with the schema: no validated CHECK, an error
    assert [f.severity for f in judged] == ["error"]


# --------------------------------------------------------------------------
# The schema a rule reads: the one just before its statement
# --------------------------------------------------------------------------


def test_a_column_made_not_null_earlier_in_the_file_is_not_scanned_again():
    """drizzle files repeat SET NOT NULL; the second finds the column NOT NULL already, and
    PostgreSQL checks nothing (the rule read the schema before the file and flagged both)."""
    sql = ("ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n"
           "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n")
    assert [f.line for f in hits(sql, "adding-not-nullable-field")] == [1]


def test_a_type_changed_earlier_in_the_file_is_the_type_the_next_change_starts_from():
    """A second change to the type the first one made rewrites nothing (binary coercible)."""
    sql = ("ALTER TABLE users ALTER COLUMN name TYPE bigint USING 0;\n"
           "ALTER TABLE users ALTER COLUMN name TYPE bigint;\n")
    assert [f.line for f in hits(sql, "changing-column-type")] == [1]


def test_sql_that_does_not_parse_is_one_finding_and_a_template_is_named():
    """The engine's own finding for SQL that does not parse; a file of template actions (gobuffalo
    pop's `{{ index .Options "Namespace" }}`, supabase's auth) says to validate the rendered SQL."""
    plain = lint("ALTER TABLE users ADD COLUMN;\nDROP TABLE users;\n")
    assert [(f.rule, f.line) for f in plain] == [("syntax-error", 1)] and "fix the syntax" in plain[0].hint
    template = lint('CREATE TABLE IF NOT EXISTS {{ index .Options "Namespace" }}.users (id uuid);\n')
    assert [f.rule for f in template] == ["syntax-error"] and "rendered SQL" in template[0].hint


@pytest.mark.parametrize("sql,lock,hint", [
    ("ALTER TABLE products ADD CONSTRAINT products_sku_key UNIQUE (sku);", "ACCESS EXCLUSIVE",
     "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX"),
    ("ALTER TABLE products ADD CONSTRAINT stock_ok CHECK (stock >= 0);", "ACCESS EXCLUSIVE", "NOT VALID"),
    ("ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id);",
     "SHARE ROW EXCLUSIVE", "NOT VALID"),
])
def test_constraint_missing_not_valid_says_the_lock_and_a_remedy_the_kind_has(sql, lock, hint):
    """redash: a UNIQUE constraint's finding said it cannot be NOT VALID, and its hint said to add it
    NOT VALID; and "blocking writes" where the lock is ACCESS EXCLUSIVE."""
    found = [f for f in lint(sql) if f.rule == "constraint-missing-not-valid"]
    assert len(found) == 1 and lock in found[0].message and hint in found[0].hint
    assert ("NOT VALID" in found[0].hint) == (hint == "NOT VALID")


@pytest.mark.parametrize("rule,sql,messages", [
    # Infisical's migration dropping four columns' NOT NULL got four identical lines
    ("ban-drop-not-null", "ALTER TABLE orders ALTER COLUMN status DROP NOT NULL;\n"
                          "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
     ["dropping NOT NULL on orders.status lets NULLs reach running code that assumes there are none",
      "dropping NOT NULL on users.email lets NULLs reach running code that assumes there are none"]),
    # Django's db_index on a varchar makes a btree and a _like index: two identical lines at one line
    ("require-concurrent-index-creation", 'CREATE INDEX "orders_status_idx2" ON orders (status);\n'
                                          'CREATE INDEX "orders_status_like" ON orders (status varchar_pattern_ops);',
     ["CREATE INDEX orders_status_idx2 without CONCURRENTLY blocks writes to orders while the index builds",
      "CREATE INDEX orders_status_like without CONCURRENTLY blocks writes to orders while the index builds"]),
])
def test_a_finding_names_what_it_is_about(rule, sql, messages):
    assert [f.message for f in lint(sql) if f.rule == rule] == messages


def test_a_concurrent_index_is_not_told_to_run_in_a_transaction():
    """prefer-robust-stmts' hint said "or run the migration in a transaction", which CONCURRENTLY cannot,
    and IF NOT EXISTS alone keeps the INVALID index a failed build leaves (mastodon's 57 add_index)."""
    [found] = hits("CREATE INDEX CONCURRENTLY orders_total ON orders (total);", "prefer-robust-stmts",
                   transactional=False)
    assert "transaction" not in found.hint and "DROP INDEX CONCURRENTLY IF EXISTS" in found.hint, found.hint
