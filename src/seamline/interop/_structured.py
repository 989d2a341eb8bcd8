"""Structured outputs: a contract's JSON Schema as an OpenAI ``response_format``.

With ``"strict": true`` the server decodes only JSON that fits the schema, so a model cannot
answer with a missing field or a reason outside the enum. Strict mode takes a subset of JSON
Schema, though: a root that is an object, every object closed (``additionalProperties:
false``) with every property required, no ``allOf``/``not``/conditionals, and only some
validation keywords (OpenAI's structured-outputs guide lists them).

A contract's schema is narrowed into that subset when narrowing keeps its meaning: closing
objects and requiring every field only makes the model state values it could have left to a
default, and keywords the subset lacks (``maxLength``...) are dropped from what guides
decoding while the reply is still validated against the whole contract. A schema whose
meaning narrowing would change (a free-form map, a value of any type) is sent non-strict,
with the reason. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from seamline.exceptions import ConfigurationError

__all__ = ["ResponseSchema", "response_schema"]

_KEPT = frozenset(
    {
        "type", "title", "description", "properties", "required", "additionalProperties",
        "items", "enum", "const", "anyOf", "$ref", "$defs", "pattern", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
    }
)  # fmt: skip
"""Keywords strict mode reads; any other keyword is dropped from the strict copy."""
_UNSUPPORTED = {
    "not": "a negation, not",
    "if": "a conditional, if/then/else",
    "then": "a conditional, if/then/else",
    "else": "a conditional, if/then/else",
    "dependentRequired": "dependent fields, dependentRequired",
    "dependentSchemas": "dependent schemas, dependentSchemas",
    "patternProperties": "keys matched by pattern, patternProperties",
    "prefixItems": "a tuple, prefixItems",
}
"""Keywords whose meaning strict mode cannot carry: such a schema goes non-strict."""
_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_SHAPED = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")
_META = ("$id", "$schema", "x-seamline")
"""The registry's annotations: the model needs the shape, not the governance record."""


@dataclass(frozen=True, slots=True)
class ResponseSchema:
    """What a model is asked to answer with: a schema, strict when it can be."""

    name: str
    """The ``json_schema`` name (letters, digits, ``_`` and ``-``; at most 64)."""
    description: str
    loose: dict[str, Any]
    """The contract's own schema, sent when strict mode cannot carry it."""
    narrowed: dict[str, Any] | None
    """The strict-compatible copy; None when the schema goes non-strict."""
    reason: str | None = None
    """Why the schema goes non-strict, when strict was wanted."""

    @property
    def strict(self) -> bool:
        """Whether the server is asked to decode strictly against the schema."""
        return self.narrowed is not None

    def response_format(self) -> dict[str, Any]:
        """The chat-completions ``response_format`` argument."""
        json_schema: dict[str, Any] = {
            "name": self.name,
            "schema": self.narrowed if self.narrowed is not None else self.loose,
            "strict": self.strict,
        }
        if self.description:
            json_schema["description"] = self.description
        return {"type": "json_schema", "json_schema": json_schema}

    def without_strict(self, reason: str) -> ResponseSchema:
        """The same schema sent non-strict, e.g. after a server refused the strict copy."""
        return replace(self, narrowed=None, reason=reason)


def response_schema(
    name: str, description: str, schema: dict[str, Any], *, strict: bool | None
) -> ResponseSchema:
    """``schema`` (a contract's or a result model's JSON Schema) as a response format.

    ``strict``: True insists on strict mode (ConfigurationError naming each obstacle when the
    schema cannot be narrowed); None uses it when possible; False never does.
    """
    loose = {key: value for key, value in schema.items() if key not in _META}
    label = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]
    if strict is False:
        return ResponseSchema(label, description, loose, None)
    narrowing = _Narrowing(loose)
    narrowed = narrowing.root()
    if not narrowing.obstacles:
        return ResponseSchema(label, description, loose, narrowed)
    reason = "strict structured outputs cannot carry " + "; ".join(narrowing.obstacles)
    if strict:
        raise ConfigurationError(
            f"{name}: {reason}. Change the model, or pass strict=None to send it non-strict "
            "(the reply is still validated against the contract)"
        )
    return ResponseSchema(label, description, loose, None, reason)


