"""The same column assigned twice (UPDATE SET a = 1, a = 2; INSERT (a, a);
ON CONFLICT / MERGE ... SET) or defined twice (CREATE TABLE, CREATE VIEW,
SELECT INTO): PostgreSQL rejects the statement."""

from pglast import ast
from pglast.enums import CmdType, MinMaxOp, SQLValueFunctionOp, SubLinkType

from ._rule import Rule, Verdict, flags, passes

_SQUAWK_MISSES = ("PostgreSQL rejects it; squawk does not derive a name through a cast, nor check CREATE TABLE AS "
                  "select lists")

RULE = Rule(
    id="ban-duplicate-column-assignments",
    severity="error",
    message="a column is assigned or defined more than once; PostgreSQL rejects the statement",
    hint="keep one assignment (or definition) per column",
    squawk="default",
    examples=[
        flags("UPDATE t SET a = 1, a = 2;"),
        flags("UPDATE t SET (a, b) = (1, 2), a = 3;"),
        flags("UPDATE t SET a = 1, a.x = 2;"),
        flags("UPDATE t SET \"a\" = 1, A = 2;"),
        flags("INSERT INTO t (a, a) VALUES (1, 2);"),
        flags("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2;"),
        flags("MERGE INTO k USING j ON k.id = j.id WHEN MATCHED THEN UPDATE SET a = 1, a = 2;"),
        flags("MERGE INTO k USING j ON k.id = j.id WHEN NOT MATCHED THEN INSERT (a, a) VALUES (1, 2);"),
        flags("WITH q AS (UPDATE t SET a = 1, a = 2 RETURNING 1) SELECT 1;"),
        flags("CREATE TABLE t (a text, A text);"),
        flags("CREATE FOREIGN TABLE ft (a int, a text) SERVER s;"),
        flags("CREATE VIEW v (a, a) AS SELECT 1, 2;"),
        flags("CREATE VIEW v AS SELECT 1 a, 2 a;"),
        flags("CREATE VIEW v AS SELECT x.a, y.a FROM x, y;"),
        flags("CREATE VIEW v AS SELECT 1, 2;"),
        flags("CREATE VIEW v AS SELECT count(*), count(x) FROM x;"),
        flags("CREATE VIEW v AS SELECT coalesce(a, 1), coalesce(b, 2) FROM t;"),
        flags("CREATE VIEW v AS SELECT a[1], a[2] FROM t;"),
        flags("CREATE VIEW v AS SELECT a::text, a FROM t;"),
        flags("CREATE VIEW v AS SELECT (SELECT x FROM t), x FROM u;"),
        flags("CREATE VIEW v AS SELECT CASE WHEN true THEN 1 ELSE a END, a FROM t;"),
        flags("CREATE VIEW v AS SELECT current_user, current_user;"),
        flags("CREATE MATERIALIZED VIEW v AS SELECT 1 a, 2 a;"),
        flags("CREATE TABLE z (a, a) AS SELECT 1, 2;"),
        flags("SELECT 1 a, 2 a INTO z;"),
        flags("CREATE VIEW v AS SELECT (CASE WHEN true THEN 1 END)::text, 'a'::text;",
              squawk_agrees=False, why=_SQUAWK_MISSES),
        flags("CREATE VIEW v AS SELECT (SELECT 1)::text, 1;",
              squawk_agrees=False, why=_SQUAWK_MISSES),
        flags("CREATE TABLE z AS SELECT 1 a, 2 a;",
              squawk_agrees=False, why=_SQUAWK_MISSES),
        passes("UPDATE t SET a = 1, b = 2;"),
        passes("UPDATE t SET a.x = 1, a.y = 2;"),
        passes("UPDATE t SET a[1] = 1, a[2] = 2;"),
        passes("UPDATE t SET \"A\" = 1, A = 2;"),
        passes("INSERT INTO t (a.x, a.y) VALUES (1, 2);"),
        passes("CREATE VIEW v (a, b) AS SELECT 1 a, 2 a;"),
        passes("CREATE VIEW v AS SELECT 1::int, 2::text;"),
        passes("CREATE VIEW v AS SELECT x.*, y.* FROM x, y;"),
        passes("CREATE VIEW v AS SELECT current_user, session_user;"),
        passes("CREATE VIEW v AS SELECT ARRAY[1]::text[], ROW(1)::text;"),
        passes("CREATE VIEW v AS SELECT a AS \"x\", b AS \"X\" FROM t;"),
        passes("CREATE VIEW v AS SELECT a FROM x UNION SELECT a FROM y;"),
        passes("SELECT 1 a, 2 a;"),
    ],
)


