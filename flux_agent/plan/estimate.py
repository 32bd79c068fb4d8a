"""How long a plan step runs, from the table's live statistics.

Each statement of a step is one of five kinds: catalog-only (instant), table
rewrite (bytes / rewrite rate), full scan (VALIDATE, SET NOT NULL without a
validated check: bytes / scan rate), index build (rows / index rate, about
2-3 passes when CONCURRENTLY) or batched backfill (batches x (batch time +
pause), the batches sized as the block sizes them from a row's cost with each
index it writes; at worst rows / its floor rate, when it throttles itself
throughout), with the WAL the walk writes against when the server starts a
checkpoint. The rates are a `Rates` model whose defaults come from
benchmarks/estimates.py on an embedded PostgreSQL 16 and benchmarks/walk_wal.py;
the text says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel, Field

from ..pg.parse import HAVE_PGLAST, ast, enums, parse_expr
from ..pg.split import SqlSyntaxError, split_statements
from ..pg.quote import relation_name
from ..errors import FluxInputError
from ..model.plan import Plan, Step
from ..model.schema import DEFAULT_SERVER, Schema, ServerFacts, Table
from ..pg.types import binary_coercible, canonical_type, plain_using, volatile_tree
from ..schema.replay.steps import schemas_before_each

__all__ = ["Rates", "Estimate", "assess", "estimate", "annotate", "step_table"]

MB = 1_000_000


class Rates(BaseModel):
    """Throughputs the estimates divide by. Defaults: benchmarks/estimates.py, 1,000,000 rows."""

    rewrite_mb_per_s: float = Field(70.0, gt=0, description="ALTER TABLE rewrite, indexes rebuilt, per MB of table")
    scan_mb_per_s: float = Field(1200.0, gt=0, description="sequential scan (VALIDATE, SET NOT NULL)")
    index_rows_per_s: float = Field(2_400_000.0, gt=0, description="plain CREATE INDEX, one pass")
    concurrent_passes: float = Field(2.0, ge=1, description="CREATE INDEX CONCURRENTLY cost in plain builds")
    # A row's UPDATE costs 1 / update_rows_per_s plus index_entry_s for each index beyond the first:
    # a new row version gets an entry in every index (a full page leaves no room for a HOT update).
    # benchmarks/estimates.py fits both from one walk on a table with two indexes and one with eight.
    update_rows_per_s: float = Field(1_000_000.0, gt=0, description="UPDATE of a row and its first index entry")
    index_entry_s: float = Field(0.0000033, ge=0, description="UPDATE of a row: each further index entry")
    batch_overhead_s: float = Field(0.005, ge=0, description="per batch: key lookup and COMMIT")
    # A walk's WAL: rows x wal_per_row + table bytes x wal_per_table_byte (benchmarks/walk_wal.py
    # fits both over the downtime benchmark's walks, worst error 10%; per byte alone was 3.2 and
    # fell a third short on narrow tables, whose rows cost a record and index entries each).
    wal_per_row: float = Field(270.0, ge=0, description="WAL a batched walk writes per row (record headers, "
                               "index entries of the new row versions)")
    wal_per_table_byte: float = Field(1.6, ge=0, description="WAL a batched walk writes per byte of its table "
                                      "(the new row versions, full-page images)")
    basis: str = ("rates measured by benchmarks/estimates.py on an idle embedded PostgreSQL 16 (2 cores, "
                  "1,000,000 rows, warm cache); a busy server or a table larger than memory is slower")


@dataclass
class Estimate:
    seconds: Optional[float]  # None: size unknown
    kind: str  # catalog-only, table rewrite, full scan, index build, batched backfill, update
    text: str


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return "< 1 s"
    if seconds < 90:
        return f"~{_two_digits(seconds)} s"
    if seconds < 90 * 60:
        return f"~{_two_digits(seconds / 60)} min"
    return f"~{_two_digits(seconds / 3600)} h"


def _two_digits(x: float) -> str:
    if x >= 10:
        digits = 10 ** (int(math.log10(x)) - 1)
        return f"{round(x / digits) * digits:,.0f}"
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _size_text(nbytes: Optional[int]) -> str:
    if nbytes is None:
        return "size unknown"
    if nbytes >= 10 * 1024**3:
        return f"{nbytes / 1024**3:.0f} GB"
    if nbytes >= 1024**3:
        return f"{nbytes / 1024**3:.1f} GB"
    return f"{max(1, round(nbytes / MB))} MB"


def _rows_text(rows: int) -> str:
    return f"~{rows:,} rows"


def _wal_text(rows: int, nbytes: Optional[int], rates: Rates, server: Optional[ServerFacts]) -> str:
    """The WAL a batched walk over `rows` rows, `nbytes` bytes writes, and, when that is enough to start a
    checkpoint on `server` (PostgreSQL's defaults when not read live), the max_wal_size that would
    not; "" when the size is unknown. A checkpoint during a batched walk made the application's worst
    stall 50-100 ms instead of 10-30 (benchmarks/downtime.py, 2,000,000 rows)."""
    if not nbytes:
        return ""
    facts = server or DEFAULT_SERVER
    wal = rows * rates.wal_per_row + nbytes * rates.wal_per_table_byte
    text = f"; writes ~{_size_text(int(wal))} of WAL"
    if wal < facts.checkpoint_after_bytes():
        return text
    tenth = 1024**3 / 10  # rounded up to a tenth of a GB: "at least" must not round below the need
    need = math.ceil(facts.max_wal_size_for(wal) / tenth) * tenth
    whose = "this server's" if server else "the default"
    return (f"{text} (set max_wal_size to at least {_size_text(int(need))} first: {whose} "
            f"{_size_text(facts.max_wal_size_bytes)} starts a checkpoint during the walk, which stalls the "
            "application's commits)")


# --------------------------------------------------------------------------
# Statement kinds
# --------------------------------------------------------------------------



@dataclass
class _Work:
    kind: str
    seconds: float = 0.0
    detail: str = ""


def _proven_not_null(table: Table, column: str) -> bool:
    """A validated CHECK (column IS NOT NULL) lets PostgreSQL 12+ skip the SET NOT NULL scan."""
    for con in table.constraints:
        if con.kind != "check" or not con.validated or not con.expression:
            continue
        try:
            node = parse_expr(con.expression)
        except FluxInputError:
            continue
        if isinstance(node, ast.NullTest) and node.nulltesttype == enums.NullTestType.IS_NOT_NULL \
                and isinstance(node.arg, ast.ColumnRef) and getattr(node.arg.fields[-1], "sval", None) == column:
            return True
    return False


def _alter_work(cmd: ast.AlterTableCmd, table: Optional[Table]) -> Optional[str]:
    """The kind of one ALTER TABLE subcommand (None: catalog only)."""
    AT, CT = enums.AlterTableType, enums.ConstrType
    sub = cmd.subtype
    if sub == AT.AT_AlterColumnType:
        col = table.column(cmd.name) if table else None
        new_type = canonical_type(cmd.def_.typeName)
        if col is not None and plain_using(cmd) and binary_coercible(col.type, new_type):
            return None
        return "table rewrite"
    if sub == AT.AT_AddColumn:
        cd = cmd.def_
        base = cd.typeName.names[-1].sval if cd.typeName is not None else ""
        if base in ("serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"):
            return "table rewrite"
        for con in cd.constraints or ():
            if con.contype in (CT.CONSTR_IDENTITY, CT.CONSTR_GENERATED):
                return "table rewrite"
            if con.contype == CT.CONSTR_DEFAULT and con.raw_expr is not None and volatile_tree(con.raw_expr):
                return "table rewrite"
        return None
    if sub == AT.AT_SetNotNull:
        return None if table is not None and _proven_not_null(table, cmd.name) else "full scan"
    if sub == AT.AT_ValidateConstraint:
        return "full scan"
    if sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        con = cmd.def_
        if con.contype in (CT.CONSTR_CHECK, CT.CONSTR_FOREIGN) and not con.skip_validation:
            return "full scan"
        if con.contype in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE, CT.CONSTR_EXCLUSION) and not con.indexname:
            return "index build"
    return None


def _row_s(table: Table, rates: Rates) -> float:
    """Seconds an UPDATE spends on a row of `table`: the new row version gets an entry in every
    index, so a table with many indexes is many times slower per row (umami's website_event, 15
    indexes: ~20x a table with two)."""
    return 1 / rates.update_rows_per_s + max(0, len(table.indexes) - 1) * rates.index_entry_s


def _batch_rows(step: Step, table: Table, rates: Rates) -> int:
    """Rows per batch as the block sizes them: as many as hold the row locks about target_ms
    (its own COMMIT included), at least 100, at most the batch size."""
    b = step.batching
    fits = (b.target_ms / 1000 - rates.batch_overhead_s) / _row_s(table, rates)
    return int(max(100, min(b.batch_size, round(fits))))  # PostgreSQL rounds the block's ::integer


def _about(size_n: int, step: Step) -> str:
    return "" if size_n == step.batching.batch_size else "~"


def _work(stmt, step: Step, table: Optional[Table], rates: Rates,
          server: Optional[ServerFacts]) -> Optional[_Work]:
    """Work one statement does; None for catalog-only statements. Sizes come from `table`."""
    rows = table.row_estimate if table else None
    size = table.size_bytes if table else None
    if isinstance(stmt, ast.DoStmt):
        if step.batching is None:
            return _Work("DO block")  # unknown work: no estimate
        pause = step.batching.pause_ms / 1000
        if rows is None:
            return _Work("batched backfill", math.nan)
        if rows == 0:
            return _Work("batched backfill", 0.0, "batched backfill of an empty table")
        size_n = _batch_rows(step, table, rates)
        batches = max(1, math.ceil(rows / size_n))
        per_batch = min(size_n, rows) * _row_s(table, rates) + rates.batch_overhead_s + pause
        seconds = batches * per_batch
        # The block slows itself while the server strains (slow commits, replica lag, lock
        # waiters), never below its floor rate: the worst case a busy server can make of it.
        floor_s = rows / step.batching.min_rows_per_s
        worst = (f"; if throttled throughout, up to {duration_text(floor_s)} "
                 f"at its floor of {step.batching.min_rows_per_s:,} rows/s") if floor_s > seconds else ""
        return _Work("batched backfill", seconds,
                     f"batched backfill of {_rows_text(rows)}: {batches:,} batch{'' if batches == 1 else 'es'} of {_about(size_n, step)}{size_n:,} "
                     f"with {pause * 1000:g} ms pauses{worst}{_wal_text(rows, size, rates, server)}")
    kind = None
    concurrent = False
    if isinstance(stmt, ast.IndexStmt):
        kind, concurrent = "index build", bool(stmt.concurrent)
    elif isinstance(stmt, ast.AlterTableStmt):
        kinds = [_alter_work(c, table) for c in stmt.cmds or () if isinstance(c, ast.AlterTableCmd)]
        for k in ("table rewrite", "index build", "full scan"):
            if k in kinds:
                kind = k
                break
    elif isinstance(stmt, (ast.UpdateStmt, ast.DeleteStmt)):
        kind = "update"
    if kind is None:
        return None
    if rows is None:
        return _Work(kind, math.nan)
    if rows == 0:
        return _Work(kind, 0.0, f"{kind} of an empty table")
    where = f"{_rows_text(rows)}, {_size_text(size)}"
    nbytes = size if size is not None else 0
    if kind == "table rewrite":
        return _Work(kind, nbytes / MB / rates.rewrite_mb_per_s,
                     f"table rewrite of {where} under ACCESS EXCLUSIVE at {rates.rewrite_mb_per_s:,.0f} MB/s")
    if kind == "full scan":
        return _Work(kind, nbytes / MB / rates.scan_mb_per_s,
                     f"full scan of {where} at {rates.scan_mb_per_s:,.0f} MB/s")
    if kind == "index build":
        passes = rates.concurrent_passes if concurrent else 1.0
        how = f"concurrently, ~{passes:g} passes" if concurrent else "one pass, writes wait"
        return _Work(kind, rows * passes / rates.index_rows_per_s,
                     f"index build over {where}, {how} at {rates.index_rows_per_s:,.0f} rows/s")
    row_s = _row_s(table, rates)
    return _Work(kind, rows * row_s,
                 f"update of up to {where} in one transaction at {1 / row_s:,.0f} rows/s")


def assess(step: Step, table: Optional[Table], rates: Optional[Rates] = None,
           server: Optional[ServerFacts] = None) -> Estimate:
    """The duration of `step` when run on `table` (the table it changes, as read live) on `server`."""
    rates = rates or Rates()
    if not step.up_sql:
        return Estimate(None, "none", "")  # an application deploy: nothing runs in the database
    try:
        stmts = split_statements(step.up_sql)
    except SqlSyntaxError:
        return Estimate(None, "unknown", "duration unknown (SQL does not parse)")
    works = [w for s in stmts if (w := _work(s.node, step, table, rates, server)) is not None]
    if not works:
        return Estimate(0.0, "catalog-only", "instant (catalog only)")
    if any(w.kind == "DO block" for w in works):
        return Estimate(None, "unknown", "duration unknown (DO block)")
    if any(math.isnan(w.seconds) for w in works):
        # Read live (its size is known), a table never analysed has no row count: ANALYZE gives one.
        why = "the table was never analysed: ANALYZE it" if table is not None and table.size_bytes is not None \
            else "no table statistics; read the schema live"
        return Estimate(None, works[0].kind, f"size unknown ({why})")
    total = sum(w.seconds for w in works)
    main = max(works, key=lambda w: w.seconds)
    more = f"; +{len(works) - 1} more" if len(works) > 1 else ""
    return Estimate(total, main.kind, f"{duration_text(total)} ({main.detail}{more})")


def estimate(step: Step, table: Optional[Table], rates: Optional[Rates] = None,
             server: Optional[ServerFacts] = None) -> str:
    """Short text: `~40 s (index build over ~1,000,000 rows, 240 MB, ...)`, `instant (catalog only)`,
    `size unknown (...)` without statistics, or "" for an application deploy."""
    return assess(step, table, rates, server).text


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


def step_table(step: Step, schema: Schema) -> Optional[Table]:
    """The table a step works on: the first one its statements name."""
    if not step.up_sql:
        return None
    try:
        stmts = split_statements(step.up_sql)
    except SqlSyntaxError:
        return None
    for s in stmts:
        n, name = s.node, None
        if isinstance(n, (ast.AlterTableStmt, ast.IndexStmt, ast.UpdateStmt, ast.DeleteStmt)):
            name = relation_name(n.relation)
        elif isinstance(n, ast.DoStmt) and step.batching is not None:
            name = step.batching.table
        if name and schema.table(name) is not None:
            return schema.table(name)
    return None


def annotate(plan: Plan, schema: Schema, rates: Optional[Rates] = None,
             before: Optional[list[Schema]] = None) -> Plan:
    """A copy of `plan` with each database step's estimate appended to its risk
    (the rates' basis is in Rates.basis and the README).

    Each step is sized on the schema the steps before it leave (`before`, from
    schema.replay.steps): a table created by the plan is empty, and SET NOT NULL
    after a validated CHECK (col IS NOT NULL) is catalog-only.
    """
    if not HAVE_PGLAST:
        return plan  # the kinds of work are read from pglast's trees; the plan's findings say so
    rates = rates or Rates()
    before = before or schemas_before_each([s.up_sql for s in plan.steps], schema)
    created: set[str] = set()
    steps = []
    for step, work in zip(plan.steps, before):
        work = work.model_copy(deep=True)
        for t in work.tables:
            if t.name in created and t.row_estimate is None:
                t.row_estimate, t.size_bytes = 0, 0  # created by this plan: empty
        text = estimate(step, step_table(step, work), rates, schema.server)
        risk = f"{step.risk}; estimate: {text}" if text and step.risk else (text or step.risk)
        steps.append(step.model_copy(update={"risk": risk}))
        created |= _created_tables(step.up_sql) if step.up_sql else set()
    return plan.model_copy(update={"steps": steps})


def _created_tables(sql: str) -> set[str]:
    try:
        stmts = split_statements(sql)
    except SqlSyntaxError:
        return set()
    return {relation_name(s.node.relation) for s in stmts if isinstance(s.node, ast.CreateStmt)}