class _Narrowing:
    """One walk over a schema, building its strict copy and noting what blocks one."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.obstacles: list[str] = []
        self._inlining: set[str] = set()

    def root(self) -> dict[str, Any]:
        narrowed = self.node(self.schema, "#")
        if narrowed and ("anyOf" in narrowed or not _is_object(narrowed)):
            self.obstacles.append("# (a root that is not one object)")
        return narrowed

    def node(self, node: Any, path: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.obstacles.append(f"{path} (a boolean schema)")
            return {}
        ref = node.get("$ref")
        if ref is not None:
            return self._ref(node, ref, path)
        rest = {k: v for k, v in node.items() if k not in ("allOf", "oneOf")}
        if "allOf" in node:
            if len(node["allOf"]) != 1:
                self.obstacles.append(f"{path} (an intersection, allOf)")
                return {}
            return self.node({**node["allOf"][0], **rest}, path)
        if "oneOf" in node:  # pydantic's tagged unions: the tags keep the branches apart
            rest["anyOf"] = node["oneOf"]
        if not any(key in rest for key in _SHAPED):
            self.obstacles.append(f"{path} (a value of any type)")
            return {}
        narrowed: dict[str, Any] = {}
        for key, value in rest.items():
            if key in _UNSUPPORTED:
                self.obstacles.append(f"{path} ({_UNSUPPORTED[key]})")
            elif key in _KEPT and (key != "format" or value in _FORMATS):
                narrowed[key] = value
        self._children(narrowed, path)
        return narrowed

    def _children(self, narrowed: dict[str, Any], path: str) -> None:
        for key in ("properties", "$defs"):
            if key in narrowed:
                narrowed[key] = {
                    name: self.node(sub, f"{path}/{key}/{name}")
                    for name, sub in narrowed[key].items()
                }
        if "anyOf" in narrowed:
            narrowed["anyOf"] = [
                self.node(sub, f"{path}/anyOf/{index}")
                for index, sub in enumerate(narrowed["anyOf"])
            ]
        if "items" in narrowed:
            narrowed["items"] = self.node(narrowed["items"], f"{path}/items")
        elif "array" in _types(narrowed):
            self.obstacles.append(f"{path} (an array of any items)")
        if _is_object(narrowed):
            if narrowed.get("additionalProperties", False) is not False:
                self.obstacles.append(f"{path} (keys it does not name, additionalProperties)")
            elif not narrowed.get("properties"):
                self.obstacles.append(f"{path} (an object that names no properties)")
            narrowed["additionalProperties"] = False
            narrowed["required"] = list(narrowed.get("properties", {}))

    def _ref(self, node: dict[str, Any], ref: Any, path: str) -> dict[str, Any]:
        target = self._resolve(ref)
        if target is None:
            self.obstacles.append(f"{path} (a reference outside the schema, {ref})")
            return {}
        if len(node) == 1:
            return {"$ref": ref}
        # A $ref beside other keywords (pydantic puts a field's description there) is
        # inlined, as strict mode reads a $ref alone.
        if ref in self._inlining:
            self.obstacles.append(f"{path} (a recursive reference with siblings, {ref})")
            return {}
        self._inlining.add(ref)
        try:
            return self.node({**target, **{k: v for k, v in node.items() if k != "$ref"}}, path)
        finally:
            self._inlining.discard(ref)

    def _resolve(self, ref: Any) -> dict[str, Any] | None:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return None
        found = self.schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
        return found if isinstance(found, dict) else None


def _types(node: dict[str, Any]) -> list[Any]:
    kind = node.get("type")
    return kind if isinstance(kind, list) else [kind]


def _is_object(node: dict[str, Any]) -> bool:
    return "object" in _types(node) or "properties" in node
