"""A migration file's parts as its tool runs them (Sections: what runs up, what runs down, and
how), and whether a part holds any SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class Sections:
    """A migration file's parts, as its tool runs them."""

    up: str  # the SQL that runs on the way up
    up_line: int  # lines of the file before the up SQL (its line numbers count from there)
    down: Optional[str]  # the SQL that undoes it; None where the format has no down part
    transactional: bool  # does the tool run the up SQL inside a transaction?
    one_query: bool = False  # does the tool send the whole up SQL as one query?
    # Does the tool cut statements where a line ends in `;` (goose, outside StatementBegin/End)?
    split_at_line_ends: bool = False
    down_line: int = 0  # lines of the file before the down SQL, where it is in the same file
    # Does the tool refuse the file for mixing statements it runs outside a transaction with others
    # (Flyway, unless its configuration sets `mixed`)?
    mixed_refused: bool = False

    def has_down_sql(self) -> bool:
        """Does the down part hold any statement (something unparseable counts)?"""
        return self.down is not None and has_sql(self.down)


def has_sql(text: str) -> bool:
    """Does the text hold a statement (something that does not parse counts)? Asked of the
    parser's split, which builds no trees: pglast builds Python trees slowly, and only whether a
    down part holds SQL is asked (of every down part of a history: ~0.7 s of CPU for the 2,000-file
    set with the trees). Where pglast is missing, split_statements cuts at semicolons."""
    # The parser is loaded here, not with the module: a warm `flux validate` reads file names
    # and sections only, and pglast takes ~40 ms to import.
    from ..pg.parse import HAVE_PGLAST, ParseError, pglast
    from ..pg.split import split_statements

    if not HAVE_PGLAST:
        return bool(split_statements(text))
    try:
        return any(" ".join(s.split()).rstrip(";").lower() not in TEMPLATE_SQL for s in pglast.parser.split(text))
    except ParseError:
        return True  # something is there, even if broken


# What a tool's `create` writes where the SQL is to go (goose's template): no SQL of the migration's.
TEMPLATE_SQL = frozenset(("select 'up sql query'", "select 'down sql query'"))
