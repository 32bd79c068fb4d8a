"""A request model's JSON schema as the tools publish it: pydantic's schema with what costs a
model's context and says nothing taken out, checked to suit the MCP and Messages APIs.

Taken out: `title` (the property name says it), the `null` branch and `default: null` of an
optional field (not required already says it may be left out), the discriminator mapping and
the `type` beside a `const` (each operation's `op` says both). A property schema repeated
three times or more (`table`, `column`, ...) is stated once in $defs and referenced.
Everything that constrains or explains stays.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pydantic import BaseModel


def tool_input_schema(model: type[BaseModel]) -> dict:
    schema = _shared(_compact(model.model_json_schema()))
    if schema.get("type") != "object" or any(k in schema for k in ("oneOf", "anyOf", "allOf")):
        raise TypeError(f"{model.__name__}: a tool input schema must be a plain object schema")
    _check_refs(model.__name__, schema, schema.get("$defs", {}))
    return schema


def _compact(node: Any) -> Any:
    if isinstance(node, list):
        return [_compact(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict = {}
    for key, value in node.items():
        if key in ("title", "discriminator"):
            continue
        if key in ("properties", "$defs"):  # keys here are names, not schema keywords
            out[key] = {name: _compact(sub) for name, sub in value.items()}
        else:
            out[key] = _compact(value)
    if "const" in out:
        out.pop("type", None)
    branches = out.get("anyOf")
    if isinstance(branches, list) and out.get("default", 0) is None:
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:  # an optional field: its one real type
            del out["anyOf"], out["default"]
            out = {**kept[0], **out}
    return out


def _shared(schema: dict, times: int = 3, longer_than: int = 40) -> dict:
    """Each property schema used `times` or more (same name, same schema) moved to $defs under its
    property name, where no definition has that name already."""
    counts: Counter = Counter()
    _properties(schema, lambda name, sub: counts.update([(name, _key(sub))]))
    defs = dict(schema.get("$defs", {}))
    hoisted = {}
    for (name, key), n in counts.items():
        if n >= times and len(key) > longer_than and name not in defs and name not in hoisted:
            hoisted[name] = key
    if not hoisted:
        return schema

    def refer(node: Any) -> Any:
        if isinstance(node, list):
            return [refer(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "properties":
                out[key] = {n: {"$ref": f"#/$defs/{n}"} if hoisted.get(n) == _key(sub) else refer(sub)
                            for n, sub in value.items()}
            elif key == "$defs":
                out[key] = {n: refer(sub) for n, sub in value.items()}
            else:
                out[key] = refer(value)
        return out

    out = refer(schema)
    out["$defs"] = {**out.get("$defs", {}), **{n: json.loads(k) for n, k in hoisted.items()}}
    return out


def _properties(node: Any, visit) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                for name, sub in value.items():
                    visit(name, sub)
                    _properties(sub, visit)
            elif key == "$defs":
                for sub in value.values():
                    _properties(sub, visit)
            else:
                _properties(value, visit)
    elif isinstance(node, list):
        for value in node:
            _properties(value, visit)


def _key(sub: Any) -> str:
    return json.dumps(sub, sort_keys=True, separators=(",", ":"))


def _check_refs(name: str, node: Any, defs: dict) -> None:
    """Only local refs that resolve in $defs: the Messages API refuses others."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None and not (isinstance(ref, str) and ref.startswith("#/$defs/")
                                    and ref[len("#/$defs/"):] in defs):
            raise TypeError(f"{name}: unresolvable $ref {ref!r}")
        for value in node.values():
            _check_refs(name, value, defs)
    elif isinstance(node, list):
        for value in node:
            _check_refs(name, value, defs)
