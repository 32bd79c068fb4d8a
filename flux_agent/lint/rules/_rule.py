"""The shape of a lint rule: its declaration (id, severity, message, hint, how it stands to
squawk, examples that are also its tests) and the one verdict type its checks return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ...model.terms import Phase, Severity
from ...schema.replay.engine import replay_sql
from ..context import FileContext


@dataclass(frozen=True)
class Verdict:
    """A check's finding. An empty message, severity or hint means the rule's declared one. A
    statement check's finding stands at its statement; whole-file and text checks give the line."""

    message: Optional[str] = None
    severity: Optional[Severity] = None
    line: Optional[int] = None
    hint: Optional[str] = None  # where the declared fix cannot be done (a partitioned table's index)


FLAGGED = Verdict()


def flag_if(condition: Any) -> Optional[Verdict]:
    """The rule's declared finding when `condition` holds, else none."""
    return FLAGGED if condition else None


class Example(BaseModel):
    """SQL a rule must flag (or must leave alone), and the migration file it stands in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sql: str
    flagged: bool
    transactional: bool = True  # the tool wraps the file in a transaction (squawk's --assume-in-transaction)
    one_query: bool = False  # the tool sends the file as one query (dbmate, golang-migrate)
    split_at_line_ends: bool = False  # the tool cuts statements at a line ending in `;` (goose)
    mixed_refused: bool = False  # the tool refuses a file mixing transaction kinds (Flyway)
    pg_version: int = 12
    phase: Optional[Phase] = None  # judged as a step of this plan phase
    schema_sql: str = ""  # DDL replayed into the schema the SQL is judged against; no schema when empty
    has_down: Optional[bool] = None  # the file's down section holds SQL; None: the format has none
    down_sql: Optional[str] = None  # the file's down section, where the example judges it
    severity: Optional[Severity] = None  # a flagged example's severity, when not the rule's own
    hint: Optional[str] = None  # a flagged example's hint, when not the rule's own
    squawk_agrees: bool = True  # False where squawk reads this SQL otherwise under the same id (`why` says how)
    why: str = ""

    def context(self, include: Iterable[str] = ()) -> FileContext:
        """The FileContext the example is judged in, with the opt-in rules `include` switched on."""
        return FileContext(path="example.sql", transactional=self.transactional, one_query=self.one_query,
                           split_at_line_ends=self.split_at_line_ends, down_sql=self.down_sql,
                           mixed_refused=self.mixed_refused,
                           pg_version=self.pg_version, phase=self.phase, has_down=self.has_down,
                           schema=replay_sql(self.schema_sql) if self.schema_sql else None,
                           include_rules=set(include))


def flags(sql: str, **context: Any) -> Example:
    """An example the rule must flag."""
    return Example(sql=sql, flagged=True, **context)


def passes(sql: str, **context: Any) -> Example:
    """An example the rule must leave alone."""
    return Example(sql=sql, flagged=False, **context)


Check = Callable[..., Any]


class Rule(BaseModel):
    """One rule, declared as `RULE = Rule(...)` in the module named after its id. The loader
    (rules/__init__.py) binds the module's check functions: check(stmt, ctx) -> Verdict | None
    per statement (of the types in `nodes`, when given), check_file(ctx) -> list[Verdict] after
    the last one, check_text(sql, ctx, line_offset) -> list[Verdict] on the raw text before parsing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    severity: Severity
    message: str
    hint: str
    # Squawk has this id too, meaning the same thing: it runs it by default, or only with `-i <id>`.
    squawk: Optional[Literal["default", "opt-in"]]
    opt_in: bool = False  # flux runs it only when asked: `flux validate --include <id>`, settings.include_rules
    # It reads the schema (ctx.names_schema(), working_names and the helpers on them, ctx.schema): judged
    # with the folder's replay. The others judge a statement from the file alone, so `flux validate`
    # judges them in workers that replay nothing (lint/batch.py); such a worker's schema refuses reads.
    reads_schema: bool = False
    # An ignore comment naming any of these rules covers this one too: the same breaking change,
    # named by squawk's rule for its kind (-- squawk-ignore renaming-column -- <why> is said of both).
    ignored_with: tuple[str, ...] = ()
    examples: tuple[Example, ...]
    # The statement node types (pglast.ast classes) `check` can flag; the engine calls it on those
    # only. None: every statement. tests/unit/lint/test_rule_index.py holds each declaration to it.
    nodes: Optional[tuple[type, ...]] = Field(default=None, repr=False, exclude=True)
    check: Optional[Check] = Field(default=None, repr=False, exclude=True)
    check_file: Optional[Check] = Field(default=None, repr=False, exclude=True)
    check_text: Optional[Check] = Field(default=None, repr=False, exclude=True)

    @field_validator("message", "hint")
    @classmethod
    def _one_line(cls, text: str) -> str:
        if not text or "\n" in text:
            raise ValueError("must be one line of text")
        return text

    @model_validator(mode="after")
    def _both_kinds_of_example(self) -> "Rule":
        if {e.flagged for e in self.examples} != {True, False}:
            raise ValueError(f"{self.id}: examples must hold SQL it flags and SQL it passes")
        return self
