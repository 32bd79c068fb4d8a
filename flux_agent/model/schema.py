"""The Schema model: tables, columns, indexes, constraints, enums and views, as every
reader returns them (in the normal form of flux_agent.schema.normal)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, Field

from .terms import OnDelete


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
    on_delete: Optional[OnDelete] = None
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
