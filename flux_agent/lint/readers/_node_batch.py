"""Many Node migrations of a folder read in one run of the project's tool (knex, TypeORM,
sequelize-cli, node-pg-migrate): before `flux validate` reads them one by one, the tool runs them
in its order in one node process, pausing before each (node_capture.cjs's batch) while Flux reads
the schema the file meets from the database; what each file sends is kept where
lint/readers/_node.py's `capture` looks first. Reading a file alone starts node twice (the
migrations before it, then the file, each loading the tool, ts-node and the config: ~1.4 s a run
on Infisical's knex files); the batch, once for the folder. A file the batch did not deliver (it
failed, or the tool does not run it) is read alone as before, which says why."""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from ...devdb.run_memo import memo
from ...errors import FluxInputError
from ...devdb.runners._node import refusal
from ._node import _capture_file, _keep_capture, failed_run, project_root, unbuilt

# The tools whose driver runs a batch: all four Node tools.
BATCH_TOOLS = ("knex", "typeorm", "sequelize", "node-pg-migrate")
MIN_FILES = 2  # a batch of one saves nothing: the file is read alone


def ahead(tool: str) -> Callable[[list[Path], Optional[Path]], None]:
    """The Reader.read_many of a Node tool's reader."""
    return functools.partial(read_many, tool)


def read_many(tool: str, paths: list[Path], project: Optional[Path]) -> None:
    """Capture the files of each folder among `paths` not captured yet, a folder in one run."""
    if tool not in BATCH_TOOLS or os.name != "posix":  # (the driver talks over inherited pipes)
        return
    folders: dict[tuple[Path, Path], list[Path]] = {}
    for path in paths:
        path = path.resolve()
        root = project_root(path, project)
        if root is not None:
            folders.setdefault((root, path.parent), []).append(path)
    for (root, _), files in folders.items():
        try:
            batch(tool, root, files)
        except FluxInputError:
            pass  # the project's tool could not run them together: each file read alone says why


def batch(tool: str, root: Path, files: list[Path]) -> list[Path]:
    """Capture `files` (one folder's) in one run, from the database before the first of them in
    name order; the files it delivered: their captures kept, or (within a validate) how they failed."""
    from ...devdb.before_file import before_file, before_key, build_before
    from ...devdb.build import as_built
    from ...devdb.program import scratch_copy, tool_run
    from ...schema.readers.live import read_live

    failures = memo()
    waiting: dict[str, tuple[Path, str]] = {}  # file -> (where its capture is kept, its key)
    for file in sorted(set(files), key=lambda f: f.name.encode("utf-16-be")):  # knex's order, TypeORM's usually
        try:
            key = before_key(tool, root, file)
            kept = _capture_file(key, file)
        except (FluxInputError, OSError):
            continue
        if not kept.is_file():
            waiting[str(file)] = (kept, key)
    if len(waiting) < MIN_FILES:
        return []
    first = next(iter(waiting))
    done: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="flux-read-") as tmp:
        place = before_file(tool, root, Path(first), Path(tmp) / "capture.json", key=waiting[first][1])
        try:
            build_before(place)
        except FluxInputError as exc:
            unbuilt(tool, root, Path(first), exc)  # the files are said not run, without running the tool again
            raise
        schemas: dict = {}

        def talk(message: dict) -> Optional[str]:
            if "before" in message:  # the file is about to run: the schema it meets
                schemas[message["before"]] = as_built(read_live(url))
                return "go"
            file = message.get("captured") or message.get("failed")
            if file not in waiting or file not in schemas:
                return None
            got = {k: message.get(k) for k in ("queries", "errorLine", "bookkeeping")}
            if "captured" in message:
                _keep_capture(waiting[file][0], {**got, "schema": schemas.pop(file)})
                done.append(Path(file))
            elif failures is not None:  # as reading it alone fails, for this validate only (never kept)
                exc = FluxInputError(refusal(tool, root, tool, {"kind": "tool", "message": message.get("message")}))
                failures.failed_reads[file] = failed_run(tool, Path(file), exc, got, schemas.pop(file))
                done.append(Path(file))
            return None

        with scratch_copy(place.server, place.key, "flux_verify_read") as (url, marker):
            capture = {"phase": "batch", "targets": list(waiting), "target": first, "out": str(place.out)}
            job = replace(tool_run(root, place.folder, url, marker, place.server), talk=talk, capture=capture)
            try:
                place.runner.run(job)
            except FluxInputError:
                pass  # a file failed: those after it are read alone
    return done
