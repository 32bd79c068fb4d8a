"""One UPDATE, DELETE or INSERT ... SELECT whose row count nothing bounds: every
row it writes is written in a single transaction, so the rows it changes stay
locked until it commits, replicas lag behind one huge WAL burst, vacuum waits
for it, and dead tuples pile up. Whatever its shape (FROM or USING joins,
subqueries, data-changing CTEs), the remedy is the same: batch it by key range,
committing per batch (flux plan's backfill operation for an UPDATE).

A statement is bounded when its WHERE, across top-level ANDs, pins the primary
key (or a unique key, or ctid) to constants, holds the key (`id`, the primary
key's first column, or ctid) in a range with constants or parameters on both
sides, or takes its rows from a subquery with a LIMIT; an INSERT ... SELECT also
when the SELECT has a LIMIT or is one aggregate row. Tables created in the same
file, or known to hold at most 10,000 rows, are left alone. A DELETE without
WHERE that destructive-outside-contract already reports is left to it."""

from __future__ import annotations

from typing import Optional

from pglast import ast
from pglast.enums import A_Expr_Kind, SubLinkType

from ...pg.quote import relation_name
from . import destructive_outside_contract
from ._flux_common import known_rows, names_have_tables, names_table_of, op_command, working_names
from ._rule import Rule, Verdict, flags, passes

_BIG = "CREATE TABLE archive (id bigint PRIMARY KEY, kind text, payload jsonb);"

RULE = Rule(
    id="unbatched-data-change",
    severity="error",
    message="an UPDATE, DELETE or INSERT ... SELECT whose row count nothing bounds, in one statement",
    # The message names this statement's remedy; the hint said it again (formbricks' lines said it twice).
    hint="where the table is small for good, say so: -- flux-ignore unbatched-data-change: <why>",
    squawk=None,
    reads_schema=True,
    # The changes it judges are the statement itself or its WITH queries (_changes): statements that
    # are a change, or carry a WITH clause that may hold one.
    nodes=(ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt, ast.SelectStmt, ast.MergeStmt),
    examples=[
        flags("UPDATE orders SET status = 'paid' WHERE status = 'settled';", why="the table's size is unknown"),
        flags("UPDATE orders SET status = 'paid';"),
        flags("UPDATE orders o SET status = 'paid' FROM payments p WHERE p.order_id = o.id AND p.settled;",
              why="UPDATE ... FROM: the join decides the row count"),
        flags("UPDATE orders SET total = (SELECT sum(price) FROM order_items i WHERE i.order_id = orders.id);"),
        flags("UPDATE orders SET status = 'void' WHERE user_id IN (SELECT id FROM users WHERE banned);"),
        flags("UPDATE orders SET status = 'paid' WHERE id > 1000;", why="a range open on one side"),
        flags("UPDATE orders o SET status = 'void' FROM users u WHERE u.id = 42 AND o.user_id = u.id;",
              why="the key pinned is another table's"),
        flags("DELETE FROM legacy_events WHERE kind = 'debug';"),
        flags("DELETE FROM legacy_events e USING users u WHERE e.user_id = u.id AND u.deleted;"),
        flags("DELETE FROM legacy_events WHERE user_id IN (SELECT id FROM users WHERE deleted);"),
        flags("DELETE FROM legacy_events;", phase="contract",
              why="in a contract step destructive-outside-contract stays silent; the size still matters"),
        flags("WITH moved AS (DELETE FROM legacy_events WHERE kind = 'old' RETURNING *) "
              "INSERT INTO archive SELECT id, kind, payload FROM moved;", schema_sql=_BIG,
              why="the DELETE on legacy_events and the INSERT it feeds"),
        flags("WITH moved AS (DELETE FROM legacy_events RETURNING *) SELECT count(*) FROM moved;"),
        flags("WITH gone AS (DELETE FROM legacy_events WHERE kind = 'old' RETURNING id) "
              "MERGE INTO archive a USING gone g ON a.id = g.id WHEN MATCHED THEN DELETE;",
              why="the DELETE in the MERGE's WITH query"),
        flags("INSERT INTO archive SELECT id, kind, payload FROM legacy_events;",
              schema_sql=_BIG + "CREATE TABLE legacy_events (id bigint PRIMARY KEY, kind text, payload jsonb);"),
        flags("INSERT INTO archive (id, kind) SELECT e.id, e.kind FROM legacy_events e JOIN archive a ON a.id = e.id "
              "WHERE e.kind = 'x';"),
        flags("CREATE TABLE event_kinds (kind text PRIMARY KEY);\n"
              "INSERT INTO event_kinds SELECT DISTINCT kind FROM legacy_events;",
              why="a new target, but every row of an existing table is read into it in one transaction"),
        passes("UPDATE orders SET status = 'paid' WHERE id = 42;"),
        passes("UPDATE orders SET status = 'paid' WHERE id IN (1, 2, 3);"),
        passes("UPDATE orders SET status = 'paid' WHERE id = ANY($1);"),
        passes("UPDATE order_items SET quantity = 2 WHERE order_id = 1 AND product_id = 7;",
               schema_sql="CREATE TABLE order_items (order_id bigint, product_id bigint, quantity integer, "
                          "PRIMARY KEY (order_id, product_id));"),
        passes("DELETE FROM users WHERE email = 'support@example.com';",
               schema_sql="CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);",
               why="a unique key pinned to a constant: one row at most"),
        passes("UPDATE orders SET status = 'paid' WHERE id BETWEEN 1 AND 5000;"),
        passes("UPDATE orders SET status = 'paid' WHERE id >= $1 AND id < $2 AND status = 'settled';"),
        passes("DELETE FROM legacy_events WHERE id > 1000 AND id <= 2000;"),
        passes("DELETE FROM legacy_events WHERE id IN (SELECT id FROM legacy_events WHERE kind = 'debug' LIMIT 1000);"),
        passes("DELETE FROM legacy_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM legacy_events "
               "WHERE kind = 'debug' LIMIT 5000));"),
        passes("UPDATE orders SET status = 'paid' WHERE id = (SELECT max(id) FROM orders);"),
        passes("DELETE FROM legacy_events;", why="destructive-outside-contract reports it already"),
        passes("CREATE TABLE staging (id bigint PRIMARY KEY, v text);\nUPDATE staging SET v = 'x';"),
        passes("CREATE TABLE staging (id bigint PRIMARY KEY, v text);\nDELETE FROM staging WHERE v = 'x';"),
        passes("INSERT INTO users (email, name) VALUES ('support@example.com', 'Support');"),
        passes("INSERT INTO archive SELECT id, kind, payload FROM legacy_events WHERE kind = 'x' LIMIT 1000;"),
        passes("INSERT INTO archive SELECT id, kind, payload FROM legacy_events WHERE id BETWEEN 1 AND 1000;"),
        passes("INSERT INTO stats (n) SELECT count(*) FROM legacy_events;", why="one aggregate row"),
        passes("INSERT INTO flags (name) SELECT 'dark_mode';"),
        passes("CREATE TABLE import_rows (id bigint PRIMARY KEY, v text);\n"
               "INSERT INTO archive (id, kind) SELECT id, v FROM import_rows;"),
        passes("DO $$\nBEGIN\n  UPDATE orders SET status = 'paid' WHERE id BETWEEN 1 AND 1000;\n  COMMIT;\nEND\n$$;"),
    ],
)

