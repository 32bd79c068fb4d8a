"""The Schema model: tables, columns, indexes, constraints, enums, other types (ranges, domains,
composites) and views, as every reader returns them (in the normal form of
flux_agent.schema.normal), and the extensions they need, and what only PostgreSQL's catalogs
tell: the objects that depend on them and, read live, the server's WAL settings."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import BaseModel, Field

from .terms import OnDelete


class Column(BaseModel):
    name: str
    type: str = Field(description="PostgreSQL type as format_type() prints it")
    nullable: bool = True
    default: Optional[str] = None
    generated: Optional[str] = Field(None, description="the expression of a column GENERATED ALWAYS AS (...) "
                                     "STORED: PostgreSQL computes it from the row's other columns (no default)")
    collation: Optional[str] = Field(None, description="its collation where not its type's own ('C'): how it sorts "
                                     "and compares text, which a copy of the column must keep")
    comment: Optional[str] = Field(None, description="COMMENT ON COLUMN: a rename's or type change's copy of the "
                                   "column, and a rollback's re-added one, get it again")


class Index(BaseModel):
    name: str
    columns: list[str] = Field(description="column names, or expressions as SQL text")
    unique: bool = False
    primary: bool = False
    method: str = "btree"
    where: Optional[str] = None
    opclasses: list[str] = Field(default_factory=list, description="each key column's operator class, '' where "
                                 "it is the type's default; empty when all are (gin_trgm_ops, text_pattern_ops)")
    orders: list[str] = Field(default_factory=list, description="each key column's sort order as written after it "
                              "(DESC, NULLS FIRST, DESC NULLS LAST), '' where it is the default (ASC NULLS LAST); "
                              "empty when all are")
    collations: list[str] = Field(default_factory=list, description="each key column's collation where the index "
                                  "names one other than the column's own ('C'), '' elsewhere; empty when none does")
    include: list[str] = Field(default_factory=list, description="the columns stored beside the keys (INCLUDE): "
                               "the index uses them too, so dropping or retyping one rebuilds it")
    nulls_not_distinct: bool = Field(False, description="a unique index that counts NULLs as equal (PostgreSQL 15+)")
    valid: bool = Field(True, description="False: INVALID (pg_index.indisvalid), what a failed CREATE INDEX "
                        "CONCURRENTLY leaves (or one still building): PostgreSQL neither reads nor enforces it")

    def uses(self, column: str) -> bool:
        """Whether the column is a key or an INCLUDE column by name (expressions and the predicate aside)."""
        return column in self.columns or column in self.include


def sort_order(descending: bool, nulls_first: bool) -> str:
    """An index key's order as Index.orders holds it (as the catalogs print it): '' for ASC NULLS LAST."""
    return {(False, False): "", (True, True): "DESC", (True, False): "DESC NULLS LAST",
            (False, True): "NULLS FIRST"}[descending, nulls_first]


ConstraintKind = Literal["primary_key", "unique", "check", "foreign_key", "exclude"]


class Constraint(BaseModel):
    name: str
    kind: ConstraintKind
    columns: list[str] = Field(default_factory=list)
    expression: Optional[str] = Field(None, description="CHECK expression")
    ref_table: Optional[str] = None
    ref_columns: list[str] = Field(default_factory=list)
    on_delete: Optional[OnDelete] = None
    on_update: Optional[OnDelete] = Field(None, description="ON UPDATE action (Prisma's relations: CASCADE)")
    deferrable: Optional[Literal["immediate", "deferred"]] = Field(None, description=(
        "DEFERRABLE, INITIALLY IMMEDIATE or DEFERRED: a foreign key's (Django's keys: deferred), a unique, "
        "primary key or exclusion constraint's (a position column's, swapped in one transaction); None: not"))
    match_full: bool = Field(False, description="a foreign key's MATCH FULL: a row with some of its columns "
                             "NULL and others not is refused (MATCH SIMPLE, the default, lets it pass)")
    validated: bool = True


