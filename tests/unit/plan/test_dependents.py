"""What a column or table change would break, from Schema.dependencies: function bodies are
found by PostgreSQL's scanner (names, not text in strings or comments), each named with its
line; every blocker is named in one message."""

from __future__ import annotations

import pytest

from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column, Dependencies, Dependent, Function, Schema, Table
from flux_agent.plan.ops._dependents import column_dependents, functions_naming, table_dependents

USERS = Table(name="users", columns=[Column(name="id", type="bigint"), Column(name="email", type="text")],
              primary_key=["id"])


def _fn(body: str, triggers=()) -> Function:
    return Function(name="f()", language="plpgsql", body=body, triggers=list(triggers))


def test_a_trigger_function_on_the_table_is_found_by_the_column_name_with_its_line():
    fn = _fn("\nBEGIN\n  -- email is checked\n  IF NEW.email IS NULL THEN RAISE 'email'; END IF;\nEND", ["t on users"])
    assert functions_naming([fn], USERS, "email") == [
        "function f() (called by trigger t on users) names email at line 4 of its body"]


def test_other_functions_must_name_the_table_too():
    assert functions_naming([_fn("SELECT email FROM people")], USERS, "email") == []
    assert functions_naming([_fn("SELECT \"email\" FROM users")], USERS, "email") == [
        "function f() names email at line 1 of its body"]


def test_a_table_named_only_by_its_own_trigger_functions_is_no_blocker():
    own = _fn("INSERT INTO users_log SELECT 1 FROM users", ["t on users"])
    other = _fn("SELECT count(*) FROM users")
    assert functions_naming([own, other], USERS, None) == ["function f() names users at line 1 of its body"]


def test_every_blocker_in_one_line():
    deps = Dependencies(dependents=[
        Dependent(kind="view", name="v", table="users", columns=["email"], definition="SELECT users.email FROM users"),
        Dependent(kind="generated_column", name="domain", table="users", columns=["email"], definition="split(email)"),
    ], functions=[_fn("SELECT email FROM users")])
    schema = Schema(tables=[USERS], dependencies=deps)
    with pytest.raises(FluxInputError) as exc:
        column_dependents(schema, USERS, "email", "drop", extra=["foreign key k on t (drop it first)"])
    message = str(exc.value)
    assert "\n" not in message
    for part in ("foreign key k on t", "view v (reads email)", "generated column users.domain",
                 "function f() names email at line 1"):
        assert part in message


def test_without_postgresql_only_the_model_s_blockers_count():
    schema = Schema(tables=[USERS])
    assert column_dependents(schema, USERS, "email", "rename", "mail").views == []
    with pytest.raises(FluxInputError, match="foreign key k"):
        table_dependents(schema, USERS, "drop", extra=["foreign key k on t (drop it first)"])


def test_without_postgresql_a_copy_keeps_the_model_s_method_and_operator_class():
    from flux_agent.entry.actions import parse_operations
    from flux_agent.model.schema import Index
    from flux_agent.model.settings import Settings
    from flux_agent.plan.planner import build_plan

    table = USERS.model_copy(update={"indexes": [Index(name="users_email_trgm", columns=["email"], method="gin",
                                                       opclasses=["gin_trgm_ops"])]})
    plan = build_plan(parse_operations([{"op": "rename_column", "table": "users", "column": "email",
                                         "new_name": "mail"}]), Schema(tables=[table]), Settings())
    sql = "\n".join(s.up_sql or "" for s in plan.steps)
    # its name, chosen by the project, is kept: the copy takes it in the contract
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_trgm_flux ON users USING gin (mail gin_trgm_ops);" in sql
    assert "ALTER INDEX users_email_trgm_flux RENAME TO users_email_trgm;" in sql
    assert "CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);" in plan.steps[-1].down_sql


