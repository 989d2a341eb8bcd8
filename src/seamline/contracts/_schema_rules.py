"""The vocabulary of the compatibility rules and the JSON Schema subset they read.

:data:`RULES` names every rule id and whether it breaks; :class:`Finding` is one result.
:func:`load` reads a schema into a small normalized model: every subschema becomes a set of
branches, one per JSON type it admits (``anyOf``/``oneOf`` branches, ``type`` lists and
``enum`` values all end up there), and ``$ref`` stays a pointer into the document's
definitions. Loading is where unsupported keywords and malformed values are refused, so a
comparison never silently skips a constraint it does not understand. ``oneOf`` is read as
``anyOf``, which is exact for pydantic's discriminated unions (their branches never overlap).

The comparison itself lives in :mod:`seamline.contracts.compatibility`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final, TypeAlias
from urllib.parse import unquote

from seamline.exceptions import ContractError

__all__ = [
    "ANY",
    "RULES",
    "Branch",
    "Choice",
    "Document",
    "Finding",
    "Limit",
    "Node",
    "Ref",
    "branch_admits",
    "contains",
    "escape",
    "item_at",
    "load",
    "options",
    "show",
    "strictness",
]

_BOUNDED: Final = (
    "MINIMUM",
    "EXCLUSIVE_MINIMUM",
    "MAXIMUM",
    "EXCLUSIVE_MAXIMUM",
    "MIN_LENGTH",
    "MAX_LENGTH",
    "MIN_ITEMS",
    "MAX_ITEMS",
    "MIN_PROPERTIES",
    "MAX_PROPERTIES",
)
_TIGHTER: Final = frozenset({"ADDED", "TIGHTENED", "CHANGED"})
_CONSTRAINT_VERBS: Final[Mapping[str, tuple[str, ...]]] = {
    **dict.fromkeys(_BOUNDED, ("ADDED", "TIGHTENED", "LOOSENED", "REMOVED")),
    "MULTIPLE_OF": ("ADDED", "TIGHTENED", "CHANGED", "LOOSENED", "REMOVED"),
    "PATTERN": ("ADDED", "CHANGED", "REMOVED"),
    "FORMAT": ("ADDED", "CHANGED", "REMOVED"),
    "UNIQUE_ITEMS": ("ADDED", "REMOVED"),
}

RULES: Final[Mapping[str, bool]] = MappingProxyType(
    {
        "TYPE_CHANGED": True,
        "TYPE_NARROWED": True,
        "TYPE_WIDENED": False,
        "ENUM_ADDED": True,
        "ENUM_VALUE_REMOVED": True,
        "CONST_CHANGED": True,
        "VALUE_REJECTED": True,
        "ENUM_VALUE_ADDED": False,
        "ENUM_REMOVED": False,
        "REQUIRED_PROPERTY_ADDED": True,
        "PROPERTY_MADE_REQUIRED": True,
        "PROPERTY_REMOVED_FROM_CLOSED_MODEL": True,
        "ADDITIONAL_PROPERTIES_FORBIDDEN": True,
        "UNION_NARROWED": True,
        "OPTIONAL_PROPERTY_ADDED": False,
        "OPTIONAL_PROPERTY_ADDED_WITH_DEFAULT": False,
        "PROPERTY_MADE_OPTIONAL": False,
        "PROPERTY_REMOVED": False,
        "CONTENT_MODEL_CLOSED": False,
        "CONTENT_MODEL_OPENED": False,
        **{
            f"{family}_{verb}": verb in _TIGHTER
            for family, verbs in _CONSTRAINT_VERBS.items()
            for verb in verbs
        },
    }
)
"""Every rule id the checker reports, and whether it is breaking (the same in every context)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between a writer's and a reader's schema that matters for the data."""

    rule: str
    """Stable UPPER_SNAKE rule id, e.g. ``REQUIRED_PROPERTY_ADDED``; see :data:`RULES`."""
    path: str
    """JSON pointer into the reader's schema as walked from its root (``""`` is the root)."""
    message: str
    """What changed and, when it breaks, how to fix it."""
    breaking: bool
    """True when some data valid under the writer may be rejected by the reader."""

    def __str__(self) -> str:
        return f"{self.rule} at {self.path or '/'}: {self.message}"