class Table(BaseModel):
    name: str = Field(description="schema-qualified when not in public")
    columns: list[Column] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    storage: list[str] = Field(default_factory=list, description="storage parameters as pg_class.reloptions "
                               "lists them (fillfactor=70, autovacuum_vacuum_scale_factor=0.1)")
    partitioned: bool = Field(False, description="PARTITION BY (relkind 'p'): its rows live in partitions, "
                              "which may be made outside the migrations' own statements (a function, pg_partman)")
    row_estimate: Optional[int] = Field(None, description="rows, when read from a live database")
    size_bytes: Optional[int] = None
    columns_incomplete: bool = Field(False, description=(
        "made from a query (CREATE TABLE AS, SELECT INTO) whose result the replay of the history could not "
        "expand (a join, an aggregate: their types need a database): not every column is listed"))

    def column(self, name: str) -> Optional[Column]:
        return next((c for c in self.columns if c.name == name), None)

    def index(self, name: str) -> Optional[Index]:
        return next((i for i in self.indexes if i.name == name), None)


class EnumType(BaseModel):
    name: str
    values: list[str] = Field(default_factory=list)


class UserType(BaseModel):
    """A type of the schema's own other than an enum: a range (hatchet's uuidrange), a domain or a
    composite, with the statement that makes it, as PostgreSQL describes it or the migrations wrote
    it (Flux only makes it again: a scratch database, verify's rows)."""

    name: str
    kind: Literal["range", "domain", "composite"]
    over: Optional[str] = Field(None, description="a range's subtype, a domain's base type (as format_type "
                                                  "prints it); None for a composite")
    create: str = Field(description="the CREATE TYPE or CREATE DOMAIN statement that makes it")


class View(BaseModel):
    """A view, or a materialized view: its rows stored, so it holds indexes and REFRESH rebuilds it."""

    name: str
    definition: Optional[str] = None
    depends_on: list[str] = Field(default_factory=list, description="tables the view reads")
    materialized: bool = Field(False, description="CREATE MATERIALIZED VIEW (relkind 'm')")
    populated: bool = Field(True, description="a materialized view made WITH NO DATA is not (relispopulated) "
                                              "until a REFRESH: reading it fails, and so does REFRESH CONCURRENTLY")
    indexes: list[Index] = Field(default_factory=list, description="a materialized view's indexes")


DependentKind = Literal["view", "materialized_view", "rule", "index", "trigger", "policy", "generated_column",
                       "partition_key", "partition"]


class Dependent(BaseModel):
    """An object PostgreSQL records (pg_depend) as using a table or view, or some of its columns."""

    kind: DependentKind
    name: str = Field(description="a view's key; an index's, trigger's, policy's or rule's own name; "
                                  "a generated column's name")
    table: str = Field(description="the table or view whose columns it uses (key as Table.name)")
    columns: list[str] = Field(default_factory=list, description="the columns it uses; empty: the whole relation")
    definition: str = Field("", description="the statement or expression that makes it, as PostgreSQL prints it")
    grants: list[str] = Field(default_factory=list, description="a view's GRANT statements, for re-creating it")
    attached_to: Optional[str] = Field(None, description="a partition's index: the partitioned table's index "
                                                         "it is attached to")
    exclusion: Optional[str] = Field(None, description="an index behind an exclusion constraint: the constraint "
                                     "as pg_get_constraintdef prints it (EXCLUDE USING gist (room WITH =, ...)), "
                                     "what makes the index again with its constraint")

    @property
    def label(self) -> str:
        """How a message names it: `view active_users`, `index users_email_trgm on users`."""
        kind = self.kind.replace("_", " ")
        if self.kind in ("view", "materialized_view"):
            return f"{kind} {self.name}"
        if self.kind == "generated_column":
            return f"generated column {self.table}.{self.name}"
        if self.kind == "partition":
            return f"partition {self.name} of {self.table}"
        return f"{kind} {self.name} on {self.table}"


class Function(BaseModel):
    """A user function, with the body a column or table rename may leave stale."""

    name: str = Field(description="key with its argument types: `audit_users()`, `app.touch(integer)`")
    language: str
    body: str = Field(description="the source between the function's quotes (pg_proc.prosrc)")
    triggers: list[str] = Field(default_factory=list, description="`trigger on table` for each trigger calling it")
    definition: Optional[str] = Field(None, description="the whole CREATE OR REPLACE statement that makes it "
                                      "(pg_get_functiondef), where read from the catalogs")

    @property
    def routine(self) -> str:
        """Its name without the argument types: every signature of one routine has it."""
        return self.name.split("(", 1)[0]


