"""A `.env` file read as dotenv and env-cmd read it: `KEY=value` lines, `export ` allowed, quoted values
whole, a ` #` comment after an unquoted one."""

from __future__ import annotations

from pathlib import Path


def parse(text: str) -> dict[str, str]:
    """The variables `text` sets, in order."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key.isidentifier() or line.startswith("#"):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
            value = value[1:-1].replace("\\n", "\n") if value[0] == '"' else value[1:-1]
        else:
            value = value.split(" #", 1)[0].rstrip()
        out[key] = value
    return out


def read(folder: Path) -> dict[str, str]:
    """What `folder`'s .env sets; {} where there is none."""
    try:
        return parse((folder / ".env").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}
