"""Read from a live database's catalogs what depends on its tables and columns
(pg_depend and friends): views, rules, indexes with their whole definitions,
triggers, policies, generated columns, partitions and partition keys; user functions with
their bodies; sequences and their owners.

Only PostgreSQL knows these exactly, so only a database read fills them in:
the planner uses them to carry or refuse what a rename, retype or drop would
break. Keys follow the live reader (bare in public, `schema.name` elsewhere);
the caller sets search_path to public so definitions print names that way.
"""

from __future__ import annotations

import psycopg

from ...model.schema import Dependencies, Dependent, Function, Sequence
from ...pg.quote import qname
from ..replay.state import make_key

_USER = ("n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_%%'")


def _mine(classid: str, oid: str) -> str:
    """Not an extension's object."""
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{classid}'::regclass "
            f"AND e.objid = {oid} AND e.deptype = 'e')")


# Relations others may depend on: tables, partitioned tables, views, materialized views.
_RELATIONS = f"""
SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER} AND {_mine('pg_class', 'c.oid')}"""

# One row per (dependent object, relation it uses, column it uses or 0). A view's own
# _RETURN rule depends on the view itself; an index or trigger on its table as a whole
# ('a' with column 0) says nothing a drop of the table would not do anyway.
_DEPENDS = """
SELECT d.classid::regclass::text, d.objid, d.refobjid, d.refobjsubid,
       CASE d.classid
         WHEN 'pg_rewrite'::regclass THEN (SELECT CASE WHEN r.rulename = '_RETURN' THEN
                                                   (SELECT CASE c.relkind WHEN 'm' THEN 'materialized_view'
                                                           ELSE 'view' END FROM pg_class c WHERE c.oid = r.ev_class)
                                                 ELSE 'rule' END FROM pg_rewrite r WHERE r.oid = d.objid)
         WHEN 'pg_class'::regclass THEN (SELECT CASE WHEN c.relkind IN ('i', 'I') THEN 'index' END
                                           FROM pg_class c WHERE c.oid = d.objid)
         WHEN 'pg_trigger'::regclass THEN (SELECT CASE WHEN NOT t.tgisinternal THEN 'trigger' END
                                             FROM pg_trigger t WHERE t.oid = d.objid)
         WHEN 'pg_policy'::regclass THEN 'policy'
         WHEN 'pg_attrdef'::regclass THEN (SELECT CASE WHEN a.attgenerated <> '' THEN 'generated_column' END
                                             FROM pg_attrdef ad JOIN pg_attribute a
                                               ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
                                            WHERE ad.oid = d.objid)
       END,
       CASE WHEN d.refobjsubid > 0 THEN (SELECT a.attname::text FROM pg_attribute a
                                          WHERE a.attrelid = d.refobjid AND a.attnum = d.refobjsubid) END
  FROM pg_depend d
 WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%s) AND d.deptype IN ('n', 'a')
   AND d.classid IN ('pg_rewrite'::regclass, 'pg_class'::regclass, 'pg_trigger'::regclass,
                     'pg_policy'::regclass, 'pg_attrdef'::regclass)
 ORDER BY d.classid, d.objid, d.refobjsubid"""

# An index behind a primary key, unique or exclusion constraint depends on the constraint,
# which depends on the columns: listed here as the index's own use of them. From pg_depend, not
# conkey: conkey lists the keys, not the INCLUDE columns, whose drop drops the constraint too.
_CONSTRAINT_INDEXES = """
SELECT con.conindid, con.conrelid, a.attname::text, CASE WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid) END
  FROM pg_constraint con
  JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = con.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid = con.conrelid AND d.refobjsubid > 0
  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = d.refobjsubid
 WHERE con.contype IN ('p', 'u', 'x') AND con.conindid <> 0 AND con.conrelid = ANY(%s)
 ORDER BY con.conindid, array_position(con.conkey, d.refobjsubid::smallint) NULLS LAST, d.refobjsubid"""