LARGE = 10_000
_AGGREGATES = {"count", "sum", "min", "max", "avg", "bool_and", "bool_or", "every", "array_agg", "string_agg",
               "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg"}


# --------------------------------------------------------------------------
# Reading a WHERE
# --------------------------------------------------------------------------


def _op(e) -> str:
    return e.name[-1].sval if e.name and isinstance(e.name[-1], ast.String) else ""


def _column(e, names: set[str]) -> Optional[str]:
    """The column `e` names when it is a column of the table (unqualified, or qualified by
    the table's name or alias)."""
    if not isinstance(e, ast.ColumnRef) or not isinstance(e.fields[-1], ast.String):
        return None
    qualifier = e.fields[-2] if len(e.fields) > 1 else None
    if qualifier is not None and not (isinstance(qualifier, ast.String) and qualifier.sval in names):
        return None
    return e.fields[-1].sval


def _constant(e) -> bool:
    """A constant or a parameter (possibly cast): the same value for every row."""
    while isinstance(e, ast.TypeCast):
        e = e.arg
    if isinstance(e, ast.A_Const):
        return not e.isnull
    if isinstance(e, ast.A_ArrayExpr):
        return all(_constant(x) for x in e.elements or ())
    return isinstance(e, ast.ParamRef)


def _limited(select) -> bool:
    """A SELECT whose rows a LIMIT (or FETCH FIRST) caps."""
    if not isinstance(select, ast.SelectStmt):
        return False
    count = select.limitCount
    return count is not None and not (isinstance(count, ast.A_Const) and count.isnull)


def _sublink(e, *kinds) -> bool:
    return isinstance(e, ast.SubLink) and e.subLinkType in kinds


class _Keys:
    """What bounds a statement on one table: the key sets whose columns, all pinned to
    constants, pick a few rows, and the columns a range of constants bounds."""

    def __init__(self, table, names: set[str]):
        self.names = names
        pk = list(table.primary_key) if table is not None and table.primary_key else []
        self.pinned_sets = [set(pk or ["id"]), {"ctid"}]
        if table is not None:
            for idx in table.indexes:
                if idx.unique and not idx.where and all(c.isidentifier() for c in idx.columns):
                    self.pinned_sets.append(set(idx.columns))
            for con in table.constraints:
                if con.kind in ("primary_key", "unique") and con.columns:
                    self.pinned_sets.append(set(con.columns))
        self.ranged = {"id", "ctid"} | ({pk[0]} if pk else set())


