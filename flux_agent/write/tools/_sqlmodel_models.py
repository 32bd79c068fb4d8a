"""Finds the SQLModel table class of a table (`class Item(ItemBase, table=True)`: its table is its
`__tablename__`, else its name in lower case) and edits its source for one operation (a field added
to the table class, one it declares removed), so `alembic check` finds the model and the database
alike. A field a base class declares (API models share it) is not renamed: the table class maps it
to the new column (`sa_column_kwargs={"name": ...}`), the API keeping its name. For the rest it says
what to change by hand."""

from __future__ import annotations

import ast
from pathlib import Path

from ...model.operations import AddColumn, DropColumn, RenameColumn
from ._py import (ModuleNames, identifier, indent_of, insert_after, literal_default, remove_stmt, replace_node,
                  source_files, str_source, with_kwarg)
from ._sqlalchemy_models import Edit, Model, sa_type

_SKIP = {"node_modules", "site-packages", "venv", "env", "__pycache__", "versions"}


def is_table_class(cls: ast.ClassDef) -> bool:
    return any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in cls.keywords)


def _tablename(cls: ast.ClassDef) -> str:
    for st in cls.body:
        target = st.targets[0] if isinstance(st, ast.Assign) and len(st.targets) == 1 else \
            st.target if isinstance(st, ast.AnnAssign) else None
        if (isinstance(target, ast.Name) and target.id == "__tablename__" and isinstance(st.value, ast.Constant)
                and isinstance(st.value.value, str)):
            return st.value.value
    return cls.name.lower()  # SQLModel's own default


def find_models(project: Path) -> list[Model]:
    out = []
    for path in source_files(project, _SKIP):
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text) if "table=True" in text.replace(" ", "") else None
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)) if tree else []:
            if is_table_class(cls):
                out.append(Model(path.relative_to(project).as_posix(), cls.name, _tablename(cls)))
    return out


def _fields(cls: ast.ClassDef) -> list[ast.AnnAssign]:
    """The class's own fields (`name: T` or `name: T = Field(...)`), not relationships or settings."""
    out = []
    for st in cls.body:
        if not (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)):
            continue
        if st.target.id.startswith("__") or st.target.id == "model_config" or "ClassVar" in ast.unparse(st.annotation):
            continue
        if isinstance(st.value, ast.Call) and ast.unparse(st.value.func).split(".")[-1] == "Relationship":
            continue
        out.append(st)
    return out


def _column_of(field: ast.AnnAssign) -> str:
    """The column a field maps: `sa_column=Column("name", ...)` names it, else the field's name."""
    call = field.value if isinstance(field.value, ast.Call) else None
    for kw in call.keywords if call else []:
        if kw.arg == "sa_column" and isinstance(kw.value, ast.Call) and kw.value.args:
            first = kw.value.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
    return field.target.id


def edit(op, text: str, model: Model) -> Edit:
    tree = ast.parse(text)
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == model.name)
    where = f"{model.rel} ({model.name})"
    if isinstance(op, AddColumn):
        return _add_column(op, text, cls, model, where, ModuleNames(tree))
    if isinstance(op, DropColumn):
        return _drop_column(op, text, cls, model, where)
    if isinstance(op, RenameColumn):
        return _rename_column(op, text, cls, tree, model, where)
    return Edit(model, cannot=f"Flux does not edit SQLModel classes for {op.op}: change {where} by hand, "
                              "then `alembic check` should report nothing new")


def _add_column(op: AddColumn, text: str, cls: ast.ClassDef, model: Model, where: str, names: ModuleNames) -> Edit:
    if any(_column_of(f) == op.column for f in _fields(cls)):
        return Edit(model, why=f"{where} has {op.column} already")
    if not identifier(op.column):
        return Edit(model, cannot=f"{op.column} is not a Python name: add it to {where} by hand")
    mapped = sa_type(op.type, names)
    if mapped is None:
        return Edit(model, cannot=f"no SQLAlchemy type for {op.type}: add {op.column} to {where} by hand")
    type_src, py = mapped
    py = names.python(py)
    default = literal_default(op.default)
    if op.default is not None and default is None:
        return Edit(model, cannot=f"the default {op.default} has no Python value: add {op.column} to {where} by hand")
    if op.nullable:
        # The spelling the module uses for optional fields (X | None needs Python 3.10 where it is evaluated).
        ann = f"{py} | None" if "| None" in text else f"{names.get('typing', 'Optional')}[{py}]"
        default = default or "None"
    else:
        ann = py
    args = ([f"default={default}"] if default is not None else []) + [f"sa_type={type_src}"]
    if op.default is not None:
        args.append(f"sa_column_kwargs={{\"server_default\": {names.get('sqlalchemy', 'text')}({op.default!r})}}")
    line = f"{op.column}: {ann} = {names.get('sqlmodel', 'Field')}({', '.join(args)})"
    fields = _fields(cls)
    after = fields[-1] if fields else cls.body[-1]
    if not fields and isinstance(after, ast.Pass):
        return Edit(model, cannot=f"{where} declares nothing Flux can add a field after: add {op.column} by hand")
    new = insert_after(text, after, [indent_of(text, after) + line])
    return Edit(model, names.finish(new), f"add {op.column} to {where} for the new column {op.table}.{op.column}")


