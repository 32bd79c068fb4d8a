"""The ignore comments a step writes above a statement that earns a finding on purpose, in the form
the user's linter reads: squawk's `-- squawk-ignore` for a rule squawk has too, Flux's own otherwise."""

from __future__ import annotations

from ...lint.context import FileContext
from ...lint.engine import lint_sql
from ...lint.rules import BY_ID
from ...pg.parse import HAVE_PGLAST

# The rules that judge the type a statement gives a column: a column added as a copy of another
# (a rename's) takes that column's type, which is no choice of the step's.
TYPE_CHOICE = ("prefer-text-field", "ban-char-field", "prefer-bigint-over-int", "prefer-bigint-over-smallint",
               "prefer-timestamp-tz")


def ignore_lines(rules: list[str], reason: str) -> list[str]:
    """Comments ignoring `rules` for the statement below them, each saying `reason` (one line)."""
    shared = [r for r in rules if BY_ID[r].squawk is not None]
    own = [r for r in rules if BY_ID[r].squawk is None]
    return ([f"-- squawk-ignore {', '.join(shared)} -- {reason}"] if shared else []) + \
        ([f"-- flux-ignore {', '.join(own)}: {reason}"] if own else [])


def kept_type(sql: str, reason: str) -> list[str]:
    """`sql` (a statement adding a column with the type another has, or had) below comments
    ignoring the type-choice rules it meets, saying `reason`: the type is kept, not chosen."""
    if not HAVE_PGLAST:  # no rules judge the plan then (it says so): none to answer
        return [sql]
    met = sorted({f.rule for f in lint_sql(sql, FileContext()) if f.rule in TYPE_CHOICE})
    return ignore_lines(met, reason) + [sql]
