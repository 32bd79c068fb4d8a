"""CREATE TABLE and ALTER TABLE applied to the replayed schema."""

from __future__ import annotations

import copy

from typing import Optional

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType as CT

from ...model.schema import Column, Constraint, Index, Table
from ...pg.parse import column_refs, parse_expr, render, replace_column
from ...pg.quote import ident
from .names import choose_name, index_column_names, name_addition
from .state import State, make_key, names_of, split_key

SERIALS = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"}

# A constraint written on a column, waiting for the whole table: (constraint, column or None).
Pending = tuple[ast.Constraint, Optional[str]]

_TABLE_CONSTRAINTS = (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_CHECK, CT.CONSTR_FOREIGN, CT.CONSTR_EXCLUSION)

# A column constraint's DEFERRABLE / INITIALLY ... as the fields it sets on the constraint before it.
_ATTRIBUTES = {
    CT.CONSTR_ATTR_DEFERRABLE: {"deferrable": True},
    CT.CONSTR_ATTR_NOT_DEFERRABLE: {"deferrable": False},
    CT.CONSTR_ATTR_DEFERRED: {"deferrable": True, "initdeferred": True},
    CT.CONSTR_ATTR_IMMEDIATE: {"initdeferred": False},
}

# pg_constraint.confdeltype letters; NO ACTION is the default, kept as None.
ON_DELETE = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


# --------------------------------------------------------------------------
# CREATE TABLE
# --------------------------------------------------------------------------


def create_table(st: State, stmt: ast.CreateStmt) -> None:
    rv = stmt.relation
    key = st.creation_key(rv.schemaname, rv.relname)
    if st.table_at(key) is not None:
        if stmt.if_not_exists:
            return
        # PostgreSQL would refuse; the later text wins, and the keys that name the table name it still
        # (a scan of every key for ones into it cost the 2,000-file set's replay ~0.1 s)
        st.drop_relation(key, cascade=False, keep_keys=True)
    table = Table(name=key, partitioned=stmt.partspec is not None)
    # Inherited and partition-parent columns come first, as in PostgreSQL.
    for parent_rv in stmt.inhRelations or ():
        parent = st.table(parent_rv)
        if parent is not None:
            table.columns.extend(Column(**c.model_dump()) for c in parent.columns)
    st.add_table(table, rv)
    later: list[Pending] = []
    for elt in stmt.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            later += add_column(st, table, elt)
        elif isinstance(elt, ast.Constraint):
            later.append((elt, None))
        elif isinstance(elt, ast.TableLikeClause):
            _copy_like(st, table, elt)
    # PostgreSQL's order: CHECKs are named with the table, then indexes (primary
    # key first), then foreign keys, which may need this table's primary key.
    rank = {CT.CONSTR_CHECK: 0, CT.CONSTR_PRIMARY: 1, CT.CONSTR_UNIQUE: 2, CT.CONSTR_EXCLUSION: 3}
    for con, column in _merge_duplicate_keys(sorted(later, key=lambda item: rank.get(item[0].contype, 4))):
        add_constraint(st, table, con, column, in_create=True)


def _merge_duplicate_keys(cons: list[Pending]) -> list[Pending]:
    """`id int PRIMARY KEY UNIQUE` makes one index: PostgreSQL drops repeated key specs."""
    kept: list[Pending] = []
    seen: dict[tuple, ast.Constraint] = {}
    for con, column in cons:
        if con.contype not in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE) or con.indexname:
            kept.append((con, column))
            continue
        spec = (
            tuple(names_of(con.keys)) if con.keys else (column,),
            tuple(names_of(con.including or ())),
            bool(con.nulls_not_distinct),
            bool(con.deferrable),
            bool(con.initdeferred),
        )
        prior = seen.get(spec)
        if prior is None:
            seen[spec] = con
            kept.append((con, column))
        elif not prior.conname and con.conname:
            prior.conname = con.conname  # the unnamed spec takes the name, as in PostgreSQL
    return kept


def _copy_like(st: State, table: Table, like: ast.TableLikeClause) -> None:
    source = st.table(like.relation)
    if source is None:
        return
    # CREATE_TABLE_LIKE_DEFAULTS = 1 << 3, CREATE_TABLE_LIKE_ALL = 0x7FFFFFFF
    keep_defaults = bool(like.options & (1 << 3))
    for c in source.columns:
        default = c.default if keep_defaults else None
        table.columns.append(Column(name=c.name, type=c.type, nullable=c.nullable, default=default,
                                    collation=c.collation))


# --------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------


