"""The shadow-column machinery behind rename_column and change_column_type.

A new column is added beside the old one and a trigger keeps the two equal in
both directions, so code writing either column stays correct between deploys
(old code writes the old column, new code the new one). Then a batched
backfill, copies of the old column's indexes and constraints built without
blocking, and finally a contract step that drops the old column (_shadow_swap.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ...errors import FluxInputError
from ...model.schema import Column, Constraint, Index, Schema, Table
from ...model.plan import Finding, Step
from ...pg.locks import SHARE_UPDATE_EXCLUSIVE
from ...pg.types import cast_target, collatable, distinct_sql as differ, not_null_uses_check
from ...pg.quote import dollar_quote, ident, ident_list, qname, qname_in
from ...pg.parse import column_refs, is_one_name, operand, parse_expr, render, replace_column
from ...pg.ddl import collated, comment_sql, index_sql, key_actions, unique_using_index_sql
from ...pg.repoint import index_copy, policy_alter, view_query
from .add_index import index_steps
from ._partitions import partitions
from ._dependents import Carried, column_dependents, referencing_keys
from ._base import Ctx, bare, short_name, tx_step
from ._ignores import kept_type
from ._batched_update import backfill_step, batched_update
from .set_not_null import DROP_CHECK_IGNORE, NN_IGNORE, check_name
from ..naming import renamed_default_name


@dataclass
class Shadow:
    table: Table
    old: Column
    new_name: str
    new_type: str
    using: Optional[str] = None  # expression over the old column
    pg_version: int = 12
    # copies made of the old column's indexes and constraints: (original, copy name)
    indexes: list[tuple[Index, str]] = field(default_factory=list)
    constraints: list[tuple[Constraint, str]] = field(default_factory=list)
    # what the dev database says depends on the old column: views, policies, index definitions
    carried: Carried = field(default_factory=Carried)
    schema: Schema = field(default_factory=Schema)  # the schema planned against (its partitions)
    rename: bool = False  # a rename's copies named for the new column keep those names (final_name)
    # a rename's copies of indexes and constraints whose names a tool gave them for their columns:
    # original -> its name for the renamed columns (plan/naming.renamed_default_name)
    renamed: dict[str, str] = field(default_factory=dict)

    # -- conversions, rendered for a given reference to the column ---------
    # The casts go to the type without its length (cast_target): the column's own assignment applies
    # it, so a value too long fails as ALTER COLUMN TYPE fails, where CAST(x AS varchar(100)) cut it.
    # Compared with the copy (`exact`), the value is cast to the copy's full type, rounded as the copy
    # holds it: 4.25 is 4.3 in a numeric(3,1) copy, and compared unrounded the trigger took the copy
    # for a new write and wrote 4.3 back into the old column (mealie's rating).
    def fwd(self, ref: list[str], exact: bool = False) -> str:
        if self.using is not None:
            node = replace_column(parse_expr(self.using, "using"), self.old.name, ref)
            value = operand(render(node))  # it also stands beside IS DISTINCT FROM
            return f"CAST({value} AS {self.new_type})" if exact else value
        col = ".".join(ident(p) if i else p for i, p in enumerate(ref)) if len(ref) > 1 else ident(ref[0])
        if self.new_type == self.old.type:
            return col
        return f"CAST({col} AS {self.new_type if exact else cast_target(self.new_type)})"

    def back(self, ref: list[str]) -> str:
        col = ".".join(ident(p) if i else p for i, p in enumerate(ref)) if len(ref) > 1 else ident(ref[0])
        return col if self.new_type == self.old.type else f"CAST({col} AS {cast_target(self.old.type)})"

    def final_name(self, original: str) -> str:
        """The name a copy of the index or constraint `original` takes once its original is dropped:
        the original's, which running code, the ORM's model (a Django Meta index, a Prisma map) and the
        next plan know; for a rename, where a tool gave the original its name for its columns, the one
        it gives the renamed columns (users_email_key -> users_email_address_key), as Rails'
        rename_column does."""
        return self.renamed.get(original, original)

    @property
    def fn(self) -> str:
        return qname_in(self.table.name, short_name("flux_sync", bare(self.table.name), self.old.name))

    @property
    def trigger(self) -> str:
        return ident(short_name("flux_sync", bare(self.table.name), self.old.name))


def prepare(schema: Schema, table: Table, old: Column, new_name: str, new_type: str,
            using: Optional[str], rename: bool, pg_version: int = 12) -> Shadow:
    """Refuse what the shadow strategy cannot carry; list what it must copy."""
    if old.name in table.primary_key:
        raise FluxInputError(
            f"{table.name}.{old.name} is part of the primary key; expand/contract of a key column is not supported"
        )
    refuse_uncopyable(schema, table, old.name)
    sh = Shadow(table, old, new_name, new_type, using, pg_version=pg_version, schema=schema,
                carried=column_dependents(schema, table, old.name, "rename" if rename else "retype", new_name,
                                          extra=referencing_keys(schema, table, old.name)))
    return collect_copies(sh, rename)


def refuse_uncopyable(schema: Schema, table: Table, column: str) -> None:
    """Constraints on the column a shadow cannot copy without a gap."""
    old = table.column(column)
    for con in table.constraints:
        if con.kind == "unique" and old.name in con.columns and partitions(schema, table.name):
            raise FluxInputError(f"unique constraint {con.name} of partitioned table {table.name} uses {old.name}; "
                                 "PostgreSQL cannot make a constraint of a prebuilt index there: change it by hand")
        if con.kind == "exclude" and old.name in con.columns:
            raise FluxInputError(f"exclusion constraint {con.name} uses {table.name}.{old.name}; "
                                 "expand/contract cannot copy it without a gap: change it by hand")


def collect_copies(sh: Shadow, rename: bool) -> Shadow:
    """List the old column's indexes (the primary key's aside) and constraints the shadow must copy."""
    schema, table, old = sh.schema, sh.table, sh.old
    sh.rename = rename
    deps = schema.dependencies  # PostgreSQL listed each index using the column, with its definition
    for idx in table.indexes:
        # ... but for those an earlier operation of this plan builds: what the model says of them
        if deps is not None and deps.index(idx.name) is not None:
            if idx.primary or idx.name not in sh.carried.indexes:
                continue
        elif idx.primary or not idx.uses(old.name):
            if not idx.primary and any(old.name in c for c in idx.columns if not c.isidentifier()):
                raise FluxInputError(f"expression index {idx.name} uses {old.name}; rebuild it by hand")
            continue
        sh.indexes.append((idx, _copy(sh, idx.name, idx.columns + idx.include)))
    for con in table.constraints:
        if con.kind in ("check", "foreign_key") and old.name in (con.columns or _refs(con)):
            sh.constraints.append((con, _copy(sh, con.name, con.columns or _refs(con), con)))
    return sh


def _copy(sh: Shadow, name: str, columns: list[str], con: Optional[Constraint] = None) -> str:
    """The copy's name: for a rename, the original's default name for the renamed columns where it
    has one (plan/naming.renamed_default_name; kept in sh.renamed for final_name); else
    `<name>_flux`, which takes the original's name in the contract (Shadow.final_name)."""
    if sh.rename:
        renamed = renamed_default_name(name, sh.table.name, columns, sh.old.name, sh.new_name,
                                       con.ref_table if con else None, con.ref_columns if con else None)
        if renamed != name:
            sh.renamed[name] = renamed
            return renamed
    return short_name(name, suffix="flux")


