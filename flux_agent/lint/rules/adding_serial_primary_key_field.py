"""ADD PRIMARY KEY (or ADD COLUMN ... PRIMARY KEY) builds the unique index while it
holds ACCESS EXCLUSIVE: no reads or writes until the build ends."""

from pglast import ast

from pglast.enums import ConstrType

from ._rule import Rule, flags, passes
from ._squawk_compat import index_built_in_place

RULE = Rule(
    id="adding-serial-primary-key-field",
    severity="error",
    message=("adding a primary key builds its index under ACCESS EXCLUSIVE, blocking reads and writes for the "
             "whole build"),
    hint="CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX",
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE items ADD PRIMARY KEY (id);"),
        flags("ALTER TABLE items ADD COLUMN IF NOT EXISTS id bigserial PRIMARY KEY;"),
        passes("ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;"),
        passes("CREATE TABLE t (id bigint);\nALTER TABLE t ADD PRIMARY KEY (id);"),
    ],
)


def check(stmt, ctx):
    return index_built_in_place(
        stmt, ctx, ConstrType.CONSTR_PRIMARY,
        "ADD COLUMN {column} ... PRIMARY KEY fills and indexes the column under ACCESS EXCLUSIVE, blocking reads "
        "and writes")
