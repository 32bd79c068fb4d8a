"""A project's schema from its dev database: the sources for its tool, built (or found in
the cache) on the dev server, read back from PostgreSQL's catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..model.settings import Settings
from ..project.detect import Detection
from .build import Built, build, cached, inputs_hash
from .server import binaries_major, dev_server
from .program import program_schema
from .sources import created_extensions, pending_scripts, project_scripts, schema_file_scripts

# A pending migration run on top of a schema file may already show in it (a model edited with the
# migration): its statements failing so are no news.
_SHOWN = ("already exists", "does not exist")


def dev_key(scripts, settings: Settings, tool: str) -> tuple[str, Optional[int]]:
    """The cache key of a build: the scripts, the tool, and which server builds them."""
    if settings.dev_url:
        return inputs_hash(scripts, None, f"{tool} dev_url"), None
    major = binaries_major(settings)
    return inputs_hash(scripts, major, tool), major


def project_schema(project: Path, found: Detection, settings: Settings) -> Optional[Built]:
    """The project's schema as PostgreSQL builds it from the project's own files, or None
    where the tool's schema is not built from files."""
    scripts = project_scripts(project, found)
    if scripts is None:  # migrations in program code: the project's own tool runs them
        return program_schema(project, found, settings)
    built = _built(scripts, settings, found.tool)
    if found.tool == "prisma" and any("skipped" in n for n in built.notes):
        # A history that does not start at the beginning (projects squash or trim old migrations)
        # cannot build the schema; schema.prisma, prisma's own source of truth, can.
        # ... with the migrations Flux wrote since prisma's last one on top: prisma has not seen them.
        pending = pending_scripts(project, found)
        from_file = _built(schema_file_scripts(project, "prisma", created_extensions(scripts)) + pending,
                           settings, found.tool)
        from_file.notes = [f"the migration history does not build the schema ({built.notes[0]}); "
                           "read schema.prisma instead"] + _quiet(from_file.notes, pending)
        return from_file
    if found.tool == "rails" or (scripts and scripts[0].name == "prisma schema file (as DDL)"):
        built.notes = _quiet(built.notes, pending_scripts(project, found))
    return built


def _quiet(notes: list[str], pending) -> list[str]:
    """`notes` without the pending scripts' statements that failed for being shown already."""
    names = {f"{s.name}:" for s in pending}
    return [n for n in notes if not (any(n.startswith(p) for p in names) and any(w in n for w in _SHOWN))]


def _built(scripts, settings: Settings, tool: str) -> Built:
    key, major = dev_key(scripts, settings, tool)
    known = cached(key)
    if known is not None:
        return known
    server = dev_server(settings.dev_url, major or settings.pg_version)
    return build(server, scripts, key)