def _refs(con: Constraint) -> list[str]:
    if con.expression:
        return sorted(column_refs(parse_expr(con.expression, "check")))
    return []


def _swap(cols: list[str], old: str, new: str) -> list[str]:
    return [new if c == old else c for c in cols]


def _swap_keys(keys: list[str], old: str, new: str) -> list[str]:
    """An index's keys on column `new` instead of `old`, inside expressions too (the copy's step
    title said `lower(name)` of an index on lower(title))."""
    def one(key: str) -> str:
        if key == old or is_one_name(key):
            return new if key == old else key
        tree = parse_expr(key, "index key")
        return render(replace_column(tree, old, [new])) if old in column_refs(tree) else key
    return [one(k) for k in keys]


def _copy_where(sh: Shadow, idx: Index) -> Optional[str]:
    return render(replace_column(parse_expr(idx.where, "where"), sh.old.name, [sh.new_name])) if idx.where else None


def copy_index_sql(sh: Shadow, idx: Index, copy: str, concurrently: bool = True) -> Optional[str]:
    """The CREATE INDEX of `idx`'s copy `copy` on the new column: from PostgreSQL's definition where it
    gave one, else from what the model knows of it; None where that is columns and a predicate alone
    (index_step's own form), unless it is to be built in a transaction (`concurrently` False)."""
    definition = sh.carried.indexes.get(idx.name)
    if definition:
        return index_copy(definition, sh.table.name, sh.old.name, sh.new_name, copy, concurrently=concurrently)
    if concurrently and not (idx.method != "btree" or idx.opclasses or idx.orders or idx.collations
                             or idx.include or idx.nulls_not_distinct):
        return None
    beside = sh.table.model_copy(update={"columns": sh.table.columns + [Column(name=sh.new_name, type=sh.new_type)]})
    return index_sql(beside, idx.model_copy(update={
        "name": copy, "columns": _swap_keys(idx.columns, sh.old.name, sh.new_name), "where": _copy_where(sh, idx),
        "include": _swap(idx.include, sh.old.name, sh.new_name)}), concurrently=concurrently)


