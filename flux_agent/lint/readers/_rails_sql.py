"""The SQL pieces Rails' PostgreSQL adapter builds for a migration's DSL calls (column
definitions, index, foreign key and check names and clauses) and Ruby values quoted as it quotes
them; what only Ruby could compute raises Unreadable."""

from __future__ import annotations

import json
from typing import Any, Optional

from ...pg.quote import ident, ident_list, literal, qname, qname_in
from ...schema.readers._ruby import Call, Interp, Lam, Num, Sym, pluralize, rails_type, sha10, singularize

__all__ = ["AdapterSql", "Unreadable", "require_static", "ruby_name", "ruby_names", "sql_value"]

_ON_ACTION = {"cascade": "CASCADE", "nullify": "SET NULL", "restrict": "RESTRICT", "no_action": "NO ACTION"}


class Unreadable(Exception):
    """A call this reader cannot turn into SQL: the message says why."""


def ruby_name(v: Any) -> str:
    if isinstance(v, (str, Num)) and not isinstance(v, Interp):
        return v.text if isinstance(v, Num) else str(v)
    raise Unreadable("a name is computed by Ruby at run time")


def ruby_names(v: Any) -> list[str]:
    return [ruby_name(x) for x in v] if isinstance(v, list) else [ruby_name(v)]


def require_static(v: Any) -> None:
    """Raise when a value is only known once Ruby runs (a variable, a method call, interpolation)."""
    if isinstance(v, Interp):
        raise Unreadable("a string interpolates Ruby (#{...})")
    if isinstance(v, Call):
        raise Unreadable(f"an argument ({v.name}) is computed by Ruby at run time")
    for x in v.values() if isinstance(v, dict) else v if isinstance(v, list) else ():
        require_static(x)


def _pg_array(items: list) -> str:
    def one(x: Any) -> str:
        if x is None:
            return "NULL"
        s = ("t" if x else "f") if isinstance(x, bool) else x.text if isinstance(x, Num) else str(x)
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' if not s or any(c in s for c in '{},"\\ ') else s

    return "{" + ",".join(one(x) for x in items) + "}"


def sql_value(v: Any) -> str:
    """A Ruby value as the adapter quotes it into SQL (defaults, change_column_null's UPDATE)."""
    if isinstance(v, Lam):
        if not isinstance(v.body, str) or isinstance(v.body, Interp):
            raise Unreadable("a default's lambda runs Ruby")
        return v.body
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, Num):
        return v.text.replace("_", "")
    if isinstance(v, dict):
        return literal(json.dumps(_plain(v)))
    if isinstance(v, list):
        return literal(_pg_array(v))
    if isinstance(v, str) and not isinstance(v, Interp):
        return literal(str(v))
    raise Unreadable("a value is computed by Ruby at run time")


def _plain(v: Any) -> Any:
    if isinstance(v, Num):
        return float(v.text) if any(c in v.text for c in ".eE") else int(v.text.replace("_", ""))
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return [_plain(x) for x in v] if isinstance(v, list) else v