def collation_of(cd: ast.ColumnDef) -> Optional[str]:
    """The collation a column definition names (COLLATE "C"), None where none or "default"."""
    name = cd.collClause.collname[-1].sval if cd.collClause is not None and cd.collClause.collname else None
    return None if name == "default" else name


def add_column(st: State, table: Table, cd: ast.ColumnDef) -> list[Pending]:
    """Append the column; return its constraints that need the table (PK, FK, ...)."""
    if cd.typeName is None:
        # `PARTITION OF t (col WITH OPTIONS ...)` adds options to an inherited column.
        col = table.column(cd.colname)
        if col is None:
            return []
    else:
        col = Column(name=cd.colname, type=st.column_type(cd.typeName), nullable=not cd.is_not_null,
                     collation=collation_of(cd))
    base = cd.typeName.names[-1].sval if cd.typeName is not None and len(cd.typeName.names) == 1 else ""
    if base in SERIALS:
        ns, tname = split_key(table.name)
        seq = choose_name(tname, cd.colname, "seq", st.names_taken(ns))
        seq_text = ident(seq) if ns == "public" else f"{ident(ns)}.{ident(seq)}"
        col.nullable, col.default = False, f"nextval('{seq_text}'::regclass)"
    rest = []
    for con in cd.constraints or ():
        if con.contype == CT.CONSTR_NOTNULL:
            col.nullable = False
        elif con.contype == CT.CONSTR_NULL:
            col.nullable = True
        elif con.contype == CT.CONSTR_DEFAULT:
            col.default = _default(con.raw_expr)
        elif con.contype == CT.CONSTR_IDENTITY:
            col.nullable = False
        elif con.contype == CT.CONSTR_GENERATED:
            col.generated = render(con.raw_expr)
        elif con.contype in _TABLE_CONSTRAINTS:
            rest.append((con, cd.colname))
        elif con.contype in _ATTRIBUTES and rest:
            # `REFERENCES t DEFERRABLE`: the parser gives the attribute as a constraint after the one it
            # qualifies, which PostgreSQL then sets on it (transformConstraintAttrs); so here, on a
            # copy: the statement's own tree is the rules' too.
            qualified = copy.copy(rest[-1][0])
            for field, value in _ATTRIBUTES[con.contype].items():
                setattr(qualified, field, value)
            rest[-1] = (qualified, rest[-1][1])
    if cd.typeName is not None:
        table.columns.append(col)
    return rest


def _default(node) -> Optional[str]:
    """Deparsed default; a NULL default is no default, as pg_attrdef does not store it."""
    inner = node.arg if isinstance(node, ast.TypeCast) else node
    if node is None or (isinstance(inner, ast.A_Const) and inner.isnull):
        return None
    return render(node)


def _expr_uses(text: str, column: str) -> bool:
    return column in column_refs(parse_expr(text))


def _rename_in_expr(text: str, old: str, new: str) -> str:
    return render(replace_column(parse_expr(text), old, [new]))


def _index_uses(table: Table, index: Index, column: str) -> bool:
    if column in index.include:
        return True
    plain = {c.name for c in table.columns}
    for item in index.columns:
        if item == column or (item not in plain and _expr_uses(item, column)):
            return True
    return bool(index.where and _expr_uses(index.where, column))


def drop_column(st: State, table: Table, column: str) -> None:
    """PostgreSQL drops every index and constraint of the table that involves the column, and with
    CASCADE the generated columns computed from it (without, it refuses: the replay follows CASCADE)."""
    for c in [c for c in table.columns if c.generated and c.name != column and _expr_uses(c.generated, column)]:
        drop_column(st, table, c.name)
    # A foreign key points at columns of a primary key or a unique constraint or index only: a column
    # in none has none pointing at it, and no scan of every key of the schema is needed.
    keyed = column in table.primary_key or any(column in i.columns for i in table.indexes if i.unique) or any(
        column in c.columns for c in table.constraints if c.kind in ("primary_key", "unique"))
    doomed = {i.name for i in table.indexes if _index_uses(table, i, column)}
    doomed |= {
        c.name
        for c in table.constraints
        if column in c.columns or (c.expression and _expr_uses(c.expression, column))
    }
    table.indexes = [i for i in table.indexes if i.name not in doomed]
    table.constraints = [c for c in table.constraints if c.name not in doomed]
    if column in table.primary_key:
        table.primary_key = []
    table.columns = [c for c in table.columns if c.name != column]
    # Foreign keys elsewhere that point at the column (only possible with CASCADE); whether any key
    # points at the table at all asked first (a loop over the tables was most of a drop's time)
    if not keyed or not st.referenced(table.name):
        return
    for t in st.schema.tables:
        if any(c.ref_table == table.name and column in c.ref_columns for c in t.constraints):  # else its list stays
            st.lose_keys(t, lambda c: not (c.ref_table == table.name and column in c.ref_columns))


