"""The schema a Rails migration is judged against (lint/readers/_rails_history.py): from the dump
(schema.rb or structure.sql), undone newest first by down parts that give the dump back, or done
forward by pending migrations; none where a down part does not undo its migration."""

from __future__ import annotations

from pathlib import Path

from flux_agent.entry.validate import validate_paths
from flux_agent.lint.readers import _rails_history
from flux_agent.schema.readers.rails import dump_version

SCHEMA_RB = '''ActiveRecord::Schema[7.1].define(version: 2025_01_01_000002) do
  create_table "users", force: :cascade do |t|
    t.string "email", limit: 10
    t.string "name", limit: 10
    t.integer "age"
    t.check_constraint "name IS NOT NULL", name: "name_present", validate: false
  end
end
'''


def migration(name: str, body: str) -> tuple[str, str]:
    return name, f"class M{name[:14]} < ActiveRecord::Migration[7.1]\n{body}end\n"


# Ruby Flux does not run, first: the history from the first migration on is not known.
SETUP = migration("20250101000000_setup.rb", "  def change\n    Setup.run!\n  end\n")
CREATE = migration("20250101000001_create_users.rb", """  def change
    create_table :users do |t|
      t.string :email, limit: 10
      t.string :name, limit: 10
    end
  end
""")
ADD_AGE = migration("20250101000002_add_age.rb", """  def change
    add_column :users, :age, :integer
    add_check_constraint :users, "name IS NOT NULL", name: "name_present", validate: false
  end
""")
# Pending (newer than the dump): email varchar(10) -> text only touches the catalog; the check is
# validated, then NOT NULL is proven by it (strong_migrations' way).
WIDEN = migration("20250101000003_widen_email.rb", """  def change
    change_column :users, :email, :text
  end
""")
NAME_REQUIRED = migration("20250101000004_name_required.rb", """  def up
    validate_check_constraint :users, name: "name_present"
    change_column_null :users, :name, false
  end

  def down
    change_column_null :users, :name, true
  end
""")


def up_down(name: str, up: str, down: str, head: str = "") -> tuple[str, str]:
    """A migration of an up and a down method, each of one line of Ruby."""
    return migration(name, f"{head}  def up\n    {up}\n  end\n\n  def down\n    {down}\n  end\n")


def widen_and_back(name: str) -> tuple[str, str]:
    """email varchar(10) -> text, and back in its down part."""
    return migration(name, """  def up
    change_column :users, :email, :text
  end

  def down
    change_column :users, :email, :string, limit: 10
  end
""")


def project(tmp_path: Path, *files: tuple[str, str], schema_rb: str = SCHEMA_RB) -> Path:
    root = tmp_path / "app"
    (root / "db" / "migrate").mkdir(parents=True)
    (root / "Gemfile").write_text('source "https://rubygems.org"\ngem "rails", "~> 7.1"\ngem "pg"\n')
    (root / "db" / "schema.rb").write_text(schema_rb)
    for name, text in files:
        (root / "db" / "migrate" / name).write_text(text)
    return root


def findings(root: Path) -> dict[str, list[tuple[str, str]]]:
    _, found = validate_paths([str(root / "db" / "migrate")], str(root))
    out: dict[str, list] = {}
    for f in found:
        out.setdefault(Path(f.path).name, []).append((f.rule, f.message))
    return out


def test_pending_migrations_meet_the_dump_and_the_ones_before_them(tmp_path):
    root = project(tmp_path, CREATE, ADD_AGE, WIDEN, NAME_REQUIRED)
    found = findings(root)
    widen = dict(found.get(WIDEN[0], []))
    assert "changing-column-type" not in widen, widen  # varchar(10) -> text: the dump says what email was
    assert "adding-not-nullable-field" not in dict(found.get(NAME_REQUIRED[0], [])), found
    # Without the dump, the history replayed from its first migration (each read whole) says the same.
    (root / "db" / "schema.rb").unlink()
    assert findings(root) == found
    # Neither: the type change may rewrite, the NOT NULL may scan.
    (root / "db" / "migrate" / SETUP[0]).write_text(SETUP[1])
    found = findings(root)
    assert "the current type is unknown" in dict(found[WIDEN[0]])["changing-column-type"]
    assert "adding-not-nullable-field" in dict(found[NAME_REQUIRED[0]])


