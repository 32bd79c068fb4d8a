"""Finds the SQLModel table class of a table (`class Item(ItemBase, table=True)`: its table is its
`__tablename__`, else its name in lower case) and edits its source for one operation (a field added,
removed, renamed, retyped with `sa_type`, made NULL or NOT NULL with `nullable`; an Index in
`__table_args__`), so `alembic check` finds the model and the database alike. A field a base class
declares (API models share it) is left there: the table class declares it again with the change (a
rename maps it to the new column, `sa_column_kwargs={"name": ...}`), the API keeping its name and
type. For the rest it says what to change by hand."""

from __future__ import annotations

import ast
from pathlib import Path

from ...model.operations import (AddColumn, AddIndex, ChangeColumnType, DropColumn, DropIndex, DropNotNull,
                                 RenameColumn, SetNotNull)
from ._py import ModuleNames, identifier, literal_default, offered, source_files
from ._py_edits import indent_of, insert_after, remove_stmt, replace_node, str_source, with_kwarg
from ._sa_types import sa_type
from ._sqlalchemy_models import Edit, Model, tablename_of

_SKIP = {"node_modules", "site-packages", "venv", "env", "__pycache__", "versions"}


def is_table_class(cls: ast.ClassDef) -> bool:
    return any(k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in cls.keywords)


def _tablename(cls: ast.ClassDef) -> str:
    return tablename_of(cls) or cls.name.lower()  # SQLModel's own default


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
        return _add_column(op, text, cls, model, where, ModuleNames(tree, within=cls))
    if isinstance(op, DropColumn):
        return _drop_column(op, text, cls, model, where)
    if isinstance(op, RenameColumn):
        return _rename_column(op, text, cls, tree, model, where)
    if isinstance(op, ChangeColumnType):
        return _change_type(op, text, cls, tree, model, where, ModuleNames(tree, within=cls))
    if isinstance(op, (SetNotNull, DropNotNull)):
        return _nullable(op, text, cls, tree, model, where)
    if isinstance(op, AddIndex):
        return _add_index(op, text, cls, tree, model, where, ModuleNames(tree, within=cls))
    if isinstance(op, DropIndex):
        return _drop_index(op, text, cls, tree, model, where)
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


def _field_edit(op, text: str, cls: ast.ClassDef, tree: ast.Module, model: Model, where: str,
                kwargs: dict[str, str], why: str) -> Edit:
    """The field mapping op.column with `kwargs` (name: source) set in its Field(...): its own, or,
    for a field a base class declares (API models share it), the same field declared again in the
    table class with them, the base left as it is."""
    fields = _fields(cls)
    own = next((f for f in fields if _column_of(f) == op.column), None)
    field = own or _inherited(tree, cls, op.column)
    if field is None:
        return Edit(model, cannot=f"no field of {where} or of its base classes in {model.rel} maps {op.column}: "
                                  "change it by hand")
    call = field.value if isinstance(field.value, ast.Call) and ast.unparse(field.value.func).split(".")[-1] == "Field" \
        else None
    if call is not None and any(k.arg == "sa_column" for k in call.keywords):
        return Edit(model, cannot=f"{op.column} of {where} is declared by sa_column=Column(...): change it by hand")
    source = ast.get_source_segment(text, call) if call is not None else \
        f"Field(default={ast.unparse(field.value)})" if field.value is not None else "Field()"
    source = ast.unparse(call) if call is not None and "\n" in source else source  # laid out over lines
    for name, value in kwargs.items():
        source = with_kwarg(source, ast.parse(source, mode="eval").body, name, value)
    if own is not None:
        if field.value is None:  # `name: str` alone
            return Edit(model, replace_node(text, field, f"{ast.get_source_segment(text, field)} = {source}"), why)
        return Edit(model, replace_node(text, field.value, source), why)
    after = fields[-1] if fields else cls.body[-1]
    if not fields and isinstance(after, ast.Pass):
        return Edit(model, cannot=f"{where} declares no field Flux can put {op.column} after: change it by hand")
    line = f"{field.target.id}: {ast.unparse(field.annotation)} = {source}"
    return Edit(model, insert_after(text, after, [indent_of(text, after) + line]),
                f"{why} (declared again in {model.name}: its base class's, which API models share, stays)")


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
    mapping = f"{{{str_source(text, 'name')}: {str_source(text, op.new_name)}}}"
    return _field_edit(op, text, cls, tree, model, where, {"sa_column_kwargs": mapping},
                       f"{where} maps its {op.column} to the column {op.new_name}, the attribute keeping its name")


def _change_type(op: ChangeColumnType, text: str, cls: ast.ClassDef, tree: ast.Module, model: Model, where: str,
                 names: ModuleNames) -> Edit:
    mapped = sa_type(op.type, names)
    if mapped is None:
        return Edit(model, cannot=f"no SQLAlchemy type for {op.type}: change {op.column} of {where} by hand")
    type_src, py = mapped
    field = next((f for f in _fields(cls) if _column_of(f) == op.column), None) or _inherited(tree, cls, op.column)
    inner = field.annotation if field is not None else None
    if isinstance(inner, ast.BinOp):  # X | None
        inner = inner.left
    elif isinstance(inner, ast.Subscript) and ast.unparse(inner.value).endswith("Optional"):
        inner = inner.slice
    if inner is not None and ast.unparse(inner) != names.python(py).split(".")[-1] \
            and ast.unparse(inner) != names.python(py):
        return Edit(model, cannot=f"{op.column} of {where} is a {ast.unparse(inner)} in Python and would become a "
                                  f"{py}: change it by hand (its API type changes too)")
    done = _field_edit(op, text, cls, tree, model, where, {"sa_type": type_src}, f"{op.column} of {where} becomes "
                                                                                   f"{type_src}")
    return Edit(done.model, names.finish(done.text), done.why) if done.text is not None else done


