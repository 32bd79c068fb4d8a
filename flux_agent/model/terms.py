"""The closed sets of words Flux uses across its shapes: tools, phases, lock levels,
ON DELETE actions, severities. A value outside a set is refused where it enters."""

from __future__ import annotations

from typing import Literal

# The `tool` vocabulary of DESIGN.md section 3.
Tool = Literal["sql", "dbmate", "prisma", "alembic", "drizzle", "typeorm", "knex", "rails", "golang-migrate",
               "goose", "flyway", "django", "sequelize", "sqitch", "node-pg-migrate"]

# The tools whose migrations are program code, run by their own program (devdb/runners); of those,
# node-pg-migrate's folder may hold SQL migrations of its own (`-- Up Migration`), the others' SQL
# files are what their migrations read (ODK Central's knex migrations run the .sql files beside them).
PROGRAM_TOOLS: frozenset[str] = frozenset({"rails", "django", "alembic", "typeorm", "knex", "sequelize",
                                           "node-pg-migrate"})
CODE_ONLY_TOOLS: frozenset[str] = PROGRAM_TOOLS - {"node-pg-migrate"}

Phase = Literal["migrate", "expand", "backfill", "code", "contract"]

# PostgreSQL's table lock levels, weakest first, and "none" for a step that takes no lock.
Lock = Literal["none", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
               "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]

OnDelete = Literal["CASCADE", "RESTRICT", "SET NULL", "SET DEFAULT", "NO ACTION"]

Severity = Literal["error", "warning"]

PlanType = Literal["safe", "expand-contract", "backfill"]
