"""pg.parse.render sets the nodes' ancestors by its own walk, not pglast's Visitor: what it prints,
and the ancestors every node it prints is left with, must be those of pglast's RawStream()(node). A
small tree printed before is served by its shape: the same text, whatever its place in the SQL."""

from __future__ import annotations

import copy

import pglast
from pglast import ast
from pglast.stream import RawStream

from flux_agent.pg import parse
from flux_agent.pg.parse import iter_nodes, render
from test_parse_build import texts

PRINTED = (ast.A_Expr, ast.FuncCall, ast.TypeCast, ast.A_Const, ast.BoolExpr, ast.CaseExpr, ast.SubLink,
           ast.SelectStmt, ast.ColumnDef)


def nodes():
    for text in texts() + ["SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v, ROWS FROM (f(1), g(2)) r"]:
        try:
            raws = pglast.parse_sql(text)
        except pglast.parser.ParseError:
            continue
        for raw in raws:
            yield raw.stmt
            yield from (n for n in iter_nodes(raw.stmt) if isinstance(n, PRINTED))


def chains(top) -> list:
    """Each node's ancestor chain: (the node, or a tuple's kind, member) up to the root."""
    out = []
    for node in iter_nodes(top):
        link, chain = node.ancestors, []
        while link is not None:
            chain.append((id(link.node) if isinstance(link.node, ast.Node) else type(link.node).__name__,
                          link.member))
            link = link.parent
        out.append(chain)
    return out


def test_the_same_sql_and_ancestors_as_pglasts_printer():
    count = 0
    for node in nodes():
        parse._RENDERED.clear()  # printed, not served: the ancestors are set
        ours = render(node)
        ours_chains = chains(node)
        assert (ours, ours_chains) == (RawStream()(node), chains(node)), ours
        count += 1
    assert count > 1000


def test_a_tree_served_by_its_shape_prints_as_pglast_prints_it():
    parse._RENDERED.clear()
    served = 0
    for node in nodes():
        for again in (node, copy.deepcopy(node)):  # the tree itself, and a copy: served the second time
            assert render(again) == RawStream()(again)
        served += parse._shape(node) is not None
    # the same shape wherever it stands; True and 1, 'a' and "a" (a name) are not the same shape
    at_one, at_two = (pglast.parse_sql(sql)[0].stmt.targetList[0].val for sql in ("SELECT now()", "SELECT    now()"))
    assert parse._shape(at_one) == parse._shape(at_two) and at_one.location != at_two.location
    shapes = {parse._shape(pglast.parse_sql(f"SELECT {e}")[0].stmt.targetList[0].val) for e in ("true", "1", "'a'", "a")}
    assert len(shapes) == 4 and served > 100


def test_a_node_reached_twice_keeps_the_chain_pglast_leaves():
    shared = pglast.parse_sql("SELECT a")[0].stmt.targetList[0].val
    expr = ast.A_Expr(kind=0, name=(ast.String(sval="+"),), lexpr=shared, rexpr=copy.deepcopy(shared))
    expr.rexpr = shared
    ours = (render(expr), shared.ancestors.member)
    RawStream()(expr)
    assert ours == ("a + a", shared.ancestors.member)
