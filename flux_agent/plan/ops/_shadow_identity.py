"""How a shadow column takes over its original's identity (a key widened with the key family,
a column retyped): the copy gets an identity of its own under a passing name, its sequence set to
where the original's stands, and then the original's sequence name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...pg.ddl import sequence_options
from ...pg.quote import ident, literal, qname, split_qualified
from ._base import short_name

if TYPE_CHECKING:
    from ._shadow import Shadow

IDENTITY_IGNORE = ("-- squawk-ignore ban-alter-identity -- the identity moves to the copy in this transaction, "
                   "its sequence where the old one stood: inserts without an id go on")
SEQUENCE_IGNORE = ("-- squawk-ignore renaming-object -- the moved identity's sequence takes the name the old one had")


def identity_sql(sh: Shadow, to: str, holder: str, drop: bool) -> tuple[list[str], list[str]]:
    """Move the column's identity (sh.carried.identities) from column `holder` to column `to` (NOT NULL
    by then): `to` gets an identity of its own under a passing name, its sequence set to where the
    holder's stands; `drop`: the holder's is dropped here (else it goes with its column). Then, the
    second list, the new sequence takes the old one's name."""
    t = qname(sh.table.name)
    take, named = [], []
    for s in sh.carried.identities:
        ns, seq = split_qualified(s.name)
        passing = qname(f"{ns}.{short_name(seq, suffix='flux')}" if ns else short_name(seq, suffix="flux"))
        kind = "ALWAYS" if s.always else "BY DEFAULT"
        take += [IDENTITY_IGNORE,
                 f"ALTER TABLE {t} ALTER COLUMN {ident(to)} ADD GENERATED {kind} AS IDENTITY (SEQUENCE NAME {passing}"
                 f"{sequence_options(s)})",
                 f"SELECT setval({literal(passing)}, last_value, is_called) FROM {qname(s.name)}"]
        if drop:
            take += [IDENTITY_IGNORE, f"ALTER TABLE {t} ALTER COLUMN {ident(holder)} DROP IDENTITY"]
        named += [SEQUENCE_IGNORE, f"ALTER SEQUENCE {passing} RENAME TO {ident(seq)}"]
    return take, named
