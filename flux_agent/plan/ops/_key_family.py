"""Widening an integer primary key (int -> bigint) together with every foreign-key column that
points at it: each gets a shadow column kept in sync by a trigger and filled in batches, the
new key its unique index built concurrently, the new foreign keys added NOT VALID and then
validated, the key's sequence widened; then one short swap step per referencing column, and
the key's table last (its primary key taken over USING the prebuilt index).

Why children first: once every child's foreign key stands on the parent's new column, the
old key column has nothing pointing at it and drops with the old primary key in a
catalog-only step. Each swap's rollback rebuilds what it dropped from the copy (under lock,
so it is not brief) and loses nothing: every value fits back in the narrower type unless a
wider one was written after the swap, and then the rollback fails instead of truncating.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from ...errors import FluxInputError
from ...model.plan import Step
from ...model.schema import Column, Constraint, Schema, Table
from ...pg.ddl import key_actions, sequence_of
from ...pg.locks import NO_LOCK, SHARE_ROW_EXCLUSIVE
from ...pg.quote import dollar_quote, ident, literal, qname
from ...pg.types import not_null_uses_check
from ._base import Ctx, code_step, short_name, tx_step
from ._dependents import column_dependents
from ._partitions import partitions
from ._shadow import Shadow, collect_copies, expand_steps, refuse_uncopyable
from ._shadow_swap import swap_sql
from .add_index import index_steps

# The widening casts a key may take: every old value fits, so no row can fail the copy.
WIDER = {("smallint", "integer"), ("smallint", "bigint"), ("integer", "bigint")}
# Not `<column>_flux`: that name tells verify's load test a plain retype is running, whose old code
# writes the column itself (a key here).
SHADOW = "wide"


@dataclass
class Member:
    """A column whose foreign keys reference the key."""

    sh: Shadow  # for the swap and its undo: the constraints as they are
    expand: Shadow  # the same, its foreign keys on the key re-pointed at the key's shadow
    fks: list[Constraint]


@dataclass
class Family:
    key: Shadow
    pkey: str  # the primary key constraint (and its index)
    index: str  # the unique index built on the key's shadow; it becomes the primary key's
    children: list[Member]

    @property
    def tables(self) -> list[str]:
        out = [self.key.table.name]
        for m in self.children:
            if m.sh.table.name not in out:
                out.append(m.sh.table.name)
        return out


def is_key_widening(table: Table, column: str) -> bool:
    """A change to a primary-key column: planned (or refused) here, never by the single-column shadow."""
    return column in table.primary_key


def _refuse(what: str, why: str) -> None:
    raise FluxInputError(f"cannot widen the primary key {what}: {why}")


def family(schema: Schema, table: Table, col: Column, new_type: str, using: Optional[str],
           pg_version: int = 12) -> Family:
    """Refuse what is out of reach, naming the object; else the key and its referencing columns."""
    what = f"{table.name}.{col.name}"
    if using is not None:
        _refuse(what, "a key widens by a plain cast; leave out the using expression")
    if (col.type, new_type) not in WIDER:
        _refuse(what, f"Flux widens a key smallint -> integer/bigint or integer -> bigint, not {col.type} -> "
                      f"{new_type}: change it by hand")
    if len(table.primary_key) != 1:
        _refuse(what, f"the primary key of {table.name} is composite ({', '.join(table.primary_key)}); "
                      "Flux widens a single-column key only: change it by hand")
    if partitions(schema, table.name):
        _refuse(what, f"{table.name} is a partitioned table (a primary key cannot be attached USING INDEX "
                      "there): change it by hand")
    pkey = next((c.name for c in table.constraints if c.kind == "primary_key"), None) or \
        next((i.name for i in table.indexes if i.primary), None)
    if pkey is None:
        _refuse(what, f"the name of the primary key of {table.name} is not known")
    refuse_uncopyable(schema, table, col.name)
    key = _shadow(schema, table, col, new_type, pg_version)
    if schema.dependencies is None and sequence_of(col.default):
        # Without PostgreSQL's catalogs the default's nextval names the sequence, taken to be owned by
        # the key (serial): it must move to the copy before the old key is dropped, or goes with it.
        key.carried.sequences = [sequence_of(col.default)]
    members: dict[tuple[str, str], Member] = {}
    for other in schema.tables:
        for con in other.constraints:
            # A reader may leave a foreign key's columns out where it references the primary key.
            if con.kind != "foreign_key" or con.ref_table != table.name or \
                    col.name not in (con.ref_columns or table.primary_key):
                continue
            label = f"foreign key {con.name} on {other.name}"
            if len(con.columns) != 1:
                _refuse(what, f"{label} is composite ({', '.join(con.columns)}): change it by hand")
            if other.name == table.name:
                _refuse(what, f"{label} references its own table: change it by hand")
            if partitions(schema, other.name):
                _refuse(what, f"{label} is on a partitioned table: change it by hand")
            child = other.column(con.columns[0])
            if child.name in other.primary_key:
                _refuse(what, f"{other.name}.{child.name} ({label}) is part of the primary key of {other.name}: "
                              "change it by hand")
            if child.type != col.type:
                _refuse(what, f"{other.name}.{child.name} ({label}) is {child.type}, not {col.type}: "
                              "change it by hand")
            member = members.get((other.name, child.name))
            if member is None:
                refuse_uncopyable(schema, other, child.name)
                sh = _shadow(schema, other, child, new_type, pg_version)
                member = members[(other.name, child.name)] = Member(sh, sh, [])
            member.fks.append(con)
    for m in members.values():
        whole = [(c.model_copy(update={"ref_columns": [col.name]}) if c in m.fks else c, copy)
                 for c, copy in m.sh.constraints]
        m.sh.constraints = whole
        m.expand = replace(m.sh, constraints=[(c.model_copy(update={"ref_columns": [key.new_name]})
                                               if c.ref_table == table.name and c.ref_columns == [col.name] else c,
                                               copy) for c, copy in whole])
    return Family(key, pkey, short_name(bare_name(table.name), key.new_name, suffix="key"), list(members.values()))


def warnings(schema: Schema, table: Table, col: Column) -> list[str]:
    """Read without PostgreSQL, a key with no default may be an identity column, which the swap
    would drop with its sequence (with the catalogs such a key is refused)."""
    if schema.dependencies is None and col.default is None:
        return [f"{table.name}.{col.name} has no default: if it is an identity column, its swap drops the "
                "identity and inserts without an id then fail; plan against the dev database, which knows"]
    return []


def bare_name(table: str) -> str:
    return table.rpartition(".")[2]


def _shadow(schema: Schema, table: Table, col: Column, new_type: str, pg_version: int) -> Shadow:
    # An identity moves to the copy at the swap; ADD ... AS IDENTITY needs the copy NOT NULL, which
    # it is from PostgreSQL 12 on (before that its validated CHECK stands in): refused there.
    sh = Shadow(table, col, short_name(col.name, SHADOW, suffix="flux"), new_type, None, pg_version=pg_version,
                schema=schema, carried=column_dependents(schema, table, col.name, "retype",
                                                         carry_identity=not_null_uses_check(pg_version)))
    return collect_copies(sh, rename=False)


def apply(fam: Family, new_type: str) -> None:
    """The planned schema: the key and every referencing column have the new type."""
    fam.key.old.type = new_type
    for m in fam.children:
        m.sh.old.type = new_type


def _rows(table: Table) -> str:
    return "size unknown" if table.row_estimate is None else f"~{table.row_estimate:,} rows stay where they are"


def _swap_words(ctx: Ctx, table: Table, locks: str) -> str:
    # Catalog changes only (no scan, no rewrite, no index build): milliseconds once the lock is granted.
    return (f"ACCESS EXCLUSIVE on {locks} for a catalog-only change (no scan, no rewrite): milliseconds once "
            f"granted; each try waits {ctx.settings.lock_wait_ms} ms at most and lets go ({ctx.settings.lock_tries} "
            f"tries); {_rows(table)}")


def plan(ctx: Ctx, fam: Family) -> list[Step]:
    key, new_type = fam.key, fam.key.new_type
    old_type = key.old.type
    tables = fam.tables
    n = len(tables)
    swaps = len(fam.children) + 1  # a table referencing the key from two columns swaps each
    where = f"key family of {n} table{'s' if n > 1 else ''}: {', '.join(tables)}"
    steps = [_no_publication(ctx, fam, where)] + expand_steps(ctx, key, f"cast to {new_type}")
    steps += index_steps(ctx, key.table, fam.index, [key.new_name], True, None, phase="expand")
    for m in fam.children:
        steps += expand_steps(ctx, m.expand, f"cast to {new_type}; references {key.table.name}")
    seqs = key.carried.sequences
    if seqs:
        steps.append(tx_step(
            ctx, "expand", f"widen sequence {', '.join(seqs)} to {new_type}",
            [f"ALTER SEQUENCE {qname(s)} AS {new_type}" for s in seqs],
            [f"ALTER SEQUENCE {qname(s)} AS {old_type}" for s in seqs],
            lock=SHARE_ROW_EXCLUSIVE, lock_note="the sequence", risk="brief lock on the sequence, catalog change only",
            rollback=f"back to {old_type} (fails once the sequence has passed the {old_type} range)"))
    steps.append(code_step(
        f"deploy code that accepts {', '.join(f'{t}' for t in _columns(fam))} as {new_type} "
        "(they change at the next steps)", risk="application deploy; code keeps the column names"))
    for i, m in enumerate(fam.children, start=1):
        up, undo = swap_sql(m.sh)
        t, c = m.sh.table.name, m.sh.old.name
        steps.append(tx_step(
            ctx, "contract", f"swap {t}.{c} to the {new_type} copy, its foreign key "
                             f"{', '.join(f.name for f in m.fks)} now on it (swap {i} of {swaps})",
            up, undo, lock_note=f"{t} and {key.table.name}", risk=_swap_words(ctx, m.sh.table,
                                                                           f"{t} and {key.table.name}"),
            down_statement_timeout="0",
            rollback=f"re-create {c} as {old_type} from the copy, its foreign key re-checked (rewrites {t} "
                     "under lock: not brief)"))
    steps.append(_key_swap(ctx, fam, swaps))
    return steps


def _no_publication(ctx: Ctx, fam: Family, where: str) -> Step:
    """The schema model does not list publications: the first step refuses, naming them, before
    anything changes. Logical replication carries no DDL, so a subscriber would keep the narrow
    columns (and a publication's replica identity is the primary key swapped here)."""
    regs = ", ".join(f"{literal(qname(t))}::regclass" for t in fam.tables)
    what = f"{fam.key.table.name}.{fam.key.old.name}"
    body = (
        "\nDECLARE\n  found text;\nBEGIN\n"
        "  SELECT string_agg(DISTINCT format('%s (on %I.%I)', pubname, schemaname, tablename), ', ') INTO found\n"
        "    FROM pg_publication_tables\n"
        f"   WHERE format('%I.%I', schemaname, tablename)::regclass IN ({regs});\n"
        "  IF found IS NOT NULL THEN\n"
        f"    RAISE EXCEPTION 'cannot widen the primary key {what.replace(chr(39), chr(39) * 2)}: publication % "
        "replicates its key family; logical replication carries no DDL: widen it by hand on publisher and "
        "subscribers', found;\n"
        "  END IF;\nEND\n")
    return tx_step(ctx, "expand", f"{where}; check that no publication replicates them",
                   [f"DO {dollar_quote(body)}"], None, lock=NO_LOCK, risk="reads the catalog only",
                   rollback="nothing to undo: it changes nothing")


def _columns(fam: Family) -> list[str]:
    return [f"{fam.key.table.name}.{fam.key.old.name}"] + [f"{m.sh.table.name}.{m.sh.old.name}"
                                                           for m in fam.children]


def _key_swap(ctx: Ctx, fam: Family, n: int) -> Step:
    """The key's table: the old key and its primary key go, the copy takes the name and becomes the
    primary key on its prebuilt unique index. The undo must first lift the children's foreign keys
    off that index, and puts them back validated."""
    key = fam.key
    t, c, new = qname(key.table.name), ident(key.old.name), ident(key.new_name)
    up, _ = swap_sql(key)
    up = ["-- squawk-ignore ban-drop-constraint -- the primary key moves to the copy's prebuilt unique index "
          "in this same transaction",
          f"ALTER TABLE {t} DROP CONSTRAINT {ident(fam.pkey)}"] + up + [
        "-- squawk-ignore renaming-object -- the prebuilt index takes the primary key's name",
        f"ALTER TABLE {t} ADD CONSTRAINT {ident(fam.pkey)} PRIMARY KEY USING INDEX {ident(fam.index)}"]
    # Rebuilt without its default: a nextval default on ADD COLUMN would draw a value per row.
    plain = replace(key, old=key.old.model_copy(update={"default": None}))
    _, undo = swap_sql(plain)
    fks = [(m, f) for m in fam.children for f in m.fks]
    undo = ([f"ALTER TABLE {qname(m.sh.table.name)} DROP CONSTRAINT {ident(f.name)}" for m, f in fks]
            + [f"ALTER TABLE {t} DROP CONSTRAINT {ident(fam.pkey)}"]
            + ([f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"] if key.old.default else [])
            + undo
            + ([f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {key.old.default}"] if key.old.default else [])
            + [f"ALTER TABLE {t} ADD CONSTRAINT {ident(fam.pkey)} PRIMARY KEY ({c})",
               f"CREATE UNIQUE INDEX {ident(fam.index)} ON {t} ({new})"]
            + [f"ALTER TABLE {qname(m.sh.table.name)} ADD CONSTRAINT {ident(f.name)} FOREIGN KEY "
               f"({ident(m.sh.old.name)}) REFERENCES {t} ({new}){key_actions(f)}" for m, f in fks])
    return tx_step(
        ctx, "contract", f"swap {key.table.name}.{key.old.name} to the {key.new_type} copy and make it the "
                         f"primary key {fam.pkey} on the prebuilt index (swap {n} of {n})",
        up, undo, lock_note=key.table.name,
        risk=_swap_words(ctx, key.table, key.table.name) + "; a statement the application prepared before it "
             f"that returns {key.old.name} fails once with 'cached plan must not change result type' and must be "
             "prepared again",
        down_statement_timeout="0",
        rollback=f"re-create {key.old.name} as {key.old.type} from the copy with its primary key, and the "
                 "children's foreign keys re-checked (rewrites and scans under lock: not brief)")
