"""Flyway's repeatable migrations (`R__*.sql`) that make a view a plan makes again: Flyway runs each
after the versioned ones wherever it changed, and on every fresh database, so its old definition
would put the view back as it was (marquez's R__Datasets_view.sql re-made datasets_view on the
column a rename's contract drops: every fresh database then failed, though `verify` passed)."""

from __future__ import annotations

from pathlib import Path

from ...model.plan import CodeChange, Plan
from ..code_changes import cannot


def repeatable_notes(plan: Plan, project: Path, folder: str) -> list[CodeChange]:
    """A note for each R__ file of the folder that makes a view the plan's steps make again."""
    from ...pg.parse import HAVE_PGLAST

    remade = _views(s.up_sql or "" for s in plan.steps) if HAVE_PGLAST else set()
    out = []
    for path in sorted((project / folder).glob("R__*.sql")) if remade else ():
        try:
            views = sorted(_views([path.read_text(encoding="utf-8")]) & remade)
        except (OSError, UnicodeDecodeError):
            continue
        if views:
            out.append(cannot(path.relative_to(project).as_posix(),
                              f"{path.name} makes {', '.join(views)}, which this plan makes again: Flyway runs it "
                              "after the versioned migrations on every fresh database and wherever it changes, "
                              "putting its definition back; make it define the view as the plan's last step "
                              "leaves it (with that step), or fresh databases fail or differ from then on"))
    return out


def _views(texts) -> set[str]:
    """The views CREATE [OR REPLACE] VIEW statements of the texts make (bare names, as written)."""
    from ...pg.parse import ParseError, ast, parse_sql

    out = set()
    for text in texts:
        try:
            statements = parse_sql(text)
        except ParseError:
            continue
        out |= {raw.stmt.view.relname for raw in statements if isinstance(raw.stmt, ast.ViewStmt)}
    return out
