"""Judge SQL with the rules in flux_agent/lint/rules: migration files given to
`flux validate`, and every step of a plan before it is written. The rules read
pglast's trees: where pglast is missing (Windows), judging SQL stops with one line
(ParserMissing) and a plan carries one warning saying its steps were not judged."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Literal, Optional, Union

from .context import FileContext, advance
from ..pg.parse import HAVE_PGLAST, require_pglast
from ..pg.split import SqlSyntaxError, Statement, split_statements
from ..errors import FluxInputError
from ..model.findings import FileFinding
from ..model.schema import Schema
from ..model.settings import Settings
from ..schema.migration_files import read_sections
from ..schema.sections import has_sql
from .rules import BY_ID, RULES
from .rules._rule import Rule, Verdict
from .markers import PHASE_MARKER, PHASES, comment_prefix, markers, source_markers
from ..schema.replay.steps import schemas_before_each

if TYPE_CHECKING:  # the plan models: loaded by what plans, not by `flux validate`
    from ..model.plan import Finding, Plan
    from .readers import Piece
    from ..schema.replay.cursor import FileCursor

IGNORE_WITHOUT_REASON = "ignore-without-reason"
NOT_ANALYSED = "not-analysed"
MIGRATION_FAILS = "migration-fails"  # the tool's own run of it failed on PostgreSQL (Django's walk)
# How each tool's migrations send SQL as it is written, for the hint of a part Flux could not read.
_SQL_CALL = {"goose": "a .sql migration", "alembic": "op.execute", "django": "migrations.RunSQL", "rails": "execute", "knex": "knex.raw",
             "typeorm": "queryRunner.query", "sequelize": "queryInterface.sequelize.query",
             "node-pg-migrate": "pgm.sql"}


def _unread_hint(tool: Optional[str]) -> str:
    call = _SQL_CALL.get(tool or "", "execute, raw, RunSQL")
    return f"check this part by hand, or write what it does as SQL ({call}) that Flux can read"


_UNREAD_HINT = _unread_hint(None)  # a file no reader claims: any tool's words
SYNTAX_ERROR = "syntax-error"
NOT_JUDGED = "not-judged"
_NOT_JUDGED = ("the steps' SQL was not judged by the lint rules, nor their durations estimated: both need pglast, "
               "PostgreSQL's own SQL parser, which is not installed here (it has no wheel for Windows); "
               "run flux validate on the files where pglast installs (Linux, macOS, WSL, CI)")


class RuleIndex:
    """The rules that run, and for each statement node type the ones whose `check` can flag it
    (Rule.nodes), in the rules' order: a statement visits those only."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        # The rules with a text check and with a whole-file check: asked of every file judged.
        self.text_rules = [r for r in rules if r.check_text is not None]
        self.file_rules = [r for r in rules if r.check_file is not None]
        self._by_type: dict[type, list[tuple[Rule, Callable]]] = {}

    def checks(self, node_type: type) -> list[tuple[Rule, Callable]]:
        """(rule, its check) of the rules whose check can flag a statement of `node_type`."""
        found = self._by_type.get(node_type)
        if found is None:
            found = self._by_type[node_type] = [(r, r.check) for r in self.rules if r.check is not None and (
                r.nodes is None or node_type in r.nodes)]
        return found


# Which rules run: all (None), those that read the schema, or the others with the engine's own
# findings ("plain"); lint/batch.py judges the two families in different worker processes.
Family = Optional[Literal["schema", "plain"]]
_INDEXES: dict[tuple[frozenset, Family], RuleIndex] = {}  # by the opt-in rules switched on, and the family
_POSITION = {r.id: k for k, r in enumerate(RULES)}


def rule_index(include: Iterable[str], family: Family = None) -> RuleIndex:
    """The index of the rules that run: opt-in rules only when asked for (squawk's -i,
    `flux validate --include`), of one family when given."""
    on = frozenset(r for r in include if r in BY_ID and BY_ID[r].opt_in)
    if (on, family) not in _INDEXES:
        _INDEXES[on, family] = RuleIndex([r for r in RULES if (not r.opt_in or r.id in on) and (
            family is None or r.reads_schema == (family == "schema"))])
    return _INDEXES[on, family]


