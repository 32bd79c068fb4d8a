"""Works out, per operation, the edit to the models.py of the Django model behind a table
(_django_model_find.py finds it) and the migration state operations that describe the same change,
so `makemigrations --check` finds nothing left to do."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from ...model.operations import (AddColumn, AddIndex, ChangeColumnType, DropColumn, DropIndex, DropNotNull,
                                 RenameColumn, SetNotNull)
from ._django_model_find import (Model, fields, index_in_meta, inherited_field, inherited_from, meta_class, meta_value,
                                 op_model)
from ._django_fields import RELATED, class_named, column_of, field_of, field_type, kwarg, portable, state_op
from ...pg.parse import is_one_name
from ...plan.naming import renamed_default_name
from ._py import identifier, literal_default, offered
from ._py_edits import (append_item, indent_of, insert_after, kwarg_added, offset, remove_item, remove_stmt,
                        replace_node, replace_nodes, str_source, with_kwarg)

_TYPE_KWARGS = {"max_length", "max_digits", "decimal_places"}


@dataclass
class Edit:
    """One operation's outcome: the new models.py text (or None when unchanged), the state
    operations as source, what it does; or `cannot` saying why there is none."""

    model: Model | None
    text: str | None = None
    state: list[str] = field(default_factory=list)
    why: str = ""
    cannot: str = ""


# --- one operation ------------------------------------------------------------------------


def edit(project: Path, op, text: str, model: Model) -> Edit:
    """The edit of `text` (the model's models.py as it is now) for one operation."""
    tree = ast.parse(text)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == model.name), None)
    if cls is None:
        return Edit(model, cannot=f"{model.rel} has no class {model.name} any more: change it by hand")
    if "models" not in {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                        and n.module == "django.db" for a in n.names}:
        return Edit(model, cannot=f"{model.rel} does not import `models` from django.db; add the change by hand")
    where = f"{model.rel} ({model.name})"
    column = None if isinstance(op, AddColumn) else getattr(op, "column", None)
    if column is not None and field_of(cls, column) is None:
        base = inherited_from(project, cls, {column, column.removesuffix("_id")})
        if base is not None:  # one field of many models: changing it changes every table built on it
            return Edit(model, cannot=f"the column {column} of {where} comes from the abstract model {base[0]} "
                                      f"({base[1]}), which other models may share: change the field there by hand")
    if isinstance(op, AddColumn):
        return _add_column(op, text, cls, model, where)
    if isinstance(op, RenameColumn):
        return _rename_column(op, text, cls, model, where)
    if isinstance(op, ChangeColumnType):
        return _change_type(op, text, cls, model, where)
    if isinstance(op, AddIndex):
        return _add_index(op, text, cls, model, where, project)
    if isinstance(op, DropIndex):
        return _drop_index(op, text, cls, model, where)
    if isinstance(op, DropColumn):
        return _drop_column(op, text, cls, model, where)
    if isinstance(op, (SetNotNull, DropNotNull)):
        return _nullable(op, text, cls, model, where)
    return Edit(model, cannot=f"Flux does not edit Django models for {op.op}: change {where} by hand, then run "
                              "`manage.py makemigrations` and keep only its state operations "
                              "(SeparateDatabaseAndState)")


