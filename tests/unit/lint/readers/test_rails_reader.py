"""Rails migrations (db/migrate/*.rb) judged as their SQL twins: lint/readers/rails.py reads the
migration DSL statically into the SQL ActiveRecord's PostgreSQL adapter sends, and each unsafe
migration draws the rule ids its SQL twin draws (computed through lint_sql, not written down),
at the line of the call; the safe form stays clear of them; Ruby the reader does not run is
not-analysed at its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flux_agent.lint.context import FileContext
from flux_agent.lint.engine import lint_sql, validate_file
from flux_agent.lint.readers import reader_for
from flux_agent.lint.readers.rails import read_rails_migration
from flux_agent.model.settings import Settings
from flux_agent.schema.readers.rails import read_schema_rb
from flux_agent.schema.replay.engine import replay_sql

ROOT = Path(__file__).resolve().parents[4]
REAL = ROOT.parent / "shared" / "fixtures" / "real"
SETTINGS = Settings(pg_version=16)
SCHEMA = replay_sql(
    "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, nickname text, age integer);\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric);"
)


def migration(body: str, transactional: bool = True, version: str = "7.1") -> str:
    head = f"class SomeChange < ActiveRecord::Migration[{version}]\n"
    return head + ("" if transactional else "  disable_ddl_transaction!\n\n") + body + "end\n"


def change(*calls: str, transactional: bool = True) -> str:
    return migration("  def change\n" + "".join(f"    {c}\n" for c in calls) + "  end\n", transactional)


def twin(sql: str, transactional: bool = True) -> set[str]:
    """The rule ids the SQL twin draws."""
    ctx = FileContext.for_settings(SETTINGS, path="twin.sql", transactional=transactional, schema=SCHEMA)
    return {f.rule for f in lint_sql(sql, ctx)}


def judged(tmp_path: Path, text: str, name: str = "20250101000000_some_change.rb"):
    path = tmp_path / name
    path.write_text(text)
    return validate_file(path, SETTINGS, SCHEMA)


# (the migration, the line of the call, its SQL twin, the rule the twin must draw, transactional)
UNSAFE = {
    "add_index": (change("add_index :users, :email"), 3,
                  "CREATE INDEX index_users_on_email ON users (email);", "require-concurrent-index-creation", True),
    "rename_column": (change("rename_column :users, :name, :full_name"), 3,
                      "ALTER TABLE users RENAME COLUMN name TO full_name;", "renaming-column", True),
    "change_column_null": (change("change_column_null :users, :email, false"), 3,
                           "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", "adding-not-nullable-field", True),
    "add_column_required": (change("add_column :users, :score, :bigint, null: false"), 3,
                            "ALTER TABLE users ADD COLUMN score bigint NOT NULL;", "adding-required-field", True),
    "add_foreign_key": (change("add_foreign_key :orders, :users"), 3,
                        "ALTER TABLE orders ADD CONSTRAINT fk_rails_f868b47f6a FOREIGN KEY (user_id) REFERENCES users (id);",
                        "adding-foreign-key-constraint", True),
    "change_column": (migration("  def up\n    change_column :orders, :total, :bigint\n  end\n\n"
                                "  def down\n    change_column :orders, :total, :numeric\n  end\n"), 3,
                      "ALTER TABLE orders ALTER COLUMN total TYPE bigint;", "changing-column-type", True),
    "remove_column": (change("remove_column :users, :nickname, :text"), 3,
                      "ALTER TABLE users DROP COLUMN nickname;", "ban-drop-column", True),
    "concurrently_in_transaction": (change("add_index :users, :email, algorithm: :concurrently"), 3,
                                    "CREATE INDEX CONCURRENTLY index_users_on_email ON users (email);",
                                    "ban-concurrent-index-creation-in-transaction", True),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_migration_draws_the_rules_of_its_sql_twin_at_the_line_of_the_call(tmp_path, case):
    text, line, sql, rule, transactional = UNSAFE[case]
    expected = twin(sql, transactional)
    assert rule in expected, (case, expected)
    found = judged(tmp_path, text)
    at_line = {f.rule for f in found if f.line == line}
    assert expected <= at_line, (case, expected - at_line, found)
    assert not [f for f in found if f.rule == "not-analysed"], found


# (the migration, the rules its unsafe twin draws that it must not)
SAFE = {
    "concurrent_index": (change("add_index :users, :email, algorithm: :concurrently", transactional=False),
                         {"require-concurrent-index-creation", "ban-concurrent-index-creation-in-transaction"}),
    "reference_concurrent_index": (
        change("add_reference :orders, :account, index: {algorithm: :concurrently}", transactional=False),
        {"require-concurrent-index-creation", "ban-concurrent-index-creation-in-transaction"}),
    "foreign_key_not_valid": (change("add_foreign_key :orders, :users, validate: false"),
                              {"adding-foreign-key-constraint", "constraint-missing-not-valid"}),
    "validate_foreign_key": (change("validate_foreign_key :orders, :users"),
                             {"adding-foreign-key-constraint", "constraint-missing-not-valid", "missing-rollback"}),
    "required_column_with_default": (change("add_column :users, :score, :bigint, null: false, default: 0"),
                                     {"adding-required-field", "adding-not-nullable-field"}),
    "check_then_not_null": (change('add_check_constraint :users, "email IS NOT NULL", name: "users_email_null", '
                                   "validate: false"),
                            {"constraint-missing-not-valid", "adding-not-nullable-field"}),
    "safety_assured_rename": (change("safety_assured { rename_column :users, :name, :full_name }"),
                              {"renaming-column"}),
    "reversible_change_has_a_rollback": (change("add_column :users, :bio, :text"), {"missing-rollback"}),
}


@pytest.mark.parametrize("case", sorted(SAFE))
def test_safe_migration_is_clear_of_the_rules_its_unsafe_twin_draws(tmp_path, case):
    text, banned = SAFE[case]
    found = judged(tmp_path, text)
    assert not {f.rule for f in found} & banned, found
    assert not [f for f in found if f.rule == "not-analysed"], found
    assert not [f for f in found if f.severity == "error"], found


def test_two_migrations_not_valid_then_validate_are_each_clean(tmp_path):
    first = judged(tmp_path, change("add_foreign_key :orders, :users, validate: false"), "20250101000000_a.rb")
    second = judged(tmp_path, change("validate_foreign_key :orders, :users"), "20250101000001_b.rb")
    assert not [f for f in first + second if f.severity == "error"], first + second


def test_sql_as_rails_sends_it():
    text = migration(
        "  disable_ddl_transaction!\n\n  def change\n"
        "    add_column :users, :age2, :integer, null: false, default: 0\n"
        "    add_index :users, :email, unique: true, algorithm: :concurrently, where: \"email IS NOT NULL\", name: \"ue\"\n"
        "    change_column_null :users, :email, false, \"none\"\n"
        "    add_reference :orders, :user, foreign_key: true, index: {algorithm: :concurrently}\n"
        "    add_check_constraint :orders, \"total > 0\", name: \"orders_total_positive\", validate: false\n"
        "    create_table :posts do |t|\n"
        "      t.string :title, null: false\n"
        "      t.decimal :price, precision: 10, scale: 2\n"
        "      t.timestamps\n"
        "    end\n"
        "  end\n")
    read = read_rails_migration(Path("m.rb"), text)
    assert read.transactional is False and not read.unread
    assert [(p.line, p.sql) for p in read.up] == [
        (5, "ALTER TABLE users ADD COLUMN age2 integer DEFAULT 0 NOT NULL"),
        (6, "CREATE UNIQUE INDEX CONCURRENTLY ue ON users (email) WHERE email IS NOT NULL"),
        (7, "UPDATE users SET email = 'none' WHERE email IS NULL"),
        (7, "ALTER TABLE users ALTER COLUMN email SET NOT NULL"),
        (8, "ALTER TABLE orders ADD COLUMN user_id bigint"),
        (8, "CREATE INDEX CONCURRENTLY index_orders_on_user_id ON orders (user_id)"),
        (8, "ALTER TABLE orders ADD CONSTRAINT fk_rails_f868b47f6a FOREIGN KEY (user_id) REFERENCES users (id)"),
        (9, "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID"),
        (10, "CREATE TABLE posts (id bigserial primary key, title character varying NOT NULL, price numeric(10,2), "
             "created_at timestamp(6) without time zone NOT NULL, updated_at timestamp(6) without time zone NOT NULL)"),
    ]
    assert read.down and read.down[0].sql == "DROP TABLE posts"  # change: undone in reverse order


def test_execute_heredoc_reversible_and_what_rails_cannot_invert(tmp_path):
    text = migration(
        "  def change\n"
        "    reversible do |dir|\n"
        "      dir.up do\n"
        "        execute <<~SQL\n"
        "          UPDATE users SET age = 0 WHERE id < 100;\n"
        "        SQL\n"
        "      end\n"
        "      dir.down { execute \"UPDATE users SET age = NULL WHERE id < 100\" }\n"
        "    end\n"
        "    add_column :users, :bio, :text\n"
        "  end\n")
    read = read_rails_migration(Path("m.rb"), text)
    assert [(p.line, p.sql.strip()) for p in read.up] == [
        (5, "UPDATE users SET age = 0 WHERE id < 100;"), (11, "ALTER TABLE users ADD COLUMN bio text")]
    assert [p.sql for p in read.down] == ["ALTER TABLE users DROP COLUMN bio", "UPDATE users SET age = NULL WHERE id < 100"]
    # execute in a change without reversible: Rails cannot roll it back, so the down part is empty; said
    # at the execute (line 4), which made it so, not at the add_column it leaves behind
    found = judged(tmp_path, change("add_column :users, :bio, :text", "execute 'UPDATE users SET bio = name WHERE id = 1'"))
    assert ("missing-rollback", 4) in {(f.rule, f.line) for f in found}, found


def test_ruby_the_reader_does_not_run_is_not_analysed_at_its_line(tmp_path):
    text = change("add_column :users, :bio, :text",
                  "User.update_all(bio: \"\")",
                  "add_index :users, :name if Rails.env.production?",
                  "%w[a b].each do |c|",
                  "  add_column :users, c, :text",
                  "end",
                  "execute \"UPDATE users SET bio = '#{Time.now}'\"",
                  "frobnicate :users")
    found = judged(tmp_path, text)
    unread = {f.line: f.message for f in found if f.rule == "not-analysed"}
    assert sorted(unread) == [4, 5, 6, 9, 10], found
    assert "User.update_all" in unread[4] and "application code" in unread[4]
    assert "interpolates" in unread[9] and "frobnicate" in unread[10]


def test_claims_only_rails_migrations():
    assert reader_for(Path("db/migrate/1_x.rb"), change("add_column :users, :bio, :text")).tool == "rails"
    assert reader_for(Path("config/routes.rb"), "Rails.application.routes.draw do\nend\n") is None


def test_flux_validate_a_rails_project_through_the_cli(tmp_path):
    root = tmp_path / "app"
    (root / "db" / "migrate").mkdir(parents=True)
    (root / "Gemfile").write_text('source "https://rubygems.org"\ngem "rails", "~> 7.1"\ngem "pg"\n')
    (root / "db" / "schema.rb").write_text(
        'ActiveRecord::Schema[7.1].define(version: 2025_01_01_000000) do\n'
        '  create_table "users", force: :cascade do |t|\n    t.string "email"\n    t.string "name"\n  end\nend\n')
    (root / "db" / "migrate" / "20250101000001_index_users_email.rb").write_text(change("add_index :users, :email"))
    (root / "db" / "migrate" / "20250101000002_index_users_name.rb").write_text(
        change("add_index :users, :name, algorithm: :concurrently", transactional=False))
    detected = subprocess.run([sys.executable, "-m", "flux_agent", "detect", "--project", str(root), "--json"],
                              capture_output=True, text=True, timeout=300)
    assert '"rails"' in detected.stdout, detected.stdout + detected.stderr
    done = subprocess.run([sys.executable, "-m", "flux_agent", "validate", str(root / "db" / "migrate"),
                           "--project", str(root)], capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "20250101000001_index_users_email.rb:3" in out and "require-concurrent-index-creation" in out, out
    assert "index_users_name.rb:4: error" not in out and "not-analysed" not in out, out


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real fixtures are not here ({REAL}): ../shared is absent")
@pytest.mark.parametrize("name", ["rails-maybe", "rails-lobsters"])
def test_real_schema_rb_read_as_migration_dsl_replays_to_what_the_schema_reader_reads(name):
    """The fixtures keep no db/migrate (only db/schema.rb / structure.sql); schema.rb's body is
    the same DSL (create_table, t.<type>, t.index, add_foreign_key, create_enum, ...): read as a
    `change` and replayed, its SQL must give the tables the schema.rb reader gives."""
    path = REAL / name / "db" / "schema.rb"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if ".define(" in line)
    version = lines[at].split("[", 1)[1].split("]", 1)[0]
    lines[at] = f"class FromSchema < ActiveRecord::Migration[{version}]; def change"  # same line numbers
    read = read_rails_migration(path, "\n".join(lines) + "\nend\n")
    # lobsters' schema is SQLite's: two index names over 63 bytes and fts5 virtual tables are not PostgreSQL
    assert all("63" in u.what or "create_virtual_table" in u.what for u in read.unread), read.unread
    got = {t.name: t for t in replay_sql(";\n".join(p.sql for p in read.up)).tables}
    want = {t.name: t for t in read_schema_rb(path).tables}
    assert got.keys() == want.keys()
    for key, table in want.items():
        columns = {c.name: (c.type, c.nullable, c.default) for c in got[key].columns}
        assert columns == {c.name: (c.type, c.nullable, c.default) for c in table.columns}, key
        assert {c.name for c in table.constraints} == {c.name for c in got[key].constraints}, key
        assert {i.name for i in table.indexes} - {i.name for i in got[key].indexes} <= {
            i.name for i in table.indexes if len(i.name) > 63}, key


@pytest.mark.parametrize("strong", [False, True])
def test_a_migration_flux_writes_reads_back_as_its_step(strong):
    from flux_agent.model.plan import Step
    from flux_agent.write.tools.rails import render_file

    step = Step(number=2, phase="expand", title="Index users.email", transactional=False,
                up_sql="SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
                down_sql="DROP INDEX CONCURRENTLY users_email_idx;")
    read = read_rails_migration(Path("m.rb"), render_file(step, "IndexUsersEmail", strong=strong))
    assert read.transactional is False and not read.unread
    plain = [line for p in read.up for line in p.sql.strip().splitlines() if not line.startswith("-- flux-ignore")]
    assert plain == ["SET lock_timeout = '1s';", "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"]
    assert [p.sql.strip().splitlines()[-1] for p in read.down] == ["DROP INDEX CONCURRENTLY users_email_idx;"]


def test_column_index_option_and_enums():
    text = change("create_table :accounts, id: :uuid do |t|",
                  "  t.string :email, index: {unique: true}",
                  "  t.column :state, :enum, enum_type: :account_state",
                  "end",
                  "create_enum :plan, %w[free paid]",
                  "rename_enum :plan, :tier")
    read = read_rails_migration(Path("m.rb"), text)
    assert not read.unread
    assert [(p.line, p.sql) for p in read.up] == [
        (3, "CREATE TABLE accounts (id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY, email character varying, "
            "state account_state)"),
        (4, "CREATE UNIQUE INDEX index_accounts_on_email ON accounts (email)"),
        (7, "CREATE TYPE plan AS ENUM ('free', 'paid')"),
        (8, "ALTER TYPE plan RENAME TO tier"),
    ]


def test_an_ignore_comment_in_ruby_covers_the_call_after_it(tmp_path):
    """maybe-finance: every finding said `-- squawk-ignore <rule> -- <why>`, which only SQL's comments
    carry; a Ruby comment saying it above remove_column was read by nobody. The file's own comments
    say it now, and the hints say it in them."""
    text = change("# squawk-ignore ban-drop-column -- the code stopped reading x in 2.3",
                  "remove_column :users, :x, :string",
                  "remove_column :users, :y, :string",
                  "# flux-ignore ban-drop-column",
                  "remove_column :users, :z, :string")
    found = judged(tmp_path, text)
    drops = {f.line for f in found if f.rule == "ban-drop-column"}
    assert drops == {5, 7}, drops  # x's (line 4) is ignored; z's comment gives no reason
    assert [f.line for f in found if f.rule == "ignore-without-reason"] == [6]
    hint = next(f.hint for f in found if f.rule == "ban-drop-column")
    assert "# squawk-ignore ban-drop-column" in hint and "-- squawk-ignore" not in hint


def test_a_heredoc_interpolating_only_a_literal_is_read(tmp_path):
    """RuboCop's trailing-whitespace fix writes `#{' '}` into heredocs (maybe-finance's
    add_constraints_to_account_holdings): the SQL was "not analysed: a string interpolates Ruby" and
    its unbatched DELETEs went unjudged. A literal interpolated is its text; a variable still is not."""
    literal = change("execute <<~SQL", "  DELETE FROM orders#{' '}", "  WHERE total IS NULL", "SQL")
    found = judged(tmp_path, literal)
    assert "not-analysed" not in {f.rule for f in found}
    assert "unbatched-data-change" in {f.rule for f in found}, [f.rule for f in found]
    variable = change("execute <<~SQL", "  DELETE FROM #{table_name}", "SQL")
    assert "not-analysed" in {f.rule for f in judged(tmp_path, variable, "20250101000001_other.rb")}


def test_missing_rollback_stands_at_the_call_rails_cannot_invert(tmp_path):
    """maybe-finance's update_unique_indexes: rename_index (line 3), then remove_index by name alone
    (line 4), which Rails cannot invert. missing-rollback stood at the rename, saying it renamed an
    object; the call that empties the down part is the remove_index."""
    text = change("rename_index :orders, :a_idx, :b_idx", "remove_index :orders, name: :c_idx")
    found = [f for f in judged(tmp_path, text) if f.rule == "missing-rollback"]
    assert [f.line for f in found] == [4] and "cannot invert remove_index" in found[0].message, found
    reversible = change("rename_index :orders, :a_idx, :b_idx")
    assert not [f for f in judged(tmp_path, reversible, "20250101000002_x.rb") if f.rule == "missing-rollback"]


@pytest.mark.parametrize("calls, line", [
    (["change_column :orders, :total, :decimal, precision: 10, scale: 3"], 3),  # maybe-finance: said at line 1
    (["remove_index :orders, name: :c_idx", "add_index :orders, :total"], 3),  # said at the add_index's line 4
    (["add_index :orders, :total", "change_column :orders, :total, :decimal, precision: 10, scale: 3"], 4),
])
def test_missing_rollback_stands_at_the_file_line_of_the_call(tmp_path, calls, line):
    """The call Rails cannot invert is known by its line in the file; the rules' findings are mapped
    from the SQL's lines to the file's, and that line was mapped again as if it were the SQL's."""
    found = [f for f in judged(tmp_path, change(*calls)) if f.rule == "missing-rollback"]
    assert [f.line for f in found] == [line], found


