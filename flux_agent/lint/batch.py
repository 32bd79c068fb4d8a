"""`flux validate` over many SQL files: each file judged against the schema its folder's history
builds before it, files whose inputs are unchanged served from a content-hash cache, the rest
judged in worker processes where that pays. The rules that read the schema are judged in workers
that replay the history (each up to its share of the files), the others, which judge a file
alone, in workers that replay nothing; each finding's place among all the rules' findings puts
them back in the order one process judging the files one by one gives. The cache is
lint/cache.py's. FLUX_VALIDATE_JOBS sets the number of worker processes (1: judge in this process)."""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Union

from ..errors import FluxInternalError
from ..model.settings import Settings
from .replay_cache import HeldStates, ReplayCache

if TYPE_CHECKING:
    from .engine import Family  # the engine is loaded by what judges, not by a warm run

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
    findings: list = field(default_factory=list)  # FileFindings, or their dumps (from the cache, or a worker)


# Judging makes and drops many small trees (pglast's): Python's default, a collection of the young
# objects every 700 more made, spends ~140 ms of 2,000 files' judging (one process) walking them
# and what the start loaded; every 10,000, with the start's objects frozen, ~60 ms, the memory the same.
_YOUNG = 10_000


@contextmanager
def _collector_for_judging() -> Iterator[None]:
    """The collector on, collecting young objects every _YOUNG made, and what lives now (the modules,
    the rules, the settings: it lives through the judging) frozen, so no collection walks it again
    and a forked worker's do not touch (copy) its pages; all as it was afterwards, for a process
    that judges again and again (the MCP server judges in-process)."""
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.enable()
    gc.set_threshold(_YOUNG, *threshold[1:])
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        if not enabled:
            gc.disable()


