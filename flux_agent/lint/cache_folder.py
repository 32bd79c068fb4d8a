"""Where `flux validate`'s caches live: the user's cache folder, never the project (standard
library only: the `flux` command's first step asks it before importing anything else)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def cache_dir() -> Optional[Path]:
    """The user's cache folder for validate (keys hold the path and bytes, so projects can share
    it); None when turned off (FLUX_VALIDATE_CACHE=off), the variable's value when it names one."""
    env = os.environ.get("FLUX_VALIDATE_CACHE", "")
    if env.lower() in ("off", "0", "no", "false"):
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flux" / "validate"