def rename_column(st: State, table: Table, old: str, new: str) -> None:
    col = table.column(old)
    if col is None:
        return
    plain = {c.name for c in table.columns}
    col.name = new
    first = next((k for k, v in st.renamed.items() if k[0] == table.name and v == old), (table.name, old))
    st.renamed[first] = new
    for i in table.indexes:
        # An item that is not a column name is an expression: rewrite references inside it.
        i.columns = [new if c == old else c if c in plain else _rename_in_expr(c, old, new) for c in i.columns]
        i.include = [new if c == old else c for c in i.include]
        if i.where:
            i.where = _rename_in_expr(i.where, old, new)
    for c in table.constraints:
        c.columns = [new if x == old else x for x in c.columns]
        if c.expression:
            c.expression = _rename_in_expr(c.expression, old, new)
    for c in table.columns:
        if c.generated:
            c.generated = _rename_in_expr(c.generated, old, new)
    table.primary_key = [new if x == old else x for x in table.primary_key]
    for t in st.schema.tables:
        for c in t.constraints:
            if c.ref_table == table.name:
                c.ref_columns = [new if x == old else x for x in c.ref_columns]


# --------------------------------------------------------------------------
# Constraints
# --------------------------------------------------------------------------


def _deferrable(con: ast.Constraint) -> Optional[str]:
    """Constraint.deferrable of a constraint as written."""
    return ("deferred" if con.initdeferred else "immediate") if con.deferrable else None


def add_constraint(
    st: State, table: Table, con: ast.Constraint, column: Optional[str] = None, in_create: bool = False
) -> None:
    """Add one constraint; `column` is the column it was written on, if any."""
    ns, tname = split_key(table.name)
    kind = con.contype
    if kind in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE):
        _add_index_constraint(st, table, con, column)
    elif kind == CT.CONSTR_CHECK:
        expression = render(con.raw_expr)
        refs = column_refs(con.raw_expr)
        name = con.conname or choose_name(
            tname, next(iter(refs)) if len(refs) == 1 else None, "check", st.names_taken(ns, False, True)
        )
        # CREATE TABLE marks even NOT VALID constraints valid: the table is empty.
        valid = in_create or not con.skip_validation
        # Like pg_constraint.conkey: the columns the expression reads, in table order.
        cols = [c.name for c in table.columns if c.name in refs]
        table.constraints.append(
            Constraint(name=name, kind="check", columns=cols, expression=expression, validated=valid)
        )
    elif kind == CT.CONSTR_FOREIGN:
        cols = names_of(con.fk_attrs) if con.fk_attrs else [column]
        ref_key = st.relation_key(con.pktable)
        ref = table if ref_key == table.name else st.table_at(ref_key)
        ref_cols = names_of(con.pk_attrs) if con.pk_attrs else list(ref.primary_key if ref else [])
        name = con.conname or choose_name(tname, name_addition(cols), "fkey", st.names_taken(ns, False, True))
        table.constraints.append(
            Constraint(
                name=name,
                kind="foreign_key",
                columns=cols,
                ref_table=ref_key,
                ref_columns=ref_cols,
                on_delete=ON_DELETE.get(con.fk_del_action),
                on_update=ON_DELETE.get(con.fk_upd_action),
                deferrable=_deferrable(con),
                match_full=con.fk_matchtype == "f",
                validated=in_create or not con.skip_validation,
            )
        )
    elif kind == CT.CONSTR_EXCLUSION:
        elems = [pair[0] for pair in con.exclusions or ()]
        cols = [e.name if e.name else render(e.expr) for e in elems]
        name = con.conname or choose_name(tname, name_addition(index_column_names(elems)), "excl",
                                          st.names_taken(ns, constraints=True))
        where = render(con.where_clause) if con.where_clause else None
        table.indexes.append(Index(name=name, columns=cols, method=con.access_method or "gist", where=where))
        table.constraints.append(Constraint(name=name, kind="exclude", columns=cols, deferrable=_deferrable(con)))


