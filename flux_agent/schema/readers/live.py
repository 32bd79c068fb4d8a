"""Read a schema from a live PostgreSQL database's catalogs.

One read-only transaction with short statement and lock timeouts; user
schemas only (not pg_catalog, information_schema, pg_toast or temporary
schemas) and nothing an extension owns. Keys follow the replay reader:
unqualified in public, else `schema.name` (search_path is set to public so
format_type() and pg_get_expr() print names the same way).

PostgreSQL prints expressions from its analysed trees (`'x'::text`,
`= ANY (ARRAY[...])`, `'-1'::integer`), while the replay reader prints what the
migration author wrote. Like every reader, this one returns the model in the
normal form of flux_agent.schema.normal, so a schema read here compares equal
to the replayed one.

Triggers, functions, sequences, whole index definitions, policies and generated
columns are read by flux_agent.schema.readers.dependencies into
Schema.dependencies; comments and grants are not read. The server's WAL
settings (when a checkpoint starts) go into Schema.server, for the estimates.
Constraints and indexes a partition inherits from its parent are left out, as
the replay reader does not create them.
"""

from __future__ import annotations

import psycopg

from ...errors import FluxInputError
from ...model.schema import Column, Constraint, EnumType, Index, Schema, ServerFacts, Table, UserType, View
from ..normal import normal_expr, normal_view, normalise_schema
from ..replay.state import make_key
from .dependencies import read_dependencies

__all__ = ["read_live", "normal_expr", "normal_view", "normalise_schema"]

STATEMENT_TIMEOUT = "15s"
LOCK_TIMEOUT = "3s"

# --------------------------------------------------------------------------
# Catalog queries
# --------------------------------------------------------------------------


def _not_extension(classid: str, oid: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{classid}'::regclass "
            f"AND e.objid = {oid} AND e.deptype = 'e')")


_USER_NS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' "
    f"AND {_not_extension('pg_namespace', 'n.oid')}"
)

# Rows: reltuples scaled to the table's current size, as the planner does; -1 (never analysed) is unknown.
_ROWS = ("CASE WHEN r.reltuples < 0 THEN NULL WHEN r.relpages > 0 THEN r.reltuples / r.relpages * "
         "(pg_relation_size(r.oid) / current_setting('block_size')::int) ELSE r.reltuples END")

_TABLES = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind = 'p',
       CASE WHEN c.relkind = 'p' THEN
            (SELECT CASE WHEN count(*) > 0 AND bool_and(r.reltuples >= 0) THEN sum({_ROWS}) END
               FROM pg_partition_tree(c.oid) t JOIN pg_class r ON r.oid = t.relid WHERE t.isleaf)
       ELSE (SELECT {_ROWS} FROM pg_class r WHERE r.oid = c.oid) END,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t)
       ELSE pg_total_relation_size(c.oid) END,
       coalesce(c.reloptions, '{{}}')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND {_USER_NS} AND {_not_extension('pg_class', 'c.oid')}
 ORDER BY c.oid"""

_COLUMNS = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity <> '', a.attgenerated <> '', pg_get_expr(d.adbin, d.adrelid),
       (SELECT co.collname::text FROM pg_type t JOIN pg_collation co ON co.oid = a.attcollation
         WHERE t.oid = a.atttypid AND a.attcollation <> t.typcollation),
       col_description(a.attrelid, a.attnum)
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum"""

