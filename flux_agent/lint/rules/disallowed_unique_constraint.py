"""ADD UNIQUE without USING INDEX builds the index under ACCESS EXCLUSIVE: reads
and writes wait for the whole build. (ADD PRIMARY KEY is the same cost; as in
squawk, adding-serial-primary-key-field reports it, so it is not reported twice.)"""

from pglast import ast

from pglast.enums import ConstrType

from ._rule import Rule, flags, passes
from ._squawk_compat import index_built_in_place

RULE = Rule(
    id="disallowed-unique-constraint",
    severity="error",
    message="adding a UNIQUE constraint builds its index under ACCESS EXCLUSIVE, blocking reads and writes",
    hint="CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX",
    squawk="default",
    nodes=(ast.AlterTableStmt,),
    examples=[
        flags("ALTER TABLE t ADD CONSTRAINT field_uniq UNIQUE (field);"),
        flags("ALTER TABLE foo ADD COLUMN IF NOT EXISTS bar text UNIQUE;"),
        passes("ALTER TABLE t ADD CONSTRAINT field_uniq UNIQUE USING INDEX field_idx;"),
        passes("CREATE TABLE t (sku text);\nALTER TABLE t ADD CONSTRAINT sku_uniq UNIQUE (sku);"),
    ],
)


def check(stmt, ctx):
    return index_built_in_place(
        stmt, ctx, ConstrType.CONSTR_UNIQUE,
        "ADD COLUMN {column} ... UNIQUE builds the index under ACCESS EXCLUSIVE, blocking reads and writes")