def test_ruby_in_the_down_part_is_no_finding(tmp_path):
    """maybe-finance: Ruby in `def down` and `dir.down` (a model call, a constant's loop) was a
    not-analysed finding, though Flux judges no down part; it only makes the down part not known,
    so missing-rollback does not call it empty either."""
    text = migration("  def up\n    add_column :users, :bio, :text\n  end\n\n"
                     "  def down\n    User.reset_column_information\n    Account.where(x: 1).delete_all\n  end\n")
    found = judged(tmp_path, text)
    assert not [f for f in found if f.rule in ("not-analysed", "missing-rollback")], found
    up_ruby = migration("  def up\n    Account.where(x: 1).delete_all\n  end\n")
    assert [f.line for f in judged(tmp_path, up_ruby, "20250101000003_y.rb") if f.rule == "not-analysed"] == [3]


@pytest.mark.parametrize("call, sql", [
    ("enable_extension 'pgcrypto' unless extension_enabled?('pgcrypto')", "CREATE EXTENSION IF NOT EXISTS pgcrypto"),
    ('enable_extension("pgcrypto") unless extension_enabled?("pgcrypto")', "CREATE EXTENSION IF NOT EXISTS pgcrypto"),
    ("disable_extension 'hstore' if extension_enabled?('hstore')", "DROP EXTENSION IF EXISTS hstore CASCADE"),
    ("enable_extension 'pgcrypto' unless extension_enabled?('other')", None),  # another condition: Ruby logic
    ("enable_extension 'pgcrypto' if Rails.env.production?", None),
    ('enable_extension "pg_catalog.plpgsql"', "CREATE EXTENSION IF NOT EXISTS plpgsql SCHEMA pg_catalog"),  # Rails 8
])
def test_an_extension_guarded_by_what_its_sql_says_already_is_read(call, sql):
    """maybe-finance's first migration: `enable_extension "pgcrypto" unless extension_enabled?(...)` was Ruby
    logic not read; the guard repeats the IF NOT EXISTS Rails sends anyway."""
    read = read_rails_migration(Path("20240201183314_enable_uuid.rb"), change(call))
    if sql is None:
        assert not read.up and [u.line for u in read.unread] == [3], read
    else:
        assert [p.sql for p in read.up] == [sql] and not read.unread and [p.line for p in read.up] == [3], read


