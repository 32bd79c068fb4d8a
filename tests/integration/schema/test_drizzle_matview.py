"""A drizzle schema's materialized view, as drizzle-kit writes it: its snapshot says materialized and
WITH NO DATA, and Flux reads the same model from the snapshot as from replaying the SQL drizzle-kit
generated for it (the snapshot reader took every view for a plain one)."""

from __future__ import annotations

import json

import pytest

from flux_agent.schema.readers.drizzle import schema_from_snapshot
from flux_agent.schema.replay.engine import read_migrations_dir
from tests.integration.write.test_orm_sync_drizzle import drizzle_project

SCHEMA_TS = '''import { pgTable, serial, integer, pgMaterializedView } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";

export const orders = pgTable("orders", {
  id: serial("id").primaryKey(),
  userId: integer("user_id").notNull(),
});

export const perUser = pgMaterializedView("per_user").withNoData().as((qb) =>
  qb.select({ userId: orders.userId, n: sql<number>`count(*)`.as("n") }).from(orders).groupBy(orders.userId));
'''


@pytest.mark.node
@pytest.mark.slow
def test_a_materialized_view_reads_alike_from_the_snapshot_and_the_sql(tmp_path):
    root = drizzle_project(tmp_path / "app", SCHEMA_TS)
    snapshot = json.loads((root / "drizzle" / "meta" / "0000_snapshot.json").read_text())
    from_snapshot, replayed = schema_from_snapshot(snapshot), read_migrations_dir(root / "drizzle", "drizzle")
    view = from_snapshot.view("per_user")
    assert (view.materialized, view.populated) == (True, False)
    other = replayed.view("per_user")
    assert (other.materialized, other.populated) == (True, False)
