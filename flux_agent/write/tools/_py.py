"""What the Python writers (alembic, django) share: text made safe for Python
source (comments, docstrings, literals), the module head every migration file
starts with, and reading existing migration files with `ast` (never running them).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Callable, TypeVar

from ...errors import FluxInputError
from ...model.plan import Step
from ...pg.split import cut_statements
from ..base import down_sql, one_line, step_label, up_sql
from ._py_edits import insert_after, offset, replace_node


def comment_text(text: str) -> str:
    """One line that is safe inside a `#` comment."""
    return one_line("".join(ch if ch.isprintable() else " " for ch in text))


def doc_text(text: str) -> str:
    """One line that is safe inside a triple-double-quoted docstring."""
    return comment_text(text).replace("\\", "\\\\").replace('"', '\\"')


def py_literal(text: str) -> str:
    """A Python literal whose value is exactly `text`: a triple-quoted block that
    reads like the SQL when that is safe, repr() otherwise."""
    plain = all(ch.isprintable() or ch in "\n\t" for ch in text)
    if plain and "\\" not in text and "'''" not in text and not text.endswith("'"):
        return "'''\\\n" + text + "'''"  # the backslash-newline adds nothing to the value
    return repr(text)


def module_head(step: Step, about: list[str], imports: list[str], statements: bool = False) -> list[str]:
    """The lines a migration module starts with: a docstring naming the step (then the
    `about` lines), the imports, and the step's SQL as UP_SQL (after GUARD_SQL, run on its own
    first, when the step has a guard; and DOWN_SQL when there is something to undo); a code
    deploy's (Django's migration of state operations for it) has no SQL."""
    sql = [] if step.is_code else sql_constants(step, statements)
    return [f'"""{step_label(step, doc_text(step.title))}', "", *about, '"""', "", *imports, "", *sql]


def sql_constants(step: Step, statements: bool = False) -> list[str]:
    """GUARD_SQL (where the step has a guard), UP_SQL and DOWN_SQL (where there is something to undo),
    each followed by a blank line. `statements`: UP_SQL and DOWN_SQL as lists of their statements, for
    a file that sends one statement a query (asyncpg prepares each query, and a prepared statement
    holds one command: SQLAlchemy's asyncpg dialect failed every step of several)."""
    up, down = up_sql(step), down_sql(step)
    shown = statement_list if statements else py_literal
    lines = [f"GUARD_SQL = {py_literal(step.guard_sql.strip())}", ""] if step.guard_sql else []
    lines += [f"UP_SQL = {shown(up)}", ""]
    if down is not None:
        lines += [f"DOWN_SQL = {shown(down)}", ""]
    return lines


def statement_list(sql: str) -> str:
    """A Python list of `sql`'s statements (pg.split.cut_statements: each with the comments before it)."""
    return "[\n" + "".join(f"    {py_literal(s)},\n" for s in cut_statements(sql)) + "]"


def module_assignments(tree: ast.Module, names: set[str]) -> dict[str, ast.expr]:
    """Top-level `name = value` and `name: type = value` for the given names."""
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        else:
            continue
        if target in names:
            out[target] = value
    return out


def parse_file(path: Path, tool: str) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise FluxInputError(f"cannot read {tool} migration {path.name}: {one_line(str(exc))}") from None


def sql_type(text: str) -> tuple[str, list[int]]:
    """(canonical base type, its integer modifiers): 'varchar(20)' -> ('character varying', [20])."""
    from ...pg.types import type_name

    canonical = type_name(text)
    if "(" not in canonical:
        return canonical, []
    head, rest = canonical.split("(", 1)
    mods, _, tail = rest.partition(")")
    return (head + tail).strip(), [int(m) for m in mods.split(",") if m.strip().isdigit()]


def literal_default(sql: str | None) -> str | None:
    """A Python literal with the value of a plain SQL default (a number, a string, true/false),
    else None: an expression has no Python equivalent here."""
    if sql is None:
        return None
    s = sql.strip()
    low = s.lower()
    if low in ("true", "false"):
        return "True" if low == "true" else "False"
    try:
        return repr(int(s))
    except ValueError:
        pass
    try:
        float(s)
        return s if s.replace(".", "", 1).lstrip("-").isdigit() else None
    except ValueError:
        pass
    if len(s) >= 2 and s[0] == s[-1] == "'" and "'" not in s[1:-1].replace("''", ""):
        return repr(s[1:-1].replace("''", "'"))
    return None


def identifier(name: str) -> bool:
    import keyword

    return name.isidentifier() and not keyword.iskeyword(name)


def unpatch(text: str, patch: str) -> str | None:
    """The file before `patch` (a diff made by code_changes.diff), given the file after it; None
    when `text` is not what the patch made."""
    from ..code_changes import apply

    out = []
    for line in patch.splitlines(keepends=True):
        if line.startswith(("--- ", "+++ ")):
            out.append(line)
        elif line.startswith("@@ "):
            old, new = line.split()[1:3]
            out.append(f"@@ -{new[1:]} +{old[1:]} @@\n")
        elif line[:1] in "+-":
            out.append(("-" if line[0] == "+" else "+") + line[1:])
        else:
            out.append(line)
    try:
        return apply(text, "".join(out))
    except (ValueError, IndexError):
        return None


def originals(project: Path, code_changes) -> dict[str, str]:
    """The model files as they were when the plan was made: the file now, or, where the plan's
    patch has been applied since, the file with it taken back out."""
    from ..code_changes import apply, lf, read

    out = {}
    for c in code_changes:
        path = Path(project) / c.path
        if not c.patch or not path.is_file():
            continue
        now = read(path)  # as the patch was made: in the file's own line endings
        try:
            apply(now, c.patch)
            out[c.path] = lf(now)
        except (ValueError, IndexError):
            before = unpatch(now, c.patch)
            if before is not None:
                out[c.path] = lf(before)
    return out


# --- the names a module imports -----------------------------------------------------------


def _imports(tree: ast.Module) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """({(module, name): local name} of `from m import n`, {module: local name} of `import m`)."""
    froms, mods = {}, {}
    for n in tree.body:
        if isinstance(n, ast.ImportFrom) and n.module and not n.level:
            for a in n.names:
                froms[(n.module, a.name)] = a.asname or a.name
        elif isinstance(n, ast.Import):
            for a in n.names:
                mods[a.name] = a.asname or a.name
    return froms, mods


def class_names(cls: ast.ClassDef) -> frozenset[str]:
    """The names a class body binds (its columns, methods, imports): in the body's own statements they
    hide the module's names of the same spelling (redash's Widget has a column `text`)."""
    found: set[str] = set()
    for stmt in cls.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] \
            if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) else []
        found.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            found.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    return frozenset(found)


