"""The bundled examples/shop project as a test bed: its schema, a database
built from its migrations with seeded rows, and helpers to compare a live
database with the planned schema."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg

from flux_agent.model.schema import Schema
from flux_agent.model.settings import Settings
from flux_agent.schema.replay.engine import read_migrations_dir, up_sql_of

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop"
MIGRATIONS = SHOP / "db" / "migrations"
SETTINGS = Settings(backfill_batch_size=700, backfill_sleep_ms=0)

SEED = """
INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 3000) g;
INSERT INTO products (sku, title, price, stock)
  SELECT 'SKU-' || g, 'Product ' || g, (g % 97) + 0.99, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 50 END
  FROM generate_series(1, 600) g;
INSERT INTO orders (user_id, status, total, note)
  SELECT (g % 3000) + 1, CASE WHEN g % 3 = 0 THEN 'paid' ELSE 'pending' END, (g % 500) + 0.5,
         CASE WHEN g % 4 = 0 THEN NULL ELSE 'note ' || g END
  FROM generate_series(1, 5000) g;
INSERT INTO order_items (order_id, product_id, quantity)
  SELECT g, (g % 600) + 1, (g % 7) + 1 FROM generate_series(1, 5000) g;
INSERT INTO legacy_events (kind, payload) SELECT 'k' || (g % 9), jsonb_build_object('n', g) FROM generate_series(1, 1500) g;
"""


def shop_schema() -> Schema:
    return read_migrations_dir(MIGRATIONS)


def build_shop(conn: psycopg.Connection) -> None:
    for path in sorted(MIGRATIONS.glob("*.sql")):
        conn.execute(up_sql_of(path, path.read_text()))
    conn.execute(SEED)
    conn.execute("ANALYZE")


def table_checksum(conn: psycopg.Connection, table: str, columns: list[str]) -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    rows = conn.execute(f'SELECT {cols} FROM "{table}" ORDER BY 1, 2').fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def live_columns(conn: psycopg.Connection) -> dict[str, list[tuple[str, str, bool]]]:
    """table -> [(column, format_type, nullable)] for ordinary tables in public."""
    rows = conn.execute(
        """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY c.relname, a.attname"""
    ).fetchall()
    out: dict[str, list[tuple[str, str, bool]]] = {}
    for table, col, typ, nullable in rows:
        out.setdefault(table, []).append((col, typ, nullable))
    return out


def model_columns(schema: Schema) -> dict[str, list[tuple[str, str, bool]]]:
    return {t.name: sorted((c.name, c.type, c.nullable) for c in t.columns) for t in schema.tables}


def live_indexes(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").fetchall()}


def invalid_indexes(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid").fetchall()]
