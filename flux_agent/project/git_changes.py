"""The files of a git repository added or changed since a ref (`flux validate --since`), read by
running `git` itself: the working tree against the merge base of the ref and HEAD, plus untracked
files, so what CI checks out and what a developer has not committed yet are both seen."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pydantic import BaseModel

from ..errors import FluxInputError, one_line


class GitChanges(BaseModel):
    """What `--since REF` selects: files (absolute, resolved) that exist now and differ from `base`."""

    root: Path
    ref: str
    base: str  # the commit compared with: the merge base of ref and HEAD, else ref itself
    files: frozenset[Path]


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise FluxInputError("--since needs git on the PATH") from None
    except subprocess.TimeoutExpired:
        raise FluxInputError(f"--since: git {args[0]} did not answer in 120 s in {root}") from None
    if check and done.returncode != 0:
        said = one_line(done.stderr.decode(errors="replace"))[:300] or f"exit {done.returncode}"
        raise FluxInputError(f"--since: git {args[0]} failed in {root}: {said}")
    return done


def changed_since(ref: str, where: Path) -> GitChanges:
    """The files changed since `ref` in the repository holding `where`. Deleted files are left out
    (nothing to judge); a rename counts as a new file (--no-renames), so a moved migration is
    judged again at its new place in the history."""
    if not ref or ref.startswith("-"):  # never let a ref be read as one of git's options
        raise FluxInputError(f"--since {ref!r}: not a git ref (a branch, tag or commit, e.g. origin/main)")
    probe = _git(where, "rev-parse", "--show-toplevel", check=False)
    if probe.returncode != 0:
        said = one_line(probe.stderr.decode(errors="replace"))[:300]
        raise FluxInputError(f"--since needs a git repository: {where} is not in one ({said})")
    root = Path(probe.stdout.decode().strip())
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if commit.returncode != 0:
        raise FluxInputError(f"--since {ref!r}: no such commit in {root} (in CI, fetch it first: "
                             f"actions/checkout with fetch-depth: 0, or git fetch origin main)")
    target = commit.stdout.decode().strip()
    # The merge base: a pull request's own changes, not what landed on the ref meanwhile. Without one
    # (a shallow clone, an unborn HEAD, unrelated histories) the ref itself, which can only add files.
    merge = _git(root, "merge-base", target, "HEAD", check=False)
    base = merge.stdout.decode().strip() if merge.returncode == 0 else target
    # -z: names as git stores them (no quoting of unusual characters); no external diff or textconv.
    diff = _git(root, "diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv",
                "--diff-filter=d", base, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    names = [n for out in (diff.stdout, untracked.stdout) for n in out.decode(errors="surrogateescape").split("\0") if n]
    files = frozenset((root / n).resolve() for n in names)
    return GitChanges(root=root, ref=ref, base=base, files=files)
