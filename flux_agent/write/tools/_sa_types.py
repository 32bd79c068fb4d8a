"""A PostgreSQL type as SQLAlchemy spells it, and the Python type of its values: what the
SQLAlchemy and SQLModel model edits write for a new or retyped column."""

from __future__ import annotations

from ._py import ModuleNames, sql_type

# SQL type -> (SQLAlchemy type, where it is imported from, the Python type of Mapped[...])
_TYPES = {"text": ("Text", "sqlalchemy", "str"), "integer": ("Integer", "sqlalchemy", "int"),
          "bigint": ("BigInteger", "sqlalchemy", "int"), "smallint": ("SmallInteger", "sqlalchemy", "int"),
          "boolean": ("Boolean", "sqlalchemy", "bool"), "date": ("Date", "sqlalchemy", "datetime.date"),
          "timestamp without time zone": ("DateTime", "sqlalchemy", "datetime.datetime"),
          "uuid": ("Uuid", "sqlalchemy", "uuid.UUID"), "jsonb": ("JSONB", "sqlalchemy.dialects.postgresql", "dict"),
          "double precision": ("Double", "sqlalchemy", "float")}


def sa_type(type_text: str, names: ModuleNames) -> tuple[str, str] | None:
    """(SQLAlchemy type source, the dotted Python type for Mapped[]) of a SQL type, or None."""
    base, mods = sql_type(type_text)
    if base in _TYPES and not mods:
        t, module, py = _TYPES[base]
        return f"{names.get(module, t)}()" if t == "JSONB" else names.get(module, t), py
    if base == "timestamp with time zone" and not mods:
        return f"{names.get('sqlalchemy', 'DateTime')}(timezone=True)", "datetime.datetime"
    if base == "character varying":
        return (f"{names.get('sqlalchemy', 'String')}({mods[0]})" if mods else names.get("sqlalchemy", "String"),
                "str")
    if base == "numeric" and len(mods) == 2:
        return f"{names.get('sqlalchemy', 'Numeric')}({mods[0]}, {mods[1]})", "decimal.Decimal"
    return None