def test_applied_migrations_meet_the_dump_undone_by_the_later_down_parts(tmp_path):
    widen = widen_and_back("20250101000003_widen_email.rb")
    dumped = SCHEMA_RB.replace("2025_01_01_000002", "2025_01_01_000003").replace(
        't.string "email", limit: 10', 't.text "email"')
    root = project(tmp_path, CREATE, ADD_AGE, widen, schema_rb=dumped)
    schemas = _rails_history._schemas(root / "db" / "migrate", root)
    before_widen = schemas[str((root / "db" / "migrate" / widen[0]).resolve())]
    assert before_widen.table("users").column("email").type == "character varying(10)"
    before_age = schemas[str((root / "db" / "migrate" / ADD_AGE[0]).resolve())]
    assert before_age.table("users").column("age") is None
    assert [c.kind for c in before_age.table("users").constraints] == ["primary_key"]
    assert schemas[str((root / "db" / "migrate" / CREATE[0]).resolve())].table("users") is None
    assert "changing-column-type" not in dict(findings(root).get(widen[0], []))


def test_a_down_part_that_forgets_a_change_leaves_the_migrations_before_it_without_a_schema(tmp_path):
    # maybe-finance's add_start_end_columns_to_balances: its down drops every column it adds but one.
    forgets = migration("20250101000003_add_flags.rb", """  def up
    add_column :users, :active, :boolean
    add_column :users, :admin, :boolean
  end

  def down
    remove_column :users, :active
  end
""")
    # Its down forgets the NOT NULL (SET NOT NULL again changes nothing: the round trip alone agrees).
    forgets_null = migration("20250101000003_name_required.rb", """  def up
    change_column_null :users, :name, false
  end

  def down
  end
""")
    for later, column in ((forgets, 't.boolean "active"\n    t.boolean "admin"'),
                          (forgets_null, None)):
        dumped = SCHEMA_RB.replace("2025_01_01_000002", "2025_01_01_000003")
        dumped = dumped.replace('t.integer "age"', f't.integer "age"\n    {column}') if column else \
            dumped.replace('t.string "name", limit: 10', 't.string "name", limit: 10, null: false')
        root = project(tmp_path / later[0], SETUP, CREATE, ADD_AGE, later, schema_rb=dumped)
        schemas = _rails_history._schemas(root / "db" / "migrate", root)
        # none from the walk back; the walk forward stops after the first (it meets an empty database)
        assert [Path(k).name for k in schemas] == [SETUP[0]], later[0]


def test_the_dump_version_of_schema_rb_and_of_structure_sql(tmp_path):
    root = project(tmp_path)
    assert dump_version(root / "db" / "schema.rb") == 20250101000002
    structure = root / "db" / "structure.sql"
    structure.write_text(
        "CREATE TABLE public.users (id bigint NOT NULL);\n"
        "CREATE TABLE public.schema_migrations (version character varying NOT NULL);\n"
        "SET search_path TO \"$user\", public;\n\n"
        "INSERT INTO \"schema_migrations\" (version) VALUES\n('20250101000009'),\n('1'),\n('20250101000004');\n\n")
    assert dump_version(structure) == 20250101000009
    # structure.sql first, as Rails loads it: every migration of the folder is older than its version
    schemas = _rails_history._schemas(root / "db" / "migrate", root)
    assert schemas == {}  # (no migration files here)
    structure.write_text("CREATE TABLE public.users (id bigint NOT NULL);\n")
    assert dump_version(structure) is None