def test_what_raw_sql_before_it_drops_no_longer_blocks_a_drop():
    # hatchet's v1_0_138 drops the trigger and the function that names the table, then the table:
    # planned with the statements before it, the table's drop was refused for that function.
    from flux_agent.entry.actions import parse_operations
    from flux_agent.model.settings import Settings
    from flux_agent.plan.planner import build_plan

    other = Table(name="lookup", columns=[Column(name="id", type="bigint")], primary_key=["id"])
    deps = Dependencies(dependents=[Dependent(kind="trigger", name="lookup_fill", table="users", columns=[])],
                        functions=[_fn("INSERT INTO lookup SELECT NEW.id", ["lookup_fill on users"])])
    drop = {"op": "drop_table", "table": "lookup"}
    raw = {"op": "raw_sql", "phase": "contract", "confirm": "the lookup goes away",
           "up": "DROP TRIGGER lookup_fill ON users;\nDROP FUNCTION f();"}

    def plan(ops):
        return build_plan(parse_operations(ops), Schema(tables=[USERS, other], dependencies=deps.model_copy(deep=True)),
                          Settings(), tool="sql")

    with pytest.raises(FluxInputError, match="cannot drop table lookup, used by: function f()"):
        plan([drop])
    assert plan([raw, drop]).steps
    kept = Schema(tables=[USERS, other], dependencies=deps.model_copy(deep=True))
    kept.dependencies.forget("trigger", "lookup_fill", "users")
    assert kept.dependencies.functions[0].triggers == [] and kept.dependencies.dependents == []


def _table(name: str) -> Table:
    return Table(name=name, columns=[Column(name="id", type="bigint"), Column(name="user_id", type="bigint")],
                 primary_key=["id"])


PURGE = ("\nDECLARE r record;\nBEGIN\n"
         "  DELETE FROM posts WHERE user_id = OLD.id;\n"                      # 4: posts.user_id
         "  UPDATE votes v SET weight = 0 WHERE v.user_id = OLD.user_id;\n"    # 5: votes.user_id, comments' (OLD)
         "  INSERT INTO audit (user_id, what) VALUES (1, 'x');\n"              # 6: audit.user_id
         "  FOR r IN SELECT * FROM likes LOOP\n"                              # 7
         "    PERFORM r.user_id;\n"                                           # 8: a field of likes' rows
         "  END LOOP;\n  RETURN OLD;\nEND")


@pytest.mark.parametrize("table, lines", [
    ("comments", [5]),  # the trigger's table: by OLD.user_id alone, not by the other tables' user_id
    ("posts", [4]), ("votes", [5]), ("audit", [6]),
    ("likes", [8]),  # r.user_id: r holds likes' rows (any table the function reads)
    ("other", []),
])
def test_a_function_names_a_column_of_the_tables_its_statements_read(table, lines):
    """PL/pgSQL's own parse: each statement's columns are its tables' (goose project polygon's
    before_delete_user on users was said to name user_settings.user_id at lines 3-6; only 6 did)."""
    fn = Function(name="purge()", language="plpgsql", body=PURGE, triggers=["purge on comments"])
    said = functions_naming([fn], _table(table), "user_id")
    if not lines:
        assert said == []
    else:
        assert said == [f"function purge() (called by trigger purge on comments) names user_id at line "
                        f"{', '.join(map(str, lines))} of its body"]


def test_an_sql_function_s_columns_are_its_statements_tables():
    fn = Function(name="n()", language="sql", body="SELECT count(*) FROM posts p\nWHERE p.user_id = 1")
    assert functions_naming([fn], _table("posts"), "user_id") == ["function n() names user_id at line 1 of its body"]
    assert functions_naming([fn], _table("comments"), "user_id") == []


def test_a_rename_on_the_trigger_s_table_is_planned_where_the_body_names_another_table_s_column():
    from flux_agent.entry.actions import parse_operations
    from flux_agent.model.settings import Settings
    from flux_agent.plan.planner import build_plan

    body = "\nBEGIN\n  DELETE FROM posts WHERE user_id = OLD.id;\n  RETURN OLD;\nEND;\n"
    fn = Function(name="purge_posts()", language="plpgsql", body=body, triggers=["purge_posts on comments"])
    schema = Schema(tables=[_table("posts"), _table("comments")], dependencies=Dependencies(functions=[fn]))

    def plan(table):
        return build_plan(parse_operations([{"op": "rename_column", "table": table, "column": "user_id",
                                             "new_name": "author_id"}]), schema, Settings())
    assert plan("comments").steps  # refused before: "purge_posts() names user_id at line 3"
    with pytest.raises(FluxInputError, match="purge_posts.*names user_id at line 3"):
        plan("posts")