class AdapterSql:
    """The adapter's SQL for each DSL call, for one migration's Rails version."""

    def __init__(self, version: float):
        self.version = version

    # -- columns -------------------------------------------------------------

    def col_type(self, kind: str, o: dict) -> str:
        if kind == "primary_key":
            return "bigserial primary key" if self.version >= 5.1 else "serial primary key"
        if kind == "enum":
            return qname(ruby_name(o.get("enum_type")))
        if kind in ("serial", "bigserial"):
            return kind
        typ = rails_type(kind, o, precision6=self.version >= 7.0)
        return typ + ("[]" if o.get("array") is True else "")

    def column(self, name: str, kind: str, o: dict) -> str:
        require_static(o)
        if kind == "virtual":
            typ = self.col_type(str(o.get("type", "string")), o)
            stored = " STORED" if o.get("stored") else ""
            return f"{ident(name)} {typ} GENERATED ALWAYS AS ({ruby_name(o['as'])}){stored}"
        out = f"{ident(name)} {self.col_type(kind, o)}"
        if o.get("collation"):
            out += f" COLLATE {ident(ruby_name(o['collation']))}"
        if o.get("default") is not None:
            out += f" DEFAULT {sql_value(o['default'])}"
        if o.get("null") is False:
            out += " NOT NULL"
        if o.get("primary_key") is True and kind != "primary_key":
            out += " PRIMARY KEY"
        return out

    # -- indexes and keys ----------------------------------------------------

    def index_name(self, table: str, cols: list[str]) -> str:
        tname = table.split(".")[-1]
        words = ["".join(c if c.isalnum() or c == "_" else "_" for c in col) for col in cols]
        name = f"index_{tname}_on_{'_and_'.join(words)}"
        if len(name.encode()) <= 62:
            return name
        tail = "_" + sha10(name)  # Rails 7.1's short name for a long one
        return f"idx_on_{'_'.join(words)}"[: 62 - len(tail)] + tail

    def index_cols(self, cols: Any, o: dict) -> tuple[list[str], str]:
        """(column names for the index name, the SQL of the index's items)."""
        if isinstance(cols, str) and not isinstance(cols, Sym) and not cols.replace("_", "").isalnum():
            return [str(cols)], str(cols)  # an expression, as written
        names = ruby_names(cols)
        order, opclass = o.get("order"), o.get("opclass")
        items = []
        for n in names:
            item = ident(n)
            cls = opclass.get(n) if isinstance(opclass, dict) else opclass
            item += f" {ruby_name(cls)}" if cls else ""
            how = order.get(n) if isinstance(order, dict) else order
            item += f" {ruby_name(how).upper()}" if how else ""
            items.append(item)
        return names, ", ".join(items)

    def add_index(self, table: str, cols: Any, o: dict) -> str:
        require_static(o)
        names, items = self.index_cols(cols, o)
        name = ruby_name(o["name"]) if o.get("name") else self.index_name(table, names)
        sql = "CREATE UNIQUE INDEX" if o.get("unique") else "CREATE INDEX"
        sql += " CONCURRENTLY" if str(o.get("algorithm")) == "concurrently" else ""
        sql += " IF NOT EXISTS" if o.get("if_not_exists") else ""
        sql += f" {ident(name)} ON {qname(table)}"
        sql += f" USING {ruby_name(o['using'])}" if o.get("using") else ""
        sql += f" ({items})"
        sql += f" INCLUDE ({ident_list(ruby_names(o['include']))})" if o.get("include") else ""
        sql += " NULLS NOT DISTINCT" if o.get("nulls_not_distinct") else ""
        sql += f" WHERE {ruby_name(o['where'])}" if o.get("where") else ""
        return sql

    def remove_index(self, table: str, cols: Any, o: dict) -> str:
        require_static(o)
        cols = o.get("column", cols)
        if o.get("name"):
            name = ruby_name(o["name"])
        elif cols is not None:
            name = self.index_name(table, self.index_cols(cols, o)[0])
        else:
            raise Unreadable("remove_index names neither the index nor its columns")
        sql = "DROP INDEX" + (" CONCURRENTLY" if str(o.get("algorithm")) == "concurrently" else "")
        return sql + (" IF EXISTS" if o.get("if_exists") else "") + f" {qname_in(table, name)}"

    def fk_name(self, table: str, to: Optional[str], o: dict) -> str:
        if o.get("name"):
            return ruby_name(o["name"])
        column = o.get("column") or (f"{singularize(to.split('.')[-1])}_id" if to else None)
        if column is None:
            raise Unreadable("the foreign key is named by neither its name nor its table or column")
        return f"fk_rails_{sha10(f'{table}_{chr(95).join(ruby_names(column))}_fk')}"

    def fk_clause(self, table: str, to: str, o: dict) -> str:
        require_static(o)
        column = o.get("column") or f"{singularize(to.split('.')[-1])}_id"
        ref = o.get("primary_key") or "id"
        sql = (f"CONSTRAINT {ident(self.fk_name(table, to, o))} FOREIGN KEY ({ident_list(ruby_names(column))}) "
               f"REFERENCES {qname(to)} ({ident_list(ruby_names(ref))})")
        if o.get("on_delete"):
            sql += f" ON DELETE {_ON_ACTION.get(str(o['on_delete']), str(o['on_delete']).upper())}"
        if o.get("on_update"):
            sql += f" ON UPDATE {_ON_ACTION.get(str(o['on_update']), str(o['on_update']).upper())}"
        if o.get("deferrable"):
            sql += " DEFERRABLE" + (" INITIALLY DEFERRED" if str(o["deferrable"]) == "deferred" else "")
        return sql

    def add_foreign_key(self, table: str, to: str, o: dict) -> str:
        sql = f"ALTER TABLE {qname(table)} ADD {self.fk_clause(table, to, o)}"
        return sql + (" NOT VALID" if o.get("validate") is False else "")

    def check_name(self, table: str, expr: Optional[str], o: dict) -> str:
        if o.get("name"):
            return ruby_name(o["name"])
        if expr is None:
            raise Unreadable("the check constraint is named by neither its name nor its expression")
        return f"chk_rails_{sha10(f'{table}_{expr}_chk')}"

    def check_clause(self, table: str, expr: str, o: dict) -> str:
        require_static(o)
        return f"CONSTRAINT {ident(self.check_name(table, expr, o))} CHECK ({expr})"

    def reference(self, table: str, ref: str, o: dict, inline: bool) -> tuple[list[str], list[str], list[str]]:
        """(column definitions, CREATE INDEX statements, foreign key clauses) of t.references / add_reference."""
        require_static(o)
        tname = table.split(".")[-1]
        kind = str(o.get("type", "bigint" if self.version >= 5.1 else "integer"))
        col_o = {k: v for k, v in o.items() if k in ("null", "default", "limit", "comment")}
        cols = [self.column(f"{ref}_id", kind, col_o)]
        names = [f"{ref}_id"]
        if o.get("polymorphic"):
            cols.append(self.column(f"{ref}_type", "string", col_o))
            names = [f"{ref}_type", f"{ref}_id"]
        indexes = []
        if o.get("index", self.version >= 5.0) is not False:
            extra = dict(o["index"]) if isinstance(o.get("index"), dict) else {}
            if o.get("polymorphic"):
                extra.setdefault("name", f"index_{tname}_on_{ref}")
            indexes.append(self.add_index(table, names, extra))
        fks = []
        fk = o.get("foreign_key")
        if fk and not o.get("polymorphic"):
            fo = dict(fk) if isinstance(fk, dict) else {}
            to = ruby_name(fo.pop("to_table")) if fo.get("to_table") else pluralize(ref)
            fks.append(self.fk_clause(table, to, {"column": f"{ref}_id", **fo}) +
                       (" NOT VALID" if fo.get("validate") is False and not inline else ""))
        return cols, indexes, fks
