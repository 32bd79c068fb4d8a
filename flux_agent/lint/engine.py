"""Judge SQL with the rules in flux_agent/lint/rules: migration files given to
`flux validate`, and every step of a plan before it is written. The rules read
pglast's trees: where pglast is missing (Windows), judging SQL stops with one line
(ParserMissing) and a plan carries one warning saying its steps were not judged."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from .context import FileContext, advance
from ..pg.parse import HAVE_PGLAST, SqlSyntaxError, require_pglast, split_statements
from ..errors import FluxInputError
from ..model.plan import FileFinding, Finding, Plan
from ..model.schema import Schema
from ..model.settings import Settings
from ..schema.migration_files import read_sections
from .rules import RULES
from .rules._rule import Rule, Verdict
from .markers import PHASE_MARKER, PHASES, markers
from ..schema.replay.steps import schemas_before_each

IGNORE_WITHOUT_REASON = "ignore-without-reason"
SYNTAX_ERROR = "syntax-error"
NOT_JUDGED = "not-judged"
_NOT_JUDGED = ("the steps' SQL was not judged by the lint rules, nor their durations estimated: both need pglast, "
               "PostgreSQL's own SQL parser, which is not installed here (it has no wheel for Windows); "
               "run flux validate on the files where pglast installs (Linux, macOS, WSL, CI)")


def lint_sql(sql: str, ctx: FileContext, line_offset: int = 0) -> list[FileFinding]:
    """Findings for one piece of SQL (a file's up section, or a step's up_sql)."""
    require_pglast("validating SQL")  # no rules are loaded without it: judging would find nothing
    findings: list[FileFinding] = []
    # Opt-in rules run only when asked for (squawk's -i, `flux validate --include`).
    rules = [r for r in RULES if not r.opt_in or r.id in ctx.include_rules]

    def add(rule: Rule, verdict: Verdict, line: int) -> None:
        findings.append(FileFinding(path=ctx.path, line=line, rule=rule.id,
                                    severity=verdict.severity or rule.severity,
                                    message=verdict.message or rule.message, hint=rule.hint))

    def own(rule_id: str, line: int, message: str, hint: str) -> None:
        """A finding of the engine itself (the SQL or a comment in it is malformed)."""
        findings.append(FileFinding(path=ctx.path, line=line, rule=rule_id, severity="error",
                                    message=message, hint=hint))

    for rule in rules:  # text rules run first: a placeholder usually breaks parsing too
        for verdict in rule.check_text(sql, ctx, line_offset) if rule.check_text else ():
            add(rule, verdict, verdict.line)
    try:
        statements = split_statements(sql, line_offset)
    except SqlSyntaxError as exc:
        own(SYNTAX_ERROR, exc.line, f"cannot parse the SQL: {exc}", "fix the syntax; nothing else was checked")
        return findings
    ctx.statements = statements
    ignores, phases = markers(sql, line_offset)
    for ig in ignores:
        if not ig.reason:
            own(IGNORE_WITHOUT_REASON, ig.line, f"ignore comment for {', '.join(sorted(ig.rules))} gives no reason",
                "write the reason: -- flux-ignore <rule>: <why this is safe here>")
    for mark in phases:
        phase = next(iter(mark.rules)) if len(mark.rules) == 1 else ""
        if phase not in PHASES or not mark.reason:
            own(IGNORE_WITHOUT_REASON, mark.line, "a phase marker needs one phase and a reason",
                f"write -- {PHASE_MARKER} <{'|'.join(PHASES)}>: <why this file belongs there>")
        elif ctx.phase is None:
            ctx.phase = phase  # a file Flux wrote for a contract step is judged as one

    def ignored(rule_id: str, stmt_line: int) -> bool:
        # An ignore comment covers the next statement after it.
        for ig in ignores:
            if ig.reason and rule_id in ig.rules and ig.line <= stmt_line:
                nxt = next((s.line for s in statements if s.line >= ig.line), None)
                if nxt == stmt_line:
                    return True
        return False

    for stmt in statements:
        for rule in rules:
            verdict = rule.check(stmt, ctx) if rule.check else None
            if verdict is not None and not ignored(rule.id, stmt.line):
                add(rule, verdict, stmt.line)
        advance(ctx, stmt)
    for rule in rules:
        for verdict in rule.check_file(ctx) if rule.check_file else ():
            if not ignored(rule.id, verdict.line):
                add(rule, verdict, verdict.line)
    return findings


# --------------------------------------------------------------------------
# Migration files
# --------------------------------------------------------------------------


def validate_file(path: Path, settings: Settings, schema: Optional[Schema] = None,
                  display: Optional[str] = None) -> list[FileFinding]:
    """Findings for one migration file (its parts as schema/migration_files.py reads them);
    settings.require_down=False leaves its down part unjudged."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    sec = read_sections(path, text)
    judged = sec.down is not None and settings.require_down
    ctx = FileContext.for_settings(
        settings, path=display or str(path), transactional=sec.transactional, schema=schema,
        has_down=sec.has_down_sql() if judged else None, down_sql=sec.down)
    ctx.one_query = sec.one_query
    return lint_sql(sec.up, ctx, sec.up_line)


def expand_paths(paths: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(x for x in path.rglob("*.sql") if not x.name.endswith(".down.sql")))
        elif path.is_file():
            out.append(path)
        else:
            raise FluxInputError(f"no such file or folder: {p}")
    return out


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


def validate_plan(plan: Plan, schema: Schema, settings: Settings,
                  before: Optional[list[Schema]] = None) -> list[Finding]:
    """Each step is judged against the schema as the steps before it leave it (`before`, from
    schema.replay.steps, when the caller has it already)."""
    if not HAVE_PGLAST:
        return [Finding(rule=NOT_JUDGED, severity="warning", message=_NOT_JUDGED)]
    before = before or schemas_before_each([s.up_sql for s in plan.steps], schema)
    created = {op.table for op in plan.operations if op.op == "create_table"}
    out: list[Finding] = []
    for i, step in enumerate(plan.steps):
        if not step.up_sql:
            continue
        ctx = FileContext.for_settings(settings, path=f"step {step.number}", transactional=step.transactional,
                                       phase=step.phase, schema=before[i],
                                       has_down=step.down_sql is not None or bool(step.rollback))
        ctx.one_query = not step.transactional
        ctx.created_tables = {t for t in created}
        for f in lint_sql(step.up_sql, ctx):
            out.append(Finding(rule=f.rule, severity=f.severity, message=f.message, step=step.number))
    return out
