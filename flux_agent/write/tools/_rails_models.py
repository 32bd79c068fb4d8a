"""Rails models told to ignore a column a plan takes away (`self.ignored_columns += ["col"]`), as
strong_migrations asks before remove_column: a running server keeps a table's columns as it read
them at boot, and Active Record names every one in INSERT (partial_inserts is off in Rails 7's
defaults) and in its SELECTs' column list, so a column dropped or renamed away under it fails
those until it restarts. The line ships with the plan's code deploy, before the step that drops
the column; it can go once that step has run everywhere. A model whose table is renamed is told
its new table (`self.table_name`) with the deploy too. Classes are found with the Ruby
scanner (schema/readers/_ruby.py), never by running Ruby: a class's table is its
`self.table_name`, else its name made plural as Active Record does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ...errors import FluxInputError
from ...model.plan import CodeChange, Plan
from ...schema.readers._ruby import pluralize, singularize, tokens
from ..code_changes import cannot, change


def ignored_columns_changes(plan: Plan, project: Path) -> list[CodeChange]:
    """A patch per model whose table loses a column after the plan's code deploy (drop_column, and
    the old name of rename_column); a note where no model class of the table is found."""
    gone: dict[str, list[str]] = {}
    for op in plan.operations:
        if op.op in ("drop_column", "rename_column"):
            gone.setdefault(op.table.rsplit(".", 1)[-1], []).append(op.column)
    out = []
    for table, columns in sorted(gone.items()):
        line = f"self.ignored_columns += [{', '.join(chr(34) + c + chr(34) for c in columns)}]"
        why = (f"running servers keep the columns of {table} as they read them at boot and Active Record names each "
               f"in its INSERTs: ignore {', '.join(columns)} in the code deploy, before the step that drops "
               f"{'it' if len(columns) == 1 else 'them'} (remove the line once that step has run)")
        out.append(_model_line(plan, project, table, line, None, why))
    return [c for c in out if c is not None]


def table_name_changes(plan: Plan, project: Path) -> list[CodeChange]:
    """A patch per model whose table a plan renames: `self.table_name = "<new>"` with the code deploy
    (Active Record would find the table by the class's name, which still names the old one: the view)."""
    out = []
    for op in sorted((o for o in plan.operations if o.op == "rename_table"), key=lambda o: o.table):
        old = op.table.rsplit(".", 1)[-1]
        why = (f"the code deploy moves the model to {op.new_name}; until then old code uses the view {old}, in which "
               f"Active Record finds no primary key: a server of the old code that boots (a restart, a job runner) "
               f"between the first step and the deploy finds records by id no more, so restart none in that window")
        out.append(_model_line(plan, project, old, f'self.table_name = "{op.new_name}"', "self.table_name", why))
    return [c for c in out if c is not None]


def _model_line(plan: Plan, project: Path, table: str, line: str, replaces: Optional[str],
                why: str) -> Optional[CodeChange]:
    """The model of `table` with `line` first in its class (in place of its own line starting with
    `replaces`, where it has one); a note where no model class of the table is found; None for a
    plan without a code deploy to ship it with."""
    if not any(s.is_code for s in plan.steps):
        return None
    found = model_classes(project).get(table)
    if found is None:
        return cannot(f"app/models/{singularize(table)}.rb", f"no model class of {table} found in app/models: "
                                                             f"add `{line}` to it; {why}")
    rel, at = found
    lines = (project / rel).read_text(encoding="utf-8").splitlines(keepends=True)
    indent = re.match(r"[ \t]*", lines[at - 1]).group(0) + "  "
    own = next((i for i, text in enumerate(lines) if i >= at and replaces and text.strip().startswith(replaces)), None)
    if own is not None:
        lines[own] = f"{indent}{line}\n"
    else:
        lines.insert(at, f"{indent}{line}\n")
    return change(project, rel, "".join(lines), why)


def model_classes(project: Path) -> dict[str, tuple[str, int]]:
    """table -> (the model file relative to the project, the line of its `class ... <`), for the
    classes of app/models that inherit from something (abstract ones have no table of their own
    to lose a column; a class that opens an existing one has no `<`)."""
    out: dict[str, tuple[str, int]] = {}
    root = project / "app" / "models"
    for path in sorted(root.rglob("*.rb")) if root.is_dir() else ():
        try:
            toks = tokens(path.read_text(encoding="utf-8"), lenient=True)
        except (OSError, UnicodeDecodeError, FluxInputError):
            continue
        rel = path.relative_to(project).as_posix()
        current: Optional[tuple[str, int]] = None  # the class being read: (its table, its line)
        for i, (kind, value, line, _) in enumerate(toks):
            if kind == "name" and value == "class" and i + 1 < len(toks) and toks[i + 1][0] == "name":
                name, j = toks[i + 1][1], i + 2
                while j + 1 < len(toks) and toks[j][1] == "::" and toks[j + 1][0] == "name":
                    name, j = toks[j + 1][1], j + 2  # Admin::Family: the table is the last name's
                if toks[j][1] == "<" and name[:1].isupper():
                    current = (pluralize(_underscore(name)), line)
                    out.setdefault(current[0], (rel, line))
            elif (kind == "name" and value == "self" and current is not None and i + 4 < len(toks) and toks[i + 1][1] == "."
                  and toks[i + 2][1] == "table_name" and toks[i + 3][1] == "=" and toks[i + 4][0] == "str"):
                if out.get(current[0]) == (rel, current[1]):
                    del out[current[0]]
                current = (toks[i + 4][1].rsplit(".", 1)[-1], current[1])
                out[current[0]] = (rel, current[1])
    return out


def _underscore(name: str) -> str:
    """ActiveSupport's underscore of a class name: FamilyMember -> family_member, HTMLPage -> html_page."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