def jobs_wanted(count: int) -> int:
    env = os.environ.get("FLUX_VALIDATE_JOBS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, count // MIN_PER_WORKER))


def judge(folder: Path, tool: str, jobs: list[Job], family: Family = None,
          saved: Union[ReplayCache, HeldStates, None] = None) -> list:
    """The findings of each job (given in history order), replaying the folder's history once:
    only as far as the jobs need, from the nearest state `saved` holds. With a family
    (engine.Family), only its rules, and each finding paired with its place (lint_sql's `order`)."""
    from ..schema.replay.engine import FolderReplay
    from .engine import validate_file

    if family == "plain":
        return _judge_plain(jobs)
    replay = FolderReplay(folder, tool, skip_broken=True)
    resumed = saved.resume(replay, jobs[0].position) if saved is not None and jobs else 0
    out = []
    for k, job in enumerate(jobs):
        # The rules read the replay's own schema as it goes through the file (FileCursor), and the
        # replay goes on from where they stopped: each statement is parsed and applied once. A file
        # judged again next (given twice) is judged first with the replay left before it.
        again = k + 1 < len(jobs) and jobs[k + 1].position == job.position
        replay.advance_to(job.position)
        if saved is not None and (k == 0 or k == len(jobs) - 1):  # where the next run most likely starts:
            saved.keep(replay, job.position, resumed)  # the file edited again, or the one after the last
        cursor = None if again else replay.begin(job.position, job.file)
        order: list = []
        found = validate_file(job.file, job.settings, replay.snapshot, display=job.display, keep=replay.parsed,
                              names=replay.as_replayed, cursor=cursor, family=family, order=order,
                              text=replay.texts.get(job.file))
        if cursor is not None:
            cursor.finish()
        # By line (whole-file rules come last otherwise); a family's findings keep their places for merged().
        out.append(list(zip(found, order)) if family else sorted(found, key=lambda f: f.line))
    return out


def _no_schema():
    raise FluxInternalError("a rule read the schema without declaring reads_schema=True (lint/rules/_rule.py)")


def _judge_plain(jobs: list[Job]) -> list:
    """The rules that do not read the schema, on each job: its up part parsed with the jobs beside
    it, AHEAD at a time (as the replay parses a folder's files), nothing replayed."""
    from ..schema.replay.engine import AHEAD, parse_up_parts
    from .engine import validate_file

    out = []
    for start in range(0, len(jobs), AHEAD):
        batch = jobs[start: start + AHEAD]
        texts: dict = {}
        _, parsed = parse_up_parts([job.file for job in batch], texts)  # what does not read or parse: validate_file says
        for job in batch:
            order: list = []
            found = validate_file(job.file, job.settings, _no_schema, display=job.display, keep=parsed,
                                  names=_no_schema, family="plain", order=order, text=texts.get(job.file))
            out.append(list(zip(found, order)))
    return out


def merged(*families: list) -> list[list[dict]]:
    """Each job's findings of the families (lists of (a finding's dump, place) per job), in one run's
    order: by line, then by place (the stable sort by line of one run keeps the order they are made in)."""
    return [[f for f, _ in sorted((p for fam in parts for p in fam), key=lambda p: (p[0]["line"], p[1]))]
            for parts in zip(*families)]


# What replaying a file costs (parsing it too), as a share of judging the rules that read the
# schema on it as it is replayed (measured on the 2,000-file real set, one process: the history
# replayed alone 0.65 s, judged with those rules 1.21 s).
REPLAY_SHARE = 0.54


def _chunks(count: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous runs (start, end) of `count` jobs, one per worker, sized so that the workers finish
    together: a later run's worker first replays the history up to it, so each run is
    (1 - REPLAY_SHARE) times the one before it (two workers: 68% and 32% of the files)."""
    weights = [(1 - REPLAY_SHARE) ** k for k in range(workers)]
    out, start, total = [], 0, sum(weights)
    for k, w in enumerate(weights):
        end = count if k == workers - 1 else min(count, start + max(1, round(count * w / total)))
        if end > start:
            out.append((start, end))
        start = end
    return out


# The jobs of the run being judged, set before the workers are forked: a worker takes its run of
# them from the memory it inherits (a task names start and end), where pickling 2,000 Jobs to each
# worker cost it ~8 ms of loading before it could start.
_FORKED: list[Job] = []


def _judge_chunk(args) -> tuple[list, list]:
    """A worker's findings, as their dumps with their places, and the replay states it held
    (HeldStates) to be saved by its parent. Dumps, not FileFindings: a model's pickle is loaded
    through its __setstate__, ~5 us each in the parent, whose time is the run's (10,000 findings:
    ~50 ms); a dict's in a tenth of that, and the parent validates them all in one call
    (model/findings.file_findings) and stores them in the cache as they are."""
    folder, tool, (start, end), *rest = args
    held = rest[1] if len(rest) > 1 and isinstance(rest[1], HeldStates) else None
    found = [[(f.model_dump(), place) for f, place in part] for part in judge(folder, tool, _FORKED[start:end], *rest)]
    return found, held.kept if held is not None else []


def _even(count: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous runs (start, end) of `count` jobs of about the same length, one per worker (no
    replay to weigh)."""
    size = -(-count // workers)
    return [(k, min(count, k + size)) for k in range(0, count, size)]


class _Worker:
    """A process forked to judge one task (_judge_chunk's), its answer sent back through a pipe.
    Forked by hand, not through multiprocessing's Pool: the pool's start (its module, its threads,
    its queues) cost the 2,000-file set's cold run ~50 ms before any worker judged, and this
    process judges a run of its own meanwhile instead of waiting."""

    def __init__(self, task: tuple):
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the worker: judge, answer, and leave without this process's exit handlers
            os.close(read)
            os._exit(_answer(write, task))
        os.close(write)
        self.read = read

    def result(self):
        """The worker's answer; what it raised is raised here."""
        with os.fdopen(self.read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0  # reaped: nothing left to stop
        if not data:
            raise FluxInternalError(f"a validate worker ended without an answer (wait status {status})")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        return value

    def stop(self) -> None:
        """End a worker whose answer is not wanted (this process failed first)."""
        if self.pid:
            os.kill(self.pid, signal.SIGTERM)
            os.close(self.read)
            os.waitpid(self.pid, 0)
            self.pid = 0


def _answer(write: int, task: tuple) -> int:
    """A worker's part: its task's answer (or what it raised) pickled to the pipe; its exit code."""
    try:
        try:
            answer = (True, _judge_chunk(task))
        except BaseException as exc:  # sent to the parent, which raises it as its own
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle: its text
            import traceback

            data = pickle.dumps((False, FluxInternalError("".join(traceback.format_exception(answer[1])))))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        return 0
    except BaseException:
        return 1


def judge_all(folder: Path, tool: str, jobs: list[Job], saved: Optional[ReplayCache] = None,
              meanwhile: Optional[Callable[[], Optional[ReplayCache]]] = None) -> None:
    """Fill in each job's findings: in this process, or over worker processes when there are
    enough jobs: half of them (at least one) judge the rules that read the schema, each replaying
    the history up to its contiguous run of the jobs (from a saved state where there is one), the
    others the rest of the rules. `meanwhile`, given instead of `saved` where nothing of this code
    is stored yet: what works out the cache's keys (the history's digests) and gives the
    ReplayCache; with workers it runs while they judge, and the replay states they reach are
    saved after (HeldStates)."""
    import threading

    from ..schema.replay import engine as _replay  # noqa: F401  (loaded before forking: the workers share them)
    from . import engine as _lint  # noqa: F401

    jobs = sorted(jobs, key=lambda j: (j.position, j.order))
    workers = jobs_wanted(len(jobs))
    # Worker processes are forked (cheap: the modules are loaded); a process with threads (the MCP
    # server) and a platform without fork judge in-process: forking threads is unsafe, and spawned
    # workers would import everything again.
    with _collector_for_judging():
        if workers <= 1 or threading.active_count() > 1 or not sys.platform.startswith("linux"):
            saved = meanwhile() if meanwhile is not None else saved
            results = judge(folder, tool, jobs, None, saved)
        else:
            schema_runs, plain_runs = _chunks(len(jobs), workers // 2), _even(len(jobs), workers - workers // 2)
            tasks = [(folder, tool, c, "schema", HeldStates() if meanwhile is not None else saved)
                     for c in schema_runs] + [(folder, tool, c, "plain") for c in plain_runs]
            # Each task but the last is a forked worker's; the last (plain rules, the shortest with
            # `meanwhile` beside it) is this process's own.
            _FORKED[:] = jobs
            forked: list[_Worker] = []
            try:
                forked = [_Worker(task) for task in tasks[:-1]]
                saved = meanwhile() if meanwhile is not None else saved
                own = _judge_chunk(tasks[-1])
                parts = [w.result() for w in forked] + [own]
                forked = []
            finally:
                _FORKED.clear()
                for w in forked:
                    w.stop()
            for _, held in parts:
                for position, resumed, state in held if saved is not None else ():
                    saved.keep_saved(position, resumed, state)
            schema_part = [r for part, _ in parts[:len(schema_runs)] for r in part]
            plain_part = [r for part, _ in parts[len(schema_runs):] for r in part]
            results = merged(schema_part, plain_part)
    for job, found in zip(jobs, results):
        job.findings = found
