"""sqitch changes: `deploy/<change>.sql`, `revert/<change>.sql` and
`verify/<change>.sql` per database step, and one line per change appended to
`sqitch.plan` (its existing lines kept; written as a whole new file).

Each plan line depends on the change before it, so sqitch keeps the order:
`<change> [<previous>] <timestamp> <planner> <<email>> # <note>`.
Transactional changes are wrapped in `BEGIN;` / `COMMIT;` (sqitch's
convention: psql runs the script statement by statement); a change that must
run outside a transaction is not.

A verify script checks, in a transaction it rolls back, what the change made
(a column, index, constraint, trigger...), read from the SQL with pglast (where
pglast is missing, the script says it checks nothing, and why).
`sqitch verify` runs every deployed change's verify again later, so a check on
something a later step of this plan drops or renames is left out.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ...pg.quote import relation_name
from ...pg.parse import HAVE_PGLAST, ast, enums
from ...pg.split import split_statements
from ...errors import FluxInputError
from ...model.plan import Plan, Step
from ...pg.quote import canonical_table, ident, literal, qname, same_schema_name
from ...schema.migration_order import sqitch_changes
from .._layout import lay_out, step_slug, utc
from ..base import (
    FileJob, Writer, clean_dir, db_steps, down_sql, guarded_up_sql, laid_files, slug, step_label, undo_note,
)

PLAN = "sqitch.plan"
# By the name of pglast's ObjectType member: this module loads where pglast is missing.
_DROP_KINDS = {"OBJECT_TRIGGER": "trigger", "OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "function",
               "OBJECT_INDEX": "index", "OBJECT_TABLE": "relation", "OBJECT_VIEW": "relation",
               "OBJECT_MATVIEW": "relation"}


def _effects(node) -> tuple[list[tuple[tuple, str]], set[tuple]]:
    """(checks proving what this statement made, keys of everything it touched)."""
    AT, OT = enums.AlterTableType, enums.ObjectType
    checks: list[tuple[tuple, str]] = []
    touched: set[tuple] = set()

    def exists(key, sql):
        checks.append((key, sql))

    if isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        rel = relation_name(node.relation)
        reg = f"{literal(qname(rel))}::regclass"
        attr = f"SELECT 1/count(*) FROM pg_attribute WHERE attrelid = {reg} AND attname = "
        con = f"SELECT 1/count(*) FROM pg_constraint WHERE conrelid = {reg} AND conname = "
        for cmd in node.cmds or ():
            t, name = cmd.subtype, cmd.name
            if t == AT.AT_AddColumn:
                col = cmd.def_.colname
                exists(("column", rel, col), f"SELECT {ident(col)} FROM {qname(rel)} WHERE false;")
            elif t == AT.AT_SetNotNull:
                exists(("notnull", rel, name), f"{attr}{literal(name)} AND attnotnull;")
            elif t == AT.AT_DropColumn:
                exists(("column", rel, name), f"{attr.replace('1/count(*)', '1/(count(*) = 0)::int')}"
                       f"{literal(name)} AND NOT attisdropped;")
                touched.add(("notnull", rel, name))
            elif t == AT.AT_AddConstraint and cmd.def_.conname:
                exists(("constraint", cmd.def_.conname), f"{con}{literal(cmd.def_.conname)};")
            elif t == AT.AT_ValidateConstraint:
                exists(("constraint", name), f"{con}{literal(name)} AND convalidated;")
            elif t == AT.AT_DropConstraint:
                touched.add(("constraint", name))
            elif t == AT.AT_DropNotNull:
                touched.add(("notnull", rel, name))
    elif isinstance(node, ast.IndexStmt) and node.idxname:
        name = same_schema_name(relation_name(node.relation), node.idxname)
        exists(("index", node.idxname), f"SELECT 1/count(*) FROM pg_index "
               f"WHERE indexrelid = {literal(qname(name))}::regclass AND indisvalid;")
    elif isinstance(node, (ast.CreateStmt, ast.ViewStmt)):
        rel = relation_name(node.relation if isinstance(node, ast.CreateStmt) else node.view)
        exists(("relation", rel), f"SELECT * FROM {qname(rel)} WHERE false;")
    elif isinstance(node, ast.CreateTrigStmt):
        reg = f"{literal(qname(relation_name(node.relation)))}::regclass"
        exists(("trigger", node.trigname),
               f"SELECT 1/count(*) FROM pg_trigger WHERE tgrelid = {reg} AND tgname = {literal(node.trigname)};")
    elif isinstance(node, ast.CreateFunctionStmt):
        name = node.funcname[-1].sval
        exists(("function", name), f"SELECT 1/count(*) FROM pg_proc WHERE proname = {literal(name)};")
    elif isinstance(node, ast.RenameStmt) and node.relation is not None:
        rel = relation_name(node.relation)
        if node.renameType == OT.OBJECT_TABLE:
            new = canonical_table(same_schema_name(rel, node.newname))
            touched.add(("relation", rel))
            exists(("relation", new), f"SELECT * FROM {qname(new)} WHERE false;")
        elif node.renameType == OT.OBJECT_COLUMN:
            touched |= {("column", rel, node.subname), ("notnull", rel, node.subname)}
            exists(("column", rel, node.newname), f"SELECT {ident(node.newname)} FROM {qname(rel)} WHERE false;")
    elif isinstance(node, ast.DropStmt) and node.removeType.name in _DROP_KINDS:
        for obj in node.objects or ():
            names = obj.objname if isinstance(obj, ast.ObjectWithArgs) else obj
            parts = [n.sval for n in names]
            kind = _DROP_KINDS[node.removeType.name]
            touched.add((kind, canonical_table(".".join(parts)) if kind == "relation" else parts[-1]))
    touched.update(key for key, _ in checks)
    return checks, touched


def verify_sql(steps: list[Step], index: int) -> str:
    """The verify script of steps[index], leaving out what later steps change."""
    step = steps[index]
    head = f"-- Verify {step_label(step, word='step')}\n"
    if not HAVE_PGLAST:  # what a step made is read from pglast's trees
        return head + ("-- nothing to check: Flux wrote this where pglast, PostgreSQL's parser, was missing, "
                       "so it could not read what the step makes\n")
    later: set[tuple] = set()
    for other in steps[index + 1:]:
        for st in split_statements(other.up_sql or ""):
            later |= _effects(st.node)[1]

    def gone(key: tuple, touched: set[tuple]) -> bool:
        # its object touched again, or its table dropped or renamed
        return key in touched or ("relation", key[1]) in touched

    found, checks = False, []
    for st in split_statements(step.up_sql or ""):
        made, touched = _effects(st.node)
        checks = [c for c in checks if not gone(c[0], touched)] + made
        found = found or bool(made)
    kept = list(dict.fromkeys(sql for key, sql in checks if not gone(key, later)))
    if kept:
        return head + "BEGIN;\n\n" + "\n".join(kept) + "\n\nROLLBACK;\n"
    if found:
        return head + "-- nothing to check: what this step made changes again later in this plan\n"
    return head + "-- nothing to check: this step changes no schema object a query can prove\n"


def script(kind: str, step: Step, sql: str | None) -> str:
    head = f"-- {kind} {step_label(step, word='step')}\n"
    if sql is None:
        return head + f"-- {undo_note(step)}\n"
    if not step.transactional:
        return head + "-- runs outside a transaction: no BEGIN/COMMIT\n" + sql.strip() + "\n"
    return head + "BEGIN;\n\n" + sql.strip() + "\n\nCOMMIT;\n"


class SqitchWriter(Writer):
    tool = "sqitch"
    default_dir = "."
    planner_name = "Flux"
    planner_email = "flux@localhost"

    def layout(self, plan: Plan, project_dir: Path, migrations_dir: str, now: datetime) -> Plan:
        folder = clean_dir(migrations_dir)
        top = Path(project_dir) / folder
        plan_file = top / PLAN
        taken = set(sqitch_changes(plan_file.read_text(encoding="utf-8")) if plan_file.is_file() else [])
        deploy = top / "deploy"
        taken |= {n[:-4] for n in (os.listdir(deploy) if deploy.is_dir() else []) if n.endswith(".sql")}

        def files(step: Step, i: int) -> list[str]:
            name, n = step_slug(step), 2
            while name in taken:  # a change name is used once in a plan
                name, n = f"{step_slug(step)}_{n}", n + 1
            taken.add(name)
            return [(folder / d / f"{name}.sql").as_posix() for d in ("deploy", "revert", "verify")]

        return lay_out(plan, files)

    def jobs(self, plan: Plan, project_dir: Path, now: datetime | None = None) -> list[FileJob]:
        steps = db_steps(plan)
        if not steps:
            return []
        for step in steps:
            laid_files(step, 3, "deploy/revert/verify files", lambda f: PurePosixPath(f[0]).parent.name == "deploy")
        top = PurePosixPath(steps[0].files[0]).parent.parent
        path = Path(project_dir) / top / PLAN
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if not text.strip():
            project = slug(Path(project_dir).resolve().name, "project")
            text = f"%syntax-version=1.0.0\n%project={project}\n\n"
        elif not text.endswith("\n"):
            text += "\n"
        known = sqitch_changes(text)
        stamp = f"{utc(now or datetime.now(timezone.utc)):%Y-%m-%dT%H:%M:%SZ}"
        out, lines = [], []
        for i, step in enumerate(steps):
            name = PurePosixPath(step.files[0]).stem
            if name in known:
                raise FluxInputError(f"sqitch.plan already has a change named {name}; lay the plan out again")
            up = guarded_up_sql(step)
            need = f"[{known[-1]}] " if known else ""
            note = step_label(step, word="step")
            lines.append(f"{name} {need}{stamp} {self.planner_name} <{self.planner_email}> # {note}\n")
            known.append(name)
            out.append(FileJob(step.files[0], script("Deploy", step, up)))
            out.append(FileJob(step.files[1], script("Revert", step, down_sql(step))))
            out.append(FileJob(step.files[2], verify_sql(steps, i)))
        out.append(FileJob((top / PLAN).as_posix(), text + "".join(lines), replace=True))
        return out


WRITER = SqitchWriter()
