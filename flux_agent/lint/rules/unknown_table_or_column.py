"""A table or column the schema does not have: a typo, or a migration written
against another branch. Judged against the schema read from the project (the
migrations before this one) plus what earlier statements of this file create."""


from pglast import ast
from pglast.enums import AlterTableType as AT, ConstrType, ObjectType

from ...pg.locks import alter_cmds
from ...pg.parse import iter_nodes
from ...pg.quote import relation_name
from ._flux_common import names_have_tables, renames_a_sequence, table_in, working_names
from ._rule import Rule, Verdict, flags, passes

_SCHEMA = ("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n"
           "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, status text);")

RULE = Rule(
    id="unknown-table-or-column",
    severity="error",
    message="the statement names a table or column that is not in the schema",
    hint="check the spelling against `flux schema`; the migration would fail on the database",
    squawk=None,
    reads_schema=True,
    nodes=(ast.AlterTableStmt, ast.RenameStmt, ast.IndexStmt, ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt,
           ast.RefreshMatViewStmt),
    examples=[
        flags("ALTER TABLE customers ADD COLUMN nickname text;", schema_sql=_SCHEMA),
        flags("ALTER TABLE orders ALTER COLUMN state SET DEFAULT 'new';", schema_sql=_SCHEMA),
        flags("UPDATE users SET emial = 'x' WHERE id = 3;", schema_sql=_SCHEMA),
        flags("INSERT INTO users (email, full_name) VALUES ('a@example.com', 'A');", schema_sql=_SCHEMA),
        flags("ALTER TABLE users RENAME COLUMN email TO email_address;\n"
              "CREATE INDEX CONCURRENTLY u_idx ON users (email);", schema_sql=_SCHEMA,
              why="renamed earlier in the same file: the old name is gone"),
        passes("ALTER TABLE orders ADD COLUMN coupon_code text;", schema_sql=_SCHEMA),
        passes("ALTER TABLE users_id_seq RENAME TO members_id_seq;", schema_sql=_SCHEMA,
               why="a sequence (PostgreSQL takes ALTER TABLE for any relation): netbox's after a table rename"),
        passes("ALTER TABLE orders_pkey RENAME TO orders_pk;", schema_sql=_SCHEMA, why="an index"),
        flags("ALTER TABLE ordres RENAME TO purchases;", schema_sql=_SCHEMA, why="a typo: neither a sequence's name nor an index"),
        passes("CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\n"
               "CREATE INDEX coupons_code_idx ON coupons (code);", schema_sql=_SCHEMA),
        passes("ALTER TABLE IF EXISTS old_sessions DROP COLUMN token;", schema_sql=_SCHEMA),
        passes("ALTER TABLE anything ADD COLUMN x text;", why="no schema to judge against"),
        flags("REFRESH MATERIALIZED VIEW orders;", schema_sql=_SCHEMA, why="a table: PostgreSQL refuses it"),
        flags("REFRESH MATERIALIZED VIEW active;", schema_sql=_SCHEMA + "\nCREATE VIEW active AS SELECT id FROM users;",
              why="a plain view holds no rows to refresh"),
        passes("REFRESH MATERIALIZED VIEW totals;", schema_sql=_SCHEMA,
               why="a view the schema does not hold: schema.rb without scenic, and other readers, keep none"),
        passes("CREATE INDEX CONCURRENTLY IF NOT EXISTS events_3_at_idx ON events_3 (at);",
               schema_sql="CREATE TABLE events (id bigint, at timestamptz) PARTITION BY HASH (id);\n"
                          "SELECT make_partitions('events', 4);", transactional=False,
               why="a partition of a partitioned table: made by code the history runs (here a function) as often "
                   "as by its statements, so its absence is not known"),
        flags("CREATE INDEX CONCURRENTLY IF NOT EXISTS event_3_at_idx ON event_3 (at);",
              schema_sql="CREATE TABLE events (id bigint, at timestamptz) PARTITION BY HASH (id);",
              transactional=False, why="not named after the partitioned table"),
        passes("CREATE TEMP TABLE work AS SELECT o.*, 1 AS batch FROM orders o;\n"
               "ALTER TABLE work ADD COLUMN done boolean;\nCREATE INDEX ON work (batch);\n"
               "UPDATE work SET done = true WHERE total > 0;", schema_sql=_SCHEMA,
               why="a table made from a query: its columns are the query's, which Flux does not expand"),
        passes("ALTER TABLE last_status ADD CONSTRAINT has_status CHECK (status IS NOT NULL) NOT VALID;",
               schema_sql=_SCHEMA + "\nCREATE TABLE last_status AS SELECT user_id, max(status) AS status FROM orders "
                                    "GROUP BY user_id;",
               why="made from an aggregate by an earlier migration: its columns are not all known without a database"),
        flags("ALTER TABLE last_status ADD CONSTRAINT has_status CHECK (stat IS NOT NULL) NOT VALID;",
              schema_sql=_SCHEMA + "\nCREATE TABLE last_status AS SELECT user_id, status FROM orders;",
              why="made from one table's columns, which the replay copies: stat is not one"),
    ],
)