def test_a_call_of_change_not_read_leaves_its_inverse_unknown_a_table_it_creates_not():
    from flux_agent.lint.readers.rails import read_rails_migration

    def read(body: str):
        return read_rails_migration(Path("20250101000005_x.rb"), migration("20250101000005_x.rb", body)[1])

    helper = read("  def change\n    add_column :users, :bio, :text\n    User.reset_all_bios!\n  end\n")
    assert helper.unread and helper.down_unread  # what Rails inverts of the model call is not known
    inside = read("  def change\n    create_table :notes do |t|\n      t.text :body\n"
                  "      if t.respond_to?(:jsonb)\n        t.jsonb :params\n      end\n    end\n  end\n")
    assert inside.unread and not inside.down_unread  # the table is dropped whole however its columns read
    assert [p.sql for p in inside.down] == ["DROP TABLE notes"]


def test_a_foreign_key_remade_with_another_on_delete_is_a_change_undone(tmp_path):
    # mastodon's fix_generated_annual_reports_foreign_key: DROP and ADD of the same key, ON DELETE CASCADE
    # now; the walk back took it for a statement changing nothing and stopped at the newest file.
    dumped = '''ActiveRecord::Schema[8.0].define(version: 2024_03_01_000000) do
  create_table "accounts", force: :cascade do |t|
  end
  create_table "reports", force: :cascade do |t|
    t.bigint "account_id"
    t.text "note"
  end
  add_foreign_key "reports", "accounts", name: "fk_reports_account", on_delete: :cascade
end
'''
    retype = up_down("20240201000000_note_text.rb", "change_column :reports, :note, :text",
                     "change_column :reports, :note, :string")
    remake = migration("20240301000000_fix_reports_foreign_key.rb", """  def up
    execute 'ALTER TABLE reports DROP CONSTRAINT fk_reports_account, ADD CONSTRAINT fk_reports_account FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE'
  end

  def down
    execute 'ALTER TABLE reports DROP CONSTRAINT fk_reports_account, ADD CONSTRAINT fk_reports_account FOREIGN KEY (account_id) REFERENCES accounts(id)'
  end
""")
    root = project(tmp_path, retype, remake, schema_rb=dumped)
    schemas = _rails_history._schemas(root / "db" / "migrate", root)
    before_remake = schemas[str((root / "db" / "migrate" / remake[0]).resolve())]
    [key] = [c for c in before_remake.table("reports").constraints if c.name == "fk_reports_account"]
    assert key.on_delete is None
    before_retype = schemas[str((root / "db" / "migrate" / retype[0]).resolve())]
    assert before_retype.table("reports").column("note").type == "character varying"


def test_post_deployment_migrations_are_the_same_history_as_db_migrate(tmp_path):
    # mastodon's db/post_migrate: not the folder detection names, its files were taken for changes
    # proposed on top of the final schema.rb (41 "column does not exist" on columns they drop later).
    drop = migration("20250101000003_drop_age.rb", """  def change
    safety_assured { remove_column :users, :age, :integer }
  end
""")
    dumped = SCHEMA_RB.replace("2025_01_01_000002", "2025_01_01_000004").replace('    t.integer "age"\n', "")
    widen = widen_and_back("20250101000004_widen_email.rb")
    dumped = dumped.replace('t.string "email", limit: 10', 't.text "email"')
    root = project(tmp_path, CREATE, ADD_AGE, widen, schema_rb=dumped)
    (root / "db" / "post_migrate").mkdir()
    (root / "db" / "post_migrate" / drop[0]).write_text(drop[1])
    from flux_agent.project.detect import detect, migration_folders

    assert migration_folders(root, detect(root)) == ["db/migrate", "db/post_migrate"]
    schemas = _rails_history._schemas(root / "db" / "post_migrate", root)
    before_drop = schemas[str((root / "db" / "post_migrate" / drop[0]).resolve())]
    assert before_drop.table("users").column("age") is not None  # the widen undone, then the drop
    assert str((root / "db" / "migrate" / ADD_AGE[0]).resolve()) in schemas
    _, found = validate_paths([str(root / "db" / "post_migrate")], str(root))
    assert not [f for f in found if f.rule == "unknown-table-or-column"], found
    # another database's folder is its own history, with its own dump
    folders, dumps = _rails_history.history_folders(root / "db" / "cable_migrate")
    assert folders == [root / "db" / "cable_migrate"] and dumps[1] == root / "db" / "cable_schema.rb"