# indnullsnotdistinct is PostgreSQL 15's: read through the row's JSON, so older servers give false.
_INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, i.indisprimary, am.amname, pg_get_expr(i.indpred, i.indrelid),
       ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true)
                         ELSE (SELECT a.attname::text FROM pg_attribute a
                                WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]) END
               FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       ARRAY(SELECT CASE WHEN o.opcdefault THEN '' ELSE o.opcname::text END
               FROM generate_series(1, i.indnkeyatts) k JOIN pg_opclass o ON o.oid = i.indclass[k - 1] ORDER BY k),
       ARRAY(SELECT CASE i.indoption[k - 1] & 3 WHEN 0 THEN '' WHEN 3 THEN 'DESC' WHEN 1 THEN 'DESC NULLS LAST'
                    ELSE 'NULLS FIRST' END
               FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       ARRAY(SELECT CASE WHEN i.indcollation[k - 1] IN (0, COALESCE(a.attcollation, 100)) THEN ''
                         ELSE (SELECT c.collname::text FROM pg_collation c WHERE c.oid = i.indcollation[k - 1]) END
               FROM generate_series(1, i.indnkeyatts) k
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]
                                       AND i.indkey[k - 1] <> 0 ORDER BY k),
       ARRAY(SELECT a.attname::text FROM generate_series(i.indnkeyatts + 1, i.indnatts) k
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] ORDER BY k),
       COALESCE((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false), i.indisvalid
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
 WHERE i.indrelid = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
 ORDER BY i.indexrelid"""

# Check constraints list their columns in table order (as the replay reader does); keys in key order.
_CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype, con.convalidated, con.confdeltype, con.confupdtype, con.confmatchtype,
       CASE WHEN con.condeferred THEN 'deferred' WHEN con.condeferrable THEN 'immediate' END,
       pg_get_expr(con.conbin, con.conrelid),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, pos)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
              ORDER BY CASE WHEN con.contype = 'c' THEN k.num ELSE k.pos END),
       rn.nspname, rc.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, pos)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.pos)
  FROM pg_constraint con
  LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'u', 'c', 'f', 'x')
   AND con.conparentid = 0 AND con.conislocal
 ORDER BY con.oid"""

_ENUMS = f"""
SELECT n.nspname, t.typname,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e' AND {_USER_NS} AND {_not_extension('pg_type', 't.oid')}
 ORDER BY t.oid"""

# Ranges, domains and standalone composites (not a table's row type), as CREATE statements.
_TYPES = f"""
SELECT n.nspname, t.typname, t.typtype,
       CASE t.typtype WHEN 'r' THEN format_type(r.rngsubtype, NULL) WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
       CASE t.typtype
         WHEN 'r' THEN format('CREATE TYPE %s AS RANGE (SUBTYPE = %s%s)', t.oid::regtype, format_type(r.rngsubtype, NULL),
                              CASE WHEN r.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text ELSE '' END)
         WHEN 'd' THEN format('CREATE DOMAIN %s AS %s%s%s%s', t.oid::regtype, format_type(t.typbasetype, t.typtypmod),
                              ' DEFAULT ' || t.typdefault, CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END,
                              (SELECT string_agg(format(' CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)), ''
                                                 ORDER BY c.oid) FROM pg_constraint c WHERE c.contypid = t.oid))
         ELSE format('CREATE TYPE %s AS (%s)', t.oid::regtype,
                     (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', '
                                        ORDER BY a.attnum)
                        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
       END
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  LEFT JOIN pg_range r ON r.rngtypid = t.oid
  LEFT JOIN pg_class rel ON rel.oid = t.typrelid
 WHERE (t.typtype IN ('r', 'd') OR t.typtype = 'c' AND rel.relkind = 'c')
   AND {_USER_NS} AND {_not_extension('pg_type', 't.oid')}
 ORDER BY t.oid"""

_VIEWS = f"""
SELECT c.oid, n.nspname, c.relname, pg_get_viewdef(c.oid), c.relkind = 'm', c.relispopulated
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND {_USER_NS} AND {_not_extension('pg_class', 'c.oid')}
 ORDER BY c.oid"""

_VIEW_READS = """
SELECT DISTINCT r.ev_class, dn.nspname, dc.relname
  FROM pg_rewrite r
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
  JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace
 WHERE r.ev_class = ANY(%s) AND d.refobjid <> r.ev_class AND dc.relkind IN ('r', 'p', 'v', 'm', 'f')"""

_EXTENSIONS = "SELECT extname::text FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"

_ON_DELETE = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}  # 'a' NO ACTION: None
_KINDS = {"p": "primary_key", "u": "unique", "c": "check", "f": "foreign_key", "x": "exclude"}
_TYPE_KINDS = {"r": "range", "d": "domain", "c": "composite"}


def read_live(url: str, dependencies: bool = True) -> Schema:
    """The schema of the database at `url` (a libpq URL or conninfo string), with what
    depends on what (Schema.dependencies) unless `dependencies` is False."""
    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=False) as conn:
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            conn.execute("SET LOCAL search_path = public")
            # The catalog queries' estimates (generate_series' 1,000 rows per index) pass jit_above_cost,
            # and compiling them took 0.37 s of a 0.42 s read (23 tables) where the server has JIT.
            conn.execute("SET LOCAL jit = off")
            schema = _read(conn)
            if dependencies:
                schema.dependencies = read_dependencies(conn)
            schema.server = _server(conn)
            conn.rollback()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FluxInputError(f"cannot read the schema from the database: {first}") from None
    return schema