class ModuleNames:
    """Names the new source uses, spelled as the module imports them; missing imports are added. With
    `within` (the class the new source goes in), a name its body binds is not used for the module's:
    the module is imported and named instead (`sqlalchemy.text`, where a column is called `text`)."""

    def __init__(self, tree: ast.Module, within: ast.ClassDef | None = None):
        self.froms, self.mods = _imports(tree)
        self.tree = tree
        self.needed: list[str] = []
        self.hidden = class_names(within) if within is not None else frozenset()

    def get(self, module: str, name: str) -> str:
        spelled = self.froms.get((module, name))
        if spelled is not None and spelled not in self.hidden:
            return spelled
        if module in self.mods and self.mods[module].split(".")[0] not in self.hidden:
            return f"{self.mods[module]}.{name}"
        if spelled is not None or name in self.hidden:  # the short name means the class's own here
            if module not in self.mods:
                self.mods[module] = module
                self.needed.append(f"import {module}")
            return f"{module}.{name}"
        self.froms[(module, name)] = name
        self.needed.append(f"from {module} import {name}")
        return name

    def python(self, dotted: str) -> str:
        """A Python type for Mapped[...]: `datetime.date` spelled as the module has it, else `import datetime`."""
        if "." not in dotted:
            return dotted
        module, name = dotted.split(".")
        if (module, name) in self.froms:
            return self.froms[(module, name)]
        if module not in self.mods:
            taken = module in self.froms.values()  # `from datetime import datetime` binds the name
            self.mods[module] = f"_{module}" if taken else module
            self.needed.append(f"import {module} as _{module}" if taken else f"import {module}")
        return f"{self.mods[module]}.{name}"

    def finish(self, text: str) -> str:
        """`text` with the imports its new source needs: a name into the module's `from m import`
        of the same module (in isort's order where the names are in it: ruff's I001 holds the user's
        files to it), else a line after the last import."""
        lines = []
        for line in self.needed:
            merged = _merged_import(text, line)
            if merged is None:
                lines.append(line)
            else:
                text = merged
        if not lines:
            return text
        for line in lines:
            text = _placed_import(text, line)
        return text