# --- the normalized model ------------------------------------------------------------------

_KINDS: Final = ("null", "boolean", "number", "string", "array", "object")
_TYPE_NAMES: Final = frozenset({*_KINDS, "integer"})
_SIZED: Final = frozenset({"string", "array", "object"})
# annotations and containers: they never decide whether a value is valid
_IGNORED: Final = (
    frozenset({"title", "description", "examples", "default", "deprecated", "$comment"})
    | frozenset({"readOnly", "writeOnly", "$id", "$schema", "$anchor", "$defs", "definitions"})
    | frozenset({"contentMediaType", "contentEncoding", "contentSchema"})
    | frozenset({"discriminator"})  # OpenAPI's hint for a oneOf; the branches already say it all
)
_SUPPORTED: Final = (
    frozenset({"type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf"})
    | frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
    | frozenset({"minLength", "maxLength", "pattern", "format"})
    | frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"})
    | frozenset({"properties", "required", "additionalProperties"})
    | frozenset({"minProperties", "maxProperties"})
)


@dataclass(frozen=True, slots=True)
class Limit:
    """A numeric limit as written (``keyword`` and ``shown``) and as an exact fraction."""

    keyword: str
    exact: Fraction
    shown: int | float
    exclusive: bool = False

    def __str__(self) -> str:
        return f"{self.keyword} {self.shown}"


@dataclass(frozen=True, slots=True, eq=False)
class Ref:
    target: str
    """Pointer of a definition, e.g. ``/$defs/Address``."""


@dataclass(frozen=True, slots=True, eq=False)
class Branch:
    """The part of a schema that admits one JSON type; only that type's fields are set."""

    kind: str
    origin: str
    """Where the branch was written in its document: with ``kind``, its identity."""
    values: tuple[Any, ...] | None = None
    integer: bool = False
    lower: Limit | None = None
    upper: Limit | None = None
    multiple_of: Limit | None = None
    pattern: re.Pattern[str] | None = None
    format: str | None = None
    unique: bool = False
    items: Node | None = None
    prefix_items: tuple[Node, ...] = ()
    properties: Mapping[str, Node] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    defaults: frozenset[str] = frozenset()
    additional: Node | None = None
    """What undeclared properties may hold; ``None`` (anything) when the keyword is absent."""
    lenient: bool = False
    """Declares ``properties`` and says nothing of others: as a writer, it sends no others."""


@dataclass(frozen=True, slots=True, eq=False)
class Choice:
    """A value is valid when one option admits it; each option keeps its pointer suffix."""

    options: tuple[tuple[str, Branch | Ref], ...]