def lint_sql(sql: str, ctx: FileContext, line_offset: int = 0,
             statements: Optional[list[Statement]] = None, family: Family = None,
             order: Optional[list[tuple]] = None) -> list[FileFinding]:
    """Findings for one piece of SQL (a file's up section, or a step's up_sql); `statements`: its
    statements as split_statements cuts them with `line_offset`, if they were parsed already.
    `family`: only those rules (rule_index). `order`, when given, gets each finding's place among
    all the rules' findings, so two families' findings merge into the order of one run."""
    require_pglast("validating SQL")  # no rules are loaded without it: judging would find nothing
    findings: list[FileFinding] = []
    index = rule_index(ctx.include_rules, family)
    engine_findings = family != "schema"

    def add(rule: Rule, verdict: Verdict, line: int, place: tuple) -> None:
        findings.append(FileFinding(path=ctx.path, line=line, rule=rule.id,
                                    severity=verdict.severity or rule.severity,
                                    message=verdict.message or rule.message, hint=verdict.hint or rule.hint))
        if order is not None:
            order.append(place)

    def own(rule_id: str, line: int, message: str, hint: str, place: tuple, severity: str = "error") -> None:
        """A finding of the engine itself (the SQL or a comment in it is malformed, or not read)."""
        if engine_findings:
            findings.append(FileFinding(path=ctx.path, line=line, rule=rule_id, severity=severity,
                                        message=message, hint=hint))
            if order is not None:
                order.append(place)

    # A finding's place: (part: text 0, the engine's 1, statements 2, whole file 3; then a statement's
    # index or a rule's position; the rule's position or its verdict's number), in the order they are made.
    for rule in index.text_rules:  # text rules run first: a placeholder usually breaks parsing too
        for k, verdict in enumerate(rule.check_text(sql, ctx, line_offset)):
            add(rule, verdict, verdict.line, (0, _POSITION[rule.id], k))
    try:
        statements = statements if statements is not None else split_statements(sql, line_offset)
    except SqlSyntaxError as exc:
        hint = "fix the syntax; nothing else was checked"
        if "{{" in sql and "}}" in sql:  # Go's or Jinja's template actions (gobuffalo/pop: supabase's auth)
            hint = ("the file holds template actions ({{ ... }}), which its tool renders before running it: "
                    "validate the rendered SQL; nothing else was checked")
        own(SYNTAX_ERROR, exc.line, f"cannot parse the SQL: {exc}", hint, (1, 0, 0))
        return findings
    ctx.statements = statements
    ignores, phases = markers(sql, line_offset)
    for k, ig in enumerate(ignores):
        if not ig.reason:
            own(IGNORE_WITHOUT_REASON, ig.line, f"ignore comment for {', '.join(sorted(ig.rules))} gives no reason",
                "write the reason: -- flux-ignore <rule>: <why this is safe here>", (1, 1, k))
    for k, mark in enumerate(phases):
        phase = next(iter(mark.rules)) if len(mark.rules) == 1 else ""
        if phase not in PHASES or not mark.reason:
            own(IGNORE_WITHOUT_REASON, mark.line, "a phase marker needs one phase and a reason",
                f"write -- {PHASE_MARKER} <{'|'.join(PHASES)}>: <why this file belongs there>", (1, 2, k))
        elif ctx.phase is None:
            ctx.phase = phase  # a file Flux wrote for a contract step is judged as one

    def ignored(rule_id: str, stmt_line: int) -> bool:
        # An ignore comment covers the next statement after it; one naming a rule this one is
        # ignored with (Rule.ignored_with) covers this one too.
        names = {rule_id, *(BY_ID[rule_id].ignored_with if rule_id in BY_ID else ())}
        for ig in ignores:
            if ig.reason and not names.isdisjoint(ig.rules) and ig.line <= stmt_line:
                nxt = next((s.line for s in statements if s.line >= ig.line), None)
                if nxt == stmt_line:
                    return True
        return False

    for stmt in statements:
        for rule, check in index.checks(type(stmt.node)):
            verdict = check(stmt, ctx)
            if verdict is not None and not ignored(rule.id, stmt.line):
                add(rule, verdict, stmt.line, (2, stmt.index, _POSITION[rule.id]))
        advance(ctx, stmt)
        if type(stmt.node).__name__ == "DoStmt":
            _do_block(stmt, statements, ctx, index, engine_findings, add, own, ignored)
    for rule in index.file_rules:
        for k, verdict in enumerate(rule.check_file(ctx)):
            if not ignored(rule.id, verdict.line):
                add(rule, verdict, verdict.line, (3, _POSITION[rule.id], k))
    return findings