def _add_column(op: AddColumn, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    have = field_of(cls, op.column)
    if have:  # already in the model (the edit was applied): its definition is the state
        if not portable(have[2]):
            return Edit(model, cannot=f"field {have[0]} of {where} uses names a migration cannot import")
        return Edit(model, state=[state_op("AddField", model, repr(have[0]), ast.unparse(have[2]))],
                    why=f"field {have[0]} of {where}")
    mapped = field_type(op.type)
    if mapped is None:
        return Edit(model, cannot=f"no Django field for type {op.type}: add {op.column} to {where} by hand")
    if not identifier(op.column):
        return Edit(model, cannot=f"{op.column} is not a Python name: add it to {where} by hand with db_column")
    func, kwargs = mapped
    default = literal_default(op.default)
    if op.default is not None and default is None and not op.nullable:
        return Edit(model, cannot=f"the default {op.default} of {op.table}.{op.column} has no Python value: add "
                                  f"the field to {where} by hand (db_default=...)")
    kwargs = kwargs + (["null=True"] if op.nullable else []) + ([f"default={default}"] if default else [])
    call = f"{func}({', '.join(kwargs)})"
    have = fields(cls)
    anchor = have[-1][1] if have else next((n for n in cls.body if not isinstance(n, ast.ClassDef)), cls.body[-1])
    pad = indent_of(text, anchor) if have else indent_of(text, cls.body[0])
    new = insert_after(text, anchor, [f"{pad}{op.column} = {call}"])
    return Edit(model, new, [state_op("AddField", model, repr(op.column), call)],
                f"add field {op.column} to {where} for the new column {op.table}.{op.column}")


def _rename_column(op: RenameColumn, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    have = field_of(cls, op.column)
    if have is None:
        done = field_of(cls, op.new_name)
        if done and done[0] == op.new_name and kwarg(done[2], "db_column") is None:  # renamed already
            return Edit(model, state=[state_op("RenameField", model, repr(op.column), repr(op.new_name))],
                        why=f"field {op.new_name} of {where}")
        return Edit(model, cannot=f"no field of {where} has the column {op.column}: rename it by hand")
    name, st, call = have
    # A field named elsewhere in its class (Meta's indexes, ordering, a method's update_fields) keeps
    # its name: it names the new column through db_column, and nothing else needs to change.
    named = any(isinstance(n, ast.Constant) and n.value == op.column for n in ast.walk(cls))
    # A new name the class body reads (healthchecks' code -> uuid, beside default=uuid.uuid4): a field of
    # that name would hide the module from the fields after it, and models.py would fail to import.
    read = any(isinstance(n, ast.Name) and n.id == op.new_name and isinstance(n.ctx, ast.Load) for n in ast.walk(cls))
    if kwarg(call, "db_column") is not None or name != op.column or named or read:
        if not portable(call):
            return Edit(model, cannot=f"field {name} of {where} uses names a migration cannot import")
        kept = [ast.unparse(a) for a in call.args] + [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords
                                                       if k.arg != "db_column"]
        column = None if ast.unparse(call.func).endswith(RELATED) and op.new_name == f"{name}_id" \
            else str_source(text, op.new_name)
        if column is not None:
            kept.append(f"db_column={column}")
        new_call = f"{ast.unparse(call.func)}({', '.join(kept)})"
        edits, state = [_db_column_edit(text, call, column, new_call)], [state_op("AlterField", model, repr(name),
                                                                                 new_call)]
        for node, old_name, new_name in _renamed_indexes(cls, name, op):
            quote = (ast.get_source_segment(text, node) or "'")[0]  # the file's own quotes, where plain
            edits.append((node, f"{quote}{new_name}{quote}" if quote in "'\"" and quote not in new_name
                          else repr(new_name)))
            state.append(state_op("RenameIndex", model, f"new_name={new_name!r}", f"old_name={old_name!r}"))
        text = replace_nodes(text, edits)
        return Edit(model, text, state, f"field {name} of {where} now names the column {op.new_name}"
                    + ("" if len(edits) == 1 else " (and its Meta indexes the names the plan gives them)"))
    if not identifier(op.new_name):
        return Edit(model, cannot=f"{op.new_name} is not a Python name: set db_column={op.new_name!r} on {name} "
                                  "by hand")
    if field_of(cls, op.new_name) or any(n == op.new_name for n, _, _ in fields(cls)):
        return Edit(model, cannot=f"{where} already has a field named {op.new_name}")
    return Edit(model, replace_node(text, st.targets[0], op.new_name),
                [state_op("RenameField", model, repr(op.column), repr(op.new_name))],
                f"rename field {op.column} of {where} to {op.new_name} with its column")


def _db_column_edit(text: str, call: ast.Call, column: str | None, new_call: str) -> tuple[ast.AST, str]:
    """The edit setting the field's db_column as the file lays the call out (netbox's fields, one
    argument a line, were written anew on one line): its value replaced, or added after the last
    argument; the whole call anew where db_column goes (a key's column back to its default)."""
    have = next((k for k in call.keywords if k.arg == "db_column"), None)
    if column is not None and have is not None:
        return have.value, column
    added = kwarg_added(text, call, "db_column", column) if column is not None else None
    return added if added is not None else (call, new_call)


def _renamed_indexes(cls: ast.ClassDef, field_name: str, op: RenameColumn) -> list[tuple[ast.Constant, str, str]]:
    """The Meta indexes on the field whose names the plan gives the new column: those named as a tool
    names an index of their columns unasked (shop_order_total_idx -> shop_order_amount_idx;
    plan/naming.renamed_default_name; a name chosen otherwise is kept): each name's node in the
    source, its name, its new name."""
    indexes = meta_value(cls, "indexes")
    calls = {name: call for name, _, call in fields(cls)}
    out = []
    for e in indexes.elts if isinstance(indexes, (ast.List, ast.Tuple)) else []:
        name, listed = (kwarg(e, "name"), kwarg(e, "fields")) if isinstance(e, ast.Call) else (None, None)
        listed = [f.value.lstrip("-") for f in listed.elts if isinstance(getattr(f, "value", None), str)] \
            if isinstance(listed, (ast.List, ast.Tuple)) else []
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str) and field_name in listed):
            continue
        columns = [column_of(f, calls[f]) if f in calls else f for f in listed]
        new = renamed_default_name(name.value, op.table, columns, op.column, op.new_name)
        if new != name.value:
            out.append((name, name.value, new))
    return out


