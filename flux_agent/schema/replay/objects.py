"""Indexes, enums, views, DROP / RENAME / SET SCHEMA applied to the replayed schema."""

from __future__ import annotations

from typing import Optional, Union

from pglast import ast
from pglast.enums import DropBehavior, ObjectType as OT, SetOperation, SortByDir, SortByNulls, VariableSetKind

from ...model.schema import Column, EnumType, Index, Table, View, sort_order
from ...pg.parse import iter_nodes, render
from .ddl import rename_column, rename_constraint, rename_table, set_table_schema
from .names import choose_name, index_column_names, name_addition
from .state import State, make_key, names_of, split_key, type_text
from .types import drop_type

_RELATIONS = (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW, OT.OBJECT_FOREIGN_TABLE)


def _range_var(names: list[str]) -> ast.RangeVar:
    return ast.RangeVar(schemaname=names[-2] if len(names) > 1 else None, relname=names[-1])


# --------------------------------------------------------------------------
# Indexes
# --------------------------------------------------------------------------


def create_index(st: State, stmt: ast.IndexStmt) -> None:
    relation: Optional[Union[Table, View]] = st.table(stmt.relation)
    if relation is None:
        relation = st.view(stmt.relation)
        if relation is None or not relation.materialized:
            return  # PostgreSQL refuses an index on a plain view, or on a relation it does not have
    ns, tname = split_key(relation.name)
    taken = st.names_taken(ns)
    if stmt.idxname in taken:
        return  # IF NOT EXISTS, or a duplicate PostgreSQL would refuse
    elems = list(stmt.indexParams)
    name = stmt.idxname or choose_name(tname, name_addition(index_column_names(elems)), "idx", taken)
    relation.indexes.append(
        Index(
            name=name,
            columns=[e.name if e.name else render(e.expr) for e in elems],
            unique=bool(stmt.unique),
            method=stmt.accessMethod or "btree",
            where=render(stmt.whereClause) if stmt.whereClause else None,
            opclasses=[e.opclass[-1].sval if e.opclass else "" for e in elems],
            orders=sort_orders(elems),
            collations=collations(elems),
            include=[e.name for e in stmt.indexIncludingParams or ()],
            nulls_not_distinct=bool(stmt.nulls_not_distinct),
        )
    )


def collations(elems) -> list[str]:
    """Each index key's COLLATE as written (its last name: pg_catalog."C" is C), '' where none is;
    [] where no key names one."""
    out = [e.collation[-1].sval if e.collation else "" for e in elems]
    return out if any(out) else []


def sort_orders(elems) -> list[str]:
    """Each index key's sort order as the catalogs print it (Index.orders): DESC takes NULLS FIRST unless
    told, ASC NULLS LAST; [] where every key is ASC NULLS LAST."""
    out = []
    for e in elems:
        desc = e.ordering == SortByDir.SORTBY_DESC
        first = e.nulls_ordering == SortByNulls.SORTBY_NULLS_FIRST or (
            desc and e.nulls_ordering != SortByNulls.SORTBY_NULLS_LAST)
        out.append(sort_order(desc, first))
    return out if any(out) else []


def _rename_index(st: State, schemaname, old: str, new: str) -> None:
    found = st.find_index(schemaname, old)
    if found is None:
        return
    relation, index = found
    index.name = new
    # Renaming the index behind a constraint renames the constraint too (a view has none).
    for c in getattr(relation, "constraints", ()):
        if c.name == old and c.kind in ("primary_key", "unique", "exclude"):
            c.name = new


# --------------------------------------------------------------------------
# DROP
# --------------------------------------------------------------------------


def create_extension(st: State, stmt: ast.CreateExtensionStmt) -> None:
    if stmt.extname != "plpgsql" and stmt.extname not in st.schema.extensions:
        st.schema.extensions = sorted(st.schema.extensions + [stmt.extname])


def drop(st: State, stmt: ast.DropStmt) -> None:
    kind = stmt.removeType
    cascade = stmt.behavior == DropBehavior.DROP_CASCADE
    for obj in stmt.objects or ():
        if kind in _RELATIONS:
            rv = _range_var(names_of(obj))
            found = st.table(rv) if kind in (OT.OBJECT_TABLE, OT.OBJECT_FOREIGN_TABLE) else st.view(rv)
            if found is not None:
                st.drop_relation(found.name, cascade)
        elif kind == OT.OBJECT_INDEX:
            names = names_of(obj)
            found = st.find_index(names[-2] if len(names) > 1 else None, names[-1])
            if found is not None:
                found[0].indexes.remove(found[1])
        elif kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
            names = names_of(obj.names)
            if not drop_type(st, names):
                key = st.enum_key(names)
                st.schema.enums = [e for e in st.schema.enums if e.name != key]
        elif kind == OT.OBJECT_SCHEMA:
            _drop_schema(st, obj.sval)
        elif kind == OT.OBJECT_EXTENSION:
            st.schema.extensions = [e for e in st.schema.extensions if e != obj.sval]


