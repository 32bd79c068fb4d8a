"""The project's ESLint run with --fix on the JavaScript/TypeScript migrations Flux writes, after its
formatter, as a commit hook's `eslint --fix` would run it: what it mends is kept where the strings in
the file (the SQL) keep their values; what it cannot mend is said, never hidden, and blocks nothing
(the project's lint decides what its errors mean)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..project.places import nearest_node_tool

_TIMEOUT_S = 60  # a first run may load a TypeScript config and plugins
# ESLint's flat configs (ESLint 9 and later), then the legacy ones (8 and before; 9 with ESLINT_USE_FLAT_CONFIG=false).
_CONFIGS = tuple([f"eslint.config.{e}" for e in ("js", "mjs", "cjs", "ts", "mts", "cts")]
                 + [".eslintrc"] + [f".eslintrc.{e}" for e in ("js", "cjs", "yaml", "yml", "json")])
_SAID = 3  # the problems a note names, of those ESLint could not mend


@dataclass(frozen=True)
class Eslint:
    exe: Path  # node_modules/.bin/eslint of the project (or a folder of it)
    cwd: Path  # the folder of the nearest config: ESLint 9 looks for its flat config from the working folder


def _configured(folder: Path) -> bool:
    if any((folder / c).is_file() for c in _CONFIGS):
        return True
    try:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "eslintConfig" in data


def find_eslint(project_dir: Path, rel: str) -> Optional[Eslint]:
    """The ESLint whose config is nearest to `rel` (from its folder up to the project), where its binary
    is in a node_modules/.bin on the way; None when none is configured, or it is not installed."""
    found = nearest_node_tool(Path(project_dir), Path(rel).parent, lambda d: ["eslint"] if _configured(d) else [])
    return Eslint(found[1], found[2]) if found is not None else None


def eslint_fix(eslint: Eslint, project_dir: Path, rel: str, text: str,
               kept) -> tuple[Optional[str], list[str]]:
    """(the text as `eslint --fix` leaves it, or None where ESLint did not run or changed what `kept`
    (the strings' values) reads; the notes: why not, or the errors it could not mend)."""
    path = Path(project_dir).resolve() / rel
    argv = [str(eslint.exe), "--stdin", "--stdin-filename", str(path), "--fix-dry-run", "--format", "json"]
    try:
        done = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True, cwd=eslint.cwd,
                              timeout=_TIMEOUT_S)
        results = json.loads(done.stdout.decode("utf-8", "replace")) if done.returncode in (0, 1) else None
    except subprocess.TimeoutExpired:
        return None, [f"{rel}: ESLint took more than {_TIMEOUT_S} s; not linted"]
    except (OSError, ValueError) as exc:
        return None, [f"{rel}: ESLint did not run ({exc}); not linted"]
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        said = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        return None, [f"{rel}: ESLint exited {done.returncode}" + (f" ({said[0]})" if said else "") + "; not linted"]
    result = results[0]
    fixed = result.get("output", text)  # present only where a fix changed the text
    if kept(fixed) != kept(text):
        return None, [f"{rel}: not linted (ESLint's fixes changed the SQL in the file)"]
    errors = [m for m in result.get("messages", []) if isinstance(m, dict) and m.get("severity") == 2]
    notes = []
    if errors:
        named = "; ".join(f"{m.get('ruleId') or 'parse'} (line {m.get('line', '?')}): {' '.join(str(m.get('message', '')).split())}"
                          for m in errors[:_SAID])
        more = f" and {len(errors) - _SAID} more" if len(errors) > _SAID else ""
        notes.append(f"{rel}: the project's ESLint reports what --fix cannot mend: {named}{more}")
    return fixed, notes
