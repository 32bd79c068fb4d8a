"""The shadow column's contract (plan/ops/_shadow.py makes the copy and keeps it in sync): the
old column dropped and the copy taking its name, its indexes' and constraints' names, its unique
constraints and its sequences; and the rollback that rebuilds the old column from the copy."""

from __future__ import annotations

from ...pg.ddl import collated, comment_sql, constraint_sql as key_constraint_sql, index_sql, unique_using_index_sql
from ...pg.parse import operand
from ...pg.quote import ident, qname, qname_in
from ._ignores import kept_type
from ._partitions import defaults_sql, own_defaults, restore_index_sql
from ._shadow import (Shadow, attached_early, constraint_sql, copy_index_sql, create_views_sql, drop_sync_sql,
                      drop_views_sql, sync_function_sql, unique_constraint)
from ._shadow_identity import identity_sql


def own_sequences_sql(sh: Shadow, column: str) -> list[str]:
    """A sequence owned by the column (serial) would go with it: it moves to `column` first."""
    return [f"ALTER SEQUENCE {qname(s)} OWNED BY {qname(sh.table.name)}.{ident(column)}"
            for s in sh.carried.sequences]



def restore_old_sql(sh: Shadow) -> list[str]:
    """Rebuild the old column from the new one (the contract step's rollback).

    Runs in one transaction under the lock ADD COLUMN takes, so the copy is
    exact; it rewrites every row and rebuilds indexes while writes wait.
    """
    t = qname(sh.table.name)
    o = ident(sh.old.name)
    default = f" DEFAULT {operand(sh.old.default)}" if sh.old.default else ""
    out = kept_type(f"ALTER TABLE {t} ADD COLUMN {o} {collated(sh.old.type, sh.old.collation)}{default}",
                    f"{sh.old.name} comes back with the type it had ({sh.old.type})")
    if own_defaults(sh.schema, sh.table, sh.old.name):  # ADD COLUMN gave every partition the table's
        out += defaults_sql(sh.schema, sh.table, sh.old.name)
    out += comment_sql(sh.table.name, sh.old.name, sh.old.comment)
    out.append(f"UPDATE {t} SET {o} = {sh.back([sh.new_name])}")
    if not sh.old.nullable:
        out.append(f"ALTER TABLE {t} ALTER COLUMN {o} SET NOT NULL")
    for idx, _ in sh.indexes:
        con = unique_constraint(sh, idx)
        if con is not None:
            out.append(key_constraint_sql(sh.table, con))  # its INCLUDE and NULLS NOT DISTINCT too
            continue
        definition = sh.carried.indexes.get(idx.name)
        out += restore_index_sql(sh.schema, sh.table, idx.name, definition, None, None) if definition \
            else [index_sql(sh.table, idx)]
    for con, _ in sh.constraints:
        out.append(constraint_sql(sh, con, con.name, sh.old.name, False))
    return out + own_sequences_sql(sh, sh.old.name) + sync_function_sql(sh)



def attach_unique_sql(sh: Shadow) -> tuple[list[str], list[str]]:
    """Unique constraints become constraints again on the copied unique index, under their final
    names (Shadow.final_name): only in the contract, where the originals are gone; a DEFERRABLE one,
    attached as it was built (attached_early), only takes its final name. The statements, and those
    undoing them (a dropped constraint takes its index: unique_copies_sql makes it again)."""
    t = qname(sh.table.name)
    up, down = [], []
    for idx, copy in sh.indexes:
        con = unique_constraint(sh, idx)
        if con is None:
            continue
        name = sh.final_name(con.name)
        if attached_early(sh, idx) is None:
            up.append(unique_using_index_sql(sh.table.name, name, copy, con))
            down.append(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(name)}")
        elif name != copy:
            up += [SWAP_IGNORE, f"ALTER TABLE {t} RENAME CONSTRAINT {ident(copy)} TO {ident(name)}"]
            down.append(f"ALTER TABLE {t} RENAME CONSTRAINT {ident(name)} TO {ident(copy)}")
    return up, down


SWAP_IGNORE = ("-- squawk-ignore renaming-object -- the copy takes the name of the original dropped above; "
               "the name running code knows stays")



def swap_sql(sh: Shadow) -> tuple[list[str], list[str]]:
    """The contract's swap (old column dropped, the copy takes its name, its indexes and
    constraints theirs) and its undo (the old column rebuilt from the copy)."""
    t, c, n = qname(sh.table.name), ident(sh.old.name), ident(sh.new_name)
    attach, detach = attach_unique_sql(sh)
    renames, names_back = take_names_sql(sh)
    default = defaults_sql(sh.schema, sh.table, sh.old.name, none=False)
    take, named = identity_sql(sh, sh.new_name, sh.old.name, drop=False)
    up = drop_sync_sql(sh) + drop_views_sql(sh.carried) + own_sequences_sql(sh, sh.new_name) + take + [
        "-- squawk-ignore ban-drop-column -- the shadow column already holds every value",
        f"ALTER TABLE {t} DROP COLUMN {c}",
        "-- squawk-ignore renaming-column -- the shadow column takes the name the application uses",
        f"ALTER TABLE {t} RENAME COLUMN {n} TO {c}",
    ] + named + renames + attach + default + create_views_sql(sh.carried)
    back, back_named = identity_sql(sh, sh.old.name, sh.new_name, drop=True)
    undo = drop_views_sql(sh.carried) + (
        [f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"] if sh.old.default else []) + detach + names_back \
        + [f"ALTER TABLE {t} RENAME COLUMN {c} TO {n}"] + unique_copies_sql(sh) + restore_old_sql(sh) \
        + back + back_named + create_views_sql(sh.carried)
    return up, undo



def unique_copies_sql(sh: Shadow) -> list[str]:
    """The copies' unique indexes as the contract found them (the swap's undo dropped them with the
    constraints they became): a contract rolled back alone runs forward again. Built in the undo's
    transaction, which rebuilds the old column's indexes too."""
    return [copy_index_sql(sh, idx, copy, concurrently=False) for idx, copy in sh.indexes
            if unique_constraint(sh, idx) is not None and attached_early(sh, idx) is None]


def take_names_sql(sh: Shadow) -> tuple[list[str], list[str]]:
    """After the originals are dropped (with the old column), each copy of an index or a CHECK or
    foreign key takes its final name (Shadow.final_name; unique constraints take theirs as they are
    attached): the statements, and those giving the copies their names back (the rollback, before
    the originals are made again)."""
    t = qname(sh.table.name)
    up, back_cons, back_idx = [], [], []
    for idx, copy in sh.indexes:
        final = sh.final_name(idx.name)
        if unique_constraint(sh, idx) is None and final != copy:
            up += [SWAP_IGNORE, f"ALTER INDEX {qname_in(sh.table.name, copy)} RENAME TO {ident(final)}"]
            back_idx.append(f"ALTER INDEX {qname_in(sh.table.name, final)} RENAME TO {ident(copy)}")
    for con, copy in sh.constraints:
        final = sh.final_name(con.name)
        if final != copy:
            up += [SWAP_IGNORE, f"ALTER TABLE {t} RENAME CONSTRAINT {ident(copy)} TO {ident(final)}"]
            back_cons.append(f"ALTER TABLE {t} RENAME CONSTRAINT {ident(final)} TO {ident(copy)}")
    return up, back_cons + back_idx