def _do_block(stmt: Statement, statements: list[Statement], ctx: FileContext, index: RuleIndex, judged: bool,
              add, own, ignored) -> None:
    """The statements a DO block runs (lint/do_blocks.py), judged as if the file's own at their
    lines; an ignore comment before the block covers them. The rules that read no schema see them
    among the file's statements; those that do, the schema before the block with the block's
    statements before them done (the replay they read takes the block whole, after). Every family
    moves the file's context past them (a table the block creates is new after it), so that each
    judges as one process does; `judged`: this family says the engine's own findings."""
    from .do_blocks import inner_ignores, inner_statements
    from .rules._flux_common import _STATE, working_names

    inner = stmt.memo.get("do")
    if inner is None:
        inner = stmt.memo["do"] = (*inner_statements(stmt), inner_ignores(stmt))
    found, dynamic, own_ignores = inner
    lines = sorted({s.line for s in found})

    def silenced(rule_id: str, line: int) -> bool:
        """An ignore comment before the block, or one in it just above the statement, covers it."""
        return ignored(rule_id, stmt.line) or any(
            rule_id in ig.rules and next((n for n in lines if n >= ig.line), None) == line for ig in own_ignores)
    schema_rules = any(r.reads_schema for r in index.rules)
    before = working_names(ctx, stmt) if found and schema_rules else None
    for k, s in enumerate(found):
        place = len(RULES) * (k + 1)
        checks = index.checks(type(s.node))
        kept = ctx.statements, ctx.cursor, ctx.__dict__.get(_STATE), ctx.explicit_transaction
        try:
            # A DO block is one statement: what it runs is all done or none (its own transaction at least)
            ctx.explicit_transaction = True
            ctx.statements, s.index = statements[:stmt.index] + found + statements[stmt.index + 1:], stmt.index + k
            verdicts = _verdicts(s, [c for c in checks if not c[0].reads_schema], ctx)
            if schema_rules:
                names = ctx.names
                ctx.statements, s.index, ctx.cursor, ctx.names = found, k, None, before
                ctx.__dict__.pop(_STATE, None)
                try:
                    verdicts += _verdicts(s, [c for c in checks if c[0].reads_schema], ctx)
                finally:
                    ctx.names = names
            # in the rules' order, as the families' findings are merged (lint/batch.py)
            for rule, verdict in sorted(verdicts, key=lambda rv: _POSITION[rv[0].id]):
                if not silenced(rule.id, s.line):
                    add(rule, verdict, s.line, (2, stmt.index, place + _POSITION[rule.id]))
        finally:
            ctx.statements, ctx.cursor, ctx.explicit_transaction = kept[0], kept[1], kept[3]
            ctx.__dict__.pop(_STATE, None)
            if kept[2] is not None:
                ctx.__dict__[_STATE] = kept[2]
        advance(ctx, s)
    for k, (line, what) in enumerate(dynamic):
        if judged:
            own(NOT_ANALYSED, line, f"not analysed: {what}",
                "check what it runs by hand, or write the statement itself", (2, stmt.index, 10**6 + k), "warning")


def _verdicts(s: Statement, checks, ctx: FileContext) -> list:
    """(rule, verdict) of each of `checks` that flags `s`."""
    return [(rule, v) for rule, check in checks if (v := check(s, ctx)) is not None]


# --------------------------------------------------------------------------
# Migration files
# --------------------------------------------------------------------------


