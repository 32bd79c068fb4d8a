"""Read a Rails schema: db/schema.rb (the Ruby DSL ActiveRecord's schema dumper
writes), or db/structure.sql through the pg_dump reader when a project has one.

schema.rb is Ruby, not SQL: a small scanner reads the subset the dumper emits
(method calls with positional and keyword arguments, strings, symbols,
numbers, arrays, hashes, `-> { "sql" }` lambdas, heredocs, `do |t| ... end`
blocks) and the calls are then applied to the Schema model the way
ActiveRecord's PostgreSQL adapter would run them. Types come out as
format_type() prints them; defaults are built as PostgreSQL prints them
(`'x'::character varying`, `0`, `false`, `'{}'::text[]`), and then every
default, CHECK, index expression and predicate is brought to the normal form
of flux_agent.schema.normal that all readers share. Calls the model has no
place for (enable_extension, create_schema, comments, ...) are skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional, Union

from ...errors import FluxInputError
from .. import read_file
from ...model.schema import Column, Constraint, EnumType, Index, Schema, Table, View, sort_order
from ...pg.quote import canonical_table, ident, literal, qname
from ...pg.parse import ParseError, ast, column_refs, parse_expr, parse_sql, pglast, render
from ..normal import normalise_schema
from .pg_dump import read_pg_dump
from ..replay.engine import replay_sql
from ..replay.names import make_object_name, name_addition
from ..replay.state import split_key, type_text
from ._ruby import Call, Lam, Num, Parser as _Parser, pluralize as _pluralize, rails_type, sha10 as _sha10, singularize
from ._ruby import tokens as _tokens

__all__ = ["read_schema_rb", "read_schema_rb_text", "read_rails_project", "dump_version", "singularize"]


def read_rails_project(project_dir: Path) -> Schema:
    """db/structure.sql when present, else db/schema.rb."""
    db = Path(project_dir) / "db"
    if (db / "structure.sql").is_file():
        return read_pg_dump(db / "structure.sql")
    if (db / "schema.rb").is_file():
        return read_schema_rb(db / "schema.rb")
    raise FluxInputError(f"{db}: neither structure.sql nor schema.rb is there")


def dump_version(dump: Path) -> Optional[int]:
    """The newest migration version a dump Rails wrote holds: schema.rb's `define(version: ...)`, or
    the greatest version structure.sql inserts into schema_migrations; None where it names none."""
    text = Path(dump).read_text(encoding="utf-8")
    if Path(dump).suffix == ".sql":
        versions: list[int] = []
        # Only the INSERTs into schema_migrations are parsed: the scanner cuts the statements, no trees.
        for piece in pglast.parser.split(text, with_parser=False):
            if "schema_migrations" not in piece:
                continue
            try:
                stmts = parse_sql(piece)
            except ParseError:
                continue
            for raw in stmts:
                if isinstance(raw.stmt, ast.InsertStmt) and raw.stmt.relation.relname == "schema_migrations" \
                        and isinstance(raw.stmt.selectStmt, ast.SelectStmt):
                    versions += [int(v.val.sval) for row in raw.stmt.selectStmt.valuesLists or () for v in row
                                 if isinstance(v, ast.A_Const) and isinstance(v.val, ast.String)
                                 and v.val.sval.isdigit()]
        return max(versions, default=None)
    for call in _Parser(_tokens(text)).statements(inside=False):
        version = call.kwargs.get("version") if call.name.endswith("Schema.define") else None
        if isinstance(version, Num):
            return int(version)
    return None


def read_schema_rb(path: Path) -> Schema:
    return read_file(path, read_schema_rb_text)


def read_schema_rb_text(text: str) -> Schema:
    calls = _Parser(_tokens(text)).statements(inside=False)
    body, version, rockets = calls, None, False
    for call in calls:  # ActiveRecord::Schema[7.2].define(version: ...) do ... end
        if call.name.endswith("Schema.define") and call.block is not None:
            body, version, rockets = call.block, call.index, call.rockets
    return normalise_schema(_Builder(version, rockets).run(body), in_place=True)



# --------------------------------------------------------------------------
# Types and defaults
# --------------------------------------------------------------------------

_NUMERIC = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
_ON_DELETE = {"cascade": "CASCADE", "nullify": "SET NULL", "restrict": "RESTRICT"}


def _deferrable(value) -> Optional[str]:
    """Rails 7.1's `deferrable:` (of add_foreign_key, unique_constraint, exclusion_constraint): true
    (immediate), :immediate or :deferred."""
    return "immediate" if value is True else value if value in ("immediate", "deferred") else None


def _pg_array(items: list) -> str:
    def one(v: Any) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "t" if v else "f"
        s = v.text if isinstance(v, Num) else str(v)
        if s == "" or s.upper() == "NULL" or re.search(r'[{},"\\\s]', s):
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return s

    return "{" + ",".join(one(v) for v in items) + "}"


def _plain(v: Any) -> Any:
    if isinstance(v, Num):
        return float(v.text) if re.search(r"[.eE]", v.text) else int(v.text.replace("_", ""))
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return [_plain(x) for x in v] if isinstance(v, list) else v


def _number(text: str) -> str:
    """A numeric default as pg_get_expr prints it: negatives and int8 constants carry a cast."""
    text = text.replace("_", "")
    if re.search(r"[.eE]", text):
        return f"'{text}'::numeric" if text.startswith("-") else text
    n = int(text)
    if -(2**31) <= n < 2**31:
        return f"'{text}'::integer" if n < 0 else text
    return f"'{text}'::bigint"


def _default(value: Any, col_type: str) -> Optional[str]:
    if isinstance(value, Call) and len(value.args) == 1:  # BigDecimal("1.5")
        value = value.args[0]
    if value is None:
        return None
    if isinstance(value, Lam):
        return str(value.body)
    if isinstance(value, bool):
        return "true" if value else "false"
    cast = re.sub(r"\(\d+(?:,\d+)?\)", "", col_type)
    cast = "bpchar" + cast[len("character"):] if re.match(r"character(\[|$)", cast) else cast
    if isinstance(value, Num) or (type(value) is str and cast in _NUMERIC and re.fullmatch(r"-?\d[\d_]*(\.\d+)?([eE][-+]?\d+)?", value)):
        return _number(value.text if isinstance(value, Num) else value)
    if isinstance(value, dict) or (cast in ("json", "jsonb") and isinstance(value, list)):
        seps = (",", ":") if cast == "json" else (", ", ": ")
        return f"{literal(json.dumps(_plain(value), separators=seps))}::{cast}"
    if isinstance(value, list):
        return f"{literal(_pg_array(value))}::{cast}"
    return f"{literal(str(value))}::{cast}"


def _generated(value: Any) -> Optional[str]:
    """A `t.virtual` column's `as:` expression (PostgreSQL's own print of it, in schema.rb)."""
    return _render(str(value), "generated column expression") if value is not None else None


def _render(text: str, what: str) -> str:
    return render(parse_expr(text, what))


def _per_key(value: Any, columns: list[str]) -> list[str]:
    """An index option of schema.rb given once for every key (`opclass: :text_pattern_ops`, `order: :desc`)
    or by column (`order: { created_at: :desc }`), as one text per key: '' where none is given."""
    if isinstance(value, dict):
        return [str(value[c]) if value.get(c) is not None else "" for c in columns]
    return [str(value) if value is not None else "" for _ in columns]


def _index_items(text: str, exclusion: bool = False) -> list[str]:
    """`t.index "lower((name)::text), id"` (or an exclusion's `"room WITH =, during WITH &&"`):
    each item re-printed as the SQL replay prints it."""
    try:
        if exclusion:
            con = parse_sql(f"CREATE TABLE t (EXCLUDE ({text}))")[0].stmt.tableElts[0]
            elems = [pair[0] for pair in con.exclusions]
        else:
            elems = parse_sql(f"CREATE INDEX x ON t ({text})")[0].stmt.indexParams
    except ParseError:
        return [text]
    return [e.name if e.name else render(e.expr) for e in elems]


# --------------------------------------------------------------------------
# The calls applied to the model
# --------------------------------------------------------------------------


class _Located(FluxInputError):
    """An error that already names its line."""


class _Builder:
    def __init__(self, version: Any, rockets: bool):
        # Rails 7.0 made datetime precision 6 the default; schemas dumped before keep precision nil.
        self.precision6 = isinstance(version, Num) and float(version.text) >= 7.0
        self.varchar255 = rockets  # before Rails 4.2 a bare t.string was varchar(255)
        self.schema = Schema()

    def run(self, calls: list[Call]) -> Schema:
        for call in calls:
            self.guarded(call, self.top, call)
        return self.schema

    @staticmethod
    def guarded(call: Call, fn, *args) -> Any:
        """fn(*args), its errors naming the line of `call`."""
        try:
            return fn(*args)
        except _Located:
            raise
        except FluxInputError as exc:
            raise _Located(f"line {call.line}: {exc}") from None
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
            what = f"missing option {exc.args[0]}:" if isinstance(exc, KeyError) else \
                "missing argument" if isinstance(exc, IndexError) else str(exc)
            raise _Located(f"cannot read Ruby schema (line {call.line}): {call.name}: {what}") from None

    def table(self, name: Any) -> Optional[Table]:
        return self.schema.table(canonical_table(str(name)))

    def indexed(self, name: Any) -> Optional[Union[Table, View]]:
        """The table, or materialized view (scenic dumps their add_index too), of that name."""
        view = self.schema.view(canonical_table(str(name)))
        return self.table(name) or (view if view is not None and view.materialized else None)

    def top(self, c: Call) -> None:
        a, kw = c.args, c.kwargs
        if c.name == "create_table":
            self.create_table(c)
        elif c.name == "create_enum":
            values = a[1] if len(a) > 1 and isinstance(a[1], list) else a[1:]
            key = canonical_table(str(a[0]))
            self.schema.enums = [e for e in self.schema.enums if e.name != key]
            self.schema.enums.append(EnumType(name=key, values=[str(v) for v in values]))
        elif c.name == "add_index" and self.indexed(a[0]):
            self.index(self.indexed(a[0]), a[1], kw)
        elif c.name == "add_foreign_key" and self.table(a[0]):
            self.foreign_key(self.table(a[0]), str(a[0]), str(a[1]), kw)
        elif c.name == "add_check_constraint" and self.table(a[0]):
            self.check(self.table(a[0]), str(a[1]), kw)
        elif c.name == "create_view" and kw.get("sql_definition"):  # the scenic gem
            kind = "MATERIALIZED VIEW" if kw.get("materialized") else "VIEW"
            self.schema = replay_sql(f"CREATE {kind} {qname(str(a[0]))} AS {kw['sql_definition']}", self.schema)
        elif c.name == "enable_extension" and a and str(a[0]).rpartition(".")[2] not in self.schema.extensions + ["plpgsql"]:
            # Rails 8 dumps `enable_extension "pg_catalog.plpgsql"`: the schema, then the extension's name
            self.schema.extensions = sorted(self.schema.extensions + [str(a[0]).rpartition(".")[2]])
        elif c.name == "execute" and a and isinstance(a[0], str):
            self.schema = replay_sql(a[0], self.schema)

    def create_table(self, c: Call) -> None:
        key, opts = canonical_table(str(c.args[0])), c.kwargs
        self.schema.tables = [t for t in self.schema.tables if t.name != key]  # force: :cascade
        table = Table(name=key)
        self.schema.tables.append(table)
        pk_opt, id_opt = opts.get("primary_key"), opts.get("id", True)
        pk: list[str] = [str(x) for x in pk_opt] if isinstance(pk_opt, list) else []
        if id_opt is not False and not isinstance(pk_opt, list):
            col_opts = {k: v for k, v in opts.items() if k not in ("id", "primary_key", "force")}
            kind = id_opt
            if isinstance(id_opt, dict):
                col_opts.update(id_opt)
                kind = id_opt.get("type", "primary_key")
            kind = str(kind) if isinstance(kind, str) else "primary_key"
            name = str(pk_opt) if pk_opt is not None else "id"
            if kind in ("integer", "bigint") and "default" not in col_opts:
                kind = "serial" if kind == "integer" else "bigserial"  # what create_table makes of it
            if kind == "uuid" and "default" not in col_opts:
                col_opts["default"] = Lam("gen_random_uuid()")
            self.column(table, name, "primary_key" if kind == "primary_key" else kind, {**col_opts, "null": False})
            pk = [name]
        for item in c.block or ():
            if item.name.startswith("t."):
                pk += self.guarded(item, self.table_item, table, item)
        if pk:
            ns, tname = split_key(key)
            name = make_object_name(tname, None, "pkey")
            table.primary_key = pk
            for col in table.columns:
                col.nullable = col.nullable and col.name not in pk
            table.indexes.insert(0, Index(name=name, columns=pk, unique=True, primary=True))
            table.constraints.insert(0, Constraint(name=name, kind="primary_key", columns=pk))

    def table_item(self, table: Table, c: Call) -> list[str]:
        """Apply one `t.<method>` call; return the columns it made part of the primary key."""
        method, a, kw = c.name[2:], c.args, c.kwargs
        _, tname = split_key(table.name)
        if method == "index":
            self.index(table, a[0], kw)
        elif method == "check_constraint":
            self.check(table, str(a[0]), kw)
        elif method == "unique_constraint":
            cols = [str(x) for x in a[0]] if isinstance(a[0], list) else _index_items(str(a[0]))
            name = str(kw.get("name") or make_object_name(tname, name_addition(cols), "key"))
            table.indexes.append(Index(name=name, columns=cols, unique=True,
                                       nulls_not_distinct=kw.get("nulls_not_distinct") is True))
            table.constraints.append(Constraint(name=name, kind="unique", columns=cols,
                                                deferrable=_deferrable(kw.get("deferrable"))))
        elif method == "exclusion_constraint":
            name = str(kw.get("name") or f"excl_rails_{_sha10(f'{tname}_{a[0]}_excl')}")
            cols = _index_items(str(a[0]), exclusion=True)
            where = _render(str(kw["where"]), "exclusion predicate") if kw.get("where") else None
            table.indexes.append(Index(name=name, columns=cols, method=str(kw.get("using") or "gist"), where=where))
            table.constraints.append(Constraint(name=name, kind="exclude", columns=cols,
                                                deferrable=_deferrable(kw.get("deferrable"))))
        elif method == "timestamps":
            for name in ("created_at", "updated_at"):
                self.column(table, name, "datetime", {"null": False, **kw})
        elif method in ("references", "belongs_to"):
            for ref in a:
                self.reference(table, str(ref), kw)
        elif method in ("column", "primary_key"):
            kind = str(a[1]) if len(a) > 1 else "primary_key"
            self.column(table, str(a[0]), kind, {**kw, "null": False} if method == "primary_key" else kw)
            return [str(a[0])] if method == "primary_key" or kw.get("primary_key") is True else []
        else:
            kind = str(kw.get("type", "string")) if method == "virtual" else method
            for name in a:
                self.column(table, str(name), kind, kw, virtual=method == "virtual")
            return [str(n) for n in a] if kw.get("primary_key") is True else []
        return []

    def pg_type(self, kind: str, o: dict) -> str:
        return rails_type(kind, o, self.precision6, self.varchar255)

    def column(self, table: Table, name: str, kind: str, o: dict, virtual: bool = False) -> None:
        if kind == "enum":
            typ = type_text(canonical_table(str(o["enum_type"])))
        else:
            typ = self.pg_type(kind, o)
        typ += "[]" if o.get("array") is True else ""
        col = Column(name=name, type=typ, nullable=o.get("null", True) is not False,
                     collation=str(o["collation"]) if o.get("collation") else None)
        if kind in ("serial", "bigserial", "primary_key"):
            ns, tname = split_key(table.name)
            seq = ident(make_object_name(tname, name, "seq"))
            seq = seq if ns == "public" else f"{ident(ns)}.{seq}"
            col.nullable, col.default = False, f"nextval('{seq}'::regclass)"
        elif virtual:
            col.generated = _generated(o.get("as"))
        else:
            col.default = _default(o.get("default"), typ)
        table.columns = [c for c in table.columns if c.name != name] + [col]

    def reference(self, table: Table, ref: str, o: dict) -> None:
        _, tname = split_key(table.name)
        col = f"{ref}_id"
        self.column(table, col, str(o.get("type", "bigint")), o)
        cols = [col]
        if o.get("polymorphic"):
            self.column(table, f"{ref}_type", "string", o)
            cols = [f"{ref}_type", col]
        if o.get("index", True) is not False:
            extra = o["index"] if isinstance(o.get("index"), dict) else {}
            self.index(table, cols, {"name": f"index_{tname}_on_{ref if len(cols) > 1 else col}", **extra})
        fk = o.get("foreign_key")
        if fk and not o.get("polymorphic"):
            to = str(fk.get("to_table")) if isinstance(fk, dict) and fk.get("to_table") else _pluralize(ref)
            self.foreign_key(table, tname, to, {"column": col, **(fk if isinstance(fk, dict) else {})})

    def index(self, table: Union[Table, View], cols: Any, o: dict) -> None:
        _, tname = split_key(table.name)
        columns = [str(x) for x in cols] if isinstance(cols, list) else _index_items(str(cols))
        name = str(o.get("name") or f"index_{tname}_on_{'_and_'.join(columns)}")
        where = _render(str(o["where"]), "index predicate") if o.get("where") else None
        method = str(o.get("using") or "btree")
        orders = [sort_order("DESC" in t, "NULLS FIRST" in t or ("DESC" in t and "NULLS LAST" not in t))
                  for t in (x.upper() for x in _per_key(o.get("order"), columns))]
        opclasses = _per_key(o.get("opclass"), columns)
        include = o.get("include")
        table.indexes.append(Index(
            name=name, columns=columns, unique=o.get("unique") is True, method=method, where=where,
            orders=orders if any(orders) else [], opclasses=opclasses if any(opclasses) else [],
            include=[str(x) for x in include] if isinstance(include, list) else [str(include)] if include else [],
            nulls_not_distinct=o.get("nulls_not_distinct") is True))

    def foreign_key(self, table: Table, from_name: str, to: str, o: dict) -> None:
        column = o.get("column") or f"{singularize(to.split('.')[-1])}_id"
        cols = [str(x) for x in column] if isinstance(column, list) else [str(column)]
        ref = o.get("primary_key") or "id"
        ref_cols = [str(x) for x in ref] if isinstance(ref, list) else [str(ref)]
        joined = "_and_".join(cols)
        name = str(o.get("name") or f"fk_rails_{_sha10(f'{from_name}_{joined}_fk')}")
        table.constraints.append(Constraint(
            name=name, kind="foreign_key", columns=cols, ref_table=canonical_table(to), ref_columns=ref_cols,
            on_delete=_ON_DELETE.get(str(o.get("on_delete"))), on_update=_ON_DELETE.get(str(o.get("on_update"))),
            deferrable=_deferrable(o.get("deferrable")), validated=o.get("validate", True) is not False,
        ))

    def check(self, table: Table, expression: str, o: dict) -> None:
        node = parse_expr(expression, "check constraint")
        refs = column_refs(node)
        name = str(o.get("name") or f"chk_rails_{_sha10(f'{table.name}_{expression}_chk')}")
        table.constraints.append(Constraint(
            name=name, kind="check", columns=[c.name for c in table.columns if c.name in refs],
            expression=render(node), validated=o.get("validate", True) is not False,
        ))