def _drop_column(op: DropColumn, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    field = next((f for f in _fields(cls) if _column_of(f) == op.column), None)
    if field is None:
        return Edit(model, cannot=f"{where} does not declare {op.column} itself (a base class does, which models "
                                  f"of the API may share): remove it by hand")
    used = [n for n in ast.walk(cls) if isinstance(n, ast.Name) and n.id == field.target.id and n is not field.target]
    if used or "foreign_key" in ast.unparse(field):
        return Edit(model, cannot=f"{where} uses {field.target.id} elsewhere (a relationship, a validator): remove "
                                  "it by hand")
    new = remove_stmt(text, field)
    if new is None:
        return Edit(model, cannot=f"{field.target.id} of {where} shares its line with other code: remove it by hand")
    return Edit(model, new, f"remove {field.target.id} from {where}")


def _inherited(tree: ast.Module, cls: ast.ClassDef, column: str) -> ast.AnnAssign | None:
    """The field mapping `column` that a base class of `cls` in the same module declares."""
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    todo, seen = [b.id for b in cls.bases if isinstance(b, ast.Name)], set()
    while todo:
        base = classes.get(todo.pop(0))
        if base is None or base.name in seen:
            continue
        seen.add(base.name)
        found = next((f for f in _fields(base) if _column_of(f) == column), None)
        if found is not None:
            return found
        todo += [b.id for b in base.bases if isinstance(b, ast.Name)]
    return None


def _rename_column(op: RenameColumn, text: str, cls: ast.ClassDef, tree: ast.Module, model: Model,
                   where: str) -> Edit:
    fields = _fields(cls)
    own = next((f for f in fields if _column_of(f) == op.column), None)
    if own is None and any(_column_of(f) == op.new_name for f in fields):
        return Edit(model, why=f"{where} maps {op.new_name} already")
    if own is not None:
        call = own.value if isinstance(own.value, ast.Call) else None
        named = next((k.value.args[0] for k in call.keywords if k.arg == "sa_column"), None) if call else None
        if named is not None:  # sa_column=Column("title", ...): the column's name is said there
            return Edit(model, replace_node(text, named, repr(op.new_name)),
                        f"{own.target.id} of {where} now maps the column {op.new_name}")
        used = [n for n in ast.walk(cls) if isinstance(n, ast.Name) and n.id == own.target.id and n is not own.target]
        if used or not identifier(op.new_name) or any(f.target.id == op.new_name for f in fields):
            return Edit(model, cannot=f"{where} uses {own.target.id} elsewhere, or {op.new_name} is no free Python "
                                      "name there: rename it by hand")
        return Edit(model, replace_node(text, own.target, op.new_name),
                    f"rename {op.column} of {where} to {op.new_name} with its column")
    base = _inherited(tree, cls, op.column)
    if base is None:
        return Edit(model, cannot=f"no field of {where} or of its base classes in {model.rel} maps {op.column}: "
                                  "rename it by hand")
    call = base.value if isinstance(base.value, ast.Call) and ast.unparse(base.value.func).split(".")[-1] == "Field"         else None
    if call is None and base.value is not None:
        field = f"Field(default={ast.unparse(base.value)})"
    elif call is None:
        field = "Field()"
    elif any(k.arg in ("sa_column", "sa_column_kwargs") for k in call.keywords):
        return Edit(model, cannot=f"{op.column} of {where} sets its column in its base class: map it to "
                                  f"{op.new_name} by hand")
    else:
        field = ast.get_source_segment(text, call)
        field = ast.unparse(call) if "\n" in field else field  # laid out over lines: on one here
    parsed = ast.parse(field, mode="eval").body
    field = with_kwarg(field, parsed, "sa_column_kwargs", f"{{{str_source(text, 'name')}: {str_source(text, op.new_name)}}}")
    line = f"{base.target.id}: {ast.unparse(base.annotation)} = {field}"
    after = fields[-1] if fields else cls.body[-1]
    if "\n" in line or (not fields and isinstance(after, ast.Pass)):
        return Edit(model, cannot=f"Flux could not map {op.column} of {where} to {op.new_name}: add "
                                  f"sa_column_kwargs={{\"name\": {op.new_name!r}}} to it by hand")
    return Edit(model, insert_after(text, after, [indent_of(text, after) + line]),
                f"{where} maps its {base.target.id} (its base class's, which API models share) to the column "
                f"{op.new_name}")


def edits(project: Path, ops: list) -> list[tuple[object, Edit]]:
    """Each operation's edit, applied one after another to the files as they are now."""
    models = find_models(project)
    texts: dict[str, str] = {}
    out = []
    for op in ops:
        table = getattr(op, "table", None)
        bare = table.split(".")[-1] if table else None
        model = next((m for m in models if m.table == bare), None)
        if model is None:
            out.append((op, Edit(None, cannot=f"no SQLModel table class is the table {table!r}: change the models by "
                                              "hand" if table else f"Flux does not edit SQLModel classes for {op.op}")))
            continue
        text = texts.get(model.rel) or (project / model.rel).read_text(encoding="utf-8")
        try:
            result = edit(op, text, model)
            if result.text is not None:
                ast.parse(result.text)  # an edit that does not parse is never offered
        except (SyntaxError, ValueError, StopIteration, AttributeError, IndexError, KeyError) as exc:
            result = Edit(model, cannot=f"Flux could not edit {model.rel} for {op.op} ({type(exc).__name__}: "
                                        f"{exc}): change it by hand")
        if result.text is not None:
            texts[model.rel] = result.text
        out.append((op, result))
    return out
