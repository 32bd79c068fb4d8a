"""Flux: zero-downtime PostgreSQL schema changes, planned, written in the project's own
migration tool, validated and proved on a real PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version as _installed

try:
    __version__ = _installed("flux-agent")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0"
