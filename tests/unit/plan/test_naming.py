"""An index or foreign key made without a name is named as the project's tool names it
(plan/naming.py): the TypeORM names are the ones brocoders' nestjs-boilerplate's own generated
migration holds, the Rails ones as Active Record's and Flux's schema.rb reader make them."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.plan.naming import foreign_key_name, index_name
from flux_agent.plan.planner import build_plan

from shop import SETTINGS, shop_schema


def test_typeorm_names_as_its_default_naming_strategy():
    # 1715028537217-CreateUser.ts: CREATE INDEX "IDX_58e4dbff0e1a32a9bdc861bb29" ON "user" ("firstName"),
    # ADD CONSTRAINT "FK_75e2be4ce11d447ef43be0e374f" FOREIGN KEY ("photoId")
    assert index_name("typeorm", "user", ["firstName"]) == "IDX_58e4dbff0e1a32a9bdc861bb29"
    assert index_name("typeorm", "public.user", ["firstName"]) == "IDX_58e4dbff0e1a32a9bdc861bb29"
    assert foreign_key_name("typeorm", "user", ["photoId"]) == "FK_75e2be4ce11d447ef43be0e374f"
    assert index_name("typeorm", "t", ["b", "a"]) == index_name("typeorm", "t", ["a", "b"])  # sorted, as TypeORM
    assert index_name("typeorm", "t", ["a"], where="a > 0") is None  # its key holds the entity's predicate text


def test_rails_names_as_active_record():
    assert index_name("rails", "entries", ["account_id", "name"]) == "index_entries_on_account_id_and_name"
    assert index_name("rails", "t", ["c" * 60]) is None  # too long: Rails shortens it its own way
    assert foreign_key_name("rails", "mobile_devices", ["oauth_application_id"]) == "fk_rails_f43038a68e"
    assert index_name("sql", "entries", ["name"]) is None and foreign_key_name("prisma", "t", ["a"]) is None


def test_knex_names_as_its_schema_builder():
    """knex's t.index(['userId']) on secrets makes secrets_userid_index (Infisical's indexes): a later
    t.dropIndex(['userId']) looks for that name."""
    assert index_name("knex", "secrets", ["userId"]) == "secrets_userid_index"
    assert index_name("knex", "public.secrets", ["orgId", "envSlug"], unique=True) == "secrets_orgid_envslug_unique"
    assert foreign_key_name("knex", "secrets", ["userId"]) == "secrets_userid_foreign"
    assert index_name("knex", "t", ["c" * 60]) is None  # too long: PostgreSQL's own, as Flux names it


def test_a_plan_names_an_unnamed_index_and_key_for_its_tool():
    ops = parse_operations([{"op": "add_index", "table": "orders", "columns": ["created_at"]},
                            {"op": "add_column", "table": "orders", "column": "product_id", "type": "bigint"},
                            {"op": "add_foreign_key", "table": "orders", "columns": ["product_id"],
                             "ref_table": "products", "ref_columns": ["id"]},
                            {"op": "add_index", "table": "orders", "columns": ["total"], "name": "mine"}])
    sql = "\n".join(s.up_sql or "" for s in build_plan(ops, shop_schema(), SETTINGS, tool="rails").steps)
    assert "index_orders_on_created_at" in sql and foreign_key_name("rails", "orders", ["product_id"]) in sql
    assert " mine " in sql
    plain = "\n".join(s.up_sql or "" for s in build_plan(ops, shop_schema(), SETTINGS, tool="dbmate").steps)
    assert "orders_created_at_idx" in plain and "orders_product_id_fkey" in plain


def test_a_renamed_columns_index_named_by_typeorm_takes_typeorms_name_for_the_new_column():
    """nestjs-boilerplate: after `rename column user.firstName to givenName` the copy kept
    IDX_58e4... (TypeORM's hash of user_firstName), so TypeORM's next migration:generate dropped it and
    built IDX_e467... (its hash of user_givenName) without CONCURRENTLY. The copy is named so now."""
    from flux_agent.plan.planner import planned_schema
    from flux_agent.schema.replay.engine import replay_sql

    schema = replay_sql('CREATE TABLE "user" (id bigint PRIMARY KEY, "firstName" text, "photoId" bigint);\n'
                        'CREATE INDEX "IDX_58e4dbff0e1a32a9bdc861bb29" ON "user" ("firstName");\n'
                        'CREATE INDEX "custom" ON "user" ("firstName", id);')
    ops = parse_operations([{"op": "rename_column", "table": "user", "column": "firstName", "new_name": "givenName"}])
    plan = build_plan(ops, schema, SETTINGS, tool="typeorm")
    sql = "\n".join(s.up_sql or "" for s in plan.steps)
    assert '"IDX_e467bf43fc969a88e9eebb29e1"' in sql  # TypeORM's name for user (givenName)
    after = {i.name: i.columns for i in planned_schema(ops, schema).table("user").indexes}
    assert after.get("IDX_e467bf43fc969a88e9eebb29e1") == ["givenName"] and "IDX_58e4dbff0e1a32a9bdc861bb29" not in after
    assert "custom" in after  # a name of the project's own stays