def _as_state(call: str) -> str:
    """A field call as Django's state holds it: a primary key is not serialized (makemigrations
    writes serialize=False for one; without it the state differs from the model)."""
    node = ast.parse(call, mode="eval").body
    key = kwarg(node, "primary_key")
    if isinstance(key, ast.Constant) and key.value is True and kwarg(node, "serialize") is None:
        return f"{call[:-1]}, serialize=False)"
    return call


# An auto-incrementing key stays one when widened or narrowed: its field class for each type.
_AUTO = {"bigint": "models.BigAutoField", "integer": "models.AutoField", "smallint": "models.SmallAutoField"}


def _change_type(op: ChangeColumnType, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    have = field_of(cls, op.column)
    keyed = any(isinstance(kwarg(c, "primary_key"), ast.Constant) and kwarg(c, "primary_key").value
                for _, _, c in fields(cls))
    if have is None and op.column == "id" and op.type in _AUTO and not keyed:
        # Django's implicit key (DEFAULT_AUTO_FIELD, saleor's AutoField): written out with its new class.
        call = f"{_AUTO[op.type]}(primary_key=True)"
        first = next((st for _, st, _ in fields(cls)), None)
        if first is None:
            new = insert_after(text, cls.body[0], [f"{indent_of(text, cls.body[0])}id = {call}"])
        else:  # the first field, before the others
            at = offset(text, first.lineno, 0)
            new = text[:at] + f"{indent_of(text, first)}id = {call}\n" + text[at:]
        return Edit(model, new, [state_op("AlterField", model, "'id'", _as_state(call))],
                    f"the implicit key of {where} is written out as {_AUTO[op.type]} for {op.table}.id {op.type}")
    if have is None:
        return Edit(model, cannot=f"no field of {where} has the column {op.column}: change its type by hand")
    name, _, call = have
    func = ast.unparse(call.func)
    mapped = (_AUTO[op.type], []) if func.endswith("AutoField") and op.type in _AUTO else field_type(op.type)
    if mapped is None or func.endswith(RELATED) or not func.startswith("models."):
        return Edit(model, cannot=f"no Django field for {op.type} in place of {func}: change {name} of {where} by hand")
    if not portable(call):
        return Edit(model, cannot=f"field {name} of {where} uses names a migration cannot import")
    new_func, type_kwargs = mapped
    kept = [ast.unparse(a) for a in call.args]
    kept += [f"{k.arg}={ast.unparse(k.value)}" if k.arg else f"**{ast.unparse(k.value)}"
             for k in call.keywords if k.arg not in _TYPE_KWARGS]
    new_call = f"{new_func}({', '.join(type_kwargs + kept)})"
    new_text = None if ast.unparse(call) == new_call else replace_node(text, call, new_call)
    return Edit(model, new_text, [state_op("AlterField", model, repr(name), _as_state(new_call))],
                f"field {name} of {where} becomes {new_func} for {op.table}.{op.column} {op.type}")


def _add_index(op: AddIndex, text: str, cls: ast.ClassDef, model: Model, where: str, project: Path) -> Edit:
    from ...plan.ops._base import bare, short_name

    exprs = [c for c in op.columns if not is_one_name(c)]
    if exprs:  # Django writes one as models.Index(Lower("name"), ...): the SQL function's Django class
        return Edit(model, cannot=f"an index on an expression ({exprs[0]}) is not added to {where}: describe it in "
                                  "its Meta.indexes by hand (models.Index(Lower(\"name\"), name=...)) together with "
                                  "an AddIndex in the state_operations of the migration Flux wrote, or makemigrations "
                                  "builds it a second time")
    if op.unique or op.where:
        return Edit(model, cannot=f"a {'unique' if op.unique else 'partial'} index is not added to {where}: add a "
                                  "UniqueConstraint or Index(condition=...) to its Meta by hand")
    name = op.name or short_name(bare(op.table), *op.columns, suffix="idx")
    if len(name) > 30:
        return Edit(model, cannot=f"Django index names are at most 30 characters ({name}): add the index to {where} "
                                  "by hand, or plan it with a shorter name")
    names = []
    for column in op.columns:
        # A field of an abstract base (netbox's BaseInterface.mtu) is indexed in this model's own Meta too.
        f = field_of(cls, column)
        name_of = f[0] if f is not None else inherited_field(project, cls, column)
        if name_of is None:
            return Edit(model, cannot=f"no field of {where} has the column {column}: add the index by hand")
        names.append(name_of)
    index = f"models.Index(fields={names!r}, name={name!r})"
    state = [state_op("AddIndex", model, index)]
    why = f"index {name} in Meta.indexes of {where}"
    meta = meta_class(cls)
    indexes = meta_value(cls, "indexes")
    if indexes is not None and not isinstance(indexes, (ast.List, ast.Tuple)):
        return Edit(model, cannot=f"Meta.indexes of {where} is not a list: add {index} by hand")
    # In models.py, the file's own quotes; the list edited in place, its comments and layout kept.
    written = f"models.Index(fields=[{', '.join(str_source(text, n) for n in names)}], name={str_source(text, name)})"
    if indexes is not None:
        if any(isinstance(kwarg(e, "name"), ast.Constant) and kwarg(e, "name").value == name
               for e in indexes.elts if isinstance(e, ast.Call)):
            return Edit(model, state=state, why=why)
        new = append_item(text, indexes, written)
    elif meta is not None:
        pad = indent_of(text, meta.body[0])
        new = insert_after(text, meta.body[-1], [f"{pad}indexes = [{written}]"])
    else:
        pad = indent_of(text, cls.body[0])
        new = insert_after(text, cls.body[-1], ["", f"{pad}class Meta:", f"{pad}    indexes = [{written}]"])
    return Edit(model, new, state, why)


def _drop_index(op: DropIndex, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    indexes = meta_value(cls, "indexes")
    gone = index_in_meta(cls, op.name)
    return Edit(model, remove_item(text, indexes, gone),
                [state_op("RemoveIndex", model, repr(op.name))], f"index {op.name} out of Meta.indexes of {where}")


def _drop_column(op: DropColumn, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    have = field_of(cls, op.column)
    if have is None:
        return Edit(model, cannot=f"no field of {where} has the column {op.column}: remove it by hand")
    name, st, _ = have
    # The migration's state loses the field whether or not Flux can edit models.py: without RemoveField,
    # makemigrations later writes one that migrate fails on (the column is gone: healthchecks' Profile.tz).
    state = [state_op("RemoveField", model, repr(name))]
    # Named elsewhere in the class's own declarations (Meta, an index, a constraint), not in its methods
    # (healthchecks' `{"tz": self.tz}` in one is the application's code, changed with the code step).
    declared = [n for n in cls.body if n is not st and not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if any(isinstance(n, ast.Constant) and n.value in (name, op.column) for d in declared for n in ast.walk(d)):
        return Edit(model, state=state,
                    cannot=f"{where} names the field {name} elsewhere (Meta or an index): remove it by hand")
    new = remove_stmt(text, st)
    if new is None:
        return Edit(model, state=state,
                    cannot=f"field {name} of {where} shares its line with other code: remove it by hand")
    return Edit(model, new, state, f"remove field {name} from {where}")


def _nullable(op, text: str, cls: ast.ClassDef, model: Model, where: str) -> Edit:
    have = field_of(cls, op.column)
    if have is None:
        return Edit(model, cannot=f"no field of {where} has the column {op.column}: change it by hand")
    name, _, call = have
    if not portable(call):
        return Edit(model, cannot=f"field {name} of {where} uses names a migration cannot import")
    new = with_kwarg(text, call, "null", None if isinstance(op, SetNotNull) else "True")
    if new == text:
        return Edit(model, why=f"field {name} of {where} is as the database will be already")
    new_call = ast.unparse(field_of(class_named(ast.parse(new), model.name), op.column)[2])
    what = "required (null=True removed)" if isinstance(op, SetNotNull) else "nullable (null=True)"
    return Edit(model, new, [state_op("AlterField", model, repr(name), new_call)], f"field {name} of {where} is {what}")


def edits(project: Path, ops: list, label: str | None = None,
          texts: dict[str, str] | None = None) -> list[tuple[object, Edit]]:
    """Each operation's edit, applied one after another to `texts` (models.py as the plan found
    them) or the files as they are now; `label` keeps only the operations on that app's tables."""
    texts = dict(texts or {})
    out = []
    for op in ops:
        table = getattr(op, "table", None)
        model = op_model(project, op, texts)
        if model is None:
            out.append((op, Edit(None, cannot=f"no Django model has the table {table}: change the models by hand"
                                 if table else f"no Meta.indexes of a Django model lists {getattr(op, 'name', '')}: "
                                 "change the models by hand" if isinstance(op, DropIndex) else
                                 f"Flux does not edit Django models for {op.op}")))
            continue
        if label is not None and model.label != label:
            continue
        text = texts.get(model.rel) or (project / model.rel).read_text(encoding="utf-8")
        result = offered(lambda: edit(project, op, text, model), lambda why: Edit(model, cannot=why), model.rel, op.op)
        if result.text is not None:
            texts[model.rel] = result.text
        out.append((op, result))
    return out
