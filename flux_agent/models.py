"""Every data shape Flux passes around, one pydantic model each.

The Operation union, Plan, Step and Finding are public contracts (DESIGN.md
sections 2 and 3): field names here are what the CLI prints and what MCP and
agent tool schemas are generated from.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, computed_field

from .plan import summary as render


class _Strict(BaseModel):
    # Unknown fields are a typo in the request, never something to ignore.
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------


class AddColumn(_Strict):
    op: Literal["add_column"] = "add_column"
    table: str
    column: str
    type: str
    nullable: bool = True
    default: Optional[str] = Field(None, description="SQL expression for new rows")
    backfill: Optional[str] = Field(
        None, description="SQL expression for existing rows when it differs from the default or there is none"
    )


class DropColumn(_Strict):
    op: Literal["drop_column"] = "drop_column"
    table: str
    column: str


class RenameColumn(_Strict):
    op: Literal["rename_column"] = "rename_column"
    table: str
    column: str
    new_name: str


class ChangeColumnType(_Strict):
    op: Literal["change_column_type"] = "change_column_type"
    table: str
    column: str
    type: str
    using: Optional[str] = Field(None, description="SQL expression over the old column giving the new value")


class SetNotNull(_Strict):
    op: Literal["set_not_null"] = "set_not_null"
    table: str
    column: str
    backfill: Optional[str] = Field(None, description="SQL expression for existing NULLs")


class DropNotNull(_Strict):
    op: Literal["drop_not_null"] = "drop_not_null"
    table: str
    column: str


class SetDefault(_Strict):
    op: Literal["set_default"] = "set_default"
    table: str
    column: str
    default: str


class DropDefault(_Strict):
    op: Literal["drop_default"] = "drop_default"
    table: str
    column: str


class AddIndex(_Strict):
    op: Literal["add_index"] = "add_index"
    table: str
    columns: list[str] = Field(min_length=1)
    unique: bool = False
    name: Optional[str] = None
    where: Optional[str] = None


class DropIndex(_Strict):
    op: Literal["drop_index"] = "drop_index"
    name: str


class AddForeignKey(_Strict):
    op: Literal["add_foreign_key"] = "add_foreign_key"
    table: str
    columns: list[str] = Field(min_length=1)
    ref_table: str
    ref_columns: list[str] = Field(min_length=1)
    on_delete: Optional[str] = None
    name: Optional[str] = None


class AddCheck(_Strict):
    op: Literal["add_check"] = "add_check"
    table: str
    expression: str
    name: Optional[str] = None


class AddUnique(_Strict):
    op: Literal["add_unique"] = "add_unique"
    table: str
    columns: list[str] = Field(min_length=1)
    name: Optional[str] = None


class ColumnSpec(_Strict):
    name: str
    type: str
    nullable: bool = True
    default: Optional[str] = None
    primary_key: bool = False


class CreateTable(_Strict):
    op: Literal["create_table"] = "create_table"
    table: str
    columns: list[ColumnSpec] = Field(min_length=1)


class RenameTable(_Strict):
    op: Literal["rename_table"] = "rename_table"
    table: str
    new_name: str


class DropTable(_Strict):
    op: Literal["drop_table"] = "drop_table"
    table: str


class Backfill(_Strict):
    op: Literal["backfill"] = "backfill"
    table: str
    column: str
    value: str = Field(description="SQL expression")
    where: Optional[str] = None
    batch_size: Optional[int] = Field(None, gt=0)


class AddEnumValue(_Strict):
    op: Literal["add_enum_value"] = "add_enum_value"
    enum: str
    value: str
    before: Optional[str] = None
    after: Optional[str] = None


Phase = Literal["migrate", "expand", "backfill", "code", "contract"]


class RawSql(_Strict):
    op: Literal["raw_sql"] = "raw_sql"
    up: str
    down: Optional[str] = None
    phase: Phase = "migrate"
    transactional: bool = True
    confirm: Optional[str] = Field(
        None, description="for a destructive statement (drop, truncate, unfiltered delete/update) in a "
        "contract or backfill step: why it is safe; written into the migration file")


Operation = Annotated[
    Union[
        AddColumn,
        DropColumn,
        RenameColumn,
        ChangeColumnType,
        SetNotNull,
        DropNotNull,
        SetDefault,
        DropDefault,
        AddIndex,
        DropIndex,
        AddForeignKey,
        AddCheck,
        AddUnique,
        CreateTable,
        RenameTable,
        DropTable,
        Backfill,
        AddEnumValue,
        RawSql,
    ],
    Field(discriminator="op"),
]


class OperationList(BaseModel):
    """A request as typed operations: what `--op` and the plan tool accept."""

    operations: list[Operation] = Field(min_length=1)


# --------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------


class Column(BaseModel):
    name: str
    type: str = Field(description="PostgreSQL type as format_type() prints it")
    nullable: bool = True
    default: Optional[str] = None


class Index(BaseModel):
    name: str
    columns: list[str] = Field(description="column names, or expressions as SQL text")
    unique: bool = False
    primary: bool = False
    method: str = "btree"
    where: Optional[str] = None


ConstraintKind = Literal["primary_key", "unique", "check", "foreign_key", "exclude"]


class Constraint(BaseModel):
    name: str
    kind: ConstraintKind
    columns: list[str] = Field(default_factory=list)
    expression: Optional[str] = Field(None, description="CHECK expression")
    ref_table: Optional[str] = None
    ref_columns: list[str] = Field(default_factory=list)
    on_delete: Optional[str] = None
    validated: bool = True


class Table(BaseModel):
    name: str = Field(description="schema-qualified when not in public")
    columns: list[Column] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    row_estimate: Optional[int] = Field(None, description="rows, when read from a live database")
    size_bytes: Optional[int] = None

    def column(self, name: str) -> Optional[Column]:
        return next((c for c in self.columns if c.name == name), None)


class EnumType(BaseModel):
    name: str
    values: list[str] = Field(default_factory=list)


class View(BaseModel):
    name: str
    definition: Optional[str] = None
    depends_on: list[str] = Field(default_factory=list, description="tables the view reads")


class Schema(BaseModel):
    tables: list[Table] = Field(default_factory=list)
    enums: list[EnumType] = Field(default_factory=list)
    views: list[View] = Field(default_factory=list)

    def table(self, name: str) -> Optional[Table]:
        return next((t for t in self.tables if t.name == name), None)

    def view(self, name: str) -> Optional[View]:
        return next((v for v in self.views if v.name == name), None)


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


class Step(BaseModel):
    number: int = 0
    phase: Phase
    title: str
    files: list[str] = Field(default_factory=list)
    up_sql: Optional[str] = None
    down_sql: Optional[str] = None
    transactional: bool = True
    lock: str = "none"
    risk: str = ""
    data_loss_on_rollback: bool = False
    rollback: str = Field("", description="what undoing this step does, in words")


class Finding(BaseModel):
    rule: str
    severity: Literal["error", "warning"]
    message: str
    step: Optional[int] = None


class FileFinding(BaseModel):
    """One finding of `flux validate` (DESIGN.md section 3)."""

    path: str
    line: int
    rule: str
    severity: Literal["error", "warning"]
    message: str
    hint: str = ""


PlanType = Literal["safe", "expand-contract", "backfill"]


class Plan(BaseModel):
    description: str
    type: PlanType
    tool: str
    dialect: Literal["postgresql"] = "postgresql"
    operations: list[Operation]
    steps: list[Step]
    findings: list[Finding] = Field(default_factory=list)

    @computed_field(description="the deployment summary, rendered from the plan as it stands: show it verbatim")
    @property
    def summary(self) -> str:
        # Derived, never stored: a stored copy went stale when files were renamed at write time.
        return render.summary(self)


class Settings(BaseModel):
    """Project settings ([tool.flux] or .flux.yaml), overridable by flags."""

    model_config = ConfigDict(extra="forbid")

    lock_timeout: str = "1s"
    statement_timeout: str = "5s"
    backfill_batch_size: int = Field(5000, gt=0)
    backfill_sleep_ms: int = Field(50, ge=0)
    backfill_batch_ms: int = Field(20, gt=0, description="target time a backfill batch holds its row locks")
    pg_version: int = Field(12, ge=9)
    migrations_dir: Optional[str] = None
    tool: Optional[str] = None
    include_rules: list[str] = Field(default_factory=list, description="opt-in validation rules to switch on")
    require_down: bool = Field(True, description="false for projects that ship up migrations only: no "
                               "missing-rollback findings (a folder without any down SQL is read as such)")
    dev_url: Optional[str] = Field(None, description="a PostgreSQL server of the user's own for the dev database, "
                                   "never the application's (default: embedded)")
