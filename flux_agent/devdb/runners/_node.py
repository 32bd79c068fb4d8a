"""What the Node tools' runners share: finding the project's config and the folder its tool runs
from, the files that key the cache, and running node_driver.cjs (the project's own tool, in the
project's folder, with the scrubbed environment) and turning its outcome into notes or one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ...errors import FluxInputError
from ...project.places import folders_up
from ..program import ToolRun

DRIVER = Path(__file__).with_name("node_driver.cjs")
TIMEOUT_S = int(os.environ.get("FLUX_DEVDB_TOOL_TIMEOUT", "300"))
_SKIP = {"node_modules", ".git", "dist", "build", "coverage", ".next"}
_MAX_FILES = 5_000
_MAX_MESSAGE = 400


def upward(project: Path, start: Path) -> list[Path]:
    """`start` and its parent folders, nearest first, up to the project folder (the project alone
    when `start` is outside it); both resolved, as node sees them."""
    project = project.resolve()
    return folders_up(project, Path(start).resolve()) or [project]


def nearest(project: Path, migrations_dir: str, names: Sequence[str]) -> Optional[Path]:
    """The first of `names` in the migrations folder or a folder above it, nearest first."""
    for folder in upward(project, project / migrations_dir):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return None


def package_root(project: Path, start: Path) -> Path:
    """The folder of the package.json nearest above `start` (the tool's working folder), else the project.
    A package.json that only says how Node loads the files beside it (boxel's migrations/package.json,
    `{"type": "commonjs"}` in an ES-module package) is no package: its folder was taken for the root,
    and the tool ran without the scripts' options (its --ignore-pattern: every file failed)."""
    for folder in upward(project, start):
        if (folder / "package.json").is_file() and not set(package_json(folder)) <= {"type"}:
            return folder
    return project.resolve()


def migration_files(project: Path, migrations_dir: str) -> list[Path]:
    """Every file under the migrations folder (its tool decides which run; any can change the schema)."""
    folder = project / migrations_dir
    found: list[Path] = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP)
        found.extend(Path(here) / f for f in sorted(files))
        if len(found) >= _MAX_FILES:
            break
    return found


def existing(paths: Iterable[Optional[Path]]) -> list[Path]:
    out: dict[Path, None] = {}  # (a dict: in order, each once, found in constant time)
    for p in paths:
        if p is not None and p not in out and p.is_file():
            out[p] = None
    return list(out)


def package_json(root: Path) -> dict:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def installed(root: Path, package: str) -> Optional[Path]:
    """The package.json of `package` as node finds it from `root` (its version keys the cache)."""
    for folder in [root, *root.parents]:
        manifest = folder / "node_modules" / package / "package.json"
        if manifest.is_file():
            return manifest
    return None


def has_typescript(files: Iterable[Path]) -> bool:
    return any(f.suffix in (".ts", ".cts", ".mts") and not f.name.endswith(".d.ts") for f in files)


def run_node(tool: str, job: ToolRun, root: Path, options: dict, package: str) -> list[str]:
    """Run the project's `tool` through node_driver.cjs in `root`; its notes, or one line."""
    node = shutil.which("node", path=job.env.get("PATH") or os.environ.get("PATH"))
    if not node:
        raise FluxInputError(f"node is not installed, and Flux runs the project's own {tool} to read the schema its "
                             f"migrations make: install Node.js and run `npm install` in {root}, or give --database-url")
    with tempfile.TemporaryDirectory(prefix="flux-node-") as tmp:
        result = Path(tmp) / "result.json"
        payload = {"tool": tool, "root": str(root), "migrationsDir": str((job.project / job.migrations_dir).resolve()),
                   "params": job.params, "url": job.url, "marker": job.marker, "result": str(result),
                   "options": {**options, "capture": job.capture} if job.capture else options}
        try:
            if job.talk is None:
                done = subprocess.run([node, str(DRIVER)], cwd=root,
                                      env={**job.env, "FLUX_DEVDB_JOB": json.dumps(payload)}, stdin=subprocess.DEVNULL,
                                      capture_output=True, text=True, errors="replace", timeout=TIMEOUT_S)
                code, said = done.returncode, done.stderr or done.stdout
            else:
                code, said = _talking([node, str(DRIVER)], root, job.env, payload, job.talk, Path(tmp))
        except subprocess.TimeoutExpired:
            raise FluxInputError(f"{tool} did not finish migrating Flux's dev database in {TIMEOUT_S} s "
                                 f"(FLUX_DEVDB_TOOL_TIMEOUT sets the limit); or give --database-url") from None
        try:
            outcome = json.loads(result.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {"ok": False, "kind": "tool", "message": _last_line(said)}
    if outcome.get("ok") and code == 0:
        return [str(n) for n in outcome.get("notes", [])]
    raise FluxInputError(refusal(tool, root, package, outcome))


def _talking(command: list[str], root: Path, env: dict, payload: dict, talk, tmp: Path) -> tuple[int, str]:
    """Run the driver with two pipes to talk over (a batch capture: node_capture.cjs), each JSON line
    it sends given to `talk` and its answer sent back; (exit code, its output). TIMEOUT_S bounds
    each wait for a line (one migration), not the whole batch."""
    import select

    to_us, its_end = os.pipe()
    its_in, to_it = os.pipe()
    payload = {**payload, "options": {**payload["options"],
                                      "capture": {**payload["options"]["capture"], "fds": [its_end, its_in]}}}
    output = tmp / "output.txt"
    try:
        with open(output, "wb") as out:
            proc = subprocess.Popen(command, cwd=root, env={**env, "FLUX_DEVDB_JOB": json.dumps(payload)},
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    pass_fds=(its_end, its_in))
        os.close(its_end)
        os.close(its_in)
        its_end = its_in = -1
        try:
            pending = b""
            while True:
                if b"\n" not in pending:  # (read raw: a buffered reader could hold a line select does not see)
                    if not select.select([to_us], [], [], TIMEOUT_S)[0]:
                        raise subprocess.TimeoutExpired(command, TIMEOUT_S)
                    chunk = os.read(to_us, 1 << 16)
                    if not chunk:
                        break
                    pending += chunk
                    continue
                line, pending = pending.split(b"\n", 1)
                answer = talk(json.loads(line))
                if answer is not None:
                    os.write(to_it, answer.encode() + b"\n")
        except BaseException:
            proc.kill()
            raise
        finally:
            proc.wait()
    finally:
        for fd in (to_us, its_end, its_in, to_it):
            if fd >= 0:
                os.close(fd)
    return proc.returncode, output.read_text(encoding="utf-8", errors="replace")


def refusal(tool: str, root: Path, package: str, outcome: dict) -> str:
    """The one line for a run's failed outcome (node_driver.cjs's result)."""
    kind, message = outcome.get("kind"), _short(str(outcome.get("message") or ""))
    if kind == "missing":
        module = outcome.get("module") or package
        return (f"{message or module + ' is not installed'} in {root} (Flux runs the project's own {tool} to read "
                f"the schema its migrations make): run `npm install` there, or give --database-url")
    if kind == "marker":
        return (f"{tool}: the project's code connected to {outcome.get('where') or 'a database'}, not Flux's dev "
                f"database; stopped before it ran anything there{f' ({message})' if message else ''}. The project's config and "
                "migrations must use the connection the tool is given (the dev database's, there), or give --database-url")
    if kind == "config":
        return f"{tool}: {message}; fix that, or give --database-url"
    return f"{tool} failed migrating Flux's dev database: {message or 'no message'}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip() and not line.strip().startswith("at ")]
    return lines[-1] if lines else "node ended with no output"
