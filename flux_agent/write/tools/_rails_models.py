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
    if not any(s.is_code for s in plan.steps):
        return []
    gone: dict[str, list[str]] = {}
    for op in plan.operations:
        if op.op in ("drop_column", "rename_column"):
            gone.setdefault(op.table.rsplit(".", 1)[-1], []).append(op.column)
    if not gone:
        return []
    classes = model_classes(project)
    out = []
    for table, columns in sorted(gone.items()):
        listed = ", ".join(f'"{c}"' for c in columns)
        why = (f"running servers keep the columns of {table} as they read them at boot and Active Record names each "
               f"in its INSERTs: ignore {', '.join(columns)} in the code deploy, before the step that drops "
               f"{'it' if len(columns) == 1 else 'them'} (remove the line once that step has run)")
        found = classes.get(table)
        if found is None:
            out.append(cannot(f"app/models/{singularize(table)}.rb", f"no model class of {table} found in app/models: add "
                                                        f"`self.ignored_columns += [{listed}]` to it; {why}"))
            continue
        rel, line = found
        text = (project / rel).read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        indent = re.match(r"[ \t]*", lines[line - 1]).group(0) + "  "
        lines.insert(line, f"{indent}self.ignored_columns += [{listed}]\n")
        out.append(change(project, rel, "".join(lines), why))
    return out


def table_name_changes(plan: Plan, project: Path) -> list[CodeChange]:
    """A patch per model whose table a plan renames: `self.table_name = "<new>"` with the code deploy
    (Active Record would find the table by the class's name, which still names the old one: the view)."""
    renamed = {op.table.rsplit(".", 1)[-1]: op.new_name for op in plan.operations if op.op == "rename_table"}
    if not renamed or not any(s.is_code for s in plan.steps):
        return []
    classes = model_classes(project)
    out = []
    for old, new in sorted(renamed.items()):
        why = (f"the code deploy moves the model to {new}; until then old code uses the view {old}, in which Active "
               f"Record finds no primary key: a server of the old code that boots (a restart, a job runner) between "
               f"the first step and the deploy finds records by id no more, so restart none in that window")
        found = classes.get(old)
        if found is None:
            out.append(cannot(f"app/models/{singularize(old)}.rb", f"no model class of {old} found in app/models: "
                                                                   f'set `self.table_name = "{new}"` in it; {why}'))
            continue
        rel, line = found
        lines = (project / rel).read_text(encoding="utf-8").splitlines(keepends=True)
        named = next((i for i, text in enumerate(lines) if i >= line and text.strip().startswith("self.table_name")), None)
        indent = re.match(r"[ \t]*", lines[line - 1]).group(0) + "  "
        if named is not None:
            lines[named] = f'{indent}self.table_name = "{new}"\n'
        else:
            lines.insert(line, f'{indent}self.table_name = "{new}"\n')
        out.append(change(project, rel, "".join(lines), why))
    return out


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