class Sequence(BaseModel):
    name: str
    owned_by: Optional[str] = Field(None, description="`table.column` whose drop drops the sequence too")
    identity: bool = False
    always: bool = Field(False, description="an identity GENERATED ALWAYS (else BY DEFAULT)")
    # Its options, as CREATE SEQUENCE takes them; a bound or start None where it is the default for
    # the sequence's type and direction (an int identity's 2147483647 is no bound of the user's).
    increment: int = 1
    cache: int = 1
    cycle: bool = False
    start: Optional[int] = None
    minimum: Optional[int] = None
    maximum: Optional[int] = None


class Dependencies(BaseModel):
    """What depends on what, read from the dev database's catalogs. Static readers
    cannot know it and leave Schema.dependencies None."""

    dependents: list[Dependent] = Field(default_factory=list)
    functions: list[Function] = Field(default_factory=list)
    sequences: list[Sequence] = Field(default_factory=list)

    def on(self, table: str, column: Optional[str] = None) -> list[Dependent]:
        """The objects using `table` (with a column: using that column)."""
        return [d for d in self.dependents if d.table == table and (column is None or column in d.columns)]

    def index(self, name: str) -> Optional[Dependent]:
        return next((d for d in self.dependents if d.kind == "index" and d.name == name), None)

    def retarget(self, old: str, new: str) -> None:
        """A table or view changed key (renamed): follow it."""
        for dep in self.dependents:
            dep.table = new if dep.table == old else dep.table
            if dep.kind in ("partition", "partition_key", "view", "materialized_view") and dep.name == old:
                dep.name = new

    def forget(self, kind: str, name: str, table: Optional[str] = None) -> None:
        """An object dropped (by raw SQL a plan runs): a routine of that name (any signature), or a
        dependent of that kind and name (on `table`, when given); a trigger leaves its functions too."""
        if kind == "function":
            self.functions = [f for f in self.functions if f.routine != name]
            return
        self.dependents = [d for d in self.dependents
                           if not (d.kind == kind and d.name == name and (table is None or d.table == table))]
        if kind == "trigger" and table is not None:
            for f in self.functions:
                f.triggers = [t for t in f.triggers if t != f"{name} on {table}"]

    def partitions(self, table: str) -> list[str]:
        """The partitions of a partitioned table (its direct children), in name order."""
        return [d.name for d in self.dependents if d.kind == "partition" and d.table == table]


class ServerFacts(BaseModel):
    """A live server's settings that decide when a change's WAL starts a checkpoint: Flux weighs a
    batched walk's WAL against them and advises; it never changes them."""

    version_num: int = Field(description="server_version_num (150018 for 15.18)")
    max_wal_size_bytes: int = Field(gt=0)
    checkpoint_completion_target: float = Field(ge=0, le=1)

    def checkpoint_after_bytes(self) -> int:
        """WAL written since the last checkpoint after which PostgreSQL starts the next one (xlog.c,
        CalculateCheckpointSegments): max_wal_size / (1 + target) from 11 on, / (2 + target) before."""
        return int(self.max_wal_size_bytes / (self._kept() + self.checkpoint_completion_target))

    def max_wal_size_for(self, wal_bytes: float) -> int:
        """The smallest max_wal_size under which `wal_bytes` written after a checkpoint start no other."""
        return math.ceil(wal_bytes * (self._kept() + self.checkpoint_completion_target))

    def _kept(self) -> float:
        return 1.0 if self.version_num >= 110000 else 2.0  # before 11 two checkpoints' WAL was kept


# PostgreSQL's own defaults, for a plan made without a live read.
DEFAULT_SERVER = ServerFacts(version_num=110000, max_wal_size_bytes=1024**3, checkpoint_completion_target=0.9)


class Schema(BaseModel):
    tables: list[Table] = Field(default_factory=list)
    enums: list[EnumType] = Field(default_factory=list)
    types: list[UserType] = Field(default_factory=list, description="ranges, domains and composites, in the "
                                  "order they were made (one may use another)")
    views: list[View] = Field(default_factory=list)
    extensions: list[str] = Field(default_factory=list, description="extensions the schema uses (CREATE "
                                  "EXTENSION), plpgsql aside, in name order")
    dependencies: Optional[Dependencies] = Field(
        None, description="from PostgreSQL's catalogs (the dev database); None when read without PostgreSQL")
    server: Optional[ServerFacts] = Field(
        None, description="the server's WAL settings, from a live read of the user's database; None otherwise "
        "(a dev database's server says nothing of production's)")

    def table(self, name: str) -> Optional[Table]:
        return next((t for t in self.tables if t.name == name), None)

    def view(self, name: str) -> Optional[View]:
        return next((v for v in self.views if v.name == name), None)