def _name(s: str) -> str:
    return s.encode()[:63].decode(errors="ignore")  # PostgreSQL truncates identifiers to 63 bytes


def _assigned_twice(targets) -> list[str]:
    """Column names set more than once; a.x = 1, a.y = 2 (partial) alone is fine."""
    seen: dict[str, list[bool]] = {}
    for t in targets or ():
        if isinstance(t, ast.ResTarget) and t.name:
            seen.setdefault(_name(t.name), []).append(bool(t.indirection))
    return [n for n, partial in seen.items() if len(partial) > 1 and not all(partial)]


def _defined_twice(names) -> list[str]:
    seen: dict[str, int] = {}
    for n in names:
        if n is not None:
            seen[_name(n)] = seen.get(_name(n), 0) + 1
    return [n for n, k in seen.items() if k > 1]


_SVF = {op: name for name, ops in {
    "current_date": ("CURRENT_DATE",), "current_time": ("CURRENT_TIME", "CURRENT_TIME_N"),
    "current_timestamp": ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP_N"), "localtime": ("LOCALTIME", "LOCALTIME_N"),
    "localtimestamp": ("LOCALTIMESTAMP", "LOCALTIMESTAMP_N"), "current_role": ("CURRENT_ROLE",),
    "current_user": ("CURRENT_USER",), "user": ("USER",), "session_user": ("SESSION_USER",),
    "current_catalog": ("CURRENT_CATALOG",), "current_schema": ("CURRENT_SCHEMA",),
}.items() for op in (getattr(SQLValueFunctionOp, f"SVFOP_{o}") for o in ops)}


def _figure(v):
    """(name, strength) PostgreSQL gives an unnamed select-list entry, as its
    FigureColnameInternal does; strength 0 means "?column?"."""
    if isinstance(v, ast.ColumnRef):
        last = v.fields[-1]
        return (last.sval, 2) if isinstance(last, ast.String) else (None, 0)
    if isinstance(v, ast.A_Indirection):
        names = [i.sval for i in v.indirection or () if isinstance(i, ast.String)]
        return (names[-1], 2) if names else _figure(v.arg)
    if isinstance(v, ast.FuncCall):
        return v.funcname[-1].sval, 2
    if isinstance(v, ast.A_Expr) and v.kind.name == "AEXPR_NULLIF":
        return "nullif", 2
    if isinstance(v, ast.TypeCast):
        name, strength = _figure(v.arg)
        return (name, strength) if strength > 1 else (v.typeName.names[-1].sval, 1)
    if isinstance(v, ast.CollateClause):
        return _figure(v.arg)
    if isinstance(v, ast.GroupingFunc):
        return "grouping", 2
    if isinstance(v, ast.SubLink):
        if v.subLinkType == SubLinkType.EXISTS_SUBLINK:
            return "exists", 2
        if v.subLinkType == SubLinkType.ARRAY_SUBLINK:
            return "array", 2
        if v.subLinkType == SubLinkType.EXPR_SUBLINK and isinstance(v.subselect, ast.SelectStmt) \
                and v.subselect.targetList:
            inner = _target_name(v.subselect.targetList[0])  # the subquery's own column name
            return (inner, 2) if inner else (None, 0)
        return None, 0
    if isinstance(v, ast.CaseExpr):
        name, strength = _figure(v.defresult) if v.defresult is not None else (None, 0)
        return (name, strength) if strength > 1 else ("case", 1)
    if isinstance(v, ast.A_ArrayExpr):
        return "array", 2
    if isinstance(v, ast.RowExpr):
        return "row", 2
    if isinstance(v, ast.CoalesceExpr):
        return "coalesce", 2
    if isinstance(v, ast.MinMaxExpr):
        return ("greatest" if v.op == MinMaxOp.IS_GREATEST else "least"), 2
    if isinstance(v, ast.SQLValueFunction):
        return _SVF.get(v.op), 2
    if isinstance(v, ast.XmlExpr) and v.op.name != "IS_DOCUMENT":
        return v.op.name[3:].lower(), 2  # IS_XMLELEMENT -> xmlelement
    if isinstance(v, ast.XmlSerialize):
        return "xmlserialize", 2
    return None, 0


