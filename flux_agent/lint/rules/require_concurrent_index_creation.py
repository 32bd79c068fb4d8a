"""CREATE INDEX without CONCURRENTLY holds SHARE on the table: writes wait for the whole build.
A partitioned table cannot be indexed CONCURRENTLY (PostgreSQL refuses): its index is made ON
ONLY the table (invalid, no build), then CONCURRENTLY on each partition, attached one by one."""

from pglast import ast

from ...pg.quote import relation_name
from ._flux_common import names_table_of
from ._rule import Rule, Verdict, flags, passes

_PARTITIONED = "CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);"
_PARTITIONED_HINT = ("a partitioned table cannot be indexed CONCURRENTLY: CREATE INDEX ... ON ONLY the table (no "
                     "build), then on each partition CREATE INDEX CONCURRENTLY and ALTER INDEX <the table's index> "
                     "ATTACH PARTITION <the partition's>; the table's index is valid once every partition's is attached")

RULE = Rule(
    id="require-concurrent-index-creation",
    severity="error",
    message="CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds",
    hint="use CREATE INDEX CONCURRENTLY, alone in a migration that runs outside a transaction",
    squawk="default",
    reads_schema=True,  # a partitioned table: another fix, and ON ONLY builds nothing
    nodes=(ast.IndexStmt,),
    examples=[
        flags("CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status);"),
        flags("CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (email);"),
        passes("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);", transactional=False),
        passes("CREATE TABLE t (id bigint);\nCREATE INDEX IF NOT EXISTS t_id_idx ON t (id);"),
        flags("CREATE INDEX IF NOT EXISTS events_at_idx ON events (at);", schema_sql=_PARTITIONED,
              hint=_PARTITIONED_HINT, why="every partition is built under SHARE (its fix is another: ON ONLY, then each partition)"),
        passes("CREATE INDEX IF NOT EXISTS events_at_idx ON ONLY events (at);", schema_sql=_PARTITIONED,
               squawk_agrees=False, why="ON ONLY a partitioned table makes an invalid index on it alone: no build, "
                                        "no partition locked; the step a partitioned table's index starts with"),
        flags("CREATE INDEX IF NOT EXISTS orders_status_idx ON ONLY orders (status);",
              schema_sql="CREATE TABLE orders (id bigint, status text);",
              why="ON ONLY a plain table builds the index all the same"),
        passes("CREATE INDEX IF NOT EXISTS orders_status_idx ON orders (status);",
               schema_sql="CREATE TABLE orders (id bigint, status text);\nCREATE INDEX orders_status_idx ON orders (status);",
               squawk_agrees=False, why="an earlier migration made it: PostgreSQL skips the statement, nothing is built"),
    ],
)

def check(stmt, ctx):
    n = stmt.node
    if not isinstance(n, ast.IndexStmt) or n.concurrent:
        return None
    name = relation_name(n.relation)
    if ctx.table_is_new(name):  # created earlier in this same migration: empty, unseen by the application
        return None
    table = names_table_of(ctx, stmt, name)
    if n.if_not_exists and table is not None and any(i.name == n.idxname for i in table.indexes):
        return None  # there already: PostgreSQL skips it (harbor's later migrations repeat earlier indexes)
    if table is None or not table.partitioned:
        # Named: Django's db_index on a varchar makes two (its btree and its _like index), one line each
        return Verdict(f"CREATE INDEX {n.idxname} without CONCURRENTLY blocks writes to {name} while the index "
                       "builds") if n.idxname else Verdict()
    if not n.relation.inh:
        return None  # ON ONLY: the partitioned table's own (invalid) index, built nowhere
    return Verdict(f"CREATE INDEX on partitioned table {name} builds it on every partition, blocking writes to "
                   f"each while it builds", hint=_PARTITIONED_HINT)