def constraint_sql(sh: Shadow, con: Constraint, name: str, column: str, not_valid: bool) -> str:
    t = qname(sh.table.name)
    tail = " NOT VALID" if not_valid else ""
    if con.kind == "check":
        expr = render(replace_column(parse_expr(con.expression, "check"), sh.old.name, [column]))
        return f"ALTER TABLE {t} ADD CONSTRAINT {ident(name)} CHECK ({expr}){tail}"
    return (f"ALTER TABLE {t} ADD CONSTRAINT {ident(name)} FOREIGN KEY "
            f"({ident_list(_swap(con.columns, sh.old.name, column))}) REFERENCES {qname(con.ref_table)} "
            f"({ident_list(con.ref_columns)}){key_actions(con)}{tail}")


def deferred_key_warnings(table: Table, column: str) -> list[Finding]:
    """A copy's unique index is checked at once while it builds, where the original's key is DEFERRABLE
    (hoppscotch's UserCollection (userUid, parentID, orderIndex), deferred so that moving an item shifts
    the others with one UPDATE): such a statement fails meanwhile. From the next step the copy is a
    DEFERRABLE constraint too (attached_early). Said, with the step."""
    out = []
    for con in (c for c in table.constraints if c.kind in ("unique", "primary_key") and c.deferrable
                and column in c.columns):
        out.append(Finding(rule="deferrable-key-copied", severity="warning", message=(
            f"{table.name}.{column} is in {con.name}, DEFERRABLE INITIALLY {con.deferrable.upper()}: the copy's "
            "unique index is checked at once while it builds (a concurrent build, the step after the backfill), "
            f"so a statement that moves values through each other (UPDATE ... SET {ident(column)} = "
            f"{ident(column)} + 1, which the deferred check allows) fails meanwhile; from the next step the copy "
            "is a DEFERRABLE constraint as well")))
    return out


def unique_constraint(sh: Shadow, idx: Index) -> Optional[Constraint]:
    return next((c for c in sh.table.constraints if c.kind == "unique" and c.name == idx.name), None)


def attached_early(sh: Shadow, idx: Index) -> Optional[Constraint]:
    """The DEFERRABLE unique constraint whose copy is attached as soon as its index is built, deferred as
    the original is, so a statement moving values through each other (which the deferred check allows:
    hoppscotch shifts an orderIndex with one UPDATE) goes on working beside it; the contract only renames
    it. A plain unique index is checked at once, as an immediate constraint is: attached in the contract."""
    con = unique_constraint(sh, idx)
    return con if con is not None and con.deferrable else None


