"""Re-point what PostgreSQL printed (a view's query, an index or policy
definition) from one column of a table to another, on pglast's trees: the
rewritten statement keeps everything else exactly (method, operator classes,
collations, INCLUDE, predicate; a view's output names)."""

from __future__ import annotations

from typing import Optional

from ..errors import FluxInputError
from .parse import ast, iter_nodes, print_tree, parse_sql, render
from .quote import ident, qname


class CannotRepoint(FluxInputError):
    """The text uses the column in a way Flux does not rewrite safely (say why, name the object)."""


def _one(sql: str, kind):
    stmts = parse_sql(sql)
    if len(stmts) != 1 or not isinstance(stmts[0].stmt, kind):
        names = " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
        raise CannotRepoint(f"not one {names}: {sql[:80]!r}")
    return stmts[0].stmt


def _rename_refs(node, old: str, new: str, qualifiers: Optional[set[str]]) -> int:
    """Rewrite column references to `old` as `new` in `node`; a qualified reference only
    when its qualifier is in `qualifiers` (None: the expression has one table, no qualifiers)."""
    count = 0
    for n in iter_nodes(node):
        if not isinstance(n, ast.ColumnRef) or not isinstance(n.fields[-1], ast.String) or n.fields[-1].sval != old:
            continue
        quals = [f.sval for f in n.fields[:-1] if isinstance(f, ast.String)]
        if (qualifiers is None and not quals) or (qualifiers is not None and quals and quals[-1] in qualifiers):
            n.fields = tuple(n.fields[:-1]) + (ast.String(sval=new),)
            count += 1
    return count


def index_copy(definition: str, table: str, old: Optional[str], new: Optional[str], name: str,
               concurrently: bool = True, only: bool = False) -> str:
    """pg_get_indexdef's `definition` built on column `new` instead of `old` (None: the same
    columns), named `name`, on `table` named as the plan names it (pg_get_indexdef writes
    `public.`, which a plan run in another schema, as verify's scratch schema, must not);
    `only`: on a partitioned table itself, not its partitions (ON ONLY)."""
    stmt = _one(definition.strip().rstrip(";"), ast.IndexStmt)
    schema, _, bare = table.rpartition(".")
    stmt.relation.schemaname, stmt.relation.relname = schema or None, bare
    stmt.relation.inh = not only
    stmt.idxname = name
    stmt.concurrent = concurrently
    stmt.if_not_exists = concurrently or only  # a retried build finds its own half-built copy
    if old is not None and new is not None:
        _read_as(tuple(stmt.indexParams or ()) + tuple(stmt.indexIncludingParams or ()), stmt.whereClause, old, new)
    return print_tree(stmt)


def exclusion_copy(definition: str, table: str, name: str, old: str, new: str) -> str:
    """ALTER TABLE ... ADD CONSTRAINT `name` from pg_get_constraintdef's `definition` of an exclusion
    constraint, on `table`, column `old` read as `new` (its elements and its WHERE)."""
    stmt = _one(f"ALTER TABLE {qname(table)} ADD CONSTRAINT {ident(name)} {definition.strip().rstrip(';')}",
                ast.AlterTableStmt)
    con = stmt.cmds[0].def_
    _read_as([elem for elem, _ in con.exclusions or ()], con.where_clause, old, new)
    return print_tree(stmt)


def _read_as(elems, where, old: str, new: str) -> None:
    """Index elements (a column, or an expression) and a predicate reading column `old` made to read `new`."""
    for elem in elems:
        if elem.name == old:
            elem.name = new
        elif elem.expr is not None:
            _rename_refs(elem.expr, old, new, None)
    if where is not None:
        _rename_refs(where, old, new, None)


