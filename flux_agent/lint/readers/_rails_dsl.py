"""Each call of the Rails migration DSL (add_column, create_table, change_table, ...) as the
SQL Rails' PostgreSQL adapter sends for it and, for a `change`, the SQL that undoes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from ...errors import FluxInputError
from ...pg.quote import ident, ident_list, literal, qname, qname_in
from ...schema.readers._ruby import Call, Sym, pluralize, singularize
from ._rails_scan import Opaque
from ._rails_scenic import CALLS as SCENIC_CALLS, scenic_call
from ._rails_sql import AdapterSql, Unreadable, require_static, ruby_name, ruby_names, sql_value

__all__ = ["Dsl"]


class Dsl:
    """The DSL calls of one migration, for its Rails version; what cannot be read inside a
    create_table or change_table block is reported with `miss` (line, why) and skipped."""

    def __init__(self, version: float, miss: Callable[[int, str], None], views: Optional[Path] = None):
        self.version = version
        self.sql = AdapterSql(version)
        self.miss = miss
        self.views = views  # the app's db/views, where the scenic gem keeps its views' definitions

    def call(self, c: Call) -> Optional[tuple[list[tuple[str, int]], Optional[list[str]]]]:
        """([(SQL, line)], the SQL that undoes it in a `change`, None: Rails cannot invert it),
        or None for a method this reader does not know."""
        s, a, o, line = self.sql, c.args, c.kwargs, c.line
        name = c.name.removeprefix("connection.").removeprefix("ActiveRecord::Base.connection.")

        def one(sql: str, undo: Optional[list[str]]) -> tuple[list[tuple[str, int]], Optional[list[str]]]:
            return [(sql, line)], undo

        if name in ("execute", "exec_query", "exec_update", "exec_delete", "exec_insert"):
            if not a or not isinstance(a[0], str):
                raise Unreadable(f"{name} of SQL computed by Ruby at run time")
            return one(str(a[0]), None)
        if name in ("add_column", "add_column_if_not_exists"):
            table, col, kind = ruby_name(a[0]), ruby_name(a[1]), ruby_name(a[2])
            exists = " IF NOT EXISTS" if o.get("if_not_exists") or name.endswith("_exists") else ""
            sql = f"ALTER TABLE {qname(table)} ADD COLUMN{exists} {s.column(col, kind, o)}"
            undo = [f"ALTER TABLE {qname(table)} DROP COLUMN {ident(col)}"]
            return [(sql, line)] + self.comment(table, col, o, line), undo
        if name in ("remove_column", "remove_columns"):
            table = ruby_name(a[0])
            cols = [ruby_name(x) for x in a[1:2]] if name == "remove_column" else [ruby_name(x) for x in a[1:]]
            exists = " IF EXISTS" if o.get("if_exists") else ""
            sql = f"ALTER TABLE {qname(table)} " + ", ".join(f"DROP COLUMN{exists} {ident(x)}" for x in cols)
            kind = a[2] if name == "remove_column" and len(a) > 2 else o.get("type")
            try:
                undo = None if kind is None else [
                    f"ALTER TABLE {qname(table)} ADD COLUMN {s.column(x, ruby_name(kind), o)}" for x in cols]
            except (Unreadable, KeyError):
                undo = None  # a column Rails would re-add, but whose definition is not all here
            return one(sql, undo)
        if name in ("add_timestamps", "remove_timestamps"):
            table = ruby_name(a[0])
            opts = {"null": False, **o} if self.version >= 5.0 else o
            add = f"ALTER TABLE {qname(table)} " + ", ".join(
                f"ADD COLUMN {s.column(x, 'datetime', opts)}" for x in ("created_at", "updated_at"))
            drop = f"ALTER TABLE {qname(table)} DROP COLUMN created_at, DROP COLUMN updated_at"
            return one(add, [drop]) if name == "add_timestamps" else one(drop, [add])
        if name == "rename_column":
            table, old, new = ruby_name(a[0]), ruby_name(a[1]), ruby_name(a[2])
            return one(f"ALTER TABLE {qname(table)} RENAME COLUMN {ident(old)} TO {ident(new)}",
                       [f"ALTER TABLE {qname(table)} RENAME COLUMN {ident(new)} TO {ident(old)}"])
        if name == "rename_table":
            # Rails' PostgreSQL adapter renames the primary key's index with the table (`<old>_pkey`,
            # PostgreSQL's name for it) where the table has a primary key: IF EXISTS stands for that.
            old, new = ruby_name(a[0]), ruby_name(a[1])
            old_name, new_name = old.split(".")[-1], new.split(".")[-1]

            def renamed(frm: str, frm_name: str, to_name: str) -> list[tuple[str, int]]:
                # (the index's rename is the table's, judged there: not said again as renaming-object)
                index = f"ALTER INDEX IF EXISTS {qname_in(frm, frm_name + '_pkey')} RENAME TO {ident(to_name + '_pkey')}"
                return [(f"ALTER TABLE {qname(frm)} RENAME TO {ident(to_name)}", line),
                        ("-- flux-ignore renaming-object: Rails renames the primary key's index with its table\n"
                         + index, line)]
            return renamed(old, old_name, new_name), [sql for sql, _ in renamed(new, new_name, old_name)]
        if name == "rename_index":
            table, old, new = ruby_name(a[0]), ruby_name(a[1]), ruby_name(a[2])
            return one(f"ALTER INDEX {qname_in(table, old)} RENAME TO {ident(new)}",
                       [f"ALTER INDEX {qname_in(table, new)} RENAME TO {ident(old)}"])
        if name == "change_column":
            table, col, kind = ruby_name(a[0]), ruby_name(a[1]), ruby_name(a[2])
            typ = s.col_type(kind, o)
            parts = [f"ALTER COLUMN {ident(col)} TYPE {typ}" +
                     (f" COLLATE {ident(ruby_name(o['collation']))}" if o.get("collation") else "") +
                     (f" USING {ruby_name(o['using'])}" if o.get("using") else "")]
            if "default" in o:
                parts.append(f"ALTER COLUMN {ident(col)} " +
                             ("DROP DEFAULT" if o["default"] is None else f"SET DEFAULT {sql_value(o['default'])}"))
            if "null" in o:
                parts.append(f"ALTER COLUMN {ident(col)} {'DROP' if o['null'] is not False else 'SET'} NOT NULL")
            return one(f"ALTER TABLE {qname(table)} " + ", ".join(parts), None)
        if name == "change_column_null":
            table, col, null = ruby_name(a[0]), ruby_name(a[1]), a[2]
            alter = f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(col)}"
            ups = []
            if null is False and len(a) > 3 and a[3] is not None:
                ups.append((f"UPDATE {qname(table)} SET {ident(col)} = {sql_value(a[3])} WHERE {ident(col)} IS NULL", line))
            ups.append((f"{alter} {'SET' if null is False else 'DROP'} NOT NULL", line))
            return ups, [f"{alter} {'DROP' if null is False else 'SET'} NOT NULL"]
        if name == "change_column_default":
            table, col = ruby_name(a[0]), ruby_name(a[1])
            alter = f"ALTER TABLE {qname(table)} ALTER COLUMN {ident(col)}"

            def to(v: Any) -> str:
                return f"{alter} DROP DEFAULT" if v is None else f"{alter} SET DEFAULT {sql_value(v)}"

            if len(a) > 2:
                return one(to(a[2]), None)
            if "to" in o or "from" in o:
                return one(to(o.get("to")), [to(o.get("from"))])
            raise Unreadable("change_column_default without a default")
        if name == "add_index":
            table = ruby_name(a[0])
            # Rails' invert_add_index keeps the options: algorithm: :concurrently drops concurrently too
            how = "DROP INDEX CONCURRENTLY" if str(o.get("algorithm")) == "concurrently" else "DROP INDEX"
            undo = f"{how} {qname_in(table, ruby_name(o['name']) if o.get('name') else s.index_name(table, s.index_cols(a[1], o)[0]))}"
            return one(s.add_index(table, a[1], o), [undo])
        if name == "remove_index":
            table = ruby_name(a[0])
            cols = a[1] if len(a) > 1 else None
            undo = None if o.get("column", cols) is None else [s.add_index(table, o.get("column", cols), o)]
            return one(s.remove_index(table, cols, o), undo)
        if name in ("add_reference", "add_belongs_to"):
            table, ref = ruby_name(a[0]), ruby_name(a[1])
            cols, indexes, fks = s.reference(table, ref, o, inline=False)
            ups = [(f"ALTER TABLE {qname(table)} " + ", ".join(f"ADD COLUMN {x}" for x in cols), line)]
            ups += [(x, line) for x in indexes]
            ups += [(f"ALTER TABLE {qname(table)} ADD {x}", line) for x in fks]
            names = [f"{ref}_type"] * bool(o.get("polymorphic")) + [f"{ref}_id"]
            return ups, [f"ALTER TABLE {qname(table)} " + ", ".join(f"DROP COLUMN {ident(x)}" for x in names)]
        if name in ("remove_reference", "remove_belongs_to"):
            table, ref = ruby_name(a[0]), ruby_name(a[1])
            ups = []
            fk = o.get("foreign_key")
            if fk and not o.get("polymorphic"):
                fo = dict(fk) if isinstance(fk, dict) else {}
                to = ruby_name(fo.pop("to_table")) if fo.get("to_table") else pluralize(ref)
                ups.append((f"ALTER TABLE {qname(table)} DROP CONSTRAINT "
                            f"{ident(s.fk_name(table, to, {'column': f'{ref}_id', **fo}))}", line))
            names = [f"{ref}_type"] * bool(o.get("polymorphic")) + [f"{ref}_id"]
            ups.append((f"ALTER TABLE {qname(table)} " + ", ".join(f"DROP COLUMN {ident(x)}" for x in names), line))
            cols, indexes, fks = s.reference(table, ref, o, inline=False)
            undo = [f"ALTER TABLE {qname(table)} " + ", ".join(f"ADD COLUMN {x}" for x in cols)] + indexes + \
                [f"ALTER TABLE {qname(table)} ADD {x}" for x in fks]
            return ups, undo
        if name == "add_foreign_key":
            table, to = ruby_name(a[0]), ruby_name(a[1])
            drop = f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.fk_name(table, to, o))}"
            return one(s.add_foreign_key(table, to, o), [drop])
        if name == "remove_foreign_key":
            table, to = ruby_name(a[0]), (ruby_name(a[1]) if len(a) > 1 else ruby_name(o["to_table"]) if o.get("to_table") else None)
            sql = f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.fk_name(table, to, o))}"
            return one(sql, None if to is None else [s.add_foreign_key(table, to, o)])
        if name == "validate_foreign_key":
            table, to = ruby_name(a[0]), (ruby_name(a[1]) if len(a) > 1 else None)
            return one(f"ALTER TABLE {qname(table)} VALIDATE CONSTRAINT {ident(s.fk_name(table, to, o))}", [])
        if name == "add_check_constraint":
            table, expr = ruby_name(a[0]), ruby_name(a[1])
            sql = f"ALTER TABLE {qname(table)} ADD {s.check_clause(table, expr, o)}"
            sql += " NOT VALID" if o.get("validate") is False else ""
            return one(sql, [f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.check_name(table, expr, o))}"])
        if name == "remove_check_constraint":
            table, expr = ruby_name(a[0]), (ruby_name(a[1]) if len(a) > 1 else None)
            sql = f"ALTER TABLE {qname(table)} DROP CONSTRAINT {ident(s.check_name(table, expr, o))}"
            return one(sql, None if expr is None else [f"ALTER TABLE {qname(table)} ADD {s.check_clause(table, expr, o)}"])
        if name == "validate_check_constraint":
            table = ruby_name(a[0])
            return one(f"ALTER TABLE {qname(table)} VALIDATE CONSTRAINT {ident(s.check_name(table, None, o))}", [])
        if name in ("enable_extension", "disable_extension"):
            # "schema.name" (Rails 8's dump: "pg_catalog.plpgsql") is the extension `name` made in `schema`
            where, _, ext = ruby_name(a[0]).rpartition(".")
            create = f"CREATE EXTENSION IF NOT EXISTS {ident(ext)}" + (f" SCHEMA {ident(where)}" if where else "")
            drop = f"DROP EXTENSION IF EXISTS {ident(ext)} CASCADE"
            return one(create, [drop]) if name == "enable_extension" else one(drop, [create])
        if name == "create_enum":
            enum = ruby_name(a[0])
            values = a[1] if len(a) > 1 and isinstance(a[1], list) else a[1:]
            return one(f"CREATE TYPE {qname(enum)} AS ENUM ({', '.join(literal(ruby_name(v)) for v in values)})",
                       [f"DROP TYPE {qname(enum)}"])
        if name == "rename_enum":
            old, new = ruby_name(a[0]), ruby_name(a[1]) if len(a) > 1 else ruby_name(o["to"])
            return one(f"ALTER TYPE {qname(old)} RENAME TO {ident(new)}",
                       [f"ALTER TYPE {qname(new)} RENAME TO {ident(old.split('.')[-1])}"])
        if name == "drop_enum":
            return one(f"DROP TYPE {'IF EXISTS ' if o.get('if_exists') else ''}{qname(ruby_name(a[0]))}", None)
        if name == "add_enum_value":
            where = f" BEFORE {literal(ruby_name(o['before']))}" if o.get("before") else \
                f" AFTER {literal(ruby_name(o['after']))}" if o.get("after") else ""
            return one(f"ALTER TYPE {qname(ruby_name(a[0]))} ADD VALUE {literal(ruby_name(a[1]))}{where}", None)
        if name == "rename_enum_value":
            return one(f"ALTER TYPE {qname(ruby_name(a[0]))} RENAME VALUE {literal(ruby_name(o['from']))} TO "
                       f"{literal(ruby_name(o['to']))}", None)
        if name in ("change_column_comment", "change_table_comment"):
            table = ruby_name(a[0])
            what = f"COLUMN {qname(table)}.{ident(ruby_name(a[1]))}" if name == "change_column_comment" else f"TABLE {qname(table)}"
            v = (a[2] if name == "change_column_comment" else a[1]) if len(a) > (2 if name == "change_column_comment" else 1) else o.get("to")
            return one(f"COMMENT ON {what} IS {'NULL' if v is None else sql_value(v)}", None)
        if name == "create_table":
            return self.create_table(c)
        if name == "create_join_table":
            t1, t2 = sorted([ruby_name(a[0]), ruby_name(a[1])])
            table = ruby_name(o["table_name"]) if o.get("table_name") else f"{t1}_{t2}"
            kind = "bigint" if self.version >= 5.1 else "integer"
            cols = [s.column(f"{singularize(x)}_id", kind, {"null": False}) for x in (ruby_name(a[0]), ruby_name(a[1]))]
            return one(f"CREATE TABLE {qname(table)} ({', '.join(cols)})", [f"DROP TABLE {qname(table)}"])
        if name in ("drop_table", "drop_join_table"):
            table = ruby_name(a[0]) if name == "drop_table" else "_".join(sorted([ruby_name(a[0]), ruby_name(a[1])]))
            sql = f"DROP TABLE {'IF EXISTS ' if o.get('if_exists') else ''}{qname(table)}"
            sql += " CASCADE" if str(o.get("force")) == "cascade" else ""
            undo = None
            if c.block is not None:
                made = self.create_table(Call(name="create_table", line=c.line, args=[a[0]], kwargs=o, block=c.block))
                undo = [x for x, _ in made[0]]
            return one(sql, undo)
        if name == "change_table":
            return self.change_table(c)
        if name in SCENIC_CALLS:
            return scenic_call(c, self.views)
        return None

    def comment(self, table: str, col: str, o: dict, line: int) -> list[tuple[str, int]]:
        if o.get("comment") is None:
            return []
        return [(f"COMMENT ON COLUMN {qname(table)}.{ident(col)} IS {sql_value(o['comment'])}", line)]

    def create_table(self, c: Call) -> tuple[list[tuple[str, int]], Optional[list[str]]]:
        s, o, table = self.sql, c.kwargs, ruby_name(c.args[0])
        require_static(o)
        cols, extra, after = [], [], []
        pk_opt, id_opt = o.get("primary_key"), o.get("id", True)
        if isinstance(pk_opt, list):
            extra.append(f"PRIMARY KEY ({ident_list(ruby_names(pk_opt))})")
        elif id_opt is not False:
            kind = str(id_opt) if isinstance(id_opt, str) else "primary_key"
            pk = ruby_name(pk_opt) if pk_opt is not None else "id"
            if kind in ("primary_key", "bigint", "integer", "serial", "bigserial"):
                typ = {"bigint": "bigserial", "integer": "serial"}.get(kind, kind)
                cols.append(f"{ident(pk)} {s.col_type('primary_key', {}) if typ == 'primary_key' else typ + ' primary key'}")
            elif kind == "uuid":
                default = sql_value(o["default"]) if o.get("default") is not None else "gen_random_uuid()"
                cols.append(f"{ident(pk)} uuid DEFAULT {default} NOT NULL PRIMARY KEY")
            else:
                cols.append(f"{s.column(pk, kind, {'null': False})} PRIMARY KEY")
        for item in c.block or ():
            if isinstance(item, Opaque):
                self.miss(item.line, "Ruby logic inside create_table is not run by Flux")
                continue
            try:
                self.table_item(table, item, cols, extra, after)
            except Unreadable as exc:
                self.miss(item.line, str(exc))
            except (FluxInputError, TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                self.miss(item.line, f"{item.name} not read: {exc}")
        head = "CREATE TABLE" + (" IF NOT EXISTS" if o.get("if_not_exists") else "")
        ups = []
        if o.get("force"):
            ups.append((f"DROP TABLE IF EXISTS {qname(table)}" + (" CASCADE" if str(o["force"]) == "cascade" else ""),
                        c.line))
        ups.append((f"{head} {qname(table)} ({', '.join(cols + extra)})", c.line))
        ups += after
        if o.get("comment") is not None:
            ups.append((f"COMMENT ON TABLE {qname(table)} IS {sql_value(o['comment'])}", c.line))
        return ups, [f"DROP TABLE {qname(table)}"]

    def table_item(self, table: str, c: Call, cols: list, extra: list, after: list) -> None:
        s, a, o = self.sql, c.args, c.kwargs
        require_static(a)
        require_static(o)
        method = c.name.split(".", 1)[1] if "." in c.name else c.name
        if method == "timestamps":
            opts = {"null": False, **o} if self.version >= 5.0 else o
            cols += [s.column(x, "datetime", opts) for x in ("created_at", "updated_at")]
        elif method in ("references", "belongs_to"):
            for ref in a:
                more, indexes, fks = s.reference(table, ruby_name(ref), o, inline=True)
                cols += more
                extra += fks
                after += [(x, c.line) for x in indexes]
        elif method == "index":
            after.append((s.add_index(table, a[0], o), c.line))
        elif method == "check_constraint":
            extra.append(s.check_clause(table, ruby_name(a[0]), o))
        elif method == "foreign_key":
            extra.append(s.fk_clause(table, ruby_name(a[0]), o))
        elif method in ("column", "primary_key"):
            kind = ruby_name(a[1]) if len(a) > 1 else "primary_key"
            cols.append(s.column(ruby_name(a[0]), kind, {**o, "primary_key": True} if method == "primary_key" and kind != "primary_key" else o))
        elif "." in c.name and c.block is None:
            for col in a:
                cols.append(s.column(ruby_name(col), method, o))
                if o.get("index"):  # t.string :email, index: {unique: true}
                    extra_o = dict(o["index"]) if isinstance(o["index"], dict) else {}
                    after.append((s.add_index(table, [ruby_name(col)], extra_o), c.line))
        else:
            raise Unreadable(f"{c.name} is not part of the create_table DSL Flux reads")

    def change_table(self, c: Call) -> tuple[list[tuple[str, int]], Optional[list[str]]]:
        """Each `t.<method>` as the migration method change_table runs for it (not bulk: one
        statement each)."""
        table = c.args[0]
        ups: list[tuple[str, int]] = []
        undo: Optional[list[str]] = []
        simple = {"column": "add_column", "remove": "remove_columns", "rename": "rename_column", "index": "add_index",
                  "remove_index": "remove_index", "timestamps": "add_timestamps", "remove_timestamps": "remove_timestamps",
                  "change": "change_column", "change_default": "change_column_default", "change_null": "change_column_null",
                  "check_constraint": "add_check_constraint", "remove_check_constraint": "remove_check_constraint",
                  "foreign_key": "add_foreign_key", "remove_foreign_key": "remove_foreign_key",
                  "rename_index": "rename_index"}
        for item in c.block or ():
            if isinstance(item, Opaque):
                self.miss(item.line, "Ruby logic inside change_table is not run by Flux")
                continue
            method = item.name.split(".", 1)[1] if "." in item.name else item.name
            calls: list[Call]
            if method in simple:
                calls = [Call(name=simple[method], line=item.line, args=[table, *item.args], kwargs=item.kwargs)]
            elif method in ("references", "belongs_to", "remove_references", "remove_belongs_to"):
                verb = "remove_reference" if method.startswith("remove") else "add_reference"
                calls = [Call(name=verb, line=item.line, args=[table, r], kwargs=item.kwargs) for r in item.args]
            elif "." in item.name and item.block is None:
                calls = [Call(name="add_column", line=item.line, args=[table, col, Sym(method)], kwargs=item.kwargs)
                         for col in item.args]
            else:
                self.miss(item.line, f"{item.name} is not part of the change_table DSL Flux reads")
                continue
            for one in calls:
                try:
                    require_static(one.args)
                    made = self.call(one)
                except Unreadable as exc:
                    self.miss(item.line, str(exc))
                    continue
                except (FluxInputError, TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
                    self.miss(item.line, f"{item.name} not read: {exc}")
                    continue
                ups += made[0]
                undo = None if undo is None or made[1] is None else undo + made[1]
        return ups, None if undo is None else list(reversed(undo))
