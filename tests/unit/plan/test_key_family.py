"""Widening a primary key plans its whole family (the key and every foreign-key column pointing at
it) in a fixed order, or is refused in one line naming what is out of reach."""

from __future__ import annotations

import pytest

from flux_agent.entry.actions import parse_operations
from flux_agent.errors import FluxInputError
from flux_agent.model.schema import Column, Constraint, Dependencies, Dependent, Index, Schema, Sequence, Table
from flux_agent.model.settings import Settings
from flux_agent.plan.planner import build_plan, planned_schema


def _authors(**over) -> Table:
    t = Table(name="authors", primary_key=["id"],
              columns=[Column(name="id", type="integer", nullable=False,
                              default="nextval('authors_id_seq'::regclass)"),
                       Column(name="name", type="text", nullable=False)],
              constraints=[Constraint(name="authors_pkey", kind="primary_key", columns=["id"])],
              indexes=[Index(name="authors_pkey", columns=["id"], unique=True, primary=True)])
    return t.model_copy(update=over)


def _child(name: str, column: str, type_: str = "integer", on_delete=None, pk=("id",)) -> Table:
    return Table(name=name, primary_key=list(pk),
                 columns=[Column(name="id", type="bigint", nullable=False), Column(name=column, type=type_)],
                 constraints=[Constraint(name=f"{name}_{column}_fkey", kind="foreign_key", columns=[column],
                                         ref_table="authors", ref_columns=["id"], on_delete=on_delete)])


def _schema(*children: Table, authors: Table | None = None, deps: Dependencies | None = None) -> Schema:
    return Schema(tables=[authors or _authors(), *children], dependencies=deps)


def _plan(schema: Schema, pg_version: int = 16, **op):
    return build_plan(parse_operations([{"op": "change_column_type", "table": "authors", "column": "id",
                                         "type": "bigint", **op}]), schema, Settings(pg_version=pg_version))


def test_children_swap_first_then_the_key_each_with_a_rollback():
    schema = _schema(_child("posts", "author_id", on_delete="CASCADE"), _child("reviews", "reviewer_id"))
    plan = _plan(schema)
    titles = [s.title for s in plan.steps]
    swaps = [s for s in plan.steps if s.phase == "contract"]
    assert [s.title.split(" to ")[0] for s in swaps] == ["swap posts.author_id", "swap reviews.reviewer_id",
                                                        "swap authors.id"]
    assert all(s.down_sql and "lock_timeout" in s.up_sql and not s.data_loss_on_rollback for s in swaps)
    # What must exist before the foreign keys on the new key column can be added: its unique index.
    index = next(i for i, t in enumerate(titles) if t.startswith("build unique index authors_id_wide_flux_key"))
    fk = next(i for i, s in enumerate(plan.steps) if "REFERENCES authors (id_wide_flux)" in (s.up_sql or ""))
    assert index < fk
    assert "ON DELETE CASCADE NOT VALID" in plan.steps[fk].up_sql
    # Without PostgreSQL's catalogs the sequence comes from the key's default.
    seq = next(s for s in plan.steps if s.title.startswith("widen sequence"))
    assert "ALTER SEQUENCE authors_id_seq AS bigint" in seq.up_sql and "AS integer" in seq.down_sql
    key = swaps[-1]
    assert "PRIMARY KEY USING INDEX authors_id_wide_flux_key" in key.up_sql
    # Its rollback lifts the children's foreign keys off the key's index and puts them back.
    assert key.down_sql.index("DROP CONSTRAINT posts_author_id_fkey") < key.down_sql.index(
        "DROP CONSTRAINT authors_pkey")
    assert "ADD CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id_wide_flux) " \
           "ON DELETE CASCADE" in key.down_sql
    assert "key family of 3 tables: authors, posts, reviews" in plan.summary
    assert "(swap 3 of 3)" in plan.summary


def test_planned_schema_widens_every_member():
    schema = _schema(_child("posts", "author_id"), _child("reviews", "reviewer_id"))
    after = planned_schema(parse_operations([{"op": "change_column_type", "table": "authors", "column": "id",
                                              "type": "bigint"}]), schema)
    assert [after.table(t).column(c).type for t, c in (("authors", "id"), ("posts", "author_id"),
                                                        ("reviews", "reviewer_id"))] == ["bigint"] * 3
    assert schema.table("posts").column("author_id").type == "integer"  # the input is left alone


def test_a_binary_coercible_key_change_stays_one_step():
    key = _authors(columns=[Column(name="id", type="character varying(10)", nullable=False)])
    plan = build_plan(parse_operations([{"op": "change_column_type", "table": "authors", "column": "id",
                                         "type": "varchar(20)"}]), _schema(authors=key), Settings())
    assert [s.phase for s in plan.steps] == ["migrate"]


def _partitioned(name: str) -> Dependencies:
    return Dependencies(dependents=[Dependent(kind="partition", name=f"{name}_2026", table=name)])


