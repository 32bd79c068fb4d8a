"""Flux: zero-downtime PostgreSQL schema changes, planned, written in the project's own
migration tool, validated and proved on a real PostgreSQL."""

from pathlib import Path


def _source_version() -> str:
    """The version in pyproject.toml: the plugin runs from its source tree without installing it."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(Path(__file__).resolve().parent.parent / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, ValueError):
        return "0.0.0"


def __getattr__(name: str) -> str:
    """__version__, read on first use (importlib.metadata costs a command that never asks ~30 ms)."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("flux-agent")
    except PackageNotFoundError:
        value = _source_version()
    globals()["__version__"] = value
    return value
