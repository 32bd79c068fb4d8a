"""`flux validate --format sarif`: the findings as a SARIF 2.1.0 log for code scanning, in a
module of its own so the other formats load no SARIF model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional, Sequence
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..model.findings import FileFinding
from .report_formats import checkout_root, message, relative

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/flux-migrate/flux"
SRCROOT = "SRCROOT"  # the uriBaseId of paths under the working folder (code scanning: the checkout)


class _Sarif(BaseModel):
    """SARIF's property names are camelCase; unset optional properties are left out. Built on
    first use (defer_build): a log uses a few of the thirteen."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


class Message(_Sarif):
    text: str


class ReportingConfiguration(_Sarif):
    level: Literal["error", "warning", "note", "none"]


class ReportingDescriptor(_Sarif):
    id: str
    name: Optional[str] = None
    short_description: Message
    help: Optional[Message] = None
    default_configuration: ReportingConfiguration


class ToolComponent(_Sarif):
    name: str
    version: Optional[str] = None
    information_uri: str
    rules: list[ReportingDescriptor]


class Tool(_Sarif):
    driver: ToolComponent


class ArtifactLocation(_Sarif):
    uri: str
    uri_base_id: Optional[str] = None


class Region(_Sarif):
    start_line: int = Field(ge=1)


class PhysicalLocation(_Sarif):
    artifact_location: ArtifactLocation
    region: Region


class Location(_Sarif):
    physical_location: PhysicalLocation


class Result(_Sarif):
    rule_id: str
    rule_index: int
    level: Literal["error", "warning"]
    message: Message
    locations: list[Location]


class Run(_Sarif):
    tool: Tool
    original_uri_base_ids: dict[str, ArtifactLocation]
    results: list[Result]


class SarifLog(_Sarif):
    schema_: str = Field(SARIF_SCHEMA, alias="$schema")
    version: Literal["2.1.0"] = "2.1.0"
    runs: list[Run]

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True, indent=2)


def sarif_log(findings: Sequence[FileFinding], cwd: Optional[Path] = None, version: Optional[str] = None) -> SarifLog:
    """One run of the `flux` driver: a rule descriptor for each rule found (its declared message
    and hint, where the rule is declared), each finding a result at its file and line; paths under
    the checkout (report_formats.checkout_root) relative to SRCROOT, which code scanning resolves
    there, others file:// URIs."""
    from ..lint.rules import BY_ID  # the declared rules, loaded already by the judging

    here = Path(cwd or Path.cwd()).absolute()
    cwd = checkout_root(here)
    rules: list[ReportingDescriptor] = []
    index: dict[str, int] = {}
    results: list[Result] = []
    for f in findings:
        if f.rule not in index:
            declared = BY_ID.get(f.rule)
            index[f.rule] = len(rules)
            # The engine's own ids (syntax-error, not-analysed, trace-*) have no declaration: their first message.
            rules.append(ReportingDescriptor(
                id=f.rule, name=f.rule,
                short_description=Message(text=declared.message if declared else f.message),
                help=Message(text=declared.hint) if declared else (Message(text=f.hint) if f.hint else None),
                default_configuration=ReportingConfiguration(level=declared.severity if declared else f.severity)))
        rel = relative(f.path, cwd, here)
        where = (ArtifactLocation(uri=quote(rel), uri_base_id=SRCROOT) if rel is not None
                 else ArtifactLocation(uri=Path(os.path.abspath(here / f.path)).as_uri()))
        results.append(Result(rule_id=f.rule, rule_index=index[f.rule], level=f.severity,
                              message=Message(text=message(f)),
                              locations=[Location(physical_location=PhysicalLocation(
                                  artifact_location=where, region=Region(start_line=max(1, f.line))))]))
    root = ArtifactLocation(uri=cwd.as_uri().rstrip("/") + "/")  # a base URI ends with a slash (SARIF 3.14.14)
    driver = ToolComponent(name="flux", version=version, information_uri=INFORMATION_URI, rules=rules)
    return SarifLog(runs=[Run(tool=Tool(driver=driver), original_uri_base_ids={SRCROOT: root}, results=results)])
