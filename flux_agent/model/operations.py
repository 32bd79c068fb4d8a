"""The typed operations: the contract between a request (a model, the plain-English
parser, `--op`) and the planner. Field names are fixed by DESIGN.md section 2."""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .terms import OnDelete, Phase


def _action(value):
    # "set null", "SET_NULL", " Set  Null " all mean SET NULL
    return " ".join(value.replace("_", " ").upper().split()) if isinstance(value, str) else value


class _Strict(BaseModel):
    # Unknown fields are a typo in the request, never something to ignore.
    model_config = ConfigDict(extra="forbid")


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
    on_delete: Optional[Annotated[OnDelete, BeforeValidator(_action)]] = Field(
        None, description="ON DELETE action: cascade, restrict, set null, set default or no action")
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