def _conjuncts(where):
    if isinstance(where, ast.BoolExpr) and getattr(where.boolop, "name", "") == "AND_EXPR":
        for arg in where.args or ():
            yield from _conjuncts(arg)
    elif where is not None:
        yield where


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


def _bounded(where, keys: _Keys) -> bool:
    """Does the WHERE bound the rows by key (see the module's docstring)?"""
    pinned: set[str] = set()
    low: set[str] = set()
    high: set[str] = set()
    for c in _conjuncts(where):
        if _sublink(c, SubLinkType.ANY_SUBLINK) and _limited(c.subselect):
            return True  # col IN (SELECT ... LIMIT n)
        if not isinstance(c, ast.A_Expr):
            continue
        col, other, op = _column(c.lexpr, keys.names), c.rexpr, _op(c)
        if col is None and c.kind == A_Expr_Kind.AEXPR_OP:  # 42 = id, 1000 > id
            col, other, op = _column(c.rexpr, keys.names), c.lexpr, _FLIP.get(op, op)
        if col is None:
            continue
        if c.kind == A_Expr_Kind.AEXPR_OP and op == "=" and (
                _constant(other) or _sublink(other, SubLinkType.EXPR_SUBLINK)):
            pinned.add(col)  # = a constant, or = (scalar subquery): one row per key
        elif c.kind == A_Expr_Kind.AEXPR_IN and op == "=" and isinstance(other, (list, tuple)) \
                and all(_constant(x) for x in other):
            pinned.add(col)
        elif c.kind == A_Expr_Kind.AEXPR_OP_ANY and op == "=":
            if _constant(other):
                pinned.add(col)  # = ANY('{1,2}') / = ANY($1)
            elif _sublink(other, SubLinkType.ARRAY_SUBLINK) and _limited(other.subselect):
                return True  # ctid = ANY(ARRAY(SELECT ctid ... LIMIT n))
        elif col in keys.ranged:
            if c.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM) \
                    and isinstance(other, (list, tuple)) and all(_constant(x) for x in other):
                return True
            if c.kind == A_Expr_Kind.AEXPR_OP and _constant(other):
                if op in (">", ">="):
                    low.add(col)
                elif op in ("<", "<="):
                    high.add(col)
    if low & high:
        return True
    return any(s <= pinned for s in keys.pinned_sets)


# --------------------------------------------------------------------------
# The statement's data changes
# --------------------------------------------------------------------------


def _names(rv) -> set[str]:
    out = {rv.relname}
    if rv.alias is not None and rv.alias.aliasname:
        out.add(rv.alias.aliasname)
    return out


def _ctes(node) -> dict[str, object]:
    """Every WITH query of the statement by name (a top-level WITH, or the INSERT's SELECT's)."""
    out: dict[str, object] = {}
    stack = [node]
    while stack:
        n = stack.pop()
        w = getattr(n, "withClause", None)
        for cte in (w.ctes or ()) if w is not None else ():
            out[cte.ctename] = cte.ctequery
            stack.append(cte.ctequery)
        for attr in ("selectStmt", "larg", "rarg"):
            if getattr(n, attr, None) is not None:
                stack.append(getattr(n, attr))
    return out


def _changes(node, ctes: dict[str, object]) -> list:
    """The UPDATE, DELETE and INSERT statements the statement runs: itself and its WITH
    queries (not the actions of a CREATE RULE, nor a function's or DO block's body)."""
    found = [node] if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)) else []
    for q in ctes.values():
        if isinstance(q, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)):
            found.append(q)
    return found


