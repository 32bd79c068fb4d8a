"""Finds the Django model class behind a table in the project's models.py files (read with
`ast`, never imported): its app, label and table name, the model listing an index in its Meta, and
the abstract model a field comes from."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ...model.operations import DropIndex
from ._py import module_assignments, source_files

_SKIP = {"node_modules", "site-packages", "venv", "env", "__pycache__", "migrations"}


@dataclass
class Model:
    rel: str  # models.py, relative to the project
    app_dir: str
    label: str
    name: str  # the class name
    table: str


def _label(project: Path, app_dir: PurePosixPath) -> str:
    """`label = "..."` of an AppConfig in <app>/apps.py, else the app folder's name (as django.py reads it)."""
    try:
        tree = ast.parse((project / app_dir / "apps.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return app_dir.name
    for node in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        label = module_assignments(ast.Module(body=node.body, type_ignores=[]), {"label"}).get("label")
        if isinstance(label, ast.Constant) and isinstance(label.value, str) and label.value:
            return label.value
    return app_dir.name


def meta_class(cls: ast.ClassDef) -> ast.ClassDef | None:
    return next((n for n in cls.body if isinstance(n, ast.ClassDef) and n.name == "Meta"), None)


def meta_value(cls: ast.ClassDef, name: str) -> ast.expr | None:
    meta = meta_class(cls)
    for st in meta.body if meta else []:
        if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets):
            return st.value
    return None


def _is_model(cls: ast.ClassDef) -> bool:
    bases = [ast.unparse(b) for b in cls.bases]
    abstract = meta_value(cls, "abstract")
    fields = any(isinstance(st, ast.Assign) and isinstance(st.value, ast.Call)
                 and ast.unparse(st.value.func).startswith("models.") for st in cls.body)
    return (any(b.endswith("Model") for b in bases) or fields) and not (isinstance(abstract, ast.Constant)
                                                                       and abstract.value)


def models_py(project: Path) -> list[Path]:
    """Every <app>/models.py, and the modules of every <app>/models/ package."""
    return [p for p in source_files(project, _SKIP) if p.name == "models.py" or p.parent.name == "models"]


def find_models(project: Path) -> list[Model]:
    out = []
    for path in models_py(project):
        rel = PurePosixPath(path.relative_to(project).as_posix())
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        app = rel.parent.parent if rel.parent.name == "models" else rel.parent
        label = _label(project, app)
        for cls in tree.body:
            if isinstance(cls, ast.ClassDef) and _is_model(cls):
                table = meta_value(cls, "db_table")
                name = table.value if isinstance(table, ast.Constant) and isinstance(table.value, str) \
                    else f"{label}_{cls.name.lower()}"
                out.append(Model(rel.as_posix(), app.as_posix(), label, cls.name, name))
    return out


def owner(project: Path, table: str) -> Model | None:
    bare = table.split(".")[-1]
    return next((m for m in find_models(project) if m.table == bare), None)


def index_in_meta(cls: ast.ClassDef, name: str) -> ast.Call | None:
    indexes = meta_value(cls, "indexes")
    for e in indexes.elts if isinstance(indexes, (ast.List, ast.Tuple)) else []:
        value = _kw(e, "name") if isinstance(e, ast.Call) else None
        if isinstance(value, ast.Constant) and value.value == name:
            return e
    return None


def op_model(project: Path, op, texts: dict[str, str] | None = None) -> Model | None:
    """The model an operation changes: its table's, or for drop_index the one listing the index
    (in `texts`, the models.py files as the plan found them, where given)."""
    if isinstance(op, DropIndex):
        for model in find_models(project):
            text = (texts or {}).get(model.rel) or (project / model.rel).read_text(encoding="utf-8")
            cls = next((n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == model.name), None)
            if cls is not None and index_in_meta(cls, op.name) is not None:
                return model
        return None
    table = getattr(op, "table", None)
    return owner(project, table) if table else None


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def fields(cls: ast.ClassDef) -> list[tuple[str, ast.Assign, ast.Call]]:
    """The fields the class body assigns, as models.py spells them: (name, statement, call). A
    manager (`objects = OrderManager()`) is no field."""
    out = []
    for st in cls.body:
        if (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
                and isinstance(st.value, ast.Call)):
            func = ast.unparse(st.value.func)
            kind = func.rsplit(".", 1)[-1]
            if kind.endswith(("Field", "ForeignKey")) or (func.startswith("models.") and "Manager" not in kind):
                out.append((st.targets[0].id, st, st.value))
    return out


def field_names(cls: ast.ClassDef) -> set[str]:
    return {name for name, _, _ in fields(cls)}


def inherited_from(project: Path, cls: ast.ClassDef, names: set[str]) -> tuple[str, str] | None:
    """(class, models file) of the project's abstract model, among the bases of `cls` and theirs,
    that defines a field of one of `names` (saleor's seo_title, defined once in SeoModel for many
    models); None when no base the project defines does."""
    return next(((name, rel) for name, base, rel in _bases(project, cls) if field_names(base) & names), None)


def inherited_field(project: Path, cls: ast.ClassDef, column: str) -> str | None:
    """The name of the field of a base of `cls` (netbox's BaseInterface.mtu) whose column is `column`."""
    from ._django_fields import field_of  # (which reads this module's fields())

    return next((found[0] for _, base, _ in _bases(project, cls) if (found := field_of(base, column))), None)


def _bases(project: Path, cls: ast.ClassDef):
    """(name, class, models file) of each base of `cls` the project defines, and theirs, nearest first."""
    classes: dict[str, tuple[ast.ClassDef, str]] = {}
    for path in models_py(project):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, (node, path.relative_to(project).as_posix()))
    todo, seen = [ast.unparse(b).split(".")[-1] for b in cls.bases], set()
    while todo:
        name = todo.pop(0)
        if name in seen or name not in classes:
            continue
        seen.add(name)
        base, rel = classes[name]
        yield name, base, rel
        todo += [ast.unparse(b).split(".")[-1] for b in base.bases]