def test_a_method_level_rescue_clause_is_not_the_path_that_runs(tmp_path):
    """mastodon's post-deployment index builds: CREATE UNIQUE INDEX CONCURRENTLY, and in `rescue` the
    DROP INDEX that cleans up a failed build; both were judged as running (a blocking DROP INDEX error,
    `rescue` not analysed). `ensure` runs always, `else` when nothing failed."""
    text = migration("  def up\n    add_index :users, :email, unique: true, algorithm: :concurrently\n"
                     "  rescue ActiveRecord::RecordNotUnique\n    remove_index :users, name: :index_users_on_email\n"
                     "    raise\n  else\n    add_column :users, :bio, :text\n  ensure\n    say 'done'\n  end\n",
                     transactional=False)
    read = read_rails_migration(Path("20250101000000_x.rb"), text)
    assert [p.sql for p in read.up] == ["CREATE UNIQUE INDEX CONCURRENTLY index_users_on_email ON users (email)",
                                        "ALTER TABLE users ADD COLUMN bio text"] and not read.unread, read
    found = judged(tmp_path, text)
    assert not [f for f in found if f.rule in ("require-concurrent-index-deletion", "not-analysed")], found


def test_with_options_gives_its_options_to_each_call_of_its_block(tmp_path):
    """mastodon's `with_options if_exists: true do remove_index ... end`: four blocking DROP INDEX were one
    not-analysed warning."""
    text = change("with_options if_exists: true do", "  remove_index :users, :email", "  remove_index :users, :name",
                  "end")
    read = read_rails_migration(Path("20250101000000_x.rb"), text)
    assert [(p.sql, p.line) for p in read.up] == [("DROP INDEX IF EXISTS index_users_on_email", 4),
                                                  ("DROP INDEX IF EXISTS index_users_on_name", 5)], read
    assert not read.unread
    assert [f.line for f in judged(tmp_path, text) if f.rule == "require-concurrent-index-deletion"] == [4, 5]


