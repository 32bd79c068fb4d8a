"""The downtime benchmark's table: each operation class over its runs (worst stalls, the
traffic-alone worst beside them, errors, lost writes), backfill throughput against the
single statement's, and the slowest Flux step of each class."""

from __future__ import annotations

import statistics
from typing import Optional

LIMIT_MS = 50.0  # the median of Flux's worst stalls, per class
RUN_LIMIT_MS = 80.0  # no single Flux run over this


def fmt(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:,.1f}"


def ratio_text(naive: Optional[float], flux: Optional[float]) -> str:
    if not naive or not flux:
        return "-"
    r = naive / flux
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def _median(values: list[Optional[float]]) -> Optional[float]:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def verdict(case: dict) -> str:
    """ok: every Flux run finished, the median of its worst stalls <= 50 ms, none over 80 ms,
    no app error and no lost write."""
    runs = [r["flux"] for r in case["runs"]]
    if any(f["failure"] for f in runs):
        return "FAILED"
    worst = [f["worst_ms"] or 0 for f in runs]
    ok = (statistics.median(worst) <= LIMIT_MS and max(worst) <= RUN_LIMIT_MS
          and not any(f["errors"] or f["lost"] for f in runs))
    return "ok" if ok else "OVER"


def _backfill_seconds(res: dict) -> Optional[float]:
    secs = [s["seconds"] for s in res["steps"] if s["phase"] == "backfill"]
    return sum(secs) if secs else None


def throughput(case: dict) -> Optional[tuple[float, float]]:
    """(Flux's backfill rows/s, the naive statement's rows/s), medians over the runs, for a class
    whose plan has a backfill step; rows: those the backfill's walk covers."""
    rows = case.get("backfill_rows")
    flux = [_backfill_seconds(r["flux"]) for r in case["runs"]]
    naive = [sum(s["seconds"] for s in r["naive"]["steps"] if s["phase"] != "code") for r in case["runs"]]
    if not rows or not all(flux) or not all(naive):
        return None
    return rows / statistics.median(flux), rows / statistics.median(naive)


def slowest_step(case: dict) -> Optional[tuple[str, float]]:
    """The Flux step with the highest median worst stall, and that median."""
    per: dict[str, list[Optional[float]]] = {}
    for r in case["runs"]:
        for s in r["flux"]["steps"]:
            per.setdefault(s["title"], []).append(s["worst_ms"])
    ranked = [(t, m) for t, v in per.items() if (m := _median(v)) is not None]
    return max(ranked, key=lambda x: x[1]) if ranked else None


def table(results: list[dict], info: dict) -> str:
    head = ["operation", "naive worst / p99 ms", "flux worst ms (each run)", "flux median", "ratio",
            "naive errors", "flux errors", "lost writes (naive/flux)", "traffic alone worst ms", "flux"]
    rows = []
    for case in results:
        runs = case["runs"]
        n_worst = _median([r["naive"]["worst_ms"] for r in runs])
        n_p99 = _median([r["naive"]["p99_ms"] for r in runs])
        f_each = [r["flux"]["worst_ms"] for r in runs]
        f_med = _median(f_each)
        alone = [max(r["naive"]["baseline_worst_ms"] or 0, r["flux"]["baseline_worst_ms"] or 0) for r in runs]
        rows.append([case["operation"], f"{fmt(n_worst)} / {fmt(n_p99)}", " / ".join(fmt(v) for v in f_each),
                     fmt(f_med), ratio_text(n_worst, f_med), str(sum(r["naive"]["errors"] for r in runs)),
                     str(sum(r["flux"]["errors"] for r in runs)),
                     f"{sum(r['naive']['lost'] for r in runs)}/{sum(r['flux']['lost'] for r in runs)}",
                     " / ".join(fmt(v) for v in alone), verdict(case)])
    widths = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                           for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    out = [line(head), "|" + "|".join(("-" * (w + 2)) for w in widths) + "|"] + [line(r) for r in rows]
    out.append("")
    for case in results:
        tp = throughput(case)
        if tp:
            out.append(f"backfill throughput, {case['operation']}: Flux {tp[0]:,.0f} rows/s, the single statement "
                       f"{tp[1]:,.0f} rows/s ({tp[0] / tp[1]:.0%}; {case['backfill_rows']:,} rows)")
    for case in results:
        step = slowest_step(case)
        if step:
            out.append(f"slowest Flux step, {case['operation']}: {step[0]} (median worst {fmt(step[1])} ms)")
    s = info["settings"]
    out.append("")
    out.append(f"Machine: {info['cores']} cores ({info['cpu']}), {info['memory_gb']} GB memory, {info['system']}; "
               f"PostgreSQL {info['postgresql']} (fsync on, shared_buffers {info['shared_buffers']}, max_wal_size "
               f"{info['max_wal_size']}, synchronous_commit {info['synchronous_commit']}); orders {info['rows']:,} "
               f"rows ({info['orders_size']}), users {info['users_rows']:,} rows; {info['workers']} app workers "
               f"per code version; {info['runs']} run(s) per class. Flux settings: batches of "
               f"{s['backfill_batch_size']:,} rows, {s['backfill_sleep_ms']} ms apart (paced: over "
               f"{s['backfill_max_commit_ms']} ms a batch, up to {s['backfill_max_pause_ms']} ms, at least "
               f"{s['backfill_min_rows_per_s']} rows/s); blocking locks waited for {s['lock_wait_ms']} ms a try, "
               f"{s['lock_tries']} tries; other locks lock_timeout {s['lock_timeout']}"
               + (f"; server: {', '.join(info['server_sets'])}" if info.get("server_sets") else "")
               + (f"; sessions: {', '.join(info['sets'])}." if info.get("sets") else "."))
    out.append(f"Flux limit: median worst stall <= {LIMIT_MS:.0f} ms and no run over {RUN_LIMIT_MS:.0f} ms, 0 app "
               f"errors, 0 lost writes (column 'flux'); traffic alone: the slowest query in {info['baseline_s']:.0f} s "
               f"of the same traffic before the migration, each run. Naive statements run with no lock_timeout; "
               f"naive renames and drops deploy the new code {info['deploy_lag_s']:.0f} s after the statement.")
    failed = [(c["operation"], form, r[form]["failure"]) for c in results for r in c["runs"]
              for form in ("naive", "flux") if r[form]["failure"]]
    out += [f"note: {op} / {form} failed: {why}" for op, form, why in failed]
    return "\n".join(out)
