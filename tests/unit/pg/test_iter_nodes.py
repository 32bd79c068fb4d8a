"""iter_nodes reads only the attributes pglast types as able to hold a node: it must still
yield every node, in the order of a walk over every attribute, on any statement."""

from __future__ import annotations

import pglast
import pytest
from pglast import ast

from flux_agent.lint.rules import RULES
from flux_agent.pg.parse import iter_nodes

# Beside the rules' examples: statements whose nodes sit in unusual attributes.
MORE = [
    "WITH moved AS (DELETE FROM a WHERE id IN (SELECT id FROM b LIMIT 10) RETURNING *) "
    "INSERT INTO c SELECT * FROM moved ON CONFLICT (id) DO UPDATE SET n = excluded.n WHERE c.n < 3",
    "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.x > 1 THEN UPDATE SET x = s.x "
    "WHEN NOT MATCHED THEN INSERT (id, x) VALUES (s.id, s.x)",
    "SELECT * FROM JSON_TABLE(jsonb '[1]', '$[*]' COLUMNS (v int PATH '$')) AS j",
    "SELECT xmlelement(name a, xmlattributes(1 AS b)), array_agg(x ORDER BY y) FILTER (WHERE z) "
    "OVER (PARTITION BY w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t GROUP BY GROUPING SETS ((a), (b))",
    "CREATE TABLE p (id int, at date, CHECK (id > 0)) PARTITION BY RANGE (at)",
    "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "CREATE FUNCTION f(a int DEFAULT 1) RETURNS int LANGUAGE sql AS $$ SELECT a $$",
    "CREATE POLICY pol ON t USING (owner = current_user) WITH CHECK (owner = current_user)",
    "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED, "
    "ADD CONSTRAINT ex EXCLUDE USING gist (r WITH &&) WHERE (r IS NOT NULL)",
    "CREATE TRIGGER tr BEFORE UPDATE OF a ON t FOR EACH ROW WHEN (OLD.a IS DISTINCT FROM NEW.a) EXECUTE FUNCTION f()",
]


def every_attribute(node):
    """The walk iter_nodes replaced: every attribute of every node."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Node):
            yield n
            stack.extend(getattr(n, attr) for attr in n)
        elif isinstance(n, (tuple, list)):
            stack.extend(n)


def statements():
    for sql in [e.sql for r in RULES for e in r.examples] + MORE:
        try:
            yield from (raw.stmt for raw in pglast.parse_sql(sql))
        except pglast.parser.ParseError:
            continue  # a rule's example may be SQL that does not parse, on purpose


def test_every_node_in_the_same_order():
    trees = list(statements())
    assert len(trees) > 300
    seen = set()
    for tree in trees:
        want, got = list(every_attribute(tree)), list(iter_nodes(tree))
        assert [id(n) for n in got] == [id(n) for n in want], pglast.stream.RawStream()(tree)
        seen |= {type(n) for n in got}
    # the statements reach deep: a walk that skipped an attribute kind would miss nodes here
    assert {ast.JsonTable, ast.MergeWhenClause, ast.OnConflictClause, ast.WindowDef, ast.XmlExpr,
            ast.PartitionBoundSpec, ast.FunctionParameter, ast.CommonTableExpr} <= seen


@pytest.mark.parametrize("sql", MORE)
def test_each_statement_parses(sql):
    assert pglast.parse_sql(sql)  # a statement that stopped parsing would silently test nothing