def test_strong_migrations_settings_and_database_yml_variables_are_what_the_migrations_run_with(tmp_path):
    """StrongMigrations.lock_timeout / statement_timeout are SET before each migration, database.yml's
    `variables:` on each connection: require-lock-timeout said to SET them in every file. Migrations up
    to StrongMigrations.start_after are not checked by strong_migrations (mastodon's: 178 of its 259
    errors), as if in safety_assured."""
    app = tmp_path / "app"
    (app / "config" / "initializers").mkdir(parents=True)
    (app / "db" / "migrate").mkdir(parents=True)
    (app / "config" / "initializers" / "strong_migrations.rb").write_text(
        "# frozen_string_literal: true\n\nStrongMigrations.start_after = 2025_01_01_000000\n"
        "StrongMigrations.lock_timeout = 10.seconds\nStrongMigrations.statement_timeout = 1.hour\n")
    old = app / "db" / "migrate" / "20240101000000_index_email.rb"
    new = app / "db" / "migrate" / "20250201000000_index_name.rb"
    old.write_text(change("add_index :users, :email"))
    new.write_text(change("add_index :users, :name"))
    read = read_rails_migration(new, new.read_text())
    assert [p.sql.splitlines()[-1] for p in read.up[:2]] == ["SET lock_timeout TO 10000",
                                                             "SET statement_timeout TO 3600000"]
    rules = lambda path: {f.rule for f in validate_file(path, SETTINGS, SCHEMA)}  # noqa: E731
    assert "require-concurrent-index-creation" in rules(new)
    assert not rules(new) & {"require-lock-timeout", "require-statement-timeout"}, rules(new)
    assert "require-concurrent-index-creation" not in rules(old)  # before start_after
    # database.yml's variables alone (no initializer): the lock timeout, not the statement timeout
    (app / "config" / "initializers" / "strong_migrations.rb").unlink()
    (app / "config" / "database.yml").write_text(
        "default: &default\n  adapter: postgresql\n  pool: <%= ENV.fetch('MAX_THREADS') { 5 } %>\n"
        "production:\n  <<: *default\n  variables:\n    lock_timeout: 5s\n")
    found = rules(new)
    assert "require-lock-timeout" not in found and "require-statement-timeout" in found, found
    assert "require-concurrent-index-creation" in rules(old)  # no start_after now


