"""Project settings: [tool.flux] in pyproject.toml or .flux.yaml at the project
root (DESIGN.md section 5), then flags on top."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import FluxInputError
from ..model.settings import Settings

def _from_files(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = {}
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        if sys.version_info >= (3, 11):  # the TOML parser only where there is a pyproject.toml
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            doc = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise FluxInputError(f"{pyproject}: cannot read TOML: {exc}") from None
        data.update(doc.get("tool", {}).get("flux", {}) or {})
    flux_yaml = project / ".flux.yaml"
    if flux_yaml.is_file():
        import yaml  # only when there is a .flux.yaml: most commands start without it

        try:
            doc = yaml.safe_load(flux_yaml.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise FluxInputError(f"{flux_yaml}: cannot read YAML: {exc}") from None
        if not isinstance(doc, dict):
            raise FluxInputError(f"{flux_yaml}: expected a mapping of settings")
        data.update(doc)
    return data


def load_settings(project: Path, **overrides: Any) -> Settings:
    data = _from_files(project)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise FluxInputError(f"setting {where}: {err['msg']}") from None
