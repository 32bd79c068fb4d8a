"""Finds the SQLAlchemy declarative class of a table (`__tablename__`, read with `ast` from the
project's .py files) and edits its source for one operation (a column added, renamed, retyped,
an Index in `__table_args__`), so `alembic check` finds the model and the database alike."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ...model.operations import AddColumn, AddIndex, ChangeColumnType, RenameColumn
from ._py import identifier, indent_of, insert_after, literal_default, replace_node, sql_type

_SKIP = {"node_modules", "site-packages", "venv", "env", "__pycache__", "versions"}
_COLUMN_CALLS = ("Column", "mapped_column")
# SQL type -> (SQLAlchemy type, where it is imported from, the Python type of Mapped[...])
_TYPES = {"text": ("Text", "sqlalchemy", "str"), "integer": ("Integer", "sqlalchemy", "int"),
          "bigint": ("BigInteger", "sqlalchemy", "int"), "smallint": ("SmallInteger", "sqlalchemy", "int"),
          "boolean": ("Boolean", "sqlalchemy", "bool"), "date": ("Date", "sqlalchemy", "datetime.date"),
          "timestamp without time zone": ("DateTime", "sqlalchemy", "datetime.datetime"),
          "uuid": ("Uuid", "sqlalchemy", "uuid.UUID"), "jsonb": ("JSONB", "sqlalchemy.dialects.postgresql", "dict"),
          "double precision": ("Double", "sqlalchemy", "float")}


@dataclass
class Model:
    rel: str
    name: str
    table: str


@dataclass
class Edit:
    model: Optional[Model]
    text: Optional[str] = None
    why: str = ""
    cannot: str = ""


def _tablename(cls: ast.ClassDef) -> Optional[str]:
    for st in cls.body:
        target = st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1 else \
            st.target if isinstance(st, ast.AnnAssign) else None
        if (isinstance(target, ast.Name) and target.id == "__tablename__" and isinstance(st.value, ast.Constant)
                and isinstance(st.value.value, str)):
            return st.value.value
    return None


def find_models(project: Path) -> list[Model]:
    out = []
    for path in sorted(project.rglob("*.py")):
        parts = path.relative_to(project).parts[:-1]
        if any(p.startswith(".") or p in _SKIP for p in parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text) if "__tablename__" in text else None
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)) if tree else []:
            table = _tablename(cls)
            if table:
                out.append(Model(path.relative_to(project).as_posix(), cls.name, table))
    return out


def owner(project: Path, table: str) -> Optional[Model]:
    bare = table.split(".")[-1]
    return next((m for m in find_models(project) if m.table == bare), None)


# --- the module's names -------------------------------------------------------------------


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


class _Names:
    """Names the new source uses, spelled as the module imports them; missing imports are added."""

    def __init__(self, tree: ast.Module):
        self.froms, self.mods = _imports(tree)
        self.tree = tree
        self.needed: list[str] = []

    def get(self, module: str, name: str) -> str:
        if (module, name) in self.froms:
            return self.froms[(module, name)]
        if module in self.mods:
            return f"{self.mods[module]}.{name}"
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
        if not self.needed:
            return text
        tree = ast.parse(text)
        last = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        if last:
            return insert_after(text, last[-1], self.needed)
        return "".join(line + "\n" for line in self.needed) + text


def sa_type(type_text: str, names: _Names) -> Optional[tuple[str, str]]:
    """(SQLAlchemy type source, the dotted Python type for Mapped[]) of a SQL type, or None."""
    base, mods = sql_type(type_text)
    if base in _TYPES and not mods:
        t, module, py = _TYPES[base]
        return f"{names.get(module, t)}()" if t == "JSONB" else names.get(module, t), py
    if base == "timestamp with time zone" and not mods:
        return f"{names.get('sqlalchemy', 'DateTime')}(timezone=True)", "datetime.datetime"
    if base == "character varying":
        return (f"{names.get('sqlalchemy', 'String')}({mods[0]})" if mods else names.get("sqlalchemy", "String"),
                "str")
    if base == "numeric" and len(mods) == 2:
        return f"{names.get('sqlalchemy', 'Numeric')}({mods[0]}, {mods[1]})", "decimal.Decimal"
    return None


# --- columns ------------------------------------------------------------------------------


@dataclass
class Col:
    attr: str
    stmt: ast.stmt
    call: Optional[ast.Call]  # None for `name: Mapped[T]` alone
    column: str


def _columns(cls: ast.ClassDef) -> list[Col]:
    out = []
    for st in cls.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            attr, value = st.targets[0].id, st.value
        elif isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
            attr, value = st.target.id, st.value
            if value is None and ast.unparse(st.annotation).startswith("Mapped["):
                out.append(Col(attr, st, None, attr))
                continue
        else:
            continue
        if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] in _COLUMN_CALLS:
            first = value.args[0] if value.args else None
            named = isinstance(first, ast.Constant) and isinstance(first.value, str)
            out.append(Col(attr, st, value, first.value if named else attr))
    return out


def _col(cls: ast.ClassDef, column: str) -> Optional[Col]:
    return next((c for c in _columns(cls) if c.column == column), None)


def _type_arg(col: Col) -> Optional[ast.expr]:
    for a in col.call.args if col.call else []:
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            continue
        if isinstance(a, ast.Call) and ast.unparse(a.func).split(".")[-1] in ("ForeignKey", "Sequence", "Identity"):
            continue
        return a
    return None


def _mapped_inner(ann: ast.expr) -> Optional[ast.expr]:
    """X of Mapped[X] or Mapped[Optional[X]]."""
    if isinstance(ann, ast.Subscript) and ast.unparse(ann.value).endswith("Mapped"):
        inner = ann.slice
        if isinstance(inner, ast.Subscript) and ast.unparse(inner.value).endswith("Optional"):
            return inner.slice
        if isinstance(inner, ast.BinOp):  # X | None
            return inner.left
        return inner
    return None


# --- one operation ------------------------------------------------------------------------


def edit(op, text: str, model: Model) -> Edit:
    tree = ast.parse(text)
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == model.name)
    where = f"{model.rel} ({model.name})"
    names = _Names(tree)
    if isinstance(op, AddColumn):
        return _add_column(op, text, cls, model, where, names)
    if isinstance(op, RenameColumn):
        return _rename_column(op, text, cls, model, where)
    if isinstance(op, ChangeColumnType):
        return _change_type(op, text, cls, model, where, names)
    if isinstance(op, AddIndex):
        return _add_index(op, text, cls, model, where, names)
    return Edit(model, cannot=f"Flux does not edit SQLAlchemy models for {op.op}: change {where} by hand, "
                              "then `alembic check` should report nothing new")


def _add_column(op: AddColumn, text, cls, model, where, names: _Names) -> Edit:
    if _col(cls, op.column):
        return Edit(model, why=f"{where} has {op.column} already")
    if not identifier(op.column):
        return Edit(model, cannot=f"{op.column} is not a Python name: add it to {where} by hand")
    cols = [c for c in _columns(cls) if c.call is not None or isinstance(c.stmt, ast.AnnAssign)]
    if not cols:
        return Edit(model, cannot=f"{where} declares no columns Flux can follow: add {op.column} by hand")
    mapped = sa_type(op.type, names)
    if mapped is None:
        return Edit(model, cannot=f"no SQLAlchemy type for {op.type}: add {op.column} to {where} by hand")
    type_src, py = mapped
    kwargs = [f"nullable={op.nullable}"]
    if op.default is not None:
        kwargs.append(f"server_default={names.get('sqlalchemy', 'text')}({op.default!r})")
    default = literal_default(op.default)
    if default is not None:
        kwargs.insert(0, f"default={default}")
    last = cols[-1]
    func = ast.unparse(last.call.func) if last.call else names.get("sqlalchemy.orm", "mapped_column")
    call = f"{func}({', '.join([type_src] + kwargs)})"
    if isinstance(last.stmt, ast.AnnAssign):
        py = names.python(py)
        ann = f"{names.get('typing', 'Optional')}[{py}]" if op.nullable else py
        line = f"{op.column}: {ast.unparse(last.stmt.annotation.value)}[{ann}] = {call}"
    else:
        line = f"{op.column} = {call}"
    new = insert_after(text, last.stmt, [indent_of(text, last.stmt) + line])
    return Edit(model, names.finish(new), f"add {op.column} to {where} for the new column {op.table}.{op.column}")


def _rename_column(op: RenameColumn, text, cls, model, where) -> Edit:
    col = _col(cls, op.column)
    if col is None:
        if _col(cls, op.new_name):
            return Edit(model, why=f"{where} has {op.new_name} already")
        return Edit(model, cannot=f"no attribute of {where} maps the column {op.column}: rename it by hand")
    if col.call is not None and any(k.arg in ("index", "unique") for k in col.call.keywords):
        return Edit(model, cannot=f"{op.column} of {where} has index=/unique=, whose copies Flux names its own way: "
                                  "rename it by hand and name the index as the plan does")
    args = next((st.value for st in cls.body if isinstance(st, (ast.Assign, ast.AnnAssign)) and
                 ast.unparse(st.targets[0] if isinstance(st, ast.Assign) else st.target) == "__table_args__"), None)
    if args is not None and any(isinstance(n, ast.Constant) and n.value == op.column for n in ast.walk(args)):
        return Edit(model, cannot=f"__table_args__ of {where} names {op.column}: rename it there by hand")
    if col.attr != op.column or (col.call and col.call.args and isinstance(col.call.args[0], ast.Constant)
                                 and isinstance(col.call.args[0].value, str)):
        return Edit(model, replace_node(text, col.call.args[0], repr(op.new_name)),
                    f"{col.attr} of {where} now maps the column {op.new_name}")
    if not identifier(op.new_name) or any(c.attr == op.new_name for c in _columns(cls)):
        return Edit(model, cannot=f"{op.new_name} is not a free Python name in {where}: rename it by hand")
    target = col.stmt.targets[0] if isinstance(col.stmt, ast.Assign) else col.stmt.target
    return Edit(model, replace_node(text, target, op.new_name),
                f"rename {op.column} of {where} to {op.new_name} with its column")


def _change_type(op: ChangeColumnType, text, cls, model, where, names: _Names) -> Edit:
    col = _col(cls, op.column)
    if col is None:
        return Edit(model, cannot=f"no attribute of {where} maps the column {op.column}: change its type by hand")
    mapped = sa_type(op.type, names)
    if mapped is None:
        return Edit(model, cannot=f"no SQLAlchemy type for {op.type}: change {op.column} of {where} by hand")
    type_src, py = mapped
    edits: list[tuple[ast.AST, str]] = []
    arg = _type_arg(col)
    if arg is not None:
        edits.append((arg, type_src))
    elif col.call is not None:
        named = col.call.args[:1] if col.call.args and isinstance(col.call.args[0], ast.Constant) else []
        rest = [ast.unparse(a) for a in col.call.args[len(named):]] + [ast.unparse(k) for k in col.call.keywords]
        edits.append((col.call, f"{ast.unparse(col.call.func)}("
                                f"{', '.join([ast.unparse(a) for a in named] + [type_src] + rest)})"))
    else:
        return Edit(model, cannot=f"{op.column} of {where} takes its type from the annotation: change it by hand")
    inner = _mapped_inner(col.stmt.annotation) if isinstance(col.stmt, ast.AnnAssign) else None
    if inner is not None and ast.unparse(inner) != names.python(py):
        edits.append((inner, names.python(py)))
    for node, src in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        text = replace_node(text, node, src)
    return Edit(model, names.finish(text), f"{op.column} of {where} becomes {type_src}")


def _add_index(op: AddIndex, text, cls, model, where, names: _Names) -> Edit:
    from ...plan.ops._base import bare, short_name

    if op.where:
        return Edit(model, cannot=f"a partial index is not added to {where}: add Index(..., postgresql_where=...) "
                                  "to its __table_args__ by hand")
    name = op.name or short_name(bare(op.table), *op.columns, suffix="key" if op.unique else "idx")
    index = f"{names.get('sqlalchemy', 'Index')}({', '.join(repr(x) for x in [name, *op.columns])}" \
            f"{', unique=True' if op.unique else ''})"
    st = next((s for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign)) and
               ast.unparse(s.targets[0] if isinstance(s, ast.Assign) else s.target) == "__table_args__"), None)
    why = f"index {name} in __table_args__ of {where}"
    if st is None:
        anchor = next(s for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign)) and
                      ast.unparse(s.targets[0] if isinstance(s, ast.Assign) else s.target) == "__tablename__")
        new = insert_after(text, anchor, [f"{indent_of(text, anchor)}__table_args__ = ({index},)"])
    elif isinstance(st.value, ast.Tuple):
        items = [ast.unparse(e) for e in st.value.elts]
        if any(name in i for i in items):
            return Edit(model, why=f"{where} has the index {name} already")
        at = len(items) - 1 if items and isinstance(st.value.elts[-1], ast.Dict) else len(items)
        items.insert(at, index)
        new = replace_node(text, st.value, f"({', '.join(items)},)" if len(items) == 1 else f"({', '.join(items)})")
    elif isinstance(st.value, ast.Dict):
        new = replace_node(text, st.value, f"({index}, {ast.unparse(st.value)})")
    else:
        return Edit(model, cannot=f"__table_args__ of {where} is not a tuple or dict: add {index} by hand")
    return Edit(model, names.finish(new), why)


def edits(project: Path, ops: list) -> list[tuple[object, Edit]]:
    """Each operation's edit, applied one after another to the files as they are now."""
    texts: dict[str, str] = {}
    out = []
    for op in ops:
        table = getattr(op, "table", None)
        model = owner(project, table) if table else None
        if model is None:
            out.append((op, Edit(None, cannot=f"no SQLAlchemy class has __tablename__ = {table!r}: change the "
                                              "models by hand" if table else
                                 f"Flux does not edit SQLAlchemy models for {op.op}")))
            continue
        text = texts.get(model.rel) or (project / model.rel).read_text(encoding="utf-8")
        result = edit(op, text, model)
        if result.text is not None:
            texts[model.rel] = result.text
        out.append((op, result))
    return out
