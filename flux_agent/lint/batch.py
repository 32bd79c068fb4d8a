"""`flux validate` over many SQL files: each file judged against the schema its folder's history
builds before it, files whose inputs are unchanged served from a content-hash cache, the rest
judged in worker processes where that pays (each worker replays the history itself, up to its
share of the files; the findings are put back in the files' order, so the output is the same as
one process judging them one by one). The cache is lint/cache.py's.
FLUX_VALIDATE_JOBS sets the number of worker processes (1: judge in this process)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..model.findings import FileFinding
from ..model.settings import Settings

MIN_PER_WORKER = 50  # fewer files than this per worker: not worth starting processes


@dataclass
class Job:
    """One SQL file judged against a folder's history: `position` files of it replayed first."""

    order: int  # where its findings go among the files checked
    file: Path
    display: str
    settings: Settings
    position: int
    key: str = ""
    findings: list = field(default_factory=list)  # FileFindings, or their dumps when served from the cache


def jobs_wanted(count: int) -> int:
    env = os.environ.get("FLUX_VALIDATE_JOBS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, count // MIN_PER_WORKER))


def judge(folder: Path, tool: str, jobs: list[Job]) -> list[list[FileFinding]]:
    """The findings of each job (given in history order), replaying the folder's history once:
    only as far as the jobs need, and copying the schema only for the files judged."""
    from ..schema.replay.engine import FolderReplay
    from .engine import validate_file

    replay = FolderReplay(folder, tool, skip_broken=True)
    out = []
    for k, job in enumerate(jobs):
        # The rules read the replay's own schema as it goes through the file (FileCursor), and the
        # replay goes on from where they stopped: each statement is parsed and applied once. A file
        # judged again next (given twice) is judged first with the replay left before it.
        again = k + 1 < len(jobs) and jobs[k + 1].position == job.position
        replay.advance_to(job.position)
        cursor = None if again else replay.begin(job.position, job.file)
        found = validate_file(job.file, job.settings, replay.snapshot, display=job.display, keep=replay.parsed,
                              names=replay.as_replayed, cursor=cursor)
        if cursor is not None:
            cursor.finish()
        out.append(sorted(found, key=lambda f: f.line))  # whole-file rules come last otherwise
    return out


# What replaying a file costs (parsing it too), as a share of judging it and replaying it once
# parsed (measured on the 2,000-file real set: ~0.52 ms against ~2.0 ms per file, since the
# files are parsed ahead in one go; the two workers then finish within 0.1 s of each other).
REPLAY_SHARE = 0.26


def _chunks(jobs: list[Job], workers: int) -> list[list[Job]]:
    """Contiguous runs of the jobs, one per worker, sized so that the workers finish together: a
    later run's worker first replays the history up to it, so each run is (1 - REPLAY_SHARE) times
    the one before it (two workers: 57% and 43% of the files)."""
    weights = [(1 - REPLAY_SHARE) ** k for k in range(workers)]
    out, start, total = [], 0, sum(weights)
    for k, w in enumerate(weights):
        end = len(jobs) if k == workers - 1 else min(len(jobs), start + max(1, round(len(jobs) * w / total)))
        if end > start:
            out.append(jobs[start:end])
        start = end
    return out


def _judge_chunk(args) -> list[list[FileFinding]]:
    folder, tool, jobs = args
    return judge(folder, tool, jobs)


def judge_all(folder: Path, tool: str, jobs: list[Job]) -> None:
    """Fill in each job's findings: in this process, or split into contiguous runs of the
    history over worker processes when there are enough of them."""
    import threading

    from ..schema.replay import engine as _replay  # noqa: F401  (loaded before forking: the workers share them)
    from . import engine as _lint  # noqa: F401

    jobs = sorted(jobs, key=lambda j: (j.position, j.order))
    workers = jobs_wanted(len(jobs))
    # Worker processes are forked (cheap: the modules are loaded); a process with threads (the MCP
    # server) and a platform without fork judge in-process: forking threads is unsafe, and spawned
    # workers would import everything again.
    if workers <= 1 or threading.active_count() > 1 or not sys.platform.startswith("linux"):
        results = judge(folder, tool, jobs)
    else:
        import multiprocessing

        chunks = _chunks(jobs, workers)
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.map(_judge_chunk, [(folder, tool, c) for c in chunks], chunksize=1)
        results = [r for part in parts for r in part]
    for job, found in zip(jobs, results):
        job.findings = found
