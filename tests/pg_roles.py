"""A role like the one a managed PostgreSQL gives an application: LOGIN, no superuser, no
CREATEROLE, owning its own database (CREATEDB only where asked: RDS's master user has it,
an application role usually not). Created by the test server's superuser, dropped after."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import psycopg
from psycopg import conninfo, sql


@dataclass
class AppRole:
    name: str
    password: str
    database: str
    url: str  # as the role, to its own database


@contextmanager
def app_role(admin_url: str, createdb: bool = False) -> Iterator[AppRole]:
    name = f"flux_app_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEROLE {} PASSWORD {}").format(
            sql.Identifier(name), sql.SQL("CREATEDB" if createdb else "NOCREATEDB"), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
    info = conninfo.conninfo_to_dict(admin_url)
    info.update(user=name, password=password, dbname=name)
    try:
        yield AppRole(name, password, name, conninfo.make_conninfo(**info))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            # scratch databases a failed verify left behind are the role's too
            for (db,) in conn.execute("SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                                      "WHERE r.rolname = %s", (name,)).fetchall():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def privileges(url: str) -> tuple[bool, bool, bool]:
    """(superuser, createrole, createdb) of the role `url` logs in as, read from the server."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        return conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                            "WHERE rolname = current_user").fetchone()
