"""Finds the SQLAlchemy declarative class of a table (`__tablename__`, read with `ast` from the
project's .py files) and edits its source for one operation (a column added, renamed, retyped,
an Index in `__table_args__`), so `alembic check` finds the model and the database alike."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from ...model.operations import (AddColumn, AddIndex, ChangeColumnType, DropColumn, DropIndex, DropNotNull,
                                 RenameColumn, SetNotNull)
from ._py import ModuleNames, identifier, literal_default, offered, source_files
from ._py_edits import append_item, indent_of, insert_after, offset, remove_stmt, replace_node, replace_nodes, with_kwarg
from ._sa_types import sa_type
from ._sqlalchemy_columns import column_of, columns_of, mapped_inner, type_arg

_SKIP = {"node_modules", "site-packages", "venv", "env", "__pycache__", "versions"}
@dataclass
class Model:
    rel: str
    name: str
    table: str


@dataclass
class Edit:
    model: Model | None
    text: str | None = None
    why: str = ""
    cannot: str = ""


def _stmt(cls: ast.ClassDef, name: str) -> ast.stmt | None:
    """The class-level `name = ...` (or `name: T = ...`)."""
    return next((s for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None
                 and ast.unparse(s.targets[0] if isinstance(s, ast.Assign) else s.target) == name), None)


def tablename_of(cls: ast.ClassDef) -> str | None:
    """The class's `__tablename__ = "..."`, or None."""
    for st in cls.body:
        target = st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1 else \
            st.target if isinstance(st, ast.AnnAssign) else None
        if (isinstance(target, ast.Name) and target.id == "__tablename__" and isinstance(st.value, ast.Constant)
                and isinstance(st.value.value, str)):
            return st.value.value
    return None


def find_models(project: Path) -> list[Model]:
    out = []
    for path in source_files(project, _SKIP):
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text) if "__tablename__" in text else None
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)) if tree else []:
            table = tablename_of(cls)
            if table and not any(k.arg == "table" for k in cls.keywords):  # SQLModel's: _sqlmodel_models.py
                out.append(Model(path.relative_to(project).as_posix(), cls.name, table))
    return out


def _has_naming_convention(project: Path) -> bool:
    """Does a source file of the project give its MetaData a naming_convention?"""
    for path in source_files(project, _SKIP):
        try:
            if "naming_convention" in path.read_text(encoding="utf-8"):
                return True
        except (UnicodeDecodeError, OSError):
            continue
    return False


def owner(project: Path, table: str) -> Model | None:
    bare = table.split(".")[-1]
    return next((m for m in find_models(project) if m.table == bare), None)


# --- one operation ------------------------------------------------------------------------


def edit(op, text: str, model: Model, conventions: bool = False) -> Edit:
    """The edit of `text` for one operation; `conventions`: the project names constraints and indexes
    by a naming_convention of its own (the plan's copies may then not be named as it names them)."""
    tree = ast.parse(text)
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == model.name)
    where = f"{model.rel} ({model.name})"
    names = ModuleNames(tree, within=cls)
    if isinstance(op, AddColumn):
        return _add_column(op, text, cls, model, where, names)
    if isinstance(op, RenameColumn):
        return _rename_column(op, text, cls, model, where, conventions)
    if isinstance(op, ChangeColumnType):
        return _change_type(op, text, cls, model, where, names)
    if isinstance(op, AddIndex):
        return _add_index(op, text, cls, model, where, names)
    if isinstance(op, DropIndex):
        return _drop_index(op, text, cls, model, where)
    if isinstance(op, DropColumn):
        return _drop_column(op, text, cls, model, where, tree)
    if isinstance(op, (SetNotNull, DropNotNull)):
        return _nullable(op, text, cls, model, where, names)
    return Edit(model, cannot=f"Flux does not edit SQLAlchemy models for {op.op}: change {where} by hand, "
                              "then `alembic check` should report nothing new")


def _add_column(op: AddColumn, text, cls, model, where, names: ModuleNames) -> Edit:
    if column_of(cls, op.column):
        return Edit(model, why=f"{where} has {op.column} already")
    if not identifier(op.column):
        return Edit(model, cannot=f"{op.column} is not a Python name: add it to {where} by hand")
    cols = [c for c in columns_of(cls) if c.call is not None or isinstance(c.stmt, ast.AnnAssign)]
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