_VIEW_OF_RULE = """
SELECT r.oid, r.ev_class, r.rulename::text, pg_get_viewdef(r.ev_class), pg_get_ruledef(r.oid),
       ARRAY(SELECT format('GRANT %%s ON %%s TO %%s', a.privilege_type, r.ev_class::regclass,
                           CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
               FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = r.ev_class AND a.grantee <> c.relowner
              ORDER BY 1)
  FROM pg_rewrite r WHERE r.oid = ANY(%s)"""

_INDEXES = """
SELECT c.oid, c.relname::text, pg_get_indexdef(c.oid),
       (SELECT p.relname::text FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent WHERE h.inhrelid = c.oid)
  FROM pg_class c WHERE c.oid = ANY(%s)"""

_TRIGGERS = "SELECT t.oid, t.tgname::text, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.oid = ANY(%s)"

_POLICIES = """
SELECT p.oid, p.polname::text,
       concat_ws(' ', 'CREATE POLICY', quote_ident(p.polname), 'ON', %s::text,
                 CASE WHEN NOT p.polpermissive THEN 'AS RESTRICTIVE' END,
                 'FOR', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                      WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                 'TO', CASE WHEN p.polroles = '{0}' THEN 'PUBLIC' ELSE
                         (SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles WHERE oid = ANY(p.polroles)) END,
                 'USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                 'WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
  FROM pg_policy p WHERE p.oid = %s"""

_GENERATED = """
SELECT ad.oid, a.attname::text, pg_get_expr(ad.adbin, ad.adrelid)
  FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum WHERE ad.oid = ANY(%s)"""

# The partition key is in pg_partitioned_table, not in pg_depend (expressions aside).
_PARTITION_KEYS = """
SELECT p.partrelid, pg_get_partkeydef(p.partrelid),
       ARRAY(SELECT a.attname::text FROM unnest(p.partattrs) k JOIN pg_attribute a
               ON a.attrelid = p.partrelid AND a.attnum = k)
  FROM pg_partitioned_table p WHERE p.partrelid = ANY(%s)"""

# A partition depends on its parent ('a' in pg_depend, not listed above): read from pg_inherits.
_PARTITIONS = """
SELECT h.inhrelid, h.inhparent, pg_get_expr(c.relpartbound, c.oid)
  FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
 WHERE h.inhparent = ANY(%s) AND c.relispartition ORDER BY h.inhparent, c.relname"""

_FUNCTIONS = f"""
SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', l.lanname, p.prosrc,
       pg_get_functiondef(p.oid),
       ARRAY(SELECT t.tgname || ' on ' || CASE WHEN tn.nspname = 'public' THEN tc.relname::text
                                               ELSE tn.nspname || '.' || tc.relname END
               FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
              WHERE t.tgfoid = p.oid AND NOT t.tgisinternal ORDER BY 1)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE p.prokind IN ('f', 'p') AND l.lanname NOT IN ('c', 'internal') AND {_USER} AND {_mine('pg_proc', 'p.oid')}
 ORDER BY p.oid"""

_SEQUENCES = f"""
SELECT n.nspname, c.relname,
       (SELECT CASE WHEN tn.nspname = 'public' THEN tc.relname::text ELSE tn.nspname || '.' || tc.relname END
               || '.' || a.attname
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') LIMIT 1),
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype = 'i'),
       EXISTS (SELECT 1 FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i' AND a.attidentity = 'a'),
       q.seqtypid::regtype::text, q.seqincrement, q.seqcache, q.seqcycle, q.seqstart, q.seqmin, q.seqmax
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence q ON q.seqrelid = c.oid
 WHERE c.relkind = 'S' AND {_USER} AND {_mine('pg_class', 'c.oid')}
 ORDER BY c.oid"""
_TYPE_MAX = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}


def _sequence(ns: str, name: str, owner, identity: bool, always: bool, type_: str, increment: int, cache: int,
              cycle: bool, start: int, minimum: int, maximum: int) -> Sequence:
    """A sequence as the catalogs hold it, its bounds and start None where they are its defaults."""
    top = _TYPE_MAX.get(type_, 2**63 - 1)
    low, high = (1, top) if increment > 0 else (-top - 1, -1)
    return Sequence(name=make_key(ns, name), owned_by=owner, identity=identity, always=always,
                    increment=increment, cache=cache, cycle=cycle,
                    start=None if start == (low if increment > 0 else high) else start,
                    minimum=None if minimum == low else minimum, maximum=None if maximum == high else maximum)