def _drop_schema(st: State, ns: str) -> None:
    for t in st.tables_in(ns):
        st.drop_relation(t.name, cascade=True)
    for v in [v for v in st.schema.views if split_key(v.name)[0] == ns]:
        st.drop_relation(v.name, cascade=True)
    st.schema.enums = [e for e in st.schema.enums if split_key(e.name)[0] != ns]
    st.schema.types = [t for t in st.schema.types if split_key(t.name)[0] != ns]


# --------------------------------------------------------------------------
# RENAME and SET SCHEMA
# --------------------------------------------------------------------------


def rename(st: State, stmt: ast.RenameStmt) -> None:
    kind, rv, new = stmt.renameType, stmt.relation, stmt.newname
    if kind in _RELATIONS:
        # ALTER TABLE ... RENAME TO also renames views and indexes, as in PostgreSQL.
        table = st.table(rv)
        view = st.view(rv) if table is None else None
        if table is not None:
            rename_table(st, table, new)
        elif view is not None:
            _rekey_view(st, view, make_key(split_key(view.name)[0], new))
        else:
            _rename_index(st, rv.schemaname, rv.relname, new)
    elif kind == OT.OBJECT_INDEX:
        _rename_index(st, rv.schemaname, rv.relname, new)
    elif kind == OT.OBJECT_COLUMN:
        table = st.table(rv)
        if table is not None:
            rename_column(st, table, stmt.subname, new)
    elif kind == OT.OBJECT_TABCONSTRAINT:
        table = st.table(rv)
        if table is not None:
            rename_constraint(table, stmt.subname, new)
    elif kind == OT.OBJECT_TYPE:
        key = st.enum_key(names_of(stmt.object))
        if key is not None:
            _rekey_enum(st, key, make_key(split_key(key)[0], new))


def set_schema(st: State, stmt: ast.AlterObjectSchemaStmt) -> None:
    kind, ns = stmt.objectType, stmt.newschema
    if kind in _RELATIONS:
        table = st.table(stmt.relation)
        view = st.view(stmt.relation) if table is None else None
        if table is not None:
            set_table_schema(st, table, ns)
        elif view is not None:
            _rekey_view(st, view, make_key(ns, split_key(view.name)[1]))
    elif kind == OT.OBJECT_TYPE:
        key = st.enum_key(names_of(stmt.object))
        if key is not None:
            _rekey_enum(st, key, make_key(ns, split_key(key)[1]))


def _rekey_view(st: State, view: View, new_key: str) -> None:
    old, view.name = view.name, new_key
    st.retarget(old, new_key)


def _rekey_enum(st: State, old: str, new: str) -> None:
    enum = st.enum(old)
    enum.name = new
    old_text, new_text = type_text(old), type_text(new)
    # Columns print the type by its current name, arrays of it included.
    for t in st.schema.tables:
        for c in t.columns:
            if c.type == old_text or c.type.startswith(old_text + "["):
                c.type = new_text + c.type[len(old_text):]


# --------------------------------------------------------------------------
# Enums
# --------------------------------------------------------------------------


def create_enum(st: State, stmt: ast.CreateEnumStmt) -> None:
    key = st.enum_key(names_of(stmt.typeName), create=True)
    st.schema.enums = [e for e in st.schema.enums if e.name != key]
    st.schema.enums.append(EnumType(name=key, values=names_of(stmt.vals or ())))


def alter_enum(st: State, stmt: ast.AlterEnumStmt) -> None:
    enum = st.enum(st.enum_key(names_of(stmt.typeName)))
    if enum is None:
        return
    if stmt.oldVal is not None:
        enum.values = [stmt.newVal if v == stmt.oldVal else v for v in enum.values]
        return
    if stmt.newVal in enum.values:
        return  # IF NOT EXISTS, or an error PostgreSQL would raise
    if stmt.newValNeighbor in enum.values:
        at = enum.values.index(stmt.newValNeighbor) + (1 if stmt.newValIsAfter else 0)
        enum.values.insert(at, stmt.newVal)
    else:
        enum.values.append(stmt.newVal)


# --------------------------------------------------------------------------
# Views and CREATE TABLE AS
# --------------------------------------------------------------------------


def create_view(st: State, stmt: ast.ViewStmt) -> None:
    _put_view(st, stmt.view, stmt.query, if_not_exists=False)


def create_table_as(st: State, stmt: ast.CreateTableAsStmt) -> None:
    rv = stmt.into.rel
    if stmt.objtype == OT.OBJECT_MATVIEW:
        view = _put_view(st, rv, stmt.query, if_not_exists=stmt.if_not_exists)
        if view is not None:
            view.materialized, view.populated = True, not stmt.into.skipData
    else:
        _table_from_query(st, stmt.into, stmt.query)