def _target_name(t):
    """The output column name of a select-list entry; None when it cannot be told
    from the tree alone (left out rather than guessed)."""
    if t.name:
        return t.name
    if isinstance(t.val, ast.ColumnRef) and not isinstance(t.val.fields[-1], ast.String):
        return None  # t.*: the names come from the table
    name, strength = _figure(t.val)
    if strength == 0:
        # Only nodes PostgreSQL certainly names "?column?"; anything unfamiliar is left out.
        known = (ast.A_Const, ast.A_Expr, ast.BoolExpr, ast.ParamRef, ast.NullTest, ast.BooleanTest,
                 ast.SubLink, ast.CollateClause, ast.TypeCast)
        return "?column?" if isinstance(t.val, known) else None
    return name


def _select_names(q):
    if isinstance(q, ast.SelectStmt) and q.targetList and not q.valuesLists:
        return [_target_name(t) for t in q.targetList]
    return []


# The node types _problems looks at: every node of every statement is asked, a set lookup is cheapest.
_KINDS = frozenset({ast.UpdateStmt, ast.InsertStmt, ast.MergeWhenClause, ast.CreateStmt, ast.ViewStmt,
                    ast.CreateTableAsStmt, ast.SelectStmt})


def _problems(stmt):
    for n in stmt.nodes:
        if type(n) not in _KINDS:
            continue
        if isinstance(n, ast.UpdateStmt):
            yield from (("set", c) for c in _assigned_twice(n.targetList))
        elif isinstance(n, ast.InsertStmt):
            yield from (("set", c) for c in _assigned_twice(n.cols))
            if n.onConflictClause is not None:
                yield from (("set", c) for c in _assigned_twice(n.onConflictClause.targetList))
        elif isinstance(n, ast.MergeWhenClause) and n.commandType in (CmdType.CMD_UPDATE, CmdType.CMD_INSERT):
            yield from (("set", c) for c in _assigned_twice(n.targetList))
        elif isinstance(n, ast.CreateStmt):
            yield from (("def", c) for c in _defined_twice(
                e.colname for e in n.tableElts or () if isinstance(e, ast.ColumnDef)))
        elif isinstance(n, ast.ViewStmt):
            names = [a.sval for a in n.aliases] if n.aliases else _select_names(n.query)
            yield from (("def", c) for c in _defined_twice(names))
        elif isinstance(n, ast.CreateTableAsStmt) and n.into is not None:
            # CREATE TABLE AS with repeated select-list names: squawk lets it pass, PostgreSQL does not.
            names = [a.sval for a in n.into.colNames] if n.into.colNames else _select_names(n.query)
            yield from (("def", c) for c in _defined_twice(names))
        elif isinstance(n, ast.SelectStmt) and n.intoClause is not None:
            yield from (("def", c) for c in _defined_twice(_select_names(n)))


def check(stmt, ctx):
    found = list(_problems(stmt))
    if not found:
        return None
    kind, col = found[0]
    if kind == "set":
        return Verdict(f"column {col!r} is assigned more than once; PostgreSQL rejects the statement")
    return Verdict(f"column {col!r} is specified more than once; PostgreSQL rejects the statement")