def validate_file(path: Path, settings: Settings, schema: Union[Schema, Callable[[], Schema], None] = None,
                  display: Optional[str] = None, project: Optional[Path] = None,
                  tool: Optional[str] = None, keep: Optional[dict] = None,
                  names: Union[Schema, Callable[[], Schema], None] = None,
                  cursor: Optional[FileCursor] = None, family: Family = None,
                  order: Optional[list[tuple]] = None, text: Optional[str] = None) -> list[FileFinding]:
    """Findings for one migration file: SQL (its parts as schema/migration_files.py reads them),
    or program code read back into SQL by lint/readers; settings.require_down=False leaves its
    down part unjudged. `schema` may be a function making it, called if a rule needs it; `names`
    a schema (or function) with its names for the rules that read names only (FileContext.names).
    `keep` holds statements by their SQL text (FolderReplay.parsed): an SQL file's up part is read
    from it when there, and left in it after. `cursor`: the folder's replay standing in this file
    (FolderReplay.begin), which the rules read as it goes when they judge the statements it parsed.
    `family` and `order`: lint_sql's, for an SQL file. `text`: the file's text, when read already."""
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        raise FluxInputError(f"cannot read {path}: {exc}") from None
    if not path.name.lower().endswith(".sql"):
        return validate_program_file(path, text, settings, schema, display, project, tool)
    sec = read_sections(path, text)
    judged = sec.down is not None and settings.require_down
    ctx = FileContext.for_settings(
        settings, path=display or str(path), transactional=sec.transactional, schema=schema, names=names,
        has_down=has_sql(sec.down) if judged else None, down_sql=sec.down)
    ctx.one_query = sec.one_query
    ctx.split_at_line_ends, ctx.down_line, ctx.mixed_refused = sec.split_at_line_ends, sec.down_line, sec.mixed_refused
    kept = keep.get(sec.up) if keep is not None else None
    if kept and kept[0].line != sec.up.count("\n", 0, kept[0].start) + 1 + sec.up_line:
        kept = None  # cut with another first line (never so far): cut again
    if cursor is not None and kept is not None and kept is cursor.statements:
        ctx.cursor = cursor
    unsplit = ctx.statements  # lint_sql puts the statements it cut in its place, unless they do not parse
    found = lint_sql(sec.up, ctx, sec.up_line, kept, family, order)
    if keep is not None and ctx.statements is not unsplit:
        keep[sec.up] = ctx.statements
    return found


def validate_program_file(path: Path, text: str, settings: Settings, schema: Union[Schema, Callable[[], Schema], None],
                          display: Optional[str], project: Optional[Path], tool: Optional[str]) -> list[FileFinding]:
    """A migration in program code (Alembic, Django, Rails, Knex, TypeORM, Sequelize, node-pg-migrate):
    its reader gives the SQL it sends, each piece with its line in the file; findings point at
    those lines, and what the reader could not read is a finding of its own (not-analysed)."""
    from .readers import READERS, joined_sql, reader_for  # program code's readers: not loaded for a folder of SQL

    shown = display or str(path)
    reader = reader_for(path, text, tool)
    if reader is None and path.suffix == ".go":
        return [FileFinding(path=shown, line=1, rule=NOT_ANALYSED, severity="warning",
                            message=f"not analysed: {path.name} is a goose migration in Go, which the project's own "
                                    "binary registers and runs: Flux cannot run it", hint=_unread_hint("goose"))]
    if reader is None:
        return [FileFinding(path=shown, line=1, rule=NOT_ANALYSED, severity="warning",
                            message=f"not analysed: {path.name} is neither SQL nor a migration of a tool Flux reads "
                                    f"({', '.join(r.tool for r in READERS)})", hint=_UNREAD_HINT)]
    read = reader.read(path, text, project)
    if read.schema_before is not None:  # the database the file ran on: the truth, for any file
        schema = read.schema_before
    sql, lines = _assemble(read.up)
    # Each piece a statement of its own (a reader's pieces end without a semicolon): maybe-finance's
    # `change` of two reversible calls read as one statement that does not parse (down-fails, 99 times).
    down = None if read.down is None else joined_sql(read.down)
    judged = down is not None and settings.require_down
    ctx = FileContext.for_settings(settings, path=shown, transactional=read.transactional, schema=schema,
                                   has_down=has_sql(down) if judged else None, down_sql=down)
    ctx.one_query = read.one_query
    if read.irreversible is not None:
        # The rules speak the SQL's lines, mapped back to the file's below: the call's line is the SQL
        # line it sent first, or one past the SQL (mapped to the call) where it sent none.
        at = next((n for n, line in sorted(lines.items()) if line == read.irreversible.line), None)
        if at is None:
            at = max(lines, default=0) + 1
            lines[at] = read.irreversible.line
        ctx.irreversible = (at, read.irreversible.what, read.irreversible.hint)
    found = [f.model_copy(update={"line": lines.get(f.line, 1)}) for f in (lint_sql(sql, ctx) if sql.strip() else [])]
    found = _source_ignores(found, text, path.name, sorted({p.line for p in read.up}), shown)
    found += [FileFinding(path=shown, line=u.line, rule=NOT_ANALYSED, severity="warning",
                          message=f"not analysed: {u.what}", hint=_unread_hint(reader.tool)) for u in read.unread]
    if read.fails is not None:
        found.append(FileFinding(path=shown, line=read.fails.line, rule=MIGRATION_FAILS, severity="error",
                                 message=read.fails.what,
                                 hint="fix the migration: it fails where the migrations before it leave the database; "
                                      "the ones after it were judged without a schema"))
    return sorted(found, key=lambda f: f.line)


