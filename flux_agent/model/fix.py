"""The shape of `flux fix`'s answer: what became of each statement of a migration file, the plan
made of them, and what --write did (the CLI's text, the MCP tool's result)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, PrivateAttr

from .operations import Operation
from .plan import Plan

Action = Literal["planned", "kept", "raw", "dropped"]


class FixStatement(BaseModel):
    """One statement of the file and what `flux fix` made of it."""

    line: int = Field(description="line in the file")
    sql: str
    action: Action = Field(description="planned: unsafe, now typed operations; kept: safe, as written; "
                                       "raw: unsafe but no operation fits (kept as raw_sql, its findings stay); "
                                       "dropped: changes nothing Flux's steps need (see note)")
    rules: list[str] = Field(default_factory=list, description="the error rules it drew")
    note: str = Field("", description="why a statement was dropped")
    operations: list[Operation] = Field(default_factory=list)
    _node: Any = PrivateAttr(None)  # pglast's tree
    _down: Optional[str] = PrivateAttr(None)  # a kept statement's rollback, read against the schema before the file
    _alone: bool = PrivateAttr(False)  # its file runs each statement in a transaction of its own (autocommit)


class FixResult(BaseModel):
    """One file's fix: what became of each statement, the plan, and what --write did."""

    path: str = Field(description="the file, relative to the project when inside it")
    statements: list[FixStatement]
    plan: Plan
    written: list[str] = Field(default_factory=list, description="files written in its place")
    removed: bool = Field(False, description="the original was removed")
    record: Optional[str] = Field(None, description="the plan record holding the steps after a code deploy")
    next: str = ""
    refused: Optional[str] = Field(None, description="why --write wrote nothing (error findings)")
    formatted_with: list[str] = Field(default_factory=list, description="the project's formatters the "
                                      "written files were run through")
    notes: list[str] = Field(default_factory=list, description="what writing met: a file the project's "
                             "formatter failed on")
