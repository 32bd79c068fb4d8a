"""The typed operations: the contract between a request (a model, the plain-English
parser, `--op`) and the planner. Field names are fixed by DESIGN.md section 2."""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .terms import OnDelete, Phase


def _action(value):
    # "set null", "SET_NULL", " Set  Null " all mean SET NULL
    return " ".join(value.replace("_", " ").upper().split()) if isinstance(value, str) else value


def _op_required(schema: dict) -> None:
    # `op` has a default so code can build an operation without naming it, but a request must name it.
    schema["required"] = ["op", *[r for r in schema.get("required", []) if r != "op"]]
    schema["properties"]["op"].pop("default", None)


class _Strict(BaseModel):
    # Unknown fields are a typo in the request, never something to ignore.
    model_config = ConfigDict(extra="forbid")


class _Op(_Strict):
    model_config = ConfigDict(json_schema_extra=_op_required)


def _op(name: str, meaning: str):
    """The `op` field: its one value, and what the operation does (the tools' schemas show it)."""
    return Annotated[Literal[name], Field(description=meaning)]  # type: ignore[valid-type]


# The fields most operations share, described once (every field of the tools' schemas says what it means).
Table = Annotated[str, Field(description="table name; schema.table outside public")]
ColumnName = Annotated[str, Field(description="column name")]
SqlType = Annotated[str, Field(description="PostgreSQL type, e.g. text, bigint, numeric(12,2), timestamptz")]
Columns = Annotated[list[str], Field(min_length=1, description="column names, in key order")]
NewName = Annotated[str, Field(description="the new name")]
ObjectName = Annotated[Optional[str], Field(description="constraint or index name; default: generated")]
SqlExpr = Annotated[str, Field(description="SQL expression")]


class AddColumn(_Op):
    op: _op("add_column", "add a column") = "add_column"
    table: Table
    column: ColumnName
    type: SqlType
    nullable: bool = Field(True, description="false: NOT NULL (give default or backfill for existing rows)")
    default: Optional[str] = Field(None, description="SQL expression for new rows")
    backfill: Optional[str] = Field(
        None, description="SQL expression for existing rows when it differs from the default or there is none"
    )


class DropColumn(_Op):
    op: _op("drop_column", "drop a column (kept until the code stops using it)") = "drop_column"
    table: Table
    column: ColumnName


class RenameColumn(_Op):
    op: _op("rename_column", "rename a column, old and new name both working meanwhile") = "rename_column"
    table: Table
    column: ColumnName
    new_name: NewName


class ChangeColumnType(_Op):
    op: _op("change_column_type", "change a column's type") = "change_column_type"
    table: Table
    column: ColumnName
    type: Annotated[str, Field(description="the new PostgreSQL type")]
    using: Optional[str] = Field(None, description="SQL expression over the old column giving the new value")


class SetNotNull(_Op):
    op: _op("set_not_null", "make a column NOT NULL") = "set_not_null"
    table: Table
    column: ColumnName
    backfill: Optional[str] = Field(None, description="SQL expression for existing NULLs")


class DropNotNull(_Op):
    op: _op("drop_not_null", "allow NULL in a column") = "drop_not_null"
    table: Table
    column: ColumnName


class SetDefault(_Op):
    op: _op("set_default", "set a column's default") = "set_default"
    table: Table
    column: ColumnName
    default: Annotated[str, Field(description="SQL expression for new rows")]


class DropDefault(_Op):
    op: _op("drop_default", "remove a column's default") = "drop_default"
    table: Table
    column: ColumnName


class AddIndex(_Op):
    op: _op("add_index", "create an index concurrently") = "add_index"
    table: Table
    columns: Annotated[list[str], Field(min_length=1, description="the keys in order: column names, or "
                                        "expressions of them (lower(email))")]
    unique: bool = Field(False, description="a unique index")
    name: ObjectName = None
    where: Optional[str] = Field(None, description="predicate of a partial index (SQL)")


class DropIndex(_Op):
    op: _op("drop_index", "drop an index concurrently") = "drop_index"
    name: Annotated[str, Field(description="index name")]


class AddForeignKey(_Op):
    op: _op("add_foreign_key", "add a foreign key, validated without blocking writes") = "add_foreign_key"
    table: Table
    columns: Columns
    ref_table: Annotated[str, Field(description="referenced table")]
    ref_columns: Annotated[list[str], Field(min_length=1, description="referenced columns")]
    on_delete: Optional[Annotated[OnDelete, BeforeValidator(_action)]] = Field(None, description="ON DELETE action")
    name: ObjectName = None


class AddCheck(_Op):
    op: _op("add_check", "add a CHECK constraint, validated without blocking writes") = "add_check"
    table: Table
    expression: Annotated[str, Field(description="boolean SQL expression")]
    name: ObjectName = None


class AddUnique(_Op):
    op: _op("add_unique", "add a UNIQUE constraint from an index built concurrently") = "add_unique"
    table: Table
    columns: Columns
    name: ObjectName = None


class ColumnSpec(_Strict):
    name: ColumnName
    type: SqlType
    nullable: bool = Field(True, description="false: NOT NULL")
    default: Optional[str] = Field(None, description="SQL expression")
    primary_key: bool = Field(False, description="part of the primary key")


class CreateTable(_Op):
    op: _op("create_table", "create a table") = "create_table"
    table: Table
    columns: list[ColumnSpec] = Field(min_length=1, description="the columns, in order")


class RenameTable(_Op):
    op: _op("rename_table", "rename a table, a view keeping the old name meanwhile") = "rename_table"
    table: Table
    new_name: NewName


class DropTable(_Op):
    op: _op("drop_table", "drop a table (renamed aside first)") = "drop_table"
    table: Table


class Backfill(_Op):
    op: _op("backfill", "set a column on existing rows, in batches") = "backfill"
    table: Table
    column: ColumnName
    value: SqlExpr
    where: Optional[str] = Field(None, description="only rows matching this SQL predicate")
    batch_size: Optional[int] = Field(None, gt=0, description="rows per batch; default: sized from timing")


class AddEnumValue(_Op):
    op: _op("add_enum_value", "add a value to an enum type") = "add_enum_value"
    enum: Annotated[str, Field(description="enum type name")]
    value: Annotated[str, Field(description="the new label")]
    before: Optional[str] = Field(None, description="place it before this label")
    after: Optional[str] = Field(None, description="place it after this label")


class RawSql(_Op):
    op: _op("raw_sql", "SQL of your own, when no operation fits") = "raw_sql"
    up: Annotated[str, Field(description="forward SQL")]
    down: Optional[str] = Field(None, description="rollback SQL")
    phase: Phase = Field("migrate", description="where it runs in the expand/contract sequence")
    transactional: bool = Field(True, description="false for CREATE INDEX CONCURRENTLY and the like")
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