def _default_names_follow(op: RenameColumn) -> bool:
    """Do the names SQLAlchemy gives index=True and unique=True by default (ix_<table>_<column>;
    PostgreSQL's <table>_<column>_key) become, by the plan's renaming of the copies, the ones it
    gives them for the new column? Then the model keeps index=/unique= and agrees with the database."""
    from ...plan.naming import renamed_default_name

    table = op.table.split(".")[-1]
    return all(renamed_default_name(pattern % op.column, op.table, [op.column], op.column, op.new_name)
               == pattern % op.new_name for pattern in (f"ix_{table}_%s", f"{table}_%s_key"))


def _quoted(text: str, value: str) -> str:
    """`value` as a string literal in the quotes the module mostly uses (ruff's and black's double,
    unless the file is written with single ones)."""
    return repr(value) if text.count("'") > text.count('"') else json.dumps(value)


def _rename_column(op: RenameColumn, text, cls, model, where, conventions: bool = False) -> Edit:
    col = column_of(cls, op.column)
    if col is None:
        if column_of(cls, op.new_name):
            return Edit(model, why=f"{where} has {op.new_name} already")
        return Edit(model, cannot=f"no attribute of {where} maps the column {op.column}: rename it by hand")
    if col.call is not None and any(k.arg in ("index", "unique") for k in col.call.keywords) \
            and (conventions or not _default_names_follow(op)):
        return Edit(model, cannot=f"{op.column} of {where} has index=/unique=, whose copies Flux names its own way: "
                                  "rename it by hand and name the index as the plan does")
    if col.call is not None and col.key == op.column and _named_in_args(cls, op.column):
        # __table_args__ finds the column by its name (Col.key): there it is renamed too, else the
        # class no longer loads ("no column named 'total' is present")
        refs = _args_refs(cls, op.column)
        if refs is None:
            return Edit(model, cannot=f"__table_args__ of {where} names {op.column} where Flux cannot tell a column "
                                      "from text: rename it there by hand")
        text = replace_nodes(text, [(n, _quoted(text, op.new_name)) for n in refs])
        cls = next(n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.ClassDef) and n.lineno == cls.lineno)
        col = column_of(cls, op.column)
    if col.call and col.call.args and isinstance(col.call.args[0], ast.Constant) \
            and isinstance(col.call.args[0].value, str):
        return Edit(model, replace_node(text, col.call.args[0], _quoted(text, op.new_name)),
                    f"{col.attr} of {where} now maps the column {op.new_name}")
    if col.call is not None:
        # The attribute keeps its name and maps the new column (`name = mapped_column("title", String)`),
        # so the application's code needs no change: mealie's shopping_lists.name became .title, and
        # every use of .name broke.
        at = offset(text, col.call.func.end_lineno, col.call.func.end_col_offset)
        at = text.index("(", at) + 1
        sep = ", " if col.call.args or col.call.keywords else ""
        return Edit(model, text[:at] + _quoted(text, op.new_name) + sep + text[at:],
                    f"{col.attr} of {where} now maps the column {op.new_name} (its name kept: the application's "
                    "code needs no change)")
    used = sum(isinstance(n, ast.Name) and n.id == col.attr for n in ast.walk(cls)) > 1  # beyond its own line
    if _named_in_args(cls, op.column) or used:
        return Edit(model, cannot=f"{where} names {op.column} elsewhere (__table_args__, a relationship): rename "
                                  "it there by hand")
    if not identifier(op.new_name) or any(c.attr == op.new_name for c in columns_of(cls)):
        return Edit(model, cannot=f"{op.new_name} is not a free Python name in {where}: rename it by hand")
    target = col.stmt.targets[0] if isinstance(col.stmt, ast.Assign) else col.stmt.target
    return Edit(model, replace_node(text, target, op.new_name),
                f"rename {op.column} of {where} to {op.new_name} with its column")


def _change_type(op: ChangeColumnType, text, cls, model, where, names: ModuleNames) -> Edit:
    col = column_of(cls, op.column)
    if col is None:
        return Edit(model, cannot=f"no attribute of {where} maps the column {op.column}: change its type by hand")
    mapped = sa_type(op.type, names)
    if mapped is None:
        return Edit(model, cannot=f"no SQLAlchemy type for {op.type}: change {op.column} of {where} by hand")
    type_src, py = mapped
    edits: list[tuple[ast.AST, str]] = []
    arg = type_arg(col)
    if arg is not None:
        edits.append((arg, type_src))
    elif col.call is not None:
        named = col.call.args[:1] if col.call.args and isinstance(col.call.args[0], ast.Constant) else []
        rest = [ast.unparse(a) for a in col.call.args[len(named):]] + [ast.unparse(k) for k in col.call.keywords]
        args = ", ".join([ast.unparse(a) for a in named] + [type_src] + rest)
        edits.append((col.call, f"{ast.unparse(col.call.func)}({args})"))
    else:
        return Edit(model, cannot=f"{op.column} of {where} takes its type from the annotation: change it by hand")
    inner = mapped_inner(col.stmt.annotation) if isinstance(col.stmt, ast.AnnAssign) else None
    if inner is not None and ast.unparse(inner) != names.python(py):
        edits.append((inner, names.python(py)))
    for node, src in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        text = replace_node(text, node, src)
    return Edit(model, names.finish(text), f"{op.column} of {where} becomes {type_src}")