_SERVER = ("SELECT current_setting('server_version_num')::int, pg_size_bytes(current_setting('max_wal_size')), "
           "current_setting('checkpoint_completion_target')::float8")


def _server(conn) -> ServerFacts:
    version, max_wal, target = conn.execute(_SERVER).fetchone()
    return ServerFacts(version_num=version, max_wal_size_bytes=int(max_wal), checkpoint_completion_target=target)


def _index(name, unique, primary, method, where, cols, opclasses, orders, collations, include,
           nulls_not_distinct, valid) -> Index:
    """An index of a table or materialized view, from a row of _INDEXES."""
    return Index(name=name, unique=unique, primary=primary, method=method, columns=list(cols), where=where,
                 opclasses=list(opclasses), orders=list(orders) if any(orders) else [],
                 collations=list(collations) if any(collations) else [], include=list(include),
                 nulls_not_distinct=nulls_not_distinct, valid=valid)


def _read(conn) -> Schema:
    tables: dict[int, Table] = {}
    for oid, ns, name, partitioned, rows, size, storage in conn.execute(_TABLES):
        tables[oid] = Table(name=make_key(ns, name), partitioned=partitioned,
                            row_estimate=None if rows is None else int(round(rows)),
                            size_bytes=None if size is None else int(size), storage=list(storage))
    oids = list(tables)
    for rel, name, typ, notnull, identity, generated, default, collation, comment in conn.execute(_COLUMNS, (oids,)):
        # pg_attrdef holds an identity's nothing and a generated column's expression: neither is a default.
        tables[rel].columns.append(Column(name=name, type=typ, nullable=not notnull,
                                          default=None if identity or generated else default,
                                          generated=default if generated else None, collation=collation,
                                          comment=comment))
    for rel, *index in conn.execute(_INDEXES, (oids,)):
        tables[rel].indexes.append(_index(*index))
    for rel, name, kind, valid, deltype, updtype, matchtype, deferrable, expr, cols, ref_ns, ref_name, ref_cols in \
            conn.execute(_CONSTRAINTS, (oids,)):
        table = tables[rel]
        con = Constraint(name=name, kind=_KINDS[kind], columns=list(cols), validated=valid, deferrable=deferrable)
        if kind == "c":
            con.expression = expr
        elif kind == "f":
            con.ref_table, con.ref_columns = make_key(ref_ns, ref_name), list(ref_cols)
            con.on_delete, con.on_update = _ON_DELETE.get(deltype), _ON_DELETE.get(updtype)
            con.match_full = matchtype == "f"
        elif kind == "x":
            index = next((i for i in table.indexes if i.name == name), None)
            con.columns = list(index.columns) if index else con.columns
        elif kind == "p":
            table.primary_key = list(cols)
        table.constraints.append(con)
    enums = [EnumType(name=make_key(ns, name), values=list(values)) for ns, name, values in conn.execute(_ENUMS)]
    types = [UserType(name=make_key(ns, name), kind=_TYPE_KINDS[kind], over=over, create=create)
             for ns, name, kind, over, create in conn.execute(_TYPES)]
    views: dict[int, View] = {}
    for oid, ns, name, definition, materialized, populated in conn.execute(_VIEWS):
        views[oid] = View(name=make_key(ns, name), definition=definition, materialized=materialized,
                          populated=populated)
    for rel, *index in conn.execute(_INDEXES, ([oid for oid, v in views.items() if v.materialized],)):
        views[rel].indexes.append(_index(*index))
    for view_oid, ns, name in conn.execute(_VIEW_READS, (list(views),)):
        views[view_oid].depends_on.append(make_key(ns, name))
    extensions = [name for (name,) in conn.execute(_EXTENSIONS)]
    schema = Schema(tables=list(tables.values()), enums=enums, types=types, views=list(views.values()),
                    extensions=extensions)
    for v in schema.views:
        v.depends_on = sorted(set(v.depends_on))
    return normalise_schema(schema)
