"""pg.parse builds pglast's nodes without pglast's per-attribute check for long SQL and for many
pieces at once: the trees must be the ones pglast's checked build gives, value for value and type
for type, and the check must be back in place after every parse, a failed one too."""

from __future__ import annotations

import re
from pathlib import Path

import pglast
import pytest
from pglast import ast

from flux_agent.lint.rules import RULES
from flux_agent.pg import parse as seam
from flux_agent.pg import split as cut

from test_iter_nodes import MORE  # statements whose nodes sit in unusual attributes

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def texts() -> list[str]:
    found = [e.sql for r in RULES for e in r.examples] + MORE
    found += [p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*.sql"))]
    return found


def shape(value):
    """A value with the type of everything in it: an enum's class, a tuple's, a node's."""
    if isinstance(value, ast.Node):
        return (type(value).__name__, tuple((a, shape(getattr(value, a))) for a in value))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(shape(v) for v in value))
    return (type(value).__name__, value)


def checked(text: str):
    try:
        return [shape(raw.stmt) for raw in pglast.parse_sql(text)]
    except pglast.parser.ParseError:
        return None


def test_many_pieces_give_pglasts_checked_trees():
    pieces = texts()
    got = cut.split_many([(t, 0) for t in pieces])
    compared = 0
    for text, found in zip(pieces, got):
        want = checked(text)
        if want is None:
            assert isinstance(found, cut.SqlSyntaxError)
            continue
        assert [shape(s.node) for s in found] == want, text
        assert [(s.text, s.line) for s in found] == [(s.text, s.line) for s in cut.split_statements(text)]
        compared += len(found)
    assert compared > 300
    assert any(isinstance(n, ast.Boolean) for t in got if isinstance(t, list) for s in t for n in s.nodes)


def test_long_sql_in_one_call_gives_pglasts_checked_trees():
    text = "\n;\n".join(e.sql.rstrip().rstrip(";") for r in RULES for e in r.examples if checked(e.sql) is not None)
    assert len(text) > seam._UNCHECKED_FROM
    assert [shape(raw.stmt) for raw in seam.parse_sql(text)] == checked(text)


def test_only_the_values_flux_converts_come_raw_from_pglasts_builder():
    """pglast's Cython source (shipped in its wheel): a bool or char slot given a C value as it is,
    not through bool() or chr(), needs the check's conversion; the only one is A_Const's Boolean,
    which keeps its check (pg.parse._Unchecked). A new one in a later pglast fails here."""
    source = Path(pglast.__file__).with_name("ast.pyx")
    if not source.exists():
        pytest.skip(f"{source} is not in this pglast's wheel")
    raw, builder = [], None
    for line in source.read_text(encoding="utf-8").splitlines():
        if (m := re.match(r"cdef create_(\w+)\(", line)):
            builder = m.group(1)
        elif (m := re.match(r"\s+cdef object v_(\w+) = (.*)", line)) and builder:
            slots = getattr(getattr(ast, builder, None), "__slots__", {})
            kind = slots[m.group(1)].c_type if isinstance(slots, dict) and m.group(1) in slots else ""
            if kind in ("bool", "char") and not m.group(2).startswith(("bool(", "chr(")):
                raw.append(f"{builder}.{m.group(1)}")
        for cls, value in re.findall(r"ast\.(\w+)\((data\.[\w.]+)\)", line):
            if any(i.c_type in ("bool", "char") for i in getattr(ast, cls).__slots__.values()):
                raw.append(cls)
    assert raw == ["Boolean"]


def test_the_check_is_back_after_a_parse_and_after_a_failed_one():
    long_bad = "SELECT 1;\n" * (seam._UNCHECKED_FROM // 10) + "SELEC 1"
    seam.parse_sql(long_bad[:-8])
    with pytest.raises(pglast.parser.ParseError):
        seam.parse_sql(long_bad)
    assert isinstance(cut.split_many([(long_bad, 0)])[0], cut.SqlSyntaxError)
    assert ast.Node.__setattr__ is seam._CHECKED_SETATTR and "__setattr__" not in vars(ast.Boolean)
    with pytest.raises(ValueError):  # pglast's check refuses a string where it wants a bool
        ast.ColumnDef(colname="a", is_not_null="yes")