_COLUMN_CMDS = {AT.AT_AlterColumnType, AT.AT_ColumnDefault, AT.AT_SetNotNull, AT.AT_DropNotNull,
                AT.AT_DropColumn, AT.AT_SetStatistics, AT.AT_SetStorage, AT.AT_SetOptions,
                AT.AT_ResetOptions, AT.AT_AddIdentity, AT.AT_DropIdentity, AT.AT_SetIdentity}


def _did_you_mean(name, choices) -> str:
    from difflib import get_close_matches  # only for a name not found: every validate loads this rule

    close = get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _bare_refs(node) -> set[str]:
    out = set()
    for n in iter_nodes(node):
        if isinstance(n, ast.ColumnRef) and len(n.fields) == 1 and isinstance(n.fields[0], ast.String):
            out.add(n.fields[0].sval)
    return out


def _made_by_query(ctx, stmt, table: str) -> bool:
    """Did a statement before `stmt` in this file make `table` from a query (CREATE TABLE AS,
    SELECT INTO), the work tables data migrations make?"""
    for prev in ctx.statements[: stmt.index]:
        n = prev.node
        into = n.into if isinstance(n, ast.CreateTableAsStmt) else n.intoClause if isinstance(n, ast.SelectStmt) else None
        if into is not None and into.rel is not None and relation_name(into.rel) == table:
            return True
    return False


def _maybe_a_partition(schema, name: str) -> bool:
    """Named after a partitioned table (`events_2024_01` of `events`): partitions are made by
    functions, pg_partman or a job as often as by a migration's statements, which replay cannot
    follow; so a partition's absence is not known."""
    return any(t.partitioned and name.startswith(t.name + "_") for t in schema.tables)


def _renames_an_index(node, schema) -> bool:
    """ALTER TABLE x RENAME TO y of an index the schema holds (PostgreSQL takes it for any relation)."""
    return isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE and any(
        i.name == relation_name(node.relation).rsplit(".", 1)[-1] for t in schema.tables for i in t.indexes)


def _has_sublink(node) -> bool:
    return any(isinstance(n, ast.SubLink) for n in iter_nodes(node))


