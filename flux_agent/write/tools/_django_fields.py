"""The fields of a Django model class as its models.py writes them (read with `ast`), the model field
for a SQL type, and migration state operations written as makemigrations writes them: what
_django_models.py's edits are made of."""

from __future__ import annotations

import ast
import copy

from ._django_model_find import Model, fields
from ._py import sql_type

RELATED = ("ForeignKey", "OneToOneField", "ManyToManyField")  # fields whose column is <name>_id


# --- fields -------------------------------------------------------------------------------


def class_named(tree: ast.Module, name: str) -> ast.ClassDef:
    """The class `name` of a module."""
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` of a call, if given."""
    return next((k.value for k in call.keywords if k.arg == name), None)


def column_of(name: str, call: ast.Call) -> str:
    """The column of field `name` declared by `call` (db_column, else name, `_id` for a relation)."""
    db_column = kwarg(call, "db_column")
    if isinstance(db_column, ast.Constant) and isinstance(db_column.value, str):
        return db_column.value
    return f"{name}_id" if ast.unparse(call.func).endswith(RELATED) else name


def field_of(cls: ast.ClassDef, column: str):
    """(name, statement, call) of the field of `cls` whose column is `column`, if any."""
    return next(((n, st, c) for n, st, c in fields(cls) if column_of(n, c) == column), None)


def portable(call: ast.Call) -> bool:
    """Only `models.` names, less translations (_untranslated): the call can be copied into a
    migration file."""
    return all(n.id == "models" for n in ast.walk(_untranslated(call)) if isinstance(n, ast.Name))


# Django's translation functions: makemigrations writes a lazy string as its text (verbose_name=
# _('facility') -> verbose_name='facility': netbox's fields), and a lazy string equals its text.
_GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop", "ugettext", "ugettext_lazy"}


class _Untranslate(ast.NodeTransformer):
    def visit_Call(self, call: ast.Call) -> ast.AST:
        self.generic_visit(call)
        if isinstance(call.func, ast.Name) and call.func.id in _GETTEXT and len(call.args) == 1 \
                and not call.keywords and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
            return call.args[0]
        return call


def _untranslated(node: ast.AST) -> ast.AST:
    """`node` (a copy of it) with each translation of a string literal as the literal."""
    return _Untranslate().visit(copy.deepcopy(node))


def field_type(type_text: str) -> tuple[str, list[str]] | None:
    """(models.<Class>, its type keyword arguments) for a SQL type, or None when Flux has no mapping."""
    base, mods = sql_type(type_text)
    plain = {"text": "TextField", "integer": "IntegerField", "bigint": "BigIntegerField",
             "smallint": "SmallIntegerField", "boolean": "BooleanField", "date": "DateField",
             "timestamp with time zone": "DateTimeField", "uuid": "UUIDField", "jsonb": "JSONField",
             "double precision": "FloatField", "time without time zone": "TimeField",
             "interval": "DurationField", "bytea": "BinaryField"}
    if base in plain and not mods:
        return f"models.{plain[base]}", []
    if base == "character varying" and len(mods) == 1:
        return "models.CharField", [f"max_length={mods[0]}"]
    if base == "numeric" and len(mods) == 2:
        return "models.DecimalField", [f"max_digits={mods[0]}", f"decimal_places={mods[1]}"]
    return None


def state_op(kind: str, model: Model, *args: str) -> str:
    """A state operation's source; its arguments' translations as their text (makemigrations' form)."""
    return f"migrations.{kind}({', '.join([repr(model.name.lower()), *map(_text_of_translations, args)])})"


def _text_of_translations(source: str) -> str:
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:  # a keyword argument (new_name='...')
        return source
    plain = _untranslated(node)
    return source if ast.dump(plain) == ast.dump(node) else ast.unparse(plain)