def select_into(st: State, stmt: ast.SelectStmt) -> None:
    """SELECT ... INTO new_table: a table made from the query, as CREATE TABLE AS makes it."""
    if stmt.intoClause is not None:
        _table_from_query(st, stmt.intoClause, stmt)


def _table_from_query(st: State, into: ast.IntoClause, query) -> None:
    rv = into.rel
    if st.table(rv) is not None:
        return
    # A query over one table copies its columns; other results' types need a database.
    columns = _query_columns(st, query, names_of(into.colNames or ()))
    st.add_table(Table(name=st.creation_key(rv.schemaname, rv.relname), columns=columns or [],
                       columns_incomplete=columns is None), rv)


def _query_columns(st: State, query, names: list[str]) -> Optional[list[Column]]:
    """The columns CREATE TABLE AS makes from a query reading one known table (`TABLE t`,
    `SELECT * FROM t`, some of its columns by name), as PostgreSQL copies them: name and type,
    nullable, no default; renamed by the statement's own column list. None when the result is
    anything else (joins, expressions, set operations), whose types only a database knows."""
    if not isinstance(query, ast.SelectStmt) or query.op != SetOperation.SETOP_NONE \
            or len(query.fromClause or ()) != 1 or not isinstance(query.fromClause[0], ast.RangeVar):
        return None
    source = query.fromClause[0]
    table = st.table(source)
    if table is None:
        return None
    called = source.alias.aliasname if source.alias is not None else source.relname
    out: list[Column] = []
    for target in query.targetList or ():
        ref = target.val
        if not isinstance(ref, ast.ColumnRef) or any(not isinstance(f, ast.String) or f.sval != called
                                                    for f in ref.fields[-2:-1]):
            return None
        last = ref.fields[-1]
        if isinstance(last, ast.A_Star):
            out += [Column(name=c.name, type=c.type) for c in table.columns]
            continue
        column = table.column(last.sval) if isinstance(last, ast.String) else None
        if column is None:
            return None
        out.append(Column(name=target.name or column.name, type=column.type))
    if len(names) > len(out):
        return None
    for column, name in zip(out, names):
        column.name = name
    return out if len({c.name for c in out}) == len(out) else None


def _put_view(st: State, rv: ast.RangeVar, query, if_not_exists: bool) -> Optional[View]:
    """The view made (None: IF NOT EXISTS found one); CREATE OR REPLACE keeps a view's indexes."""
    key = st.creation_key(rv.schemaname, rv.relname)
    old = st.schema.view(key)
    if old is not None:
        if if_not_exists:
            return None
        st.schema.views = [v for v in st.schema.views if v.name != key]
    view = View(name=key, definition=render(query), depends_on=_reads(st, query),
                indexes=old.indexes if old is not None else [])
    st.schema.views.append(view)
    return view


def refresh(st: State, stmt: ast.RefreshMatViewStmt) -> None:
    """REFRESH fills a materialized view; REFRESH ... WITH NO DATA empties it again."""
    view = st.view(stmt.relation)
    if view is not None and view.materialized:
        view.populated = not stmt.skipData


def _reads(st: State, query) -> list[str]:
    """Keys of the tables and views a query reads, CTE names left out."""
    ctes: set[str] = set()
    rels: list[ast.RangeVar] = []
    for n in iter_nodes(query):
        if isinstance(n, ast.CommonTableExpr):
            ctes.add(n.ctename)
        if isinstance(n, ast.RangeVar):
            rels.append(n)
    return sorted({st.relation_key(r) for r in rels if r.schemaname or r.relname not in ctes})


# --------------------------------------------------------------------------
# SET search_path
# --------------------------------------------------------------------------


def set_variable(st: State, stmt: ast.VariableSetStmt) -> None:
    if stmt.kind == VariableSetKind.VAR_RESET_ALL or (stmt.name or "").lower() != "search_path":
        if stmt.kind == VariableSetKind.VAR_RESET_ALL:
            st.search_path = ["public"]
        return
    if stmt.kind == VariableSetKind.VAR_SET_VALUE:
        values = [
            a.val.sval for a in stmt.args or () if isinstance(a, ast.A_Const) and isinstance(a.val, ast.String)
        ]
        st.search_path = [v for v in values if v != "$user"] or ["public"]
    elif stmt.kind in (VariableSetKind.VAR_SET_DEFAULT, VariableSetKind.VAR_RESET):
        st.search_path = ["public"]


def comment(st: State, stmt: ast.CommentStmt) -> None:
    """COMMENT ON COLUMN: the column's comment (IS NULL takes it away); other objects' are not kept
    (statements.step leaves them out before a copy of the schema; a dump's reader hands them here)."""
    if stmt.objtype != OT.OBJECT_COLUMN:
        return
    names = names_of(stmt.object)
    if len(names) < 2:
        return
    table = st.table(ast.RangeVar(schemaname=names[-3] if len(names) > 2 else None, relname=names[-2]))
    col = table.column(names[-1]) if table is not None else None
    if col is not None:
        col.comment = stmt.comment