def test_the_walk_back_passes_renamed_tables_data_migrations_and_view_indexes(tmp_path):
    """mastodon's history stopped, walked back from its schema.rb, at three kinds of migration: a table
    made under a temporary name and renamed (Rails renames its primary key's index with it, and
    schema.rb names its foreign keys from the table's name now), a data migration through a model it
    defines for itself (rows, no table), and indexes renamed on a materialized view (scenic dumps them
    as add_index after its create_view)."""
    dumped = SCHEMA_RB.replace("2025_01_01_000002", "2025_01_01_000005").replace("end\nend\n", '''end

  create_table "notes", force: :cascade do |t|
    t.bigint "user_id"
  end

  add_foreign_key "notes", "users"

  create_view "adults", materialized: true, sql_definition: <<-SQL
      SELECT users.id FROM users;
  SQL
  add_index "adults", ["id"], name: "adults_by_id", unique: true
end
''')
    swap = migration("20250101000003_make_notes.rb", """  def up
    create_table :tmp_notes do |t|
      t.bigint :user_id
    end
    add_foreign_key :tmp_notes, :users
    rename_table :tmp_notes, :notes
  end

  def down
    drop_table :notes
  end
""")
    data = up_down("20250101000004_backfill.rb", "User.where(age: nil).in_batches.update_all(age: 0)",
                   "User.update_all(age: nil)", head="  class User < ApplicationRecord; end\n\n")
    view = up_down("20250101000005_rename_view_index.rb", "rename_index :adults, :adults_idx, :adults_by_id",
                   "rename_index :adults, :adults_by_id, :adults_idx")
    root = project(tmp_path, SETUP, CREATE, ADD_AGE, swap, data, view, schema_rb=dumped)  # (no walk forward)
    schemas = _rails_history._schemas(root / "db" / "migrate", root)
    assert {Path(k).name for k in schemas} >= {view[0], data[0], swap[0], ADD_AGE[0]}, list(schemas)
    assert schemas[str((root / "db" / "migrate" / swap[0]).resolve())].table("notes") is None
    # the reader's rename_table: Rails' own renames of the table and its primary key's index
    from flux_agent.lint.readers.rails import read_rails_migration

    read = read_rails_migration(root / "db" / "migrate" / swap[0], swap[1])
    assert [p.sql.splitlines()[-1] for p in read.up][-2:] == [
        "ALTER TABLE tmp_notes RENAME TO notes", "ALTER INDEX IF EXISTS tmp_notes_pkey RENAME TO notes_pkey"]
    # judged as the table's rename alone: its index's rename is not said again
    assert {rule for rule, _ in findings(root)[swap[0]]} & {"renaming-table", "renaming-object"} == {"renaming-table"}
    # rows changed through it, said as such (a call, or a chain the parser leaves opaque)
    for text in (data[1], data[1].replace("User.where(age: nil).in_batches.update_all(age: 0)", "User.update_all(age: 0)")):
        read = read_rails_migration(root / "db" / "migrate" / data[0], text)
        assert [u.rows_only for u in read.unread] == [True] and "a model this migration defines" in read.unread[0].what
        assert read.down == [] and not read.down_unread
    # a model of the application's (not defined in the migration) may do anything: the walk stops there
    (root / "db" / "migrate" / data[0]).write_text(data[1].replace("  class User < ApplicationRecord; end\n", ""))
    _rails_history._KNOWN.clear()
    schemas = _rails_history._schemas(root / "db" / "migrate", root)
    assert str((root / "db" / "migrate" / swap[0]).resolve()) not in schemas
