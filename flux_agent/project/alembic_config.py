"""alembic.ini and pyproject's [tool.alembic] read as alembic reads them (configparser, tomllib), no
project code run: the versions folder each script_location names, in its [alembic] section or in
named sections (`alembic -n NAME`)."""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Optional

from .scan import Found, Scan, inside, join, package_folder


def detect_alembic(scan: Scan) -> Found:
    """The evidence of an alembic.ini (or pyproject's [tool.alembic]) and the versions folder it names."""
    def versions_near(base: PurePosixPath) -> str:
        # A folder named versions beside an env.py is alembic's script folder.
        for d in sorted(scan.dirs, key=lambda p: (len(p.parts), p.as_posix())):
            if d.name == "versions" and (d.parent / "env.py") in scan.names and d.is_relative_to(base):
                return d.as_posix()
        return join(base, "alembic/versions")

    for f in scan.named("alembic.ini"):
        import configparser  # only where there is an alembic.ini: detection runs on every command

        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(scan.read(f))
        except configparser.Error:
            parser = configparser.RawConfigParser()
        evidence, location = [f"{f} exists"], parser.get("alembic", "script_location", fallback="")
        if not location:  # only named sections (`alembic -n NAME`, dispatch's core and tenant): the largest
            named = _alembic_sections(scan, f, parser)
            if named:
                section, location, folder, count = named[0]
                evidence.append(f"its section [{section}] names script_location {location} ({count} revisions)"
                                + (f"; also {', '.join(f'[{n[0]}]' for n in named[1:])}: choose one with "
                                   "migrations_dir" if len(named) > 1 else ""))
                return evidence, folder
        folder = _alembic_versions(scan, f, location)
        if folder is not None and location and not inside(_here(location)):
            evidence.append(f"its script_location {location} is {PurePosixPath(folder).parent}")
        return evidence, folder or versions_near(f.parent)
    for f in scan.named("pyproject.toml"):
        try:  # imported here: a project with no pyproject.toml is most validate runs, which it would cost 3 ms
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        try:
            conf = tomllib.loads(scan.read(f, 1_000_000)).get("tool", {}).get("alembic")
        except tomllib.TOMLDecodeError:
            continue
        if isinstance(conf, dict):
            where = inside(str(conf.get("script_location", "")).replace("%(here)s/", ""))
            folder = join(f.parent, where, "versions") if where else versions_near(f.parent)
            return [f"{f} has [tool.alembic]"], folder
    return [], None


def alembic_folders(scan: Scan) -> list[str]:
    """The versions folder of every script_location an alembic.ini names: its [alembic] section's
    and each named section's (dispatch's core and tenant), each a history of its own."""
    import configparser

    out: list[str] = []
    for f in scan.named("alembic.ini"):
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(scan.read(f))
        except configparser.Error:
            continue
        location = parser.get("alembic", "script_location", fallback="")
        main = _alembic_versions(scan, f, location) if location else None
        out += ([main] if main else []) + [folder for _, _, folder, _ in _alembic_sections(scan, f, parser)]
    return list(dict.fromkeys(out))


def _here(location: str) -> str:
    return location.replace("%(here)s/", "").replace("%(here)s", ".")


def _alembic_versions(scan: Scan, ini: PurePosixPath, location: str) -> Optional[str]:
    """The versions folder of a script_location: a folder beside alembic.ini, or a package's
    (`package:path`, prefect's); None when it names neither."""
    location = _here(location)
    where = inside(location) if location else None
    if where:
        return join(ini.parent, where, "versions")
    resource = package_folder(scan.root / ini.parent, location, scan.root) if location else None
    return join(PurePosixPath(resource.relative_to(scan.root).as_posix()), "versions") if resource else None


def _alembic_sections(scan: Scan, ini: PurePosixPath, parser) -> list[tuple[str, str, str, int]]:
    """(section, its script_location, the versions folder, revisions in it) of each named section
    whose folder is in the project, the one with the most revisions first."""
    out = []
    for section in parser.sections():
        location = parser.get(section, "script_location", fallback="")
        folder = _alembic_versions(scan, ini, location) if location and section != "alembic" else None
        if folder is not None:
            try:  # listed here: the scan stops a few folders down, above most versions folders
                count = sum(1 for n in os.listdir(scan.root / folder) if n.endswith(".py") and n != "__init__.py")
            except OSError:
                count = 0
            out.append((section, location, folder, count))
    return sorted(out, key=lambda n: (-n[3], n[0]))