def _source_ignores(found: list[FileFinding], text: str, name: str, sent: list[int],
                    shown: str) -> list[FileFinding]:
    """The findings without those the file's own ignore comments cover (lint/markers.source_markers):
    a comment covers the statement sent from the first line at or after it, as in SQL; one without a
    reason is a finding of its own. The hints speak the file's comments (a `-- squawk-ignore` in a
    Ruby file was read by nobody)."""
    prefix = comment_prefix(name)
    found = [f.model_copy(update={"hint": f.hint.replace("-- squawk-ignore", f"{prefix} squawk-ignore")
                                  .replace("-- flux-ignore", f"{prefix} flux-ignore")}) for f in found]
    covered: set[tuple[int, str]] = set()
    for mark in source_markers(text, name):
        if not mark.reason:
            found.append(FileFinding(path=shown, line=mark.line, rule=IGNORE_WITHOUT_REASON, severity="error",
                                     message=f"ignore comment for {', '.join(sorted(mark.rules))} gives no reason",
                                     hint=f"write the reason: {prefix} flux-ignore <rule>: <why this is safe here>"))
            continue
        line = next((n for n in sent if n >= mark.line), None)
        covered |= {(line, rule) for rule in mark.rules}
    return [f for f in found if (f.line, f.rule) not in covered]


def _assemble(pieces: list[Piece]) -> tuple[str, dict[int, int]]:
    """The pieces as one SQL text, and each of its lines -> the line of the user's file."""
    parts: list[str] = []
    lines: dict[int, int] = {}
    at = 1
    for piece in pieces:
        text = piece.sql.strip()
        if not text:
            continue
        if not text.endswith(";"):
            text += "\n;"  # on a line of its own: the piece may end in a comment
        count = text.count("\n") + 1
        lines.update({k: piece.line for k in range(at, at + count)})
        parts.append(text)
        at += count
    return "\n".join(parts), lines


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


def validate_plan(plan: Plan, schema: Schema, settings: Settings,
                  before: Optional[list[Schema]] = None) -> list[Finding]:
    """Each step is judged against the schema as the steps before it leave it (`before`, from
    schema.replay.steps, when the caller has it already)."""
    from ..model.plan import Finding

    if not HAVE_PGLAST:
        return [Finding(rule=NOT_JUDGED, severity="warning", message=_NOT_JUDGED)]
    before = before or schemas_before_each([s.up_sql for s in plan.steps], schema)
    created = {op.table for op in plan.operations if op.op == "create_table"}
    out: list[Finding] = []
    for i, step in enumerate(plan.steps):
        # The guard is judged too: the files run it, as a query of its own, before up_sql.
        for sql in (step.guard_sql, step.up_sql) if step.up_sql else ():
            if not sql:
                continue
            ctx = FileContext.for_settings(settings, path=f"step {step.number}", transactional=step.transactional,
                                           phase=step.phase, schema=before[i],
                                           has_down=step.down_sql is not None or bool(step.rollback))
            ctx.one_query = not step.transactional
            ctx.created_tables = {t for t in created}
            for f in lint_sql(sql, ctx):
                out.append(Finding(rule=f.rule, severity=f.severity, message=f.message, step=step.number))
    return out