Node: TypeAlias = "Choice | Ref"
ANY: Final = Choice(tuple(("", Branch(kind, origin="true")) for kind in _KINDS))
_NOTHING: Final = Choice(())


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded schema: its root and its definitions by pointer (``/$defs/Name``)."""

    root: Node
    definitions: Mapping[str, Node]


def escape(name: str) -> str:
    """A property or definition name as one JSON-pointer segment."""
    return name.replace("~", "~0").replace("/", "~1")


def load(schema: object, label: str) -> Document:
    """Read a schema into the normalized model, refusing what the rules cannot judge."""
    if not isinstance(schema, Mapping):
        raise ContractError(
            f"{label} is a {type(schema).__name__}, not a JSON Schema object; "
            "pass the dict that model_json_schema() returns"
        )
    try:
        raw_definitions: dict[str, object] = {}
        for container in ("$defs", "definitions"):
            found = schema.get(container, {})
            if not isinstance(found, Mapping) or not all(isinstance(k, str) for k in found):
                raise ContractError(
                    f"{label}: {container} must map definition names to schemas; "
                    "fix the schema or regenerate it with model_json_schema()"
                )
            for name, definition in found.items():
                raw_definitions[f"/{container}/{escape(name)}"] = definition
        loader = _Loader(label, frozenset(raw_definitions))
        definitions = {at: loader.node(raw, at) for at, raw in raw_definitions.items()}
        return Document(loader.node(schema, ""), definitions)
    except RecursionError:
        raise ContractError(
            f"{label} nests too deeply or contains itself as a Python object; "
            "use $defs and $ref for recursive structures"
        ) from None


@dataclass(frozen=True, slots=True)
class _Loader:
    """Reads one document; ``label`` names it in errors, ``targets`` are its definitions."""

    label: str
    targets: frozenset[str]

    def fail(self, at: str, problem: str, fix: str) -> ContractError:
        return ContractError(f"{self.label}: {problem} at {at or '/'}; {fix}")

    def node(self, raw: object, at: str) -> Node:
        if isinstance(raw, bool):
            return ANY if raw else _NOTHING
        if not isinstance(raw, Mapping):
            raise self.fail(
                at,
                f"a schema must be an object or a boolean, not {type(raw).__name__}",
                "write a JSON Schema object there",
            )
        keywords = self.assertions(raw, at)
        if "$ref" in keywords:
            self.alone("$ref", keywords, at)
            return Ref(self.target(raw["$ref"], at))
        if "allOf" in keywords:
            # pydantic before 2.9 wrapped a $ref that carried a description in a one-item allOf
            self.alone("allOf", keywords, at)
            parts = self.schemas(raw, "allOf", at)
            if len(parts) != 1:
                raise self.fail(
                    at,
                    "allOf with several schemas is not supported",
                    "merge them into one schema or set the contract's compatibility to NONE",
                )
            return self.node(parts[0], f"{at}/allOf/0")
        unions = [keyword for keyword in ("anyOf", "oneOf") if keyword in keywords]
        if unions:
            self.alone(unions[0], keywords, at)
            return Choice(tuple(self.flatten(raw, unions[0], at)))
        return Choice(tuple(("", branch) for branch in self.branches(raw, at)))

    def assertions(self, raw: Mapping[Any, Any], at: str) -> list[str]:
        """The keywords that constrain values; an unknown one is refused, never skipped."""
        keywords = []
        for key in raw:
            if not isinstance(key, str):
                raise self.fail(at, f"keyword {key!r} is not a string", "use string keys")
            if key in _SUPPORTED:
                keywords.append(key)
            elif key not in _IGNORED and not key.startswith("x-"):
                raise self.fail(
                    at,
                    f"keyword {key!r} is not supported by the compatibility checker",
                    "express the rule with type, properties, items, enum, anyOf, $ref and "
                    "the numeric and string limits, or set the contract's compatibility "
                    "to NONE",
                )
        return keywords

    def alone(self, keyword: str, keywords: list[str], at: str) -> None:
        """Refuse siblings: merging them into a reference or a union is not supported."""
        others = [k for k in keywords if k != keyword]
        if others:
            raise self.fail(
                at,
                f"{keyword} next to {', '.join(others)} is not supported",
                f"move {', '.join(others)} into the schema that {keyword} points to",
            )

    def target(self, ref: object, at: str) -> str:
        if not isinstance(ref, str):
            raise self.fail(at, "$ref must be a string", "write '#/$defs/<name>'")
        pointer = unquote(ref[1:]) if ref.startswith("#") else None
        if pointer in self.targets:
            return pointer
        container, _, name = (pointer or "").lstrip("/").partition("/")
        if container in ("$defs", "definitions") and "/" not in name:
            raise self.fail(
                at,
                f"$ref {ref!r} names a definition that does not exist",
                f"add {name!r} to {container} or fix the reference",
            )
        raise self.fail(
            at,
            f"$ref {ref!r} is not a local reference to a whole definition",
            "inline the schema or move it into $defs and refer to it as '#/$defs/<name>'",
        )

    def schemas(self, raw: Mapping[str, Any], keyword: str, at: str) -> Sequence[object]:
        found = raw[keyword]
        may_be_empty = keyword == "prefixItems"
        if not isinstance(found, list) or not (found or may_be_empty):
            what = "a list" if may_be_empty else "a non-empty list"
            raise self.fail(at, f"{keyword} must be {what} of schemas", f"fix or remove {keyword}")
        return found

    def flatten(self, raw: Mapping[str, Any], keyword: str, at: str) -> Iterator[tuple[str, Any]]:
        for index, part in enumerate(self.schemas(raw, keyword, at)):
            suffix = f"/{keyword}/{index}"
            node = self.node(part, f"{at}{suffix}")
            parts = node.options if isinstance(node, Choice) else (("", node),)
            for inner, option in parts:
                yield f"{suffix}{inner}", option

    def branches(self, raw: Mapping[str, Any], at: str) -> Iterator[Branch]:
        """One branch per admitted type; every keyword is checked even if its type is not."""
        types = self.types(raw, at)
        values = self.values(raw, at)
        integer = "integer" in types and "number" not in types
        lower, upper = self.limits(raw, at)
        scalars: dict[str, Any] = {
            "number": {
                "lower": lower.get("number"),
                "upper": upper.get("number"),
                "multiple_of": self.number(raw, "multipleOf", at, positive=True),
            },
            "string": {
                "lower": lower.get("string"),
                "upper": upper.get("string"),
                "pattern": self.pattern(raw, at),
                "format": self.text(raw, "format", at),
            },
            "array": {
                "lower": lower.get("array"),
                "upper": upper.get("array"),
                "unique": self.flag(raw, "uniqueItems", at),
                **self.array(raw, at),
            },
            "object": {
                "lower": lower.get("object"),
                "upper": upper.get("object"),
                **self.object(raw, at),
            },
        }
        for kind in _KINDS:
            if kind not in types and not (kind == "number" and integer):
                continue
            admitted = self.admitted(kind, values, integer=integer and kind == "number")
            if admitted != ():
                yield Branch(
                    kind,
                    origin=at,
                    values=admitted,
                    integer=integer and kind == "number",
                    **scalars.get(kind, {}),
                )

    def types(self, raw: Mapping[str, Any], at: str) -> frozenset[str]:
        if "type" not in raw:
            return frozenset(_KINDS)
        found = raw["type"]
        names = [found] if isinstance(found, str) else found
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n in _TYPE_NAMES for n in names)
        ):
            raise self.fail(
                at,
                f"type {found!r} is not a JSON type or a non-empty list of them",
                f"use {', '.join(sorted(_TYPE_NAMES))}",
            )
        return frozenset(names)

    def values(self, raw: Mapping[str, Any], at: str) -> list[Any] | None:
        values: list[Any] | None = None
        if "enum" in raw:
            if not isinstance(raw["enum"], list):
                raise self.fail(at, "enum must be a list", "list the allowed values")
            values = raw["enum"]
        if "const" in raw:
            const = raw["const"]
            values = [const] if values is None else [v for v in values if _same(v, const)]
        for value in values or ():
            if not _is_json(value):
                raise self.fail(
                    at, f"{value!r} is not a JSON value", "use null, booleans, numbers and strings"
                )
        return values

    @staticmethod
    def admitted(kind: str, values: list[Any] | None, *, integer: bool) -> tuple[Any, ...] | None:
        """The listed values of this kind, or None for no restriction (also when all are listed)."""
        if values is None:
            return None
        admitted = tuple(v for v in values if _kind(v) == kind and (not integer or _is_integral(v)))
        every = {"null": 1, "boolean": 2}.get(kind)
        return None if every is not None and len({repr(v) for v in admitted}) == every else admitted

    def limits(
        self, raw: Mapping[str, Any], at: str
    ) -> tuple[dict[str, Limit | None], dict[str, Limit | None]]:
        """Lower and upper limits by kind; for numbers the stricter of inclusive and exclusive."""
        lower = {
            "number": _stricter(
                [self.number(raw, "minimum", at), self.number(raw, "exclusiveMinimum", at)],
                lower=True,
            ),
            "string": self.count(raw, "minLength", at),
            "array": self.count(raw, "minItems", at),
            "object": self.count(raw, "minProperties", at),
        }
        upper = {
            "number": _stricter(
                [self.number(raw, "maximum", at), self.number(raw, "exclusiveMaximum", at)],
                lower=False,
            ),
            "string": self.count(raw, "maxLength", at),
            "array": self.count(raw, "maxItems", at),
            "object": self.count(raw, "maxProperties", at),
        }
        return lower, upper

    def number(
        self, raw: Mapping[str, Any], keyword: str, at: str, *, positive: bool = False
    ) -> Limit | None:
        if keyword not in raw:
            return None
        value = raw[keyword]
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or (isinstance(value, float) and not math.isfinite(value))
            or (positive and value <= 0)
        ):
            kind = "a positive number" if positive else "a finite number"
            raise self.fail(at, f"{keyword} must be {kind}, not {value!r}", f"fix {keyword}")
        # exact binary value, as validators compare and divide: multipleOf 0.1 does not divide
        # 0.3 there, so it does not here either
        exact = Fraction(value)
        return Limit(keyword, exact, value, exclusive=keyword.startswith("exclusive"))

    def count(self, raw: Mapping[str, Any], keyword: str, at: str) -> Limit | None:
        limit = self.number(raw, keyword, at)
        if limit is not None and (limit.exact < 0 or limit.exact.denominator != 1):
            raise self.fail(at, f"{keyword} must be a whole number of 0 or more", f"fix {keyword}")
        # a minimum count of zero admits everything, so it is no limit at all
        return (
            None if limit is not None and keyword.startswith("min") and not limit.exact else limit
        )

    def pattern(self, raw: Mapping[str, Any], at: str) -> re.Pattern[str] | None:
        text = self.text(raw, "pattern", at)
        try:
            return None if text is None else re.compile(text)
        except re.error as error:
            raise self.fail(
                at,
                f"pattern {text!r} is not a regular expression Python can compile ({error})",
                "rewrite it in the common subset of ECMA 262 and Python syntax",
            ) from None

    def text(self, raw: Mapping[str, Any], keyword: str, at: str) -> str | None:
        value = raw.get(keyword)
        if value is not None and not isinstance(value, str):
            raise self.fail(at, f"{keyword} must be a string", f"fix {keyword}")
        return value

    def flag(self, raw: Mapping[str, Any], keyword: str, at: str) -> bool:
        value = raw.get(keyword, False)
        if not isinstance(value, bool):
            raise self.fail(at, f"{keyword} must be true or false", f"fix {keyword}")
        return value

    def array(self, raw: Mapping[str, Any], at: str) -> dict[str, Any]:
        if isinstance(raw.get("items"), list):
            raise self.fail(
                at,
                "items as a list is the pre-2020-12 tuple form",
                "write the list as prefixItems",
            )
        prefix = self.schemas(raw, "prefixItems", at) if "prefixItems" in raw else ()
        return {
            "items": self.node(raw["items"], f"{at}/items") if "items" in raw else None,
            "prefix_items": tuple(
                self.node(part, f"{at}/prefixItems/{index}") for index, part in enumerate(prefix)
            ),
        }

    def object(self, raw: Mapping[str, Any], at: str) -> dict[str, Any]:
        properties = raw.get("properties", {})
        if not isinstance(properties, Mapping) or not all(isinstance(k, str) for k in properties):
            raise self.fail(at, "properties must map names to schemas", "fix properties")
        required = raw.get("required", [])
        if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
            raise self.fail(at, "required must be a list of property names", "fix required")
        return {
            "properties": {
                name: self.node(sub, f"{at}/properties/{escape(name)}")
                for name, sub in properties.items()
            },
            "required": frozenset(required),
            "defaults": frozenset(
                name
                for name, sub in properties.items()
                if isinstance(sub, Mapping) and "default" in sub
            ),
            "additional": (
                self.node(raw["additionalProperties"], f"{at}/additionalProperties")
                if "additionalProperties" in raw
                else None
            ),
            "lenient": "properties" in raw and "additionalProperties" not in raw,
        }


def _stricter(limits: Iterable[Limit | None], *, lower: bool) -> Limit | None:
    """Of ``minimum`` and ``exclusiveMinimum`` (or the maxima), the one that decides."""
    present = [limit for limit in limits if limit is not None]
    return (
        max(present, key=lambda limit: strictness(limit, lower=lower, integral=False))
        if present
        else None
    )


def strictness(limit: Limit, *, lower: bool, integral: bool) -> tuple[Fraction, bool]:
    """A sort key: the larger, the fewer values the limit admits (counted in integers if asked)."""
    exact, exclusive = limit.exact, limit.exclusive
    if integral:
        if lower:
            exact = Fraction(math.floor(exact) + 1 if exclusive else math.ceil(exact))
        else:
            exact = Fraction(math.ceil(exact) - 1 if exclusive else math.floor(exact))
        exclusive = False
    return (exact if lower else -exact, exclusive)


# --- JSON values ---------------------------------------------------------------------------


def _kind(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case _:
            return "object"


def _is_json(value: object) -> bool:
    match value:
        case None | bool() | int() | str():
            return True
        case float():
            return math.isfinite(value)
        case list():
            return all(_is_json(item) for item in value)
        case dict():
            return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
        case _:
            return False


def _is_integral(value: object) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0 but not true, unlike Python's ``==``."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def contains(values: Iterable[Any], value: Any) -> bool:
    """Membership by JSON equality."""
    return any(_same(value, v) for v in values)


def show(values: Sequence[Any]) -> str:
    """Values as JSON for a message, the first five of a long list."""
    shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values[:5])
    return shown if len(values) <= 5 else f"{shown} and {len(values) - 5} more"


def options(
    doc: Document, node: Node, seen: frozenset[str] = frozenset()
) -> list[tuple[str, Branch]]:
    """The branches a node admits, with their pointer suffixes, following ``$ref``."""
    if isinstance(node, Ref):
        if node.target in seen:
            return []  # a definition that is only itself admits nothing more (least fixed point)
        return options(doc, doc.definitions[node.target], seen | {node.target})
    found: list[tuple[str, Branch]] = []
    for suffix, option in node.options:
        if isinstance(option, Ref):
            found.extend((suffix + inner, b) for inner, b in options(doc, option, seen))
        else:
            found.append((suffix, option))
    return found


def _admits(doc: Document, node: Node | None, value: Any) -> bool:
    """Whether ``value`` is valid under ``node`` (format ignored, as validators do by default)."""
    if node is None:
        return True
    return any(branch_admits(doc, branch, value) for _, branch in options(doc, node))


def branch_admits(doc: Document, branch: Branch, value: Any) -> bool:
    """Whether ``value`` is valid under one branch; fixed writer values are judged here."""
    if _kind(value) != branch.kind or (branch.integer and not _is_integral(value)):
        return False
    if branch.values is not None and not contains(branch.values, value):
        return False
    size = value if branch.kind == "number" else len(value) if branch.kind in _SIZED else 0
    if not (_within(branch.lower, size, lower=True) and _within(branch.upper, size, lower=False)):
        return False
    if branch.multiple_of is not None and Fraction(value) % branch.multiple_of.exact:
        return False
    if branch.pattern is not None and not branch.pattern.search(value):
        return False
    if branch.kind == "array":
        return _array_admits(doc, branch, value)
    if branch.kind == "object":
        return all(name in value for name in branch.required) and all(
            _admits(doc, branch.properties.get(k, branch.additional), v) for k, v in value.items()
        )
    return True


def _within(limit: Limit | None, measure: float, *, lower: bool) -> bool:
    if limit is None:
        return True
    exact = Fraction(measure)
    if exact == limit.exact:
        return not limit.exclusive
    return exact > limit.exact if lower else exact < limit.exact


def _array_admits(doc: Document, branch: Branch, value: list[Any]) -> bool:
    if branch.unique and any(_same(a, b) for i, a in enumerate(value) for b in value[i + 1 :]):
        return False
    return all(_admits(doc, item_at(branch, index)[1], item) for index, item in enumerate(value))


def item_at(branch: Branch, index: int) -> tuple[str, Node | None]:
    """The schema of the item at ``index`` and its pointer suffix (``None``: anything)."""
    if index < len(branch.prefix_items):
        return f"/prefixItems/{index}", branch.prefix_items[index]
    return "/items", branch.items