def _root(node: ast.stmt) -> str:
    name = node.names[0].name if isinstance(node, ast.Import) else ("." if node.level else node.module or "")
    return name.split(".")[0]


def _placed_import(text: str, line: str) -> str:
    """`text` with the import `line` where isort puts it: a standard-library `import m` among the
    module's standard-library imports, in order (mealie's `import decimal` went after its relative
    imports, and ruff's I001 failed); anything else after the last import."""
    new = ast.parse(line).body[0]
    imports = [n for n in ast.parse(text).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    if not imports:
        return line + "\n" + text
    if isinstance(new, ast.Import) and _root(new) in sys.stdlib_module_names:
        stdlib = [n for n in imports if _root(n) in sys.stdlib_module_names and _root(n) != "__future__"]
        later = next((n for n in stdlib if isinstance(n, ast.ImportFrom) or
                      (isinstance(n, ast.Import) and n.names[0].name.lower() > new.names[0].name.lower())), None)
        if later is not None:
            at = offset(text, later.lineno, 0)
            return text[:at] + line + "\n" + text[at:]
        if stdlib:
            return insert_after(text, stdlib[-1], [line])
        first = next((n for n in imports if _root(n) != "__future__"), None)
        if first is not None:  # the first section, a blank line after it
            at = offset(text, first.lineno, 0)
            return text[:at] + line + "\n\n" + text[at:]
    return insert_after(text, imports[-1], [line])


def _member_key(alias: ast.alias) -> tuple:
    """isort's order of imported names (order-by-type: CONSTANTS, Classes, the rest; case ignored)."""
    name = alias.name
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def _merged_import(text: str, line: str) -> str | None:
    """`text` with the name of `line` (`from m import n`) added to its top-level `from m import`;
    None where it has none (or imports *)."""
    new = ast.parse(line).body[0]
    if not isinstance(new, ast.ImportFrom):  # `import m`: a line of its own
        return None
    node = next((n for n in ast.parse(text).body if isinstance(n, ast.ImportFrom) and n.module == new.module
                 and not n.level and all(a.name != "*" for a in n.names)), None)
    if node is None:
        return None
    names = list(node.names)
    ordered = names == sorted(names, key=_member_key)
    names.append(new.names[0])
    if ordered:
        names.sort(key=_member_key)
    spelled = [a.name + (f" as {a.asname}" if a.asname else "") for a in names]
    one_line = f"from {node.module} import {', '.join(spelled)}"
    if node.lineno == node.end_lineno and len(one_line) <= 88:
        return replace_node(text, node, one_line)
    return replace_node(text, node, f"from {node.module} import (\n" + "".join(f"    {s},\n" for s in spelled) + ")")


E = TypeVar("E")  # an ORM module's Edit


def offered(make: Callable[[], E], failed: Callable[[str], E], rel: str, op: str) -> E:
    """An ORM model edit (`make()`, whose `.text` is the edited file or None), offered only where the
    edited file parses; an edit that fails says so (`failed(why)`), for the user to make by hand."""
    try:
        result = make()
        if result.text is not None:
            ast.parse(result.text)  # an edit that does not parse is never offered
    except (SyntaxError, ValueError, StopIteration, AttributeError, IndexError, KeyError) as exc:
        result = failed(f"Flux could not edit {rel} for {op} ({type(exc).__name__}: {exc}): change it by hand")
    return result


def source_files(project: Path, skip: set[str]) -> list[Path]:
    """The project's .py files, sorted, without walking into hidden folders or those named in `skip`
    (a virtualenv inside the project is never read)."""
    import os

    found = []
    for folder, dirs, files in os.walk(project):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in skip]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return sorted(found)