def on_table(definition: str, table: str) -> str:
    """A trigger's or policy's statement as PostgreSQL printed it (pg_get_triggerdef, a CREATE
    POLICY), made on `table` instead (a table made again under another name)."""
    stmt = _one(definition.strip().rstrip(";"), (ast.CreateTrigStmt, ast.CreatePolicyStmt))
    relation = stmt.relation if isinstance(stmt, ast.CreateTrigStmt) else stmt.table
    schema, _, bare = table.rpartition(".")
    relation.schemaname, relation.relname = schema or None, bare
    return print_tree(stmt)


def policy_alter(definition: str, table: str, old: Optional[str] = None, new: Optional[str] = None) -> str:
    """ALTER POLICY setting the policy's expressions as in `definition` (a CREATE POLICY),
    with column `old` read as `new` when given."""
    stmt = _one(definition, ast.CreatePolicyStmt)
    parts = [f"ALTER POLICY {ident(stmt.policy_name)} ON {qname(table)}"]
    for clause, expr in (("USING", stmt.qual), ("WITH CHECK", stmt.with_check)):
        if expr is None:
            continue
        if old is not None:
            _rename_refs(expr, old, new, None)
        parts.append(f"{clause} ({render(expr)})")
    return " ".join(parts)


def view_query(definition: str, table: str, old: str, new: str) -> str:
    """A view's query (pg_get_viewdef) reading `table`.`new` where it read `old`; its output
    columns keep their names (`t.new AS old`), so CREATE OR REPLACE VIEW accepts it."""
    stmt = _one(definition, ast.SelectStmt)
    schema, _, bare = table.rpartition(".")
    changed = 0
    for select in [n for n in iter_nodes(stmt) if isinstance(n, ast.SelectStmt)]:
        names = _aliases(select, schema or None, bare)
        if not names:
            continue
        if any(isinstance(n, ast.JoinExpr) and n.usingClause and any(getattr(u, "sval", None) == old
                                                                      for u in n.usingClause)
               for n in iter_nodes(select.fromClause)):
            raise CannotRepoint(f"joins USING ({old})")
        for target in select.targetList or ():
            plain = isinstance(target.val, ast.ColumnRef) and isinstance(target.val.fields[-1], ast.String) \
                and target.val.fields[-1].sval == old and target.name is None
            count = _scoped(target, old, new, names, select)
            if count and plain:
                target.name = old
            changed += count
        for part in ("whereClause", "groupClause", "havingClause", "sortClause", "fromClause"):
            value = getattr(select, part)
            if value is not None:
                changed += _scoped(value, old, new, names, select)
    if not changed:
        raise CannotRepoint(f"no reference to {table}.{old} found in the view's query")
    return print_tree(stmt)


def _scoped(node, old: str, new: str, names: set[str], select) -> int:
    """Rename qualified references in `node` that belong to `select` itself (not to a subquery
    inside it, handled on its own turn)."""
    inner = {id(n) for sub in iter_nodes(node) if isinstance(sub, ast.SelectStmt) and sub is not select
             for n in iter_nodes(sub)}
    count = 0
    for n in iter_nodes(node):
        if id(n) in inner or not isinstance(n, ast.ColumnRef):
            continue
        fields = n.fields
        if not isinstance(fields[-1], ast.String) or fields[-1].sval != old:
            continue
        quals = [f.sval for f in fields[:-1] if isinstance(f, ast.String)]
        if not quals:
            raise CannotRepoint(f"an unqualified reference to {old}")
        if quals[-1] in names:
            n.fields = tuple(fields[:-1]) + (ast.String(sval=new),)
            count += 1
    return count


def _aliases(select, schema: Optional[str], table: str) -> set[str]:
    """The names `select`'s own FROM gives `table` (its alias, else its name)."""
    out: set[str] = set()
    stack = list(select.fromClause or ())
    while stack:
        n = stack.pop()
        if isinstance(n, ast.RangeVar):
            if n.relname == table and (n.schemaname in (None, schema) or (schema is None and n.schemaname == "public")):
                out.add(n.alias.aliasname if n.alias else n.relname)
        elif isinstance(n, ast.JoinExpr):
            stack += [n.larg, n.rarg]
    return out