class _Judge:
    def __init__(self, stmt, ctx, ctes):
        self.stmt, self.ctx, self.ctes = stmt, ctx, ctes
        self.sizes: dict[str, Optional[int]] = {}

    def large(self, name: Optional[str]) -> bool:
        """An existing table not known to be small (an unknown one: the size is not known)."""
        if name is None or self.ctx.table_is_new(name):
            return False
        rows = known_rows(self.ctx, self.stmt, name)
        self.sizes[name] = rows
        return rows is None or rows > LARGE

    # Names only (a table, its keys and unique indexes): read in the replay's own names, no snapshot.
    def exists(self, name: Optional[str]) -> bool:
        if not names_have_tables(self.ctx):
            return True  # nothing to tell: judged as existing
        return names_table_of(self.ctx, self.stmt, name) is not None \
            or working_names(self.ctx, self.stmt).view(name) is not None

    def keys(self, rv) -> _Keys:
        if not rv.relname:  # a subquery in FROM: only its alias names its columns
            return _Keys(None, _names(rv))
        return _Keys(names_table_of(self.ctx, self.stmt, relation_name(rv)), _names(rv))

    def unbounded_change(self, n) -> Optional[str]:
        """How `n` reads when nothing bounds its rows ("DELETE FROM t"), else None."""
        if isinstance(n, ast.InsertStmt):
            source = self.unbounded_select(n.selectStmt)
            return f"INSERT INTO {relation_name(n.relation)} ... SELECT from {source}" if source else None
        table = relation_name(n.relation)
        if not self.large(table):
            return None
        if n.whereClause is not None and _bounded(n.whereClause, self.keys(n.relation)):
            return None
        if isinstance(n, ast.DeleteStmt):
            if n is self.stmt.node and n.whereClause is None \
                    and destructive_outside_contract.check(self.stmt, self.ctx) is not None:
                return None  # that rule's error says it already: every row goes
            return f"DELETE FROM {table}"
        return f"UPDATE {table}"

    def unbounded_select(self, s) -> Optional[str]:
        """The source whose every row a SELECT reads into an INSERT, when nothing bounds them."""
        if not isinstance(s, ast.SelectStmt) or s.valuesLists or _limited(s):
            return None
        if s.larg is not None or s.rarg is not None:  # UNION, INTERSECT, EXCEPT
            return self.unbounded_select(s.larg) or self.unbounded_select(s.rarg)
        if not s.groupClause and any(self._aggregate(t) for t in s.targetList or ()):
            return None  # one aggregate row
        sources = list(self._sources(s.fromClause or ()))
        if s.whereClause is not None and any(_bounded(s.whereClause, self.keys(rv)) for rv, _ in sources):
            return None
        for rv, sub in sources:
            if sub is not None:
                return sub
        return None

    @staticmethod
    def _aggregate(target) -> bool:
        v = getattr(target, "val", None)
        return (isinstance(v, ast.FuncCall) and not v.over and bool(v.funcname)
                and isinstance(v.funcname[-1], ast.String) and v.funcname[-1].sval.lower() in _AGGREGATES)

    def _sources(self, items):
        """(RangeVar, unbounded source or None) for each table a FROM list reads."""
        for item in items:
            if isinstance(item, ast.JoinExpr):
                yield from self._sources((item.larg, item.rarg))
            elif isinstance(item, ast.RangeSubselect):
                alias = ast.Alias(aliasname=item.alias.aliasname if item.alias is not None else "")
                yield ast.RangeVar(relname="", alias=alias), self.unbounded_select(item.subquery)
            elif isinstance(item, ast.RangeVar):
                name = relation_name(item)
                cte = self.ctes.get(item.relname) if item.schemaname is None else None
                if cte is not None:
                    if isinstance(cte, ast.SelectStmt):
                        sub = self.unbounded_select(cte)
                    else:  # rows a data-changing WITH query returns
                        sub = item.relname if self.unbounded_change(cte) else None
                    yield item, sub
                elif self.exists(name) and self.large(name):
                    yield item, name
                else:
                    yield item, None


def _remedy(n, table: str, key: str) -> str:
    if isinstance(n, ast.UpdateStmt):
        cols = [r.name for r in n.targetList or () if isinstance(r, ast.ResTarget) and r.name]
        return op_command({"op": "backfill", "table": table, "column": cols[0] if cols else "column",
                           "value": "<expression>"})
    if isinstance(n, ast.DeleteStmt):
        return f"a DO block looping DELETE FROM {table} WHERE {key} IN (SELECT {key} ... LIMIT 1000), COMMIT per batch"
    return "a DO block copying one key range per batch, COMMIT per batch"


def check(stmt, ctx):
    if stmt.memo.get("in_loop"):
        return None  # a DO block's loop repeats it: batched, each batch bounded by the block's own names
    node = stmt.node
    ctes = _ctes(node)
    judge = _Judge(stmt, ctx, ctes)
    found = [(n, what) for n in _changes(node, ctes) if (what := judge.unbounded_change(n))]
    if not found:
        return None
    # Order as written: WITH queries first, the main statement last.
    found.sort(key=lambda f: f[0] is node)
    what = " and ".join(w for _, w in found)
    known = [f"{t} about {r:,} rows" for t, r in judge.sizes.items() if r is not None and r > LARGE]
    size = f" ({', '.join(known)})" if known else " (table size unknown)"
    first = found[0][0]
    table = relation_name(first.relation)
    t = names_table_of(ctx, stmt, table)
    key = t.primary_key[0] if t is not None and len(t.primary_key) == 1 else ("ctid" if t is not None else "id")
    return Verdict(f"{what} in one statement{size}: nothing bounds its rows, so one transaction holds every row "
                   f"lock it takes until it commits and writes all its WAL at once; batch it by key range, "
                   f"committing per batch ({_remedy(first, table, key)})")