def sync_function_sql(sh: Shadow) -> list[str]:
    o, n = sh.old.name, sh.new_name
    new_o, new_n, old_o, old_n = (f"NEW.{ident(o)}", f"NEW.{ident(n)}", f"OLD.{ident(o)}", f"OLD.{ident(n)}")
    fwd, back, same = sh.fwd(["new", o]), sh.back(["new", n]), sh.fwd(["new", o], exact=True)
    nt, ot = sh.new_type, sh.old.type
    body = (
        "\nBEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    IF {new_n} IS NULL THEN\n"
        f"      {new_n} := {fwd};\n"
        f"    ELSIF {differ(new_n, same, nt)} THEN\n"
        f"      {new_o} := {back};\n"
        "    END IF;\n"
        f"  ELSIF {differ(new_o, old_o, ot)} AND {differ(new_n, old_n, nt, negate=True)} THEN\n"
        f"    {new_n} := {fwd};\n"
        f"  ELSIF {differ(new_n, old_n, nt)} AND {differ(new_n, same, nt)} THEN\n"
        f"    {new_o} := {back};\n"
        "  END IF;\n"
        "  RETURN NEW;\n"
        "END\n"
    )
    return [
        f"CREATE FUNCTION {sh.fn}() RETURNS trigger LANGUAGE plpgsql AS {dollar_quote(body)}",
        f"CREATE TRIGGER {sh.trigger} BEFORE INSERT OR UPDATE ON {qname(sh.table.name)} "
        # EXECUTE FUNCTION is PostgreSQL 11+; PROCEDURE is the older spelling of the same.
        f"FOR EACH ROW EXECUTE {'FUNCTION' if sh.pg_version >= 11 else 'PROCEDURE'} {sh.fn}()",
    ]


def drop_sync_sql(sh: Shadow) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {sh.trigger} ON {qname(sh.table.name)}",
            "-- squawk-ignore ban-drop-function -- only the sync trigger dropped above used it",
            f"DROP FUNCTION IF EXISTS {sh.fn}()"]


def _add_copy(sql: str, sh: Shadow) -> list[str]:
    """The statement adding the new column: a rename's copy keeps the old column's type, which the
    rules on a type's choice judge as a choice (the user's squawk reads the file too)."""
    return kept_type(sql, f"{sh.new_name} keeps the type of {sh.old.name} ({sh.old.type})") if sh.new_type == sh.old.type else [sql]