def test_the_inverse_of_a_concurrent_add_index_drops_it_concurrently():
    """Rails' invert_add_index keeps :algorithm (mastodon's 20260803172525's down part was a blocking DROP)."""
    read = read_rails_migration(Path("20250101000000_x.rb"),
                                change("add_index :users, :email, algorithm: :concurrently", transactional=False))
    assert [p.sql for p in read.down] == ["DROP INDEX CONCURRENTLY index_users_on_email"], read.down


def test_a_down_method_that_raises_irreversible_migration_is_said_so(tmp_path):
    """mastodon's `raise ActiveRecord::IrreversibleMigration`: missing-rollback said "a rollback leaves it
    behind", where Rails stops the rollback with an error, on purpose; said at the raise now."""
    text = migration("  def up\n    add_column :users, :bio, :text\n  end\n\n"
                     "  def down\n    raise ActiveRecord::IrreversibleMigration\n  end\n")
    [found] = [f for f in judged(tmp_path, text) if f.rule == "missing-rollback"]
    assert found.line == 7 and "down method raises, so `db:rollback` stops with an error" in found.message, found
    assert "flux-ignore missing-rollback" in found.hint


def test_scenic_views_are_read_from_the_apps_view_definitions(tmp_path):
    """The scenic gem (mastodon's account_summaries, global_follow_recommendations): create_view and
    update_view were not part of the DSL Flux reads, so every migration with one was not analysed and
    the schema's history stopped at it."""
    app = tmp_path / "app"
    (app / "config").mkdir(parents=True)
    (app / "db" / "views").mkdir(parents=True)
    (app / "db" / "migrate").mkdir()
    (app / "db" / "views" / "active_users_v01.sql").write_text("SELECT id FROM users WHERE active;\n")
    (app / "db" / "views" / "active_users_v02.sql").write_text("SELECT id, email FROM users WHERE active\n")
    create = app / "db" / "migrate" / "20250101000000_create_active_users.rb"
    create.write_text(change("create_view :active_users"))  # no version: scenic's 1
    read = read_rails_migration(create, create.read_text())
    assert [p.sql for p in read.up] == ["CREATE VIEW active_users AS SELECT id FROM users WHERE active"]
    assert [p.sql for p in read.down] == ["DROP VIEW active_users"] and not read.unread
    update = app / "db" / "migrate" / "20250102000000_update_active_users.rb"
    update.write_text(change("update_view :active_users, version: 2, revert_to_version: 1, materialized: true"))
    read = read_rails_migration(update, update.read_text())
    assert [p.sql for p in read.up] == ["DROP MATERIALIZED VIEW active_users",
                                        "CREATE MATERIALIZED VIEW active_users AS\nSELECT id, email FROM users WHERE active"]
    assert read.down[-1].sql.endswith("SELECT id FROM users WHERE active") and not read.unread
    update.write_text(change("drop_view :active_users"))  # no revert_to_version: scenic cannot invert it
    read = read_rails_migration(update, update.read_text())
    assert read.irreversible is not None and read.down == []
    missing = app / "db" / "migrate" / "20250103000000_x.rb"
    missing.write_text(change("create_view :other_view, version: 3"))
    assert "is not there" in read_rails_migration(missing, missing.read_text()).unread[0].what
    # mastodon's version 3 of account_summaries: a temporary view made from another view's definition
    temporary = app / "db" / "migrate" / "20250104000000_tmp.rb"
    temporary.write_text(change("create_view :tmp_active_users,",
                                "            sql_definition: Scenic::Definition.new(:active_users, 2).to_sql,",
                                "            materialized: true"))
    read = read_rails_migration(temporary, temporary.read_text())
    assert [p.sql for p in read.up] == ["CREATE MATERIALIZED VIEW tmp_active_users AS\n"
                                        "SELECT id, email FROM users WHERE active"] and not read.unread
    temporary.write_text(change("create_view :tmp_active_users, sql_definition: Scenic::Definition.new(name, 2).to_sql"))
    assert "computed by Ruby" in read_rails_migration(temporary, temporary.read_text()).unread[0].what


