"""A batched backfill on a table with row triggers of the project's own firing on UPDATE (Infisical's
`updatedAt` touch on every table) carries a warning at its step: what the trigger writes changes for
every row, and no rollback puts it back. Triggers firing on other events, and Flux's own sync
triggers, say nothing."""

from __future__ import annotations

from flux_agent.entry.actions import parse_operations
from flux_agent.model.schema import Dependencies, Dependent
from flux_agent.plan.planner import build_plan
from shop import SETTINGS, shop_schema

RENAME = [{"op": "rename_column", "table": "users", "column": "name", "new_name": "full_name"}]


def _with(*triggers: tuple[str, str]):
    schema = shop_schema()
    deps = schema.dependencies or Dependencies()
    deps.dependents += [Dependent(kind="trigger", name=name, table="users",
                                  definition=f"CREATE TRIGGER {name} {when} ON public.users FOR EACH ROW "
                                             "EXECUTE FUNCTION touch()") for name, when in triggers]
    return schema.model_copy(update={"dependencies": deps})


def _warnings(schema) -> list:
    plan = build_plan(parse_operations(RENAME), schema, SETTINGS)
    return [(f.step, f.message) for f in plan.findings if f.rule == "backfill-fires-triggers"], plan


def test_a_backfill_on_a_table_with_an_update_trigger_says_so_at_its_step():
    found, plan = _warnings(_with(("users_touch", "BEFORE UPDATE"), ("users_audit", "AFTER INSERT OR UPDATE")))
    [(step, message)] = found
    assert plan.steps[step - 1].batching is not None and plan.steps[step - 1].batching.table == "users"
    assert "fires users_touch (BEFORE UPDATE), users_audit (AFTER UPDATE)" in message
    assert "no rollback puts it back" in message


def test_triggers_on_other_events_and_flux_s_own_say_nothing():
    found, _ = _warnings(_with(("users_audit", "AFTER INSERT"), ("flux_sync_users_name", "BEFORE INSERT OR UPDATE")))
    assert found == []
    found, _ = _warnings(shop_schema())
    assert found == []