def _add_index(op: AddIndex, text, cls, model, where, names: ModuleNames) -> Edit:
    from ...plan.ops._base import bare, short_name

    if op.where:
        return Edit(model, cannot=f"a partial index is not added to {where}: add Index(..., postgresql_where=...) "
                                  "to its __table_args__ by hand")
    name = op.name or short_name(bare(op.table), *op.columns, suffix="key" if op.unique else "idx")
    keys = [column_of(cls, c) for c in op.columns]  # Index names columns by their key (Col.key)
    if None in keys:
        return Edit(model, cannot=f"{where} does not map every column of the index: add it by hand")
    index = f"{names.get('sqlalchemy', 'Index')}({', '.join(_quoted(text, x) for x in [name, *(k.key for k in keys)])}" \
            f"{', unique=True' if op.unique else ''})"
    st = _stmt(cls, "__table_args__")
    why = f"index {name} in __table_args__ of {where}"
    if st is None:
        anchor = _stmt(cls, "__tablename__")
        pad = indent_of(text, anchor)
        line = f"{pad}__table_args__ = ({index},)"
        # one item a line where one line would pass the 100 columns ruff and black keep to (mealie: 176)
        new = insert_after(text, anchor, [line] if len(line) <= 100 else
                           [f"{pad}__table_args__ = (", f"{pad}    {index},", f"{pad})"])
    elif isinstance(st.value, ast.Tuple):
        items = [ast.unparse(e) for e in st.value.elts]
        if any(name in i for i in items):
            return Edit(model, why=f"{where} has the index {name} already")
        if st.value.elts and not isinstance(st.value.elts[-1], ast.Dict):
            new = append_item(text, st.value, index)  # the tuple's own layout kept
        else:
            items.insert(len(items) - 1 if items else 0, index)
            new = replace_node(text, st.value, f"({', '.join(items)},)" if len(items) == 1 else f"({', '.join(items)})")
    elif isinstance(st.value, ast.Dict):
        new = replace_node(text, st.value, f"({index}, {ast.unparse(st.value)})")
    else:
        return Edit(model, cannot=f"__table_args__ of {where} is not a tuple or dict: add {index} by hand")
    return Edit(model, names.finish(new), why)


def _args_refs(cls: ast.ClassDef, column: str) -> list[ast.Constant] | None:
    """Where __table_args__ names `column` as a column: an Index's columns (after its name), a
    UniqueConstraint's or PrimaryKeyConstraint's, a ForeignKeyConstraint's own (its first list);
    None where it names it anywhere else (a CheckConstraint's text, an index named as the column)."""
    args = _stmt(cls, "__table_args__")
    refs: list[ast.Constant] = []
    for call in (n for n in ast.walk(args.value) if isinstance(n, ast.Call)):
        kind = ast.unparse(call.func).rsplit(".", 1)[-1]
        listed = call.args[1:] if kind == "Index" else call.args if kind in ("UniqueConstraint", "PrimaryKeyConstraint") \
            else getattr(call.args[0], "elts", []) if kind == "ForeignKeyConstraint" and call.args else []
        refs += [a for a in listed if isinstance(a, ast.Constant) and a.value == column]
    every = [n for n in ast.walk(args.value) if isinstance(n, ast.Constant) and n.value == column]
    return refs if len(refs) == len(every) else None


def _named_in_args(cls: ast.ClassDef, column: str) -> bool:
    args = _stmt(cls, "__table_args__")
    return args is not None and any(isinstance(n, ast.Constant) and n.value == column for n in ast.walk(args.value))


def _listed_index(cls: ast.ClassDef, table: str, name: str):
    """(the Index(...) in __table_args__, None) or (None, the column with index=True) named `name`."""
    st = _stmt(cls, "__table_args__")
    for e in st.value.elts if st is not None and isinstance(st.value, ast.Tuple) else []:
        if isinstance(e, ast.Call) and e.args and isinstance(e.args[0], ast.Constant) and e.args[0].value == name:
            return e, None
    for c in columns_of(cls):
        flag = next((k.value for k in c.call.keywords if k.arg == "index"), None) if c.call else None
        if isinstance(flag, ast.Constant) and flag.value is True and f"ix_{table}_{c.column}" == name:
            return None, c
    return None, None


