"""`flux validate --format text|json|github`: findings as lines for a person, as JSON, or as GitHub
Actions workflow commands (annotations on the pull request's lines); SARIF is report_sarif.py's.
Kept in entry/, not lint/: lint/'s source is part of validate's cache key, and how findings are
printed changes no finding."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Literal, Optional, Sequence

from ..model.findings import FileFinding

Format = Literal["text", "json", "sarif", "github"]


def relative(path: str, cwd: Path, working: Optional[Path] = None) -> Optional[str]:
    """`path` (relative to `working`, else to `cwd`) as a POSIX path under `cwd`, or None when it lies
    outside."""
    p = Path(path)
    if not p.is_absolute():
        p = (working or cwd) / p
    try:
        rel = Path(os.path.normpath(p)).relative_to(os.path.normpath(cwd))
    except ValueError:
        return None
    return PurePosixPath(*rel.parts).as_posix()


def checkout_root(cwd: Optional[Path] = None) -> Path:
    """The folder the repository is checked out in, which GitHub resolves an annotation's or a SARIF
    result's path in: $GITHUB_WORKSPACE in Actions, else the nearest folder holding .git above the
    working folder, else the working folder (netbox's manage.py sits in netbox/: paths relative to
    it attached to no line of the pull request)."""
    here = Path(cwd or Path.cwd()).absolute()
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and relative(str(here), Path(workspace).absolute()) is not None:
        return Path(workspace).absolute()
    return next((d for d in (here, *here.parents) if (d / ".git").exists()), here)


def message(f: FileFinding) -> str:
    return f"{f.message} ({f.hint})" if f.hint else f.message


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(findings: Sequence[FileFinding], cwd: Optional[Path] = None) -> list[str]:
    """One workflow command a finding: `::error file=...,line=...,title=...::message`, the path
    relative to the checkout (checkout_root), where GitHub places annotations."""
    here = Path(cwd or Path.cwd()).absolute()
    root = checkout_root(here)
    lines = []
    for f in findings:
        path = relative(f.path, root, here) or f.path
        props = f"file={_escape_property(path)},line={max(1, f.line)},title={_escape_property('flux ' + f.rule)}"
        lines.append(f"::{f.severity} {props}::{_escape_data(message(f))}")
    return lines


def text_lines(findings: Sequence[FileFinding], checked: int) -> list[str]:
    """One line per finding, then the count."""
    out = [f"{f.path}:{f.line}: {f.severity} {f.rule}: {f.message}{f' ({f.hint})' if f.hint else ''}" for f in findings]
    errors = sum(f.severity == "error" for f in findings)
    dirty = len({f.path for f in findings})
    out.append(f"{checked} file(s) checked, {dirty} with findings: {errors} error(s), {len(findings) - errors} warning(s)")
    return out


def json_lines(findings: Sequence[FileFinding]) -> str:
    """A JSON list, one finding per line: as readable as indented JSON for a list of flat findings,
    and printed by pydantic's own serializer (json's indent= takes the pure-Python encoder: 0.2 s
    for 10,000 findings; model_dump then json.dumps 45 ms, model_dump_json 18 ms, the model's
    serializer called without model_dump_json's keyword handling 11 ms)."""
    if not findings:
        return "[]"
    to_json = FileFinding.__pydantic_serializer__.to_json
    return "[\n  " + ",\n  ".join([to_json(f).decode() for f in findings]) + "\n]"
