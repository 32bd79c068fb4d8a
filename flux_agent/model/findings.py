"""What `flux validate` reports of a migration file: one finding per rule broken (DESIGN.md
section 3), apart from the plan models so the validator loads without them."""

from __future__ import annotations

from pydantic import BaseModel

from .terms import Severity


class FileFinding(BaseModel):
    """One finding of `flux validate` (DESIGN.md section 3)."""

    path: str
    line: int
    rule: str
    severity: Severity
    message: str
    hint: str = ""
