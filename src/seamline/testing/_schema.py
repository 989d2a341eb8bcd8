"""A contract's published JSON Schema, read the way generated tests need it.

Senders build payloads from ``contract.json_schema()``, so that document, not the pydantic
model, is what the generated tests draw valid payloads from and measure rejections against.
Needs the ``testing`` extra (imported by :mod:`seamline.testing._cases` only on demand).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import hypothesis.strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter

from seamline.contracts import Contract

__all__ = ["ANY_JSON", "Node", "PayloadSchema", "json_type"]

Node = dict[str, Any]
"""One (sub)schema of the document."""

_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
"""Small JSON values of every type, for schemas that leave a value unconstrained."""

_DURATIONS = TypeAdapter(timedelta)
# Formats pydantic publishes that hypothesis-jsonschema does not know; left alone it would
# draw arbitrary text for them, and report its own gap as the contract's.
_FORMATS: dict[str, st.SearchStrategy[str]] = {
    "uuid": st.uuids().map(str),
    "duration": st.timedeltas().map(lambda d: str(_DURATIONS.dump_python(d, mode="json"))),
}
_SLACK = 3
"""How far past its minimum size an unbounded array or mapping may grow: varied yet cheap."""


class PayloadSchema:
    """The payload schema of one contract: its validator, its structure, its valid values."""

    def __init__(self, contract: Contract[Any]) -> None:
        schema = contract.json_schema()
        # Metadata, not constraints: `$id` would only rebase references, `x-seamline` is ours.
        schema.pop("$id", None)
        schema.pop("x-seamline", None)
        self.root: Node = schema
        self._validator = Draft202012Validator(schema)
        self._by_ref: dict[str, st.SearchStrategy[Any]] = {}

    def admits(self, node: Node, value: Any) -> bool:
        """Whether ``value`` is valid under ``node`` (references resolve in the whole document)."""
        return bool(self._validator.evolve(schema=node).is_valid(value))

    def resolve(self, node: Node) -> Node:
        """``node`` with its local ``$ref`` followed; sibling keywords are kept."""
        while "$ref" in node:
            target = self.root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
        return node

    def branches(self, node: Node) -> Iterator[Node]:
        """The alternatives of ``node`` (``anyOf`` / ``oneOf`` flattened), each resolved."""
        node = self.resolve(node)
        alternatives = node.get("anyOf") or node.get("oneOf")
        if alternatives is None:
            yield node
            return
        for alternative in alternatives:
            yield from self.branches(alternative)

    def discriminators(self, node: Node) -> set[str]:
        """The properties that pick the member of ``node``'s discriminated unions."""
        node = self.resolve(node)
        found = {node["discriminator"]["propertyName"]} if "discriminator" in node else set()
        for alternative in node.get("anyOf") or node.get("oneOf") or ():
            found |= self.discriminators(alternative)
        return found

    def types(self, node: Node) -> set[str] | None:
        """The JSON types ``node`` can admit, or None when some branch leaves it open."""
        found: set[str] = set()
        for branch in self.branches(node):
            if "type" in branch:
                kinds = branch["type"]
                found.update([kinds] if isinstance(kinds, str) else kinds)
            elif "const" in branch or "enum" in branch:
                found.update(
                    json_type(value) for value in branch.get("enum", [branch.get("const")])
                )
            else:
                return None
        if "number" in found:
            found.add("integer")
        return found

    def payloads(self) -> st.SearchStrategy[dict[str, Any]]:
        """Payloads valid under the published schema."""
        # Keywords the composition below does not interpret (`not`, `dependentRequired`, ...)
        # still hold: anything that slipped through is dropped here, never sent as "valid".
        return self.values(self.root).filter(lambda payload: self.admits(self.root, payload))

    def values(self, node: Node) -> st.SearchStrategy[Any]:
        """Values valid under ``node``.

        Objects and arrays are composed here; scalars go to ``hypothesis_jsonschema``.
        hypothesis-jsonschema 0.23.1 draws objects through a private Hypothesis API
        (``many.more()``) that Hypothesis 6.170.10 removed, so handing it a whole payload
        fails with an AttributeError; scalar schemas never reach that path.
        """
        if "$ref" in node:
            ref = node["$ref"]
            if ref not in self._by_ref:  # deferred, so recursive models terminate
                self._by_ref[ref] = st.deferred(lambda: self.values(self.resolve(node)))
            return self._by_ref[ref]
        alternatives = node.get("anyOf") or node.get("oneOf")
        if alternatives is not None:
            return st.one_of([self.values(alternative) for alternative in alternatives])
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([self.values({**node, "type": one}) for one in kind])
        if kind == "object":
            return self._objects(node)
        if kind == "array":
            return self._arrays(node)
        if kind is None and "enum" not in node and "const" not in node:
            return ANY_JSON
        return from_schema(node, custom_formats=_FORMATS)

    def _objects(self, node: Node) -> st.SearchStrategy[Any]:
        properties: dict[str, Node] = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        if properties or extra is False:
            required = set(node.get("required", ()))
            return st.fixed_dictionaries(
                {name: self.values(sub) for name, sub in properties.items() if name in required},
                optional={
                    name: self.values(sub)
                    for name, sub in properties.items()
                    if name not in required
                },
            )
        least = node.get("minProperties", 0)
        return st.dictionaries(
            from_schema(node.get("propertyNames", {"type": "string"})),
            self.values(extra) if isinstance(extra, dict) else ANY_JSON,
            min_size=least,
            max_size=node.get("maxProperties", least + _SLACK),
        )

    def _arrays(self, node: Node) -> st.SearchStrategy[Any]:
        items = node.get("items", {})
        least = node.get("minItems", 0)
        most = node.get("maxItems", least + _SLACK)
        if "prefixItems" in node:  # a fixed-shape tuple, possibly followed by more items
            head = st.tuples(*(self.values(sub) for sub in node["prefixItems"])).map(list)
            if items is False:
                return head
            tail = st.lists(self.values(items), max_size=_SLACK)
            return st.tuples(head, tail).map(lambda parts: parts[0] + parts[1])
        element = self.values(items) if isinstance(items, dict) else ANY_JSON
        if node.get("uniqueItems"):
            return st.lists(element, min_size=least, max_size=most, unique_by=_canonical).filter(
                lambda value: self.admits(node, value)
            )
        return st.lists(element, min_size=least, max_size=most)


def json_type(value: Any) -> str:
    """The JSON type name of a Python value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
