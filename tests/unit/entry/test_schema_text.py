"""`flux schema` without --json: a table's columns with their defaults, then its keys, checks and
indexes one a line (before, only the columns: no key, no index of outline's 60 tables was shown)."""

from __future__ import annotations

from flux_agent.entry.schema_text import schema_lines
from flux_agent.model.schema import Column, Constraint, Index, Schema, Table, View

ORDERS = Table(
    name="orders",
    columns=[Column(name="id", type="bigint", nullable=False),
             Column(name="user_id", type="bigint", nullable=False),
             Column(name="status", type="text", nullable=False, default="'new'::text", collation="C"),
             Column(name="total", type="numeric(10,2)"),
             Column(name="cents", type="bigint", generated="total * 100")],
    primary_key=["id"],
    constraints=[Constraint(name="orders_pkey", kind="primary_key", columns=["id"]),
                 Constraint(name="orders_user_id_fkey", kind="foreign_key", columns=["user_id"], ref_table="users",
                            ref_columns=["id"], on_delete="CASCADE"),
                 Constraint(name="orders_total_check", kind="check", expression="total >= 0", validated=False)],
    indexes=[Index(name="orders_pkey", columns=["id"], unique=True, primary=True),
             Index(name="orders_user_id_idx", columns=["user_id"], where="status <> 'done'::text"),
             Index(name="orders_tags_idx", columns=["tags"], method="gin"),
             Index(name="orders_recent_idx", columns=["user_id", "lower(status)"], orders=["", "DESC NULLS LAST"]),
             Index(name="orders_status_cover", columns=["status", "user_id"], collations=["C", ""], unique=True,
                   include=["total"], nulls_not_distinct=True)],
)


def test_a_table_shows_its_keys_checks_and_indexes():
    assert schema_lines(Schema(tables=[ORDERS], extensions=["pg_trgm"])) == [
        "orders(id bigint NOT NULL, user_id bigint NOT NULL, status text COLLATE C NOT NULL DEFAULT 'new'::text, "
        "total numeric(10,2), cents bigint GENERATED ALWAYS AS (total * 100) STORED)",
        "  primary key orders_pkey (id)",
        "  foreign key orders_user_id_fkey (user_id) -> users(id) ON DELETE CASCADE",
        "  check orders_total_check (total >= 0) NOT VALID",
        "  index orders_user_id_idx (user_id) where status <> 'done'::text",
        "  index orders_tags_idx using gin (tags)",
        "  index orders_recent_idx (user_id, lower(status) DESC NULLS LAST)",
        "  unique index orders_status_cover (status collate C, user_id) include (total) nulls not distinct",
        "extension pg_trgm",
    ]


def test_a_primary_key_known_only_by_its_columns_is_still_said():
    """A static reader may give the key's columns and no constraint for it."""
    table = Table(name="t", columns=[Column(name="a", type="integer", nullable=False)], primary_key=["a"])
    assert schema_lines(Schema(tables=[table])) == ["t(a integer NOT NULL)", "  primary key (a)"]


def test_a_materialized_view_shows_its_indexes_and_whether_it_holds_rows():
    views = [View(name="active", definition="SELECT 1"),
             View(name="daily", materialized=True, indexes=[Index(name="daily_day", columns=["day"], unique=True)]),
             View(name="weekly", materialized=True, populated=False)]
    assert schema_lines(Schema(views=views)) == [
        "view active",
        "materialized view daily",
        "  unique index daily_day (day)",
        "materialized view weekly (WITH NO DATA: holds no rows until a REFRESH)",
    ]