def check(stmt, ctx):
    n = stmt.node
    if isinstance(n, ast.RefreshMatViewStmt):
        return _refreshed(stmt, ctx)
    wanted: list[tuple[str, list[str], bool]] = []  # (table, columns, missing_ok)

    if isinstance(n, ast.AlterTableStmt) and n.objtype == ObjectType.OBJECT_TABLE:
        table = relation_name(n.relation)
        cols: list[str] = []
        added = {c.def_.colname for c in alter_cmds(n)
                 if c.subtype == AT.AT_AddColumn and isinstance(c.def_, ast.ColumnDef)}
        for cmd in alter_cmds(n):
            if cmd.subtype in _COLUMN_CMDS and cmd.name and not (cmd.subtype == AT.AT_DropColumn and cmd.missing_ok):
                cols.append(cmd.name)
            elif cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                con = cmd.def_
                cols += [k.sval for k in con.keys or () if isinstance(k, ast.String)]
                cols += [k.sval for k in con.fk_attrs or () if isinstance(k, ast.String)]
                if con.contype == ConstrType.CONSTR_CHECK and con.raw_expr is not None \
                        and not _has_sublink(con.raw_expr):
                    cols += sorted(_bare_refs(con.raw_expr))
                if con.contype == ConstrType.CONSTR_FOREIGN and con.pktable is not None:
                    wanted.append((relation_name(con.pktable),
                                   [k.sval for k in con.pk_attrs or () if isinstance(k, ast.String)], False))
        wanted.insert(0, (table, [c for c in cols if c not in added], bool(n.missing_ok)))
    elif isinstance(n, ast.RenameStmt) and n.relation is not None and n.relationType in (
            ObjectType.OBJECT_TABLE, ObjectType.OBJECT_ACCESS_METHOD) and n.renameType in (
            ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN):
        cols = [n.subname] if n.renameType == ObjectType.OBJECT_COLUMN and n.subname else []
        wanted.append((relation_name(n.relation), cols, bool(n.missing_ok)))
    elif isinstance(n, ast.IndexStmt):
        cols = []
        for p in n.indexParams or ():
            if isinstance(p, ast.IndexElem):
                if p.name:
                    cols.append(p.name)
                elif p.expr is not None:
                    cols += sorted(_bare_refs(p.expr))
        if n.whereClause is not None and not _has_sublink(n.whereClause):
            cols += sorted(_bare_refs(n.whereClause))
        wanted.append((relation_name(n.relation), cols, False))
    elif isinstance(n, ast.UpdateStmt):
        cols = [t.name for t in n.targetList or () if isinstance(t, ast.ResTarget) and t.name]
        if n.whereClause is not None and not n.fromClause and not _has_sublink(n.whereClause) \
                and n.relation.alias is None:
            cols += sorted(_bare_refs(n.whereClause))
        wanted.append((relation_name(n.relation), cols, False))
    elif isinstance(n, ast.DeleteStmt):
        wanted.append((relation_name(n.relation), [], False))
    elif isinstance(n, ast.InsertStmt):
        cols = [t.name for t in n.cols or () if isinstance(t, ast.ResTarget) and t.name]
        wanted.append((relation_name(n.relation), cols, False))
    if not wanted or not names_have_tables(ctx):  # the statement first: most never need the schema made
        return None

    schema = working_names(ctx, stmt)  # names only: no normalised snapshot needed
    problems = []
    for table_name, cols, missing_ok in wanted:
        if table_name is None:
            continue
        table = table_in(ctx, schema, table_name)
        if table is None:
            if missing_ok or ctx.table_is_new(table_name) or schema.view(table_name) is not None \
                    or _maybe_a_partition(schema, table_name) or renames_a_sequence(n, schema) \
                    or _renames_an_index(n, schema):
                continue
            names = [t.name for t in schema.tables] + [v.name for v in schema.views]
            problems.append(f"table {table_name} is not in the schema{_did_you_mean(table_name, names)}")
            continue
        if table.columns_incomplete or _made_by_query(ctx, stmt, table_name):
            continue  # its columns are a query's result, which replay does not expand (no database)
        seen = set()
        for col in cols:
            if col in seen or table.column(col) is not None or col in _variables(stmt):
                continue
            seen.add(col)
            problems.append(f"column {table_name}.{col} does not exist"
                            f"{_did_you_mean(col, [c.name for c in table.columns])}")
    return Verdict("; ".join(problems)) if problems else None


def _refreshed(stmt, ctx):
    """REFRESH of a table or a plain view, which PostgreSQL refuses. A name the schema does not hold
    is left alone: not every schema keeps views (schema.rb dumps none without scenic)."""
    if not names_have_tables(ctx):
        return None
    schema = working_names(ctx, stmt)
    name = relation_name(stmt.node.relation)
    view = schema.view(name)
    if view is not None and not view.materialized:
        return Verdict(f"{name} is a view, not a materialized view: REFRESH MATERIALIZED VIEW fails (a view holds "
                       "no rows of its own)")
    if view is None and table_in(ctx, schema, name) is not None:
        return Verdict(f"{name} is a table, not a materialized view: REFRESH MATERIALIZED VIEW fails")
    return None


def _variables(stmt) -> frozenset:
    """The names of the DO block the statement runs in (lint/do_blocks.py): not columns."""
    return stmt.memo.get("variables", frozenset())