@pytest.mark.parametrize("schema, op, named", [
    (_schema(), {"type": "text"}, "not integer -> text"),
    (_schema(), {"using": "id * 2"}, "leave out the using expression"),
    (_schema(authors=_authors(primary_key=["id", "name"])), {}, "composite (id, name)"),
    (_schema(deps=_partitioned("authors")), {}, "authors is a partitioned table"),
    (_schema(_child("posts", "author_id"), deps=_partitioned("posts")), {},
     "foreign key posts_author_id_fkey on posts is on a partitioned table"),
    (_schema(_child("posts", "author_id", type_="bigint")), {}, "posts.author_id (foreign key posts_author_id_fkey "
                                                               "on posts) is bigint, not integer"),
    (_schema(_child("profiles", "author_id", pk=("author_id",))), {},
     "profiles.author_id (foreign key profiles_author_id_fkey on profiles) is part of the primary key"),
    (_schema(authors=_authors(constraints=[
        Constraint(name="authors_pkey", kind="primary_key", columns=["id"]),
        Constraint(name="authors_mentor_fkey", kind="foreign_key", columns=["name"], ref_table="authors",
                   ref_columns=["id"])])), {}, "foreign key authors_mentor_fkey on authors references its own table"),
    (_schema(deps=Dependencies(sequences=[Sequence(name="authors_id_seq", owned_by="authors.id", identity=True)])),
     {"pg_version": 11}, "identity sequence authors_id_seq"),  # ADD ... AS IDENTITY needs the copy NOT NULL
], ids=["not-widening", "using", "composite", "partitioned", "partitioned-child", "child-type", "child-key",
        "self-reference", "identity"])
def test_refused_in_one_line_naming_the_object(schema, op, named):
    with pytest.raises(FluxInputError) as exc:
        _plan(schema, **op)
    message = str(exc.value)
    assert named in message and "\n" not in message, message


def test_an_identity_moves_to_the_copy_at_the_swap_and_back_at_the_rollback():
    deps = Dependencies(sequences=[Sequence(name="authors_id_seq", owned_by="authors.id", identity=True, always=True)])
    swap = next(s for s in _plan(_schema(deps=deps)).steps if s.title.startswith("swap authors"))
    up, down = swap.up_sql, swap.down_sql
    take = "ALTER TABLE authors ALTER COLUMN id_wide_flux ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME authors_id_seq_flux)"
    assert up.index(take) < up.index("SELECT setval('authors_id_seq_flux', last_value, is_called) FROM authors_id_seq") \
        < up.index("DROP COLUMN id;") < up.index("ALTER SEQUENCE authors_id_seq_flux RENAME TO authors_id_seq")
    back = "ALTER TABLE authors ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME authors_id_seq_flux)"
    assert down.index("ALTER TABLE authors ADD COLUMN id integer") < down.index(back) \
        < down.index("ALTER TABLE authors ALTER COLUMN id_wide_flux DROP IDENTITY") \
        < down.index("ALTER SEQUENCE authors_id_seq_flux RENAME TO authors_id_seq")
    assert not any(s.title.startswith("widen sequence") for s in _plan(_schema(deps=deps)).steps)


def test_without_catalogs_a_key_without_default_may_be_an_identity():
    key = _authors(columns=[Column(name="id", type="integer", nullable=False), Column(name="name", type="text")])
    plan = _plan(_schema(authors=key))
    assert [f.message.split(":")[0] for f in plan.findings] == ["authors.id has no default"]
    assert not any(s.title.startswith("widen sequence") for s in plan.steps)
    assert _plan(_schema()).findings == []


def test_without_catalogs_the_serial_sequence_moves_to_the_copy_before_the_old_key_goes():
    key = next(s for s in _plan(_schema(_child("posts", "author_id"))).steps if s.title.startswith("swap authors"))
    assert key.up_sql.index("ALTER SEQUENCE authors_id_seq OWNED BY authors.id_wide_flux") < \
        key.up_sql.index("DROP COLUMN id")
    assert key.down_sql.index("ALTER SEQUENCE authors_id_seq OWNED BY authors.id;") > \
        key.down_sql.index("ADD COLUMN id integer")


def test_two_columns_of_one_table_referencing_the_key_each_swap():
    posts = _child("posts", "author_id")
    posts.columns.append(Column(name="editor_id", type="integer"))
    posts.constraints.append(Constraint(name="posts_editor_id_fkey", kind="foreign_key", columns=["editor_id"],
                                        ref_table="authors", ref_columns=["id"]))
    plan = _plan(_schema(posts))
    swaps = [s.title for s in plan.steps if s.phase == "contract"]
    assert [t.split(" to ")[0] for t in swaps] == ["swap posts.author_id", "swap posts.editor_id", "swap authors.id"]
    assert swaps[-1].endswith("(swap 3 of 3)")
    assert "key family of 2 tables: authors, posts" in plan.summary
    key = next(s for s in plan.steps if s.title.startswith("swap authors"))
    assert "ADD CONSTRAINT posts_editor_id_fkey FOREIGN KEY (editor_id) REFERENCES authors (id_wide_flux)" \
        in key.down_sql


def test_a_foreign_key_read_without_its_referenced_columns_is_on_the_key():
    posts = _child("posts", "author_id", on_delete="CASCADE")
    posts.constraints[0].ref_columns = []
    plan = _plan(_schema(posts))
    assert any("FOREIGN KEY (author_id_wide_flux) REFERENCES authors (id_wide_flux) ON DELETE CASCADE NOT VALID"
               in (s.up_sql or "") for s in plan.steps)
    swap = next(s for s in plan.steps if s.title.startswith("swap posts"))
    assert "FOREIGN KEY (author_id) REFERENCES authors (id) ON DELETE CASCADE" in swap.down_sql
