"""A project's SQLAlchemy naming_convention, read from its source and rendered as SQLAlchemy renders
it: each name compared with the one SQLAlchemy's own MetaData gives the same Index, UniqueConstraint
or ForeignKeyConstraint (its DDL compiled for PostgreSQL, where a long name is cut); and the planner
naming an unnamed index, key or foreign key of an Alembic project by it."""

from __future__ import annotations

import random

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.model.settings import Settings
from flux_agent.plan.naming_convention import convention_name
from flux_agent.plan.planner import build_plan
from flux_agent.write.tools._sqlalchemy_naming import naming_convention

sa = pytest.importorskip("sqlalchemy")

POLAR = {"ix": "ix_%(column_0_N_label)s", "uq": "uq_%(table_name)s_%(column_0_N_name)s",
         "ck": "ck_%(table_name)s_%(constraint_name)s",
         "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}
TOKENS = ["%(table_name)s", "%(column_0_name)s", "%(column_0_label)s", "%(column_1_name)s", "%(column_2_label)s",
          "%(column_0N_name)s", "%(column_0_N_name)s", "%(column_0N_label)s", "%(column_0_N_label)s"]
FK_TOKENS = ["%(referred_table_name)s", "%(referred_column_0_name)s", "%(referred_column_0_N_name)s",
             "%(referred_column_0N_name)s"]


def sqlalchemy_name(convention: dict, kind: str, table: str, columns: list[str], ref: str = "",
                    ref_columns: tuple = ()):
    """The name SQLAlchemy's DDL gives the object, made by SQLAlchemy itself."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import AddConstraint, CreateIndex

    md = sa.MetaData(naming_convention=convention)
    if ref:
        sa.Table(ref, md, *(sa.Column(c, sa.Integer) for c in ref_columns))
    t = sa.Table(table, md, *(sa.Column(c, sa.Integer) for c in columns))
    if kind == "ix":
        obj = sa.Index(None, *(t.c[c] for c in columns))  # attached to t by its columns
        try:
            ddl = CreateIndex(obj).compile(dialect=postgresql.dialect()).string
        except AssertionError:  # SQLAlchemy cannot make an index its convention names nothing
            return None
        return ddl.split()[2]
    if kind == "uq":
        obj = sa.UniqueConstraint(*columns)
    else:
        obj = sa.ForeignKeyConstraint(columns, [f"{ref}.{c}" for c in ref_columns])
    t.append_constraint(obj)
    words = AddConstraint(obj).compile(dialect=postgresql.dialect()).string.split()
    return words[5] if words[4] == "CONSTRAINT" else None  # an empty name: PostgreSQL names it


@pytest.mark.parametrize("kind, pattern", [
    ("ix", POLAR["ix"]), ("ix", "idx_%(column_0_label)s"), ("ix", "%(table_name)s_%(column_0N_name)s_idx"),
    ("uq", POLAR["uq"]), ("uq", "%(table_name)s_%(column_0_N_name)s_key"), ("uq", "uq_%(column_1_name)s"),
    ("fk", POLAR["fk"]), ("fk", "%(table_name)s_%(column_0_N_name)s_fkey"),
    ("fk", "fk_%(column_0_label)s_%(referred_table_name)s_%(referred_column_0_N_name)s"),
])
def test_each_pattern_names_as_sqlalchemy_does(kind, pattern):
    for table, cols in (("orders", ["user_id"]), ("orders", ["user_id", "status", "created_at"]),
                        ("a" * 40, ["b" * 30, "c" * 10])):  # the last past 63 characters: cut with a hash
        ref, ref_cols = ("users", tuple(f"r{i}" for i in range(len(cols)))) if kind == "fk" else ("", ())
        ours = convention_name({kind: pattern}, kind, table, cols, ref or None, list(ref_cols))
        assert ours == sqlalchemy_name({kind: pattern}, kind, table, cols, ref, ref_cols), (pattern, table, cols)
        assert len(ours) <= 63


def test_random_patterns_name_as_sqlalchemy_does():
    """Patterns of random tokens and words (fixed seed), on random tables and columns."""
    rng = random.Random(22)
    for _ in range(300):
        kind = rng.choice(["ix", "uq", "fk"])
        tokens = TOKENS + (FK_TOKENS if kind == "fk" else [])
        pattern = "_".join(rng.choice(tokens + ["x", "idx"]) for _ in range(rng.randint(1, 4)))
        if "%(" not in pattern:
            continue
        table = "".join(rng.choice("abcdefgh_") for _ in range(rng.randint(1, 30))).strip("_") or "t"
        cols = [f"c{i}_{'z' * rng.randint(0, 20)}" for i in range(rng.randint(1, 3))]
        ref_cols = tuple(f"r{i}" for i in range(len(cols))) if kind == "fk" else ()
        ours = convention_name({kind: pattern}, kind, table, cols, "users" if kind == "fk" else None, list(ref_cols))
        assert ours == sqlalchemy_name({kind: pattern}, kind, table, cols, "users" if kind == "fk" else "", ref_cols), \
            (kind, pattern, table, cols)


@pytest.mark.parametrize("convention, kind, table", [
    ({"ck": POLAR["ck"]}, "ck", "orders"),  # the constraint's own name: unnamed, SQLAlchemy refuses
    ({"ix": "ix_%(column_0_key)s"}, "ix", "orders"),  # a model attribute's key: not read
    ({"ix": "ix_%(column_0_label)s"}, "ix", "billing.orders"),  # SQLAlchemy's label adds the schema
    ({"ix": "ix_fixed"}, "ix", "orders"),  # names nothing of the index
    ({"uq": "uq_%(referred_table_name)s"}, "uq", "orders"),  # only a foreign key refers
    ({"uq": POLAR["uq"]}, "ix", "orders"),  # no pattern for the kind
])
def test_what_flux_cannot_render_as_sqlalchemy_would_is_left_to_flux_names(convention, kind, table):
    assert convention_name(convention, kind, table, ["user_id"]) is None


def test_the_convention_is_read_from_the_source_as_projects_declare_it(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "names.py").write_text(f"NAMING_CONVENTION = {POLAR!r}\n")
    (app / "base.py").write_text("from sqlalchemy import MetaData\nfrom .names import NAMING_CONVENTION\n"
                                 "class Base:\n    metadata = MetaData(naming_convention=NAMING_CONVENTION)\n")
    assert naming_convention(tmp_path) == POLAR
    (app / "base.py").write_text("from flask_sqlalchemy import SQLAlchemy\nimport sqlalchemy as sa\n"
                                 "db = SQLAlchemy(metadata=sa.MetaData(naming_convention={'ix': 'i_%(column_0_name)s'}))\n")
    assert naming_convention(tmp_path) == {"ix": "i_%(column_0_name)s"}
    (app / "base.py").write_text("from sqlmodel import SQLModel\nSQLModel.metadata.naming_convention = NAMING_CONVENTION\n")
    assert naming_convention(tmp_path) == POLAR
    (app / "other.py").write_text("import sqlalchemy as sa\nm = sa.MetaData(naming_convention={'ix': 'x_%(table_name)s'})\n")
    assert naming_convention(tmp_path) is None  # two MetaData, two conventions: which is the table's is not read
    (app / "other.py").write_text("import sqlalchemy as sa\nm = sa.MetaData(naming_convention={sa.Index: 'x'})\n")
    assert naming_convention(tmp_path) is None  # one Flux cannot read
    (app / "other.py").unlink()
    (app / "base.py").write_text("import sqlalchemy as sa\nmeta = sa.MetaData()\n")
    assert naming_convention(tmp_path) is None


def _plan(op, convention=POLAR):
    from shop import shop_schema

    ops = op if isinstance(op, list) else [op]
    return build_plan(parse_operations(ops), shop_schema(), Settings(), tool="alembic", convention=convention)


def _built(plan) -> str:
    return "\n".join(s.up_sql or "" for s in plan.steps)


def test_the_planner_names_what_is_asked_for_without_a_name_by_the_convention():
    index = _plan({"op": "add_index", "table": "orders", "columns": ["user_id", "created_at"]})
    assert index.operations[0].name == "ix_orders_user_id_orders_created_at"
    assert "ix_orders_user_id_orders_created_at ON orders (user_id, created_at)" in _built(index)
    key = _plan({"op": "add_unique", "table": "products", "columns": ["sku"]})
    assert key.operations[0].name == "uq_products_sku" and "uq_products_sku" in _built(key)
    fk = _plan([{"op": "add_column", "table": "orders", "column": "product_id", "type": "bigint"},
                {"op": "add_foreign_key", "table": "orders", "columns": ["product_id"], "ref_table": "products",
                 "ref_columns": ["id"]}])
    assert fk.operations[1].name == "fk_orders_product_id_products" and "fk_orders_product_id_products" in _built(fk)
    named = _plan({"op": "add_index", "table": "orders", "columns": ["user_id"], "name": "mine"})
    assert named.operations[0].name == "mine"  # a name given is the user's
    plain = _plan({"op": "add_index", "table": "orders", "columns": ["user_id"]}, convention=None)
    assert plain.operations[0].name is None and "orders_user_id_idx" in _built(plain)


def test_an_index_the_table_has_is_still_the_answer_and_a_taken_name_falls_back():
    from flux_agent.errors import FluxInputError

    with pytest.raises(FluxInputError, match="already has an index on \\(status\\): orders_status_idx"):
        _plan({"op": "add_index", "table": "orders", "columns": ["status"]})
    taken = _plan({"op": "add_index", "table": "orders", "columns": ["user_id"]},
                  convention={"ix": "orders_status_idx%(column_1_name)s"})  # renders as the status index's name
    assert taken.operations[0].name is None and "orders_user_id_idx" in _built(taken)


def test_flux_s_own_name_taken_does_not_stop_the_conventions_name():
    """The table has a partial index under the name Flux would give (rallly's polls_user_id_idx): the
    unnamed index is not that one, and the convention names it (its check as asked is made with the
    free name Flux would choose)."""
    from shop import shop_schema

    from flux_agent.model.schema import Index

    schema = shop_schema()
    schema.table("orders").indexes.append(Index(name="orders_user_id_idx", columns=["user_id"],
                                                where="status <> 'done'"))
    plan = build_plan(parse_operations([{"op": "add_index", "table": "orders", "columns": ["user_id"]}]), schema,
                      Settings(), tool="alembic", convention=POLAR)
    assert plan.operations[0].name == "ix_orders_user_id"