def _drop_index(op: DropIndex, text, cls, model, where) -> Edit:
    index, col = _listed_index(cls, model.table, op.name)
    if col is not None:
        return Edit(model, with_kwarg(text, col.call, "index", None), f"{col.attr} of {where} loses index=True")
    st = _stmt(cls, "__table_args__")
    items = [ast.unparse(e) for e in st.value.elts if e is not index]
    return Edit(model, replace_node(text, st.value, f"({', '.join(items)}{',' if len(items) == 1 else ''})"),
                f"index {op.name} out of __table_args__ of {where}")


def _drop_column(op: DropColumn, text, cls, model, where, tree: ast.Module) -> Edit:
    col = column_of(cls, op.column)
    if col is None:
        return Edit(model, cannot=f"no attribute of {where} maps the column {op.column}: remove it by hand")
    used = [n for n in ast.walk(cls) if isinstance(n, ast.Name) and n.id == col.attr and n is not col.stmt]
    if isinstance(col.stmt, ast.Assign):
        used = [n for n in used if n is not col.stmt.targets[0]]
    elif isinstance(col.stmt, ast.AnnAssign):
        used = [n for n in used if n is not col.stmt.target]
    related = col.call is not None and "ForeignKey(" in ast.unparse(col.call) and "relationship(" in ast.unparse(tree)
    if used or related or _named_in_args(cls, op.column):
        return Edit(model, cannot=f"{where} uses {col.attr} elsewhere (__table_args__, a relationship): remove it "
                                  "by hand")
    new = remove_stmt(text, col.stmt)
    if new is None:
        return Edit(model, cannot=f"{col.attr} of {where} shares its line with other code: remove it by hand")
    return Edit(model, new, f"remove {col.attr} from {where}")


def _nullable(op, text, cls, model, where, names: ModuleNames) -> Edit:
    col = column_of(cls, op.column)
    if col is None:
        return Edit(model, cannot=f"no attribute of {where} maps the column {op.column}: change it by hand")
    required = isinstance(op, SetNotNull)
    if col.call is not None:
        text = with_kwarg(text, col.call, "nullable", str(not required))
    ann = col.stmt.annotation if isinstance(col.stmt, ast.AnnAssign) else None
    inner = ann.slice if isinstance(ann, ast.Subscript) and ast.unparse(ann.value).endswith("Mapped") else None
    optional = isinstance(inner, ast.BinOp) or (isinstance(inner, ast.Subscript)
                                                and ast.unparse(inner.value).endswith("Optional"))
    if inner is not None and required and optional:
        text = replace_node(text, inner, ast.unparse(inner.left if isinstance(inner, ast.BinOp) else inner.slice))
    elif inner is not None and not required and not optional:
        text = replace_node(text, inner, f"{names.get('typing', 'Optional')}[{ast.unparse(inner)}]")
    elif col.call is None:
        return Edit(model, why=f"{col.attr} of {where} is as the database will be already")
    return Edit(model, names.finish(text), f"{col.attr} of {where} is {'NOT NULL' if required else 'nullable'}")


def _index_owner(project: Path, name: str) -> Model | None:
    for model in find_models(project):
        tree = ast.parse((project / model.rel).read_text(encoding="utf-8"))
        cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == model.name)
        if _listed_index(cls, model.table, name) != (None, None):
            return model
    return None


def edits(project: Path, ops: list) -> list[tuple[object, Edit]]:
    """Each operation's edit, applied one after another to the files as they are now."""
    texts: dict[str, str] = {}
    out = []
    conventions = None  # read when a rename needs it
    for op in ops:
        table = getattr(op, "table", None)
        model = (_index_owner(project, op.name) if isinstance(op, DropIndex)
                 else owner(project, table) if table else None)
        if model is None:
            out.append((op, Edit(None, cannot=f"no SQLAlchemy class has __tablename__ = {table!r}: change the "
                                              "models by hand" if table else
                                 f"no SQLAlchemy class declares the index {getattr(op, 'name', '')}: change the "
                                 "models by hand" if isinstance(op, DropIndex) else
                                 f"Flux does not edit SQLAlchemy models for {op.op}")))
            continue
        text = texts.get(model.rel) or (project / model.rel).read_text(encoding="utf-8")
        if conventions is None and isinstance(op, RenameColumn):
            conventions = _has_naming_convention(project)
        result = offered(lambda: edit(op, text, model, bool(conventions)), lambda why: Edit(model, cannot=why), model.rel, op.op)
        if result.text is not None:
            texts[model.rel] = result.text
        out.append((op, result))
    return out
