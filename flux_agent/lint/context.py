"""What a rule may know beyond the statement it judges: the file's transaction mode, the
plan phase, the schema it is judged against, and the state earlier statements left
(tables created, timeouts set, an open transaction block)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Union

from ..model.schema import Schema
from ..model.settings import Settings
from ..pg.parse import ast
from ..pg.split import Statement
from ..pg.quote import relation_name

if TYPE_CHECKING:
    from ..schema.replay.cursor import FileCursor


_OPENS = frozenset({"TRANS_STMT_BEGIN", "TRANS_STMT_START"})
_ENDS = frozenset({"TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"})


def block_change(node) -> Optional[bool]:
    """What a statement does to an explicit transaction block: True opens one (BEGIN, START
    TRANSACTION), False ends it (COMMIT, ROLLBACK, PREPARE TRANSACTION), None neither (a savepoint's
    ROLLBACK TO is inside it). Every rule that follows the blocks of a file asks this."""
    if not isinstance(node, ast.TransactionStmt):
        return None
    kind = node.kind.name if hasattr(node.kind, "name") else str(node.kind)
    return True if kind in _OPENS else False if kind in _ENDS else None


class _Made:
    """A field given as a value or as a function making it, called when first read (a Schema
    model is not callable). As a dataclass default it reads None."""

    def __set_name__(self, owner, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, ctx, owner=None):
        if ctx is None:
            return None
        made = ctx.__dict__.get(self.slot)
        if callable(made):
            made = ctx.__dict__[self.slot] = made()
        return made

    def __set__(self, ctx, value) -> None:
        ctx.__dict__[self.slot] = value


@dataclass
class FileContext:
    """What a rule may know beyond the statement itself."""

    path: str = "<sql>"
    transactional: bool = True  # does the migration tool wrap this SQL in a transaction?
    pg_version: int = 12
    phase: Optional[str] = None  # the plan step's phase, when validating a plan
    # The schema, or a function making it (lint/batch.py: the folder's snapshot), called when a
    # rule first reads ctx.schema: most files never need one, and a snapshot is a copy.
    schema: Union[Schema, Callable[[], Optional[Schema]], None] = _Made()  # type: ignore[assignment]
    # For rules that read names only (tables, views, columns): a schema with those as in `schema`,
    # its expressions not normalised (lint/batch.py: the replay's own, uncopied); `schema` if none.
    names: Union[Schema, Callable[[], Optional[Schema]], None] = _Made()  # type: ignore[assignment]
    # The folder's replay standing in this very file (schema/replay/cursor.py; lint/batch.py): the
    # schema before a statement is read in it as it goes (_flux_common.working_names), not in a copy.
    cursor: Optional[FileCursor] = None
    has_down: Optional[bool] = None  # None: the format has no down section to judge
    down_sql: Optional[str] = None
    down_line: int = 0  # lines of the file before the down SQL (0: it is a file of its own)
    # Where the tool derives the down part (Rails' change): the call that leaves it empty, (line, why).
    irreversible: Optional[tuple[int, str, str]] = None  # (line, what, hint): readers' Irreversible
    statements: list[Statement] = field(default_factory=list)
    # Progressive state, as of the statement being checked:
    created_tables: set[str] = field(default_factory=set)
    lock_timeout_set: bool = False
    statement_timeout_set: bool = False
    explicit_transaction: bool = False  # a BEGIN seen and not yet committed
    one_query: bool = False  # the tool sends the SQL as one query (dbmate, golang-migrate)
    split_at_line_ends: bool = False  # the tool cuts statements at a line ending in `;` (goose)
    mixed_refused: bool = False  # the tool refuses a file mixing transaction kinds (Sections.mixed_refused)
    include_rules: set[str] = field(default_factory=set)  # opt-in rules switched on (squawk's -i)

    @classmethod
    def for_settings(cls, settings: Settings, **kw) -> "FileContext":
        return cls(pg_version=settings.pg_version, include_rules=set(settings.include_rules), **kw)

    def in_transaction(self) -> bool:
        """Inside a transaction block, including the implicit one PostgreSQL opens
        for a multi-statement query."""
        return (self.transactional or self.explicit_transaction
                or (self.one_query and len(self.statements) > 1))

    def table_is_new(self, name: Optional[str]) -> bool:
        return name is not None and name in self.created_tables

    def names_schema(self) -> Optional[Schema]:
        """The schema to read names in: `names`, else `schema`."""
        names = self.names
        return names if names is not None else self.schema


def advance(ctx: FileContext, stmt: Statement) -> None:
    """Move the file context past `stmt` (after the rules have seen it)."""
    n = stmt.node
    if isinstance(n, ast.CreateStmt):
        ctx.created_tables.add(relation_name(n.relation))
    elif isinstance(n, ast.CreateTableAsStmt) and n.into is not None:  # CREATE TABLE AS, MATERIALIZED VIEW
        ctx.created_tables.add(relation_name(n.into.rel))
    elif isinstance(n, ast.VariableSetStmt) and n.name:
        # RESET puts the server default back: as good as never having set it.
        is_set = n.kind.name not in ("VAR_RESET", "VAR_RESET_ALL") if hasattr(n.kind, "name") else True
        if n.name == "lock_timeout":
            ctx.lock_timeout_set = is_set
        elif n.name == "statement_timeout":
            ctx.statement_timeout_set = is_set
    elif isinstance(n, ast.TransactionStmt):
        change = block_change(n)
        ctx.explicit_transaction = ctx.explicit_transaction if change is None else change