def _nullable(op, text: str, cls: ast.ClassDef, tree: ast.Module, model: Model, where: str) -> Edit:
    allowed = isinstance(op, DropNotNull)
    return _field_edit(op, text, cls, tree, model, where, {"nullable": str(allowed)},
                       f"{op.column} of {where} {'allows NULL' if allowed else 'is NOT NULL'} (nullable={allowed})")


def _table_args(cls: ast.ClassDef) -> ast.stmt | None:
    return next((s for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign))
                 and ast.unparse(s.targets[0] if isinstance(s, ast.Assign) else s.target) == "__table_args__"), None)


def _add_index(op: AddIndex, text: str, cls: ast.ClassDef, tree: ast.Module, model: Model, where: str,
               names: ModuleNames) -> Edit:
    from ...plan.ops._base import bare, short_name

    if op.where:
        return Edit(model, cannot=f"a partial index is not added to {where}: add Index(..., postgresql_where=...) "
                                  "to its __table_args__ by hand")
    fields = [next((f for f in _fields(cls) if _column_of(f) == c), None) or _inherited(tree, cls, c)
              for c in op.columns]
    if None in fields or any(_column_of(f) != f.target.id for f in fields):
        return Edit(model, cannot=f"{where} does not map every column of the index by its name: add it by hand")
    name = op.name or short_name(bare(op.table), *op.columns, suffix="key" if op.unique else "idx")
    index = f"{names.get('sqlalchemy', 'Index')}({', '.join(str_source(text, x) for x in [name, *op.columns])}" \
            f"{', unique=True' if op.unique else ''})"
    st = _table_args(cls)
    if st is None:
        first = cls.body[1] if isinstance(cls.body[0], ast.Expr) and len(cls.body) > 1 else cls.body[0]
        lines = text.splitlines(keepends=True)
        at = first.lineno - 1
        new = "".join(lines[:at] + [f"{indent_of(text, first)}__table_args__ = ({index},)\n"] + lines[at:])
    elif isinstance(st.value, ast.Tuple):
        items = [ast.unparse(e) for e in st.value.elts]
        if any(repr(name) in i or f'"{name}"' in i for i in items):
            return Edit(model, why=f"{where} has the index {name} already")
        at = len(items) - 1 if items and isinstance(st.value.elts[-1], ast.Dict) else len(items)
        items.insert(at, index)
        new = replace_node(text, st.value, f"({', '.join(items)},)" if len(items) == 1 else f"({', '.join(items)})")
    else:
        return Edit(model, cannot=f"__table_args__ of {where} is not a tuple: add {index} to it by hand")
    return Edit(model, names.finish(new), f"index {name} in __table_args__ of {where}")


def _listed_index(cls: ast.ClassDef, tree: ast.Module, table: str, name: str):
    """(the Index(...) in __table_args__, None), or (None, the field of the table class with index=True
    whose default name, ix_<table>_<column>, is `name`)."""
    st = _table_args(cls)
    for e in st.value.elts if st is not None and isinstance(st.value, ast.Tuple) else []:
        if isinstance(e, ast.Call) and e.args and isinstance(e.args[0], ast.Constant) and e.args[0].value == name:
            return e, None
    for f in _fields(cls):
        call = f.value if isinstance(f.value, ast.Call) else None
        flag = next((k.value for k in call.keywords if k.arg == "index"), None) if call else None
        if isinstance(flag, ast.Constant) and flag.value is True and f"ix_{table}_{_column_of(f)}" == name:
            return None, f
    return None, None


def _drop_index(op: DropIndex, text: str, cls: ast.ClassDef, tree: ast.Module, model: Model, where: str) -> Edit:
    index, field = _listed_index(cls, tree, model.table, op.name)
    if field is not None:
        return Edit(model, with_kwarg(text, field.value, "index", None), f"{field.target.id} of {where} loses index=True")
    if index is None:
        return Edit(model, cannot=f"{where} does not list the index {op.name}: drop it from the model by hand")
    st = _table_args(cls)
    items = [ast.unparse(e) for e in st.value.elts if e is not index]
    return Edit(model, replace_node(text, st.value, f"({', '.join(items)}{',' if len(items) == 1 else ''})"),
                f"index {op.name} out of __table_args__ of {where}")


def _index_owner(project: Path, models: list[Model], name: str) -> Model | None:
    for model in models:
        tree = ast.parse((project / model.rel).read_text(encoding="utf-8"))
        cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == model.name)
        if _listed_index(cls, tree, model.table, name) != (None, None):
            return model
    return None


def edits(project: Path, ops: list) -> list[tuple[object, Edit]]:
    """Each operation's edit, applied one after another to the files as they are now."""
    models = find_models(project)
    texts: dict[str, str] = {}
    out = []
    for op in ops:
        table = getattr(op, "table", None)
        bare = table.split(".")[-1] if table else None
        model = _index_owner(project, models, op.name) if isinstance(op, DropIndex) else \
            next((m for m in models if m.table == bare), None)
        if model is None:
            out.append((op, Edit(None, cannot=f"no SQLModel table class is the table {table!r}: change the models by "
                                              "hand" if table else f"no SQLModel table class lists the index "
                                              f"{getattr(op, 'name', '')}: change the models by hand"
                                 if isinstance(op, DropIndex) else f"Flux does not edit SQLModel classes for {op.op}")))
            continue
        text = texts.get(model.rel) or (project / model.rel).read_text(encoding="utf-8")
        result = offered(lambda: edit(op, text, model), lambda why: Edit(model, cannot=why), model.rel, op.op)
        if result.text is not None:
            texts[model.rel] = result.text
        out.append((op, result))
    return out