def _add_index_constraint(st: State, table: Table, con: ast.Constraint, column: Optional[str]) -> None:
    ns, tname = split_key(table.name)
    primary = con.contype == CT.CONSTR_PRIMARY
    if con.indexname:
        # ADD CONSTRAINT ... USING INDEX: the index is adopted and renamed to the constraint.
        found = next((i for i in table.indexes if i.name == con.indexname), None)
        if found is None:
            return
        index = found
        index.name = con.conname or index.name
        cols = list(index.columns)
    else:
        cols = names_of(con.keys) if con.keys else [column]
        # The names taken are read only for a constraint given no name (they are every name in the schema).
        name = con.conname or choose_name(tname, None if primary else name_addition(cols), "pkey" if primary else "key",
                                          st.names_taken(ns, constraints=True))
        index = Index(name=name, columns=cols, include=names_of(con.including) if con.including else [],
                      nulls_not_distinct=bool(con.nulls_not_distinct))
        table.indexes.append(index)
    index.unique, index.primary = True, primary
    kind = "primary_key" if primary else "unique"
    table.constraints.append(Constraint(name=index.name, kind=kind, columns=cols, deferrable=_deferrable(con)))
    if primary:
        table.primary_key = cols
        for c in table.columns:
            if c.name in cols:
                c.nullable = False


def drop_constraint(table: Table, name: str) -> None:
    con = next((c for c in table.constraints if c.name == name), None)
    if con is None:
        return
    table.constraints.remove(con)
    if con.kind in ("primary_key", "unique", "exclude"):
        table.indexes = [i for i in table.indexes if i.name != name]
    if con.kind == "primary_key":
        table.primary_key = []


def rename_constraint(table: Table, old: str, new: str) -> None:
    for c in table.constraints:
        if c.name == old:
            c.name = new
            # A constraint and the index behind it share one name.
            for i in table.indexes:
                if i.name == old and c.kind in ("primary_key", "unique", "exclude"):
                    i.name = new


# --------------------------------------------------------------------------
# ALTER TABLE
# --------------------------------------------------------------------------


def alter_table(st: State, stmt: ast.AlterTableStmt) -> None:
    table = st.table(stmt.relation)
    if table is None:
        return  # ALTER on a view, an index or a table created outside the replayed history
    for cmd in stmt.cmds or ():
        _alter_cmd(st, table, cmd)
        if cmd.subtype == AT.AT_ColumnDefault and stmt.relation.inh is False and cmd.name:
            st.only_defaults.add((table.name, cmd.name))  # ALTER TABLE ONLY: no partition follows


def _alter_cmd(st: State, table: Table, cmd: ast.AlterTableCmd) -> None:
    sub = cmd.subtype
    col = table.column(cmd.name) if cmd.name else None
    if sub == AT.AT_AddColumn:
        if table.column(cmd.def_.colname) is not None:
            return  # IF NOT EXISTS, or an error PostgreSQL would raise
        for con, column in add_column(st, table, cmd.def_):
            add_constraint(st, table, con, column)
    elif sub == AT.AT_DropColumn:
        if col is not None:
            drop_column(st, table, col.name)
    elif sub == AT.AT_AlterColumnType and col is not None:
        # Without COLLATE the column takes the new type's own collation, as PostgreSQL does.
        col.type, col.collation = st.column_type(cmd.def_.typeName), collation_of(cmd.def_)
    elif sub == AT.AT_SetNotNull and col is not None:
        col.nullable = False
    elif sub == AT.AT_DropNotNull and col is not None:
        col.nullable = True
    elif sub == AT.AT_ColumnDefault and col is not None:
        col.default = _default(cmd.def_)
    elif sub == AT.AT_AddIdentity and col is not None:
        col.nullable, col.default = False, None
    elif sub == AT.AT_SetExpression and col is not None:
        col.generated = render(cmd.def_)
    elif sub == AT.AT_DropExpression and col is not None:
        col.generated = None  # a plain column from here on, its values kept
    elif sub == AT.AT_AddConstraint:
        add_constraint(st, table, cmd.def_)
    elif sub == AT.AT_DropConstraint:
        drop_constraint(table, cmd.name)
    elif sub == AT.AT_ValidateConstraint:
        for c in table.constraints:
            if c.name == cmd.name:
                c.validated = True


def rename_table(st: State, table: Table, new_name: str) -> None:
    ns, _ = split_key(table.name)
    old, table.name = table.name, make_key(ns, new_name)
    st.reindex()
    st.retarget(old, table.name)


def set_table_schema(st: State, table: Table, new_ns: str) -> None:
    _, name = split_key(table.name)
    old, table.name = table.name, make_key(new_ns, name)
    st.reindex()
    st.retarget(old, table.name)