def test_a_calls_inverse_of_many_statements_keeps_their_order():
    """drop_table with a block is undone by CREATE TABLE, then its indexes: the down part had them
    the other way round (the index on a table not made yet)."""
    read = read_rails_migration(Path("20250101000000_x.rb"), change("drop_table :notes do |t|",
                                                                    "  t.string :title, index: true", "end"))
    assert [p.sql.split(" (")[0] for p in read.down] == ["CREATE TABLE notes", "CREATE INDEX index_notes_on_title ON notes"]


def test_a_method_of_the_migration_is_read_as_its_body_with_yield_as_the_block():
    """mastodon's update_account_summaries_to_version_3: its down method calls a method of its own with
    a block (drop a view, yield, make it again); the down part was not known, and the schema's
    history walked back from the dump stopped there."""
    text = migration("""  def up
    add_column :users, :nick, :string
  end

  def down
    around_views do
      remove_column :users, :nick
    end
  end

  def around_views
    execute "DROP VIEW active_users"
    safety_assured { yield }
    execute "CREATE VIEW active_users AS SELECT id FROM users"
  end

  def with_argument(name)
    add_column :users, name, :text
  end
""")
    read = read_rails_migration(Path("20250101000000_x.rb"), text)
    # (the block's statement inside the method's safety_assured: under its ignore comment)
    assert [p.sql.splitlines()[-1] for p in read.down] == [
        "DROP VIEW active_users", "ALTER TABLE users DROP COLUMN nick", "CREATE VIEW active_users AS SELECT id FROM users"]
    assert read.down[1].sql.startswith("-- flux-ignore ") and read.down[1].line == 8  # the block's own line
    assert not read.down_unread and not read.unread
    read = read_rails_migration(Path("20250101000000_x.rb"), text.replace("    add_column :users, :nick, :string\n",
                                                                          "    with_argument :nick\n"))
    assert "with arguments" in read.unread[0].what and read.up == []
    # a method none of which is read is said once, at its call (not each of its lines)
    only_ruby = text.replace("    add_column :users, :nick, :string\n", "    settle\n").replace(
        "  def with_argument(name)", "  def settle\n    role = Role.find_by(name: 'x')\n    role.save\n  end\n\n"
                                     "  def with_argument(name)")
    read = read_rails_migration(Path("20250101000000_x.rb"), only_ruby)
    assert [(u.line, u.what) for u in read.unread] == [
        (3, "`settle`: calls settle, a method of the migration whose Ruby Flux does not run (lines 19-20)")]


def test_a_change_of_several_reversible_calls_has_a_down_part_that_parses(tmp_path):
    """maybe-finance's `change` migrations of two reversible calls (a rename and an add, a table and its
    index) were judged with their inverses run together as one statement: 99 false down-fails."""
    text = change('rename_column :orders, :status, :state', 'add_column :orders, :color, :string',
                  'add_index :orders, :color')
    assert "down-fails" not in {f.rule for f in judged(tmp_path, text)}
    broken = migration("  def up\n    execute \"ALTER TABLE orders ADD COLUMN c text\"\n  end\n\n"
                       "  def down\n    execute \"ALTER TABLE orders DROPP COLUMN c\"\n  end\n")
    assert "down-fails" in {f.rule for f in judged(tmp_path, broken, "20250102000000_broken.rb")}