def read_dependencies(conn: psycopg.Connection) -> Dependencies:
    """Everything above, from the database `conn` is connected to (search_path public)."""
    keys = {oid: make_key(ns, name) for oid, ns, name in conn.execute(_RELATIONS)}
    found: dict[tuple[str, int], Dependent] = {}
    for classid, objid, refobjid, _, kind, column in conn.execute(_DEPENDS, (list(keys),)):
        if kind is None:
            continue
        dep = found.setdefault((classid, objid), Dependent(kind=kind, name="", table=keys[refobjid]))
        if keys[refobjid] != dep.table:  # a view reading several relations: one entry per relation
            dep = found.setdefault((classid, objid, refobjid), Dependent(kind=kind, name="", table=keys[refobjid]))
        if column and column not in dep.columns:
            dep.columns.append(column)
    for index, rel, column, exclusion in conn.execute(_CONSTRAINT_INDEXES, (list(keys),)):
        dep = found.setdefault(("pg_class", index), Dependent(kind="index", name="", table=keys[rel]))
        dep.exclusion = exclusion
        if column not in dep.columns:
            dep.columns.append(column)
    _name_and_define(conn, found, keys)
    deps = [d for d in found.values() if d.name and not (d.kind in ("view", "materialized_view") and d.name == d.table)]
    for rel, definition, columns in conn.execute(_PARTITION_KEYS, (list(keys),)):
        deps.append(Dependent(kind="partition_key", name=keys[rel], table=keys[rel], columns=list(columns),
                              definition=f"PARTITION BY {definition}"))
    for child, parent, bound in conn.execute(_PARTITIONS, (list(keys),)):
        if child in keys:
            deps.append(Dependent(kind="partition", name=keys[child], table=keys[parent], definition=bound or ""))
    return Dependencies(
        dependents=deps,
        functions=[Function(name=make_key(ns, name), language=lang, body=body, triggers=list(triggers),
                            definition=definition)
                   for ns, name, lang, body, definition, triggers in conn.execute(_FUNCTIONS)],
        sequences=[_sequence(*row) for row in conn.execute(_SEQUENCES)],
    )


def _name_and_define(conn: psycopg.Connection, found: dict, keys: dict[int, str]) -> None:
    """Each dependent's name and definition, by the catalog its kind lives in."""
    by_class: dict[str, dict[int, list[Dependent]]] = {}
    for key, dep in found.items():
        by_class.setdefault(key[0], {}).setdefault(key[1], []).append(dep)

    def each(classid: str):
        return by_class.get(classid, {})

    rules = each("pg_rewrite")
    for oid, view, rulename, viewdef, ruledef, grants in conn.execute(_VIEW_OF_RULE, (list(rules),)):
        for dep in rules[oid]:
            if dep.kind == "rule":
                dep.name, dep.definition = rulename, ruledef
            else:
                dep.name, dep.definition, dep.grants = keys.get(view, str(view)), viewdef, list(grants)
    indexes = each("pg_class")
    for oid, name, definition, parent in conn.execute(_INDEXES, (list(indexes),)):
        for dep in indexes[oid]:
            dep.name, dep.definition, dep.attached_to = name, definition, parent
    triggers = each("pg_trigger")
    for oid, name, definition in conn.execute(_TRIGGERS, (list(triggers),)):
        for dep in triggers[oid]:
            dep.name, dep.definition = name, definition
    for oid, deps in each("pg_policy").items():
        _, name, definition = conn.execute(_POLICIES, (qname(deps[0].table), oid)).fetchone()
        for dep in deps:
            dep.name, dep.definition = name, definition
    generated = each("pg_attrdef")
    for oid, name, expr in conn.execute(_GENERATED, (list(generated),)):
        for dep in generated[oid]:
            dep.name, dep.definition = name, expr