def expand_steps(ctx: Ctx, sh: Shadow, what: str) -> list[Step]:
    """Everything up to the point where the new column is a full copy of the old one."""
    t = qname(sh.table.name)
    n = ident(sh.new_name)
    steps = [tx_step(
        ctx, "expand", f"add {sh.table.name}.{sh.new_name} and a trigger keeping it in sync with {sh.old.name}",
        # The copy keeps the column's collation where its type takes one (change_column_type says why).
        _add_copy(f"ALTER TABLE {t} ADD COLUMN {n} "
                  f"{collated(sh.new_type, sh.old.collation if collatable(sh.new_type) else None)}", sh)
        + comment_sql(sh.table.name, sh.new_name, sh.old.comment) + sync_function_sql(sh),
        drop_sync_sql(sh) + [f"ALTER TABLE {t} DROP COLUMN IF EXISTS {n}"],
        risk="brief lock, catalog change only; writes to either column are mirrored from here on",
        rollback=f"drop the trigger and {sh.new_name} ({sh.old.name} still holds every value)")]
    fwd = sh.fwd([sh.old.name])
    todo = differ(n, sh.fwd([sh.old.name], exact=True), sh.new_type)
    sql = batched_update(ctx, sh.table, [(sh.new_name, fwd)], todo, label=f"{sh.table.name}.{sh.new_name}")
    steps.append(backfill_step(ctx, sh.table, f"copy {sh.old.name} into {sh.new_name} in batches ({what})", sql,
                               pending=todo))
    for idx, copy in sh.indexes:
        where = _copy_where(sh, idx) if sh.carried.indexes.get(idx.name) is None else None
        steps += index_steps(ctx, sh.table, copy, _swap_keys(idx.columns, sh.old.name, sh.new_name), idx.unique,
                             where, phase="expand", sql=copy_index_sql(sh, idx, copy))
        deferred = attached_early(sh, idx)
        if deferred is not None:
            steps.append(tx_step(
                ctx, "expand", f"attach {copy} as a DEFERRABLE unique constraint on {sh.table.name}",
                [unique_using_index_sql(sh.table.name, copy, copy, deferred)],
                [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(copy)}"],
                risk=f"brief lock, no scan (the index is already built); from here the copy's key is checked when "
                     f"{deferred.name}'s is",
                rollback=f"drop the constraint {copy} (its index goes with it: run again, the build runs first)",
            ).model_copy(update={"undoes_steps_before": 1}))
    adds = [constraint_sql(sh, con, copy, sh.new_name, True) for con, copy in sh.constraints]
    names = [copy for _, copy in sh.constraints]
    if not sh.old.nullable:
        chk = check_name(sh.table, sh.new_name)
        adds.append(f"ALTER TABLE {t} ADD CONSTRAINT {ident(chk)} CHECK ({n} IS NOT NULL) NOT VALID")
        names.append(chk)
    if adds:
        steps.append(tx_step(
            ctx, "expand", f"add constraints of {sh.old.name} to {sh.new_name} as NOT VALID", adds,
            [f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {ident(c)}" for c in names],
            risk="brief lock, no scan", rollback="drop the copied constraints"))
        steps.append(tx_step(
            ctx, "expand", f"validate the copied constraints on {sh.table.name}.{sh.new_name}",
            [f"ALTER TABLE {t} VALIDATE CONSTRAINT {ident(c)}" for c in names], None,
            lock=SHARE_UPDATE_EXCLUSIVE, statement_timeout="0",
            risk="scans the table; reads and writes go on",
            rollback="nothing to undo: validating changes no data"))
    if not sh.old.nullable and not_null_uses_check(sh.pg_version):
        # Before PostgreSQL 12 SET NOT NULL scans under ACCESS EXCLUSIVE: the validated CHECK stays instead.
        chk = ident(check_name(sh.table, sh.new_name))
        steps.append(tx_step(
            ctx, "expand", f"set {sh.table.name}.{sh.new_name} NOT NULL (proved by the check, no scan)",
            [NN_IGNORE, f"ALTER TABLE {t} ALTER COLUMN {n} SET NOT NULL", DROP_CHECK_IGNORE,
             f"ALTER TABLE {t} DROP CONSTRAINT {chk}"],
            [f"ALTER TABLE {t} ADD CONSTRAINT {chk} CHECK ({n} IS NOT NULL) NOT VALID",
             f"ALTER TABLE {t} ALTER COLUMN {n} DROP NOT NULL"],
            rollback=f"allow NULL in {sh.new_name} again"))
    if sh.carried.policies or (sh.carried.views and sh.new_type == sh.old.type):
        steps.append(repoint_step(ctx, sh))
    return steps


def repoint_step(ctx: Ctx, sh: Shadow) -> Step:
    """Views and policies read the new column from here on (the trigger keeps both equal): the
    contract can then drop the old one. A view keeps its output names (`new AS old`)."""
    t = qname(sh.table.name)
    views = sh.carried.views if sh.new_type == sh.old.type else []
    up = [f"CREATE OR REPLACE VIEW {qname(v.name)} AS "
          f"{view_query(v.definition, sh.table.name, sh.old.name, sh.new_name)}" for v in views]
    down = [f"CREATE OR REPLACE VIEW {qname(v.name)} AS {_query(v.definition)}" for v in views]
    up += [policy_alter(p.definition, sh.table.name, sh.old.name, sh.new_name) for p in sh.carried.policies]
    down += [policy_alter(p.definition, sh.table.name) for p in sh.carried.policies]
    names = [f"view {v.name}" for v in views] + [f"policy {p.name}" for p in sh.carried.policies]
    return tx_step(ctx, "expand", f"point {', '.join(names)} at {sh.table.name}.{sh.new_name}", up, down,
                   lock_note=f"{t} and the views" if views else "",
                   risk="brief lock, catalog change only; both columns hold the same values",
                   rollback=f"point them back at {sh.old.name}")


def _query(definition: str) -> str:
    return definition.strip().rstrip(";")


def drop_views_sql(carried: Carried) -> list[str]:
    """A type change drops the views reading the column (readers first) ..."""
    return [s for v in reversed(carried.views)
            for s in ("-- squawk-ignore ban-drop-view -- re-created in this same transaction, so no query misses it",
                      f"DROP VIEW {qname(v.name)}")]


def create_views_sql(carried: Carried) -> list[str]:
    """... and re-creates them on the new column with their grants, in the same transaction."""
    out = []
    for v in carried.views:
        out.append(f"CREATE VIEW {qname(v.name)} AS {_query(v.definition)}")
        out += v.grants
    return out
