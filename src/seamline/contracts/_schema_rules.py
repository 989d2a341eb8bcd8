"""The rules behind :mod:`seamline.contracts.compatibility`: read two JSON Schemas, compare them.

A schema is first *loaded* into a small normalized model: every subschema becomes a set of
branches, one per JSON type it admits (``anyOf``/``oneOf`` branches, ``type`` lists and
``enum`` values all end up there), and ``$ref`` stays a pointer into the document's
definitions. Loading is where unsupported keywords and malformed values are refused, so a
comparison never silently skips a constraint it does not understand.

*Comparing* asks one question, recursively: can every value the writer's schema admits be
read under the reader's? Every answer is a :class:`Finding`; ``breaking`` ones are the
answers "no". Decisions worth knowing:

- LENIENT content models (the tolerant-reader assumption): an object without
  ``additionalProperties`` is open, but a writer is assumed to send only the properties it
  declares. So a reader may add an optional property or stop declaring one it ignores. A
  writer that *states* ``additionalProperties`` (``true`` from pydantic's ``extra='allow'``,
  or a schema for a ``dict``) is taken at its word: the reader must accept those extras.
- ``required`` is what decides presence: a required property with a ``default`` still
  breaks old writers, because JSON Schema validators do not apply defaults (pydantic never
  lists a defaulted field as required).
- Paths are JSON pointers into the reader's schema as walked from its root: ``$ref`` is
  followed transparently (``/properties/address/properties/zip``), while union branches keep
  their index (``/properties/address/anyOf/0/properties/zip``). A property the reader no
  longer declares is reported where it would be.
- A recursive model terminates because a pair of (writer, reader) branches that is already
  being compared further up is assumed compatible there (co-induction, as for recursive
  types); the same definition reached by two different paths is checked at both.
- ``oneOf`` is read as ``anyOf``, which is exact for pydantic's discriminated unions (their
  branches never overlap). ``format`` is compared as written; fixed writer values
  (``enum``/``const``) are checked one by one against the reader's constraints.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final, TypeAlias
from urllib.parse import unquote

from seamline.exceptions import ContractError

__all__ = ["RULES", "Finding", "diff", "load"]

_MAJOR: Final = "or publish the change under a new major version"

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

RULES: Final[Mapping[str, bool]] = {
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


def _finding(rule: str, path: str, message: str) -> Finding:
    return Finding(rule, path, message, RULES[rule])


# --- the normalized model ------------------------------------------------------------------

_KINDS: Final = ("null", "boolean", "number", "string", "array", "object")
_TYPE_NAMES: Final = frozenset({*_KINDS, "integer"})
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
class _Limit:
    """A numeric limit as written (``keyword`` and ``shown``) and as an exact fraction."""

    keyword: str
    exact: Fraction
    shown: int | float
    exclusive: bool = False

    def __str__(self) -> str:
        return f"{self.keyword} {self.shown}"


@dataclass(frozen=True, slots=True, eq=False)
class _Ref:
    target: str
    """Pointer of a definition, e.g. ``/$defs/Address``."""


@dataclass(frozen=True, slots=True, eq=False)
class _Branch:
    """The part of a schema that admits one JSON type; only that type's fields are set."""

    kind: str
    origin: str
    """Where the branch was written in its document: with ``kind``, its identity."""
    values: tuple[Any, ...] | None = None
    integer: bool = False
    lower: _Limit | None = None
    upper: _Limit | None = None
    multiple_of: _Limit | None = None
    pattern: re.Pattern[str] | None = None
    format: str | None = None
    unique: bool = False
    items: _Node | None = None
    prefix_items: tuple[_Node, ...] = ()
    properties: Mapping[str, _Node] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    defaults: frozenset[str] = frozenset()
    additional: _Node | None = None
    """``None`` when ``additionalProperties`` is absent: open, but see the module docstring."""


@dataclass(frozen=True, slots=True, eq=False)
class _Choice:
    """A value is valid when one option admits it; each option keeps its pointer suffix."""

    options: tuple[tuple[str, _Branch | _Ref], ...]


_Node: TypeAlias = "_Choice | _Ref"
_ANY: Final = _Choice(tuple(("", _Branch(kind, origin="true")) for kind in _KINDS))
_NOTHING: Final = _Choice(())


@dataclass(frozen=True, slots=True)
class _Document:
    root: _Node
    definitions: Mapping[str, _Node]


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def load(schema: object, label: str) -> _Document:
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
                raw_definitions[f"/{container}/{_escape(name)}"] = definition
        loader = _Loader(label, frozenset(raw_definitions))
        definitions = {at: loader.node(raw, at) for at, raw in raw_definitions.items()}
        return _Document(loader.node(schema, ""), definitions)
    except RecursionError:
        raise ContractError(
            f"{label} nests too deeply or contains itself as a Python object; "
            "use $defs and $ref for recursive structures"
        ) from None


@dataclass(frozen=True, slots=True)
class _Loader:
    label: str
    targets: frozenset[str]

    def fail(self, at: str, problem: str, fix: str) -> ContractError:
        return ContractError(f"{self.label}: {problem} at {at or '/'}; {fix}")

    def node(self, raw: object, at: str) -> _Node:
        if isinstance(raw, bool):
            return _ANY if raw else _NOTHING
        if not isinstance(raw, Mapping):
            raise self.fail(
                at,
                f"a schema must be an object or a boolean, not {type(raw).__name__}",
                "write a JSON Schema object there",
            )
        keywords = self.assertions(raw, at)
        if "$ref" in keywords:
            self.alone("$ref", keywords, at)
            return _Ref(self.target(raw["$ref"], at))
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
            return _Choice(tuple(self.flatten(raw, unions[0], at)))
        return _Choice(tuple(("", branch) for branch in self.branches(raw, at)))

    def assertions(self, raw: Mapping[Any, Any], at: str) -> list[str]:
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
        pointer = unquote(ref[1:]) if ref.startswith("#") else ref
        if pointer in self.targets:
            return pointer
        container, _, name = pointer.lstrip("/").partition("/")
        if pointer.startswith("/") and container in ("$defs", "definitions") and "/" not in name:
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
        if not isinstance(found, list) or (keyword != "prefixItems" and not found):
            raise self.fail(
                at, f"{keyword} must be a non-empty list of schemas", f"fix or remove {keyword}"
            )
        return found

    def flatten(self, raw: Mapping[str, Any], keyword: str, at: str) -> Iterator[tuple[str, Any]]:
        for index, part in enumerate(self.schemas(raw, keyword, at)):
            suffix = f"/{keyword}/{index}"
            node = self.node(part, f"{at}{suffix}")
            options = node.options if isinstance(node, _Choice) else (("", node),)
            for inner, option in options:
                yield f"{suffix}{inner}", option

    def branches(self, raw: Mapping[str, Any], at: str) -> Iterator[_Branch]:
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
                yield _Branch(
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
    ) -> tuple[dict[str, _Limit | None], dict[str, _Limit | None]]:
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
    ) -> _Limit | None:
        if keyword not in raw:
            return None
        value = raw[keyword]
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or (positive and value <= 0)
        ):
            kind = "a positive number" if positive else "a finite number"
            raise self.fail(at, f"{keyword} must be {kind}, not {value!r}", f"fix {keyword}")
        return _Limit(keyword, _exact(value), value, exclusive=keyword.startswith("exclusive"))

    def count(self, raw: Mapping[str, Any], keyword: str, at: str) -> _Limit | None:
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
                name: self.node(sub, f"{at}/properties/{_escape(name)}")
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
        }


def _stricter(limits: Iterable[_Limit | None], *, lower: bool) -> _Limit | None:
    present = [limit for limit in limits if limit is not None]
    return (
        max(present, key=lambda limit: _strictness(limit, lower=lower, integral=False))
        if present
        else None
    )


def _strictness(limit: _Limit, *, lower: bool, integral: bool) -> tuple[Fraction, bool]:
    """A sort key: the larger, the fewer values the limit admits (counted in integers if asked)."""
    exact, exclusive = limit.exact, limit.exclusive
    if integral:
        if lower:
            exact = Fraction(math.floor(exact) + 1 if exclusive else math.ceil(exact))
        else:
            exact = Fraction(math.ceil(exact) - 1 if exclusive else math.floor(exact))
        exclusive = False
    return (exact if lower else -exact, exclusive)


def _exact(number: float) -> Fraction:
    # from the decimal spelling, so that multipleOf 0.1 divides 0.3 as it does on paper
    return Fraction(number) if isinstance(number, int) else Fraction(repr(number))


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


def _contains(values: Iterable[Any], value: Any) -> bool:
    return any(_same(value, v) for v in values)


def _show(values: Sequence[Any]) -> str:
    shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values[:5])
    return shown if len(values) <= 5 else f"{shown} and {len(values) - 5} more"


def _options(
    doc: _Document, node: _Node, seen: frozenset[str] = frozenset()
) -> list[tuple[str, _Branch]]:
    """The branches a node admits, with their pointer suffixes, following ``$ref``."""
    if isinstance(node, _Ref):
        if node.target in seen:
            return []  # a definition that is only itself admits nothing more (least fixed point)
        return _options(doc, doc.definitions[node.target], seen | {node.target})
    found: list[tuple[str, _Branch]] = []
    for suffix, option in node.options:
        if isinstance(option, _Ref):
            found.extend((suffix + inner, b) for inner, b in _options(doc, option, seen))
        else:
            found.append((suffix, option))
    return found


def _admits(doc: _Document, node: _Node | None, value: Any) -> bool:
    """Whether ``value`` is valid under ``node`` (format ignored, as validators do by default)."""
    if node is None:
        return True
    return any(_branch_admits(doc, branch, value) for _, branch in _options(doc, node))


def _branch_admits(doc: _Document, branch: _Branch, value: Any) -> bool:
    if _kind(value) != branch.kind or (branch.integer and not _is_integral(value)):
        return False
    if branch.values is not None and not _contains(branch.values, value):
        return False
    size = value if branch.kind == "number" else len(value) if branch.kind in _SIZED else 0
    if not (_within(branch.lower, size, lower=True) and _within(branch.upper, size, lower=False)):
        return False
    if branch.multiple_of is not None and _exact(value) % branch.multiple_of.exact:
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


_SIZED: Final = frozenset({"string", "array", "object"})


def _within(limit: _Limit | None, measure: float, *, lower: bool) -> bool:
    if limit is None:
        return True
    exact = _exact(measure)
    if exact == limit.exact:
        return not limit.exclusive
    return exact > limit.exact if lower else exact < limit.exact


def _array_admits(doc: _Document, branch: _Branch, value: list[Any]) -> bool:
    if branch.unique and any(_same(a, b) for i, a in enumerate(value) for b in value[i + 1 :]):
        return False
    return all(_admits(doc, _item(branch, index)[1], item) for index, item in enumerate(value))


def _item(branch: _Branch, index: int) -> tuple[str, _Node | None]:
    if index < len(branch.prefix_items):
        return f"/prefixItems/{index}", branch.prefix_items[index]
    return "/items", branch.items


# --- comparing -----------------------------------------------------------------------------


def diff(writer: _Document, reader: _Document) -> list[Finding]:
    """Every finding for data written under ``writer`` and read under ``reader``, in order."""
    try:
        return list(dict.fromkeys(_Comparison(writer, reader).nodes(writer.root, reader.root, "")))
    except RecursionError:
        raise ContractError(
            "the schemas nest too deeply to compare; flatten them with $defs and $ref"
        ) from None


class _Comparison:
    def __init__(self, writer: _Document, reader: _Document) -> None:
        self.writer = writer
        self.reader = reader
        self.active: set[tuple[str, str, str]] = set()

    def nodes(self, w: _Node | None, r: _Node | None, path: str) -> Iterator[Finding]:
        """Absent subschemas (``None``) admit anything."""
        w_options = [b for _, b in _options(self.writer, w or _ANY)]
        r_options = _options(self.reader, r or _ANY)
        if not w_options:
            return  # the writer can send nothing here, so the reader can read all of it
        w_kinds = _kinds(w_options)
        r_kinds = _kinds(b for _, b in r_options)
        missing = [kind for kind in w_kinds if kind not in r_kinds]
        if missing == w_kinds:
            yield _finding(
                "TYPE_CHANGED",
                path,
                f"the writer sends {_types(w_options)} but the reader accepts "
                f"{_types(b for _, b in r_options)}; keep the old type, accept both with a "
                f"union, {_MAJOR}",
            )
            return
        if missing:
            yield _finding(
                "TYPE_NARROWED",
                path,
                f"the reader no longer accepts {_types(b for b in w_options if b.kind in missing)}"
                f", which the writer may send; keep accepting it (a union or Optional) {_MAJOR}",
            )
        added = [kind for kind in r_kinds if kind not in w_kinds]
        if added:
            also = _types(b for _, b in r_options if b.kind in added)
            yield _finding("TYPE_WIDENED", path, f"the reader also accepts {also}")
        for w_branch in w_options:
            candidates = [(s, b) for s, b in r_options if b.kind == w_branch.kind]
            if not candidates:
                continue
            if w_branch.values is not None:
                readers = [b for _, b in candidates]
                yield from self.values(w_branch.kind, w_branch.values, readers, path)
            else:
                yield from self.closest(w_branch, candidates, path)

    def closest(
        self, w: _Branch, candidates: list[tuple[str, _Branch]], path: str
    ) -> Iterator[Finding]:
        """Findings against the reader branch that accepts the writer's, or comes closest."""
        if len(candidates) == 1:
            suffix, r = candidates[0]
            yield from self.branches(w, r, path + suffix)
            return
        closest: list[Finding] = []
        for suffix, r in candidates:
            found = list(self.branches(w, r, path + suffix))
            breaking = [f for f in found if f.breaking]
            if not breaking:
                yield from found
                return
            if not closest or len(breaking) < len(closest):
                closest = breaking
        yield _finding(
            "UNION_NARROWED",
            path,
            f"no branch of the reader's union accepts the writer's {w.kind} at "
            f"{w.origin or '/'} (the closest fails with {closest[0].rule} at "
            f"{closest[0].path or '/'}); keep a branch for it {_MAJOR}",
        )

    def values(
        self, kind: str, sent: tuple[Any, ...], readers: list[_Branch], path: str
    ) -> Iterator[Finding]:
        """A writer that sends only listed values: check each against the reader's branches."""
        rejected = [v for v in sent if not any(_branch_admits(self.reader, r, v) for r in readers)]
        listed = [v for r in readers for v in r.values or ()]
        restricted = all(r.values is not None for r in readers)
        if rejected and restricted and len(sent) == len(listed) == 1:
            yield _finding(
                "CONST_CHANGED",
                path,
                f"the value changed from {_show(sent)} to {_show(listed)}; keep the old value "
                f"{_MAJOR}",
            )
            return
        if rejected:
            dropped = restricted and not any(_contains(listed, v) for v in rejected)
            yield _finding(
                "ENUM_VALUE_REMOVED" if dropped else "VALUE_REJECTED",
                path,
                f"{'the reader no longer lists' if dropped else 'the reader rejects'} "
                f"{_show(rejected)}, which the writer may send; keep accepting "
                f"{'them' if len(rejected) > 1 else 'it'} {_MAJOR}",
            )
        if not restricted:
            yield _finding(
                "ENUM_REMOVED", path, f"the reader accepts any {kind}, not only {_show(sent)}"
            )
        elif extra := [v for v in listed if not _contains(sent, v)]:
            yield _finding("ENUM_VALUE_ADDED", path, f"the reader also accepts {_show(extra)}")

    def branches(self, w: _Branch, r: _Branch, path: str) -> Iterator[Finding]:
        """Two branches of the same kind; the writer's is not a fixed list of values."""
        key = (w.origin, r.origin, w.kind)
        if key in self.active:
            return  # already being compared further up: assume it holds (recursive models)
        self.active.add(key)
        try:
            if r.values is not None:
                yield _finding(
                    "ENUM_ADDED",
                    path,
                    f"the reader only accepts {_show(r.values)} but the writer may send any "
                    f"{w.kind}; list every value the writer sends {_MAJOR}",
                )
                return
            yield from _integers(w, r, path)
            integral = w.integer
            yield from _limit(w.lower, r.lower, path, lower=True, integral=integral)
            yield from _limit(w.upper, r.upper, path, lower=False, integral=integral)
            yield from _multiple_of(w, r, path)
            yield from _same_text(
                "PATTERN",
                w.pattern.pattern if w.pattern else None,
                r.pattern.pattern if r.pattern else None,
                path,
            )
            yield from _same_text("FORMAT", w.format, r.format, path)
            if r.unique and not w.unique:
                yield _finding(
                    "UNIQUE_ITEMS_ADDED",
                    path,
                    f"the reader requires unique items but the writer may repeat them; drop "
                    f"uniqueItems {_MAJOR}",
                )
            elif w.unique and not r.unique:
                yield _finding("UNIQUE_ITEMS_REMOVED", path, "the reader accepts repeated items")
            if w.kind == "array":
                yield from self.arrays(w, r, path)
            elif w.kind == "object":
                yield from self.objects(w, r, path)
        finally:
            self.active.discard(key)

    def arrays(self, w: _Branch, r: _Branch, path: str) -> Iterator[Finding]:
        """Position by position over the prefixes, then the items after them."""
        # past the reader's maxItems nothing is read (a tighter maxItems is reported already)
        limits = [int(b.upper.exact) for b in (w, r) if b.upper is not None]
        for index in range(min([max(len(w.prefix_items), len(r.prefix_items)) + 1, *limits])):
            suffix, r_item = _item(r, index)
            yield from self.nodes(_item(w, index)[1], r_item, path + suffix)

    def objects(self, w: _Branch, r: _Branch, path: str) -> Iterator[Finding]:
        names = dict.fromkeys(
            [*r.properties, *sorted(r.required), *w.properties, *sorted(w.required)]
        )
        for name in names:
            at = f"{path}/properties/{_escape(name)}"
            in_writer = name in w.properties or name in w.required
            in_reader = name in r.properties or name in r.required
            w_schema = w.properties.get(name, w.additional)
            r_schema = r.properties.get(name, r.additional)
            if in_writer and in_reader:
                yield from _presence(name, w, r, at)
                yield from self.nodes(w_schema, r_schema, at)
            elif in_reader:
                yield from _added(name, r, at)
                if w.additional is not None:  # the writer states it may send any name
                    yield from self.nodes(w.additional, r_schema, at)
            elif _empty(self.reader, r.additional) and not _empty(self.writer, w_schema or _ANY):
                yield _finding(
                    "PROPERTY_REMOVED_FROM_CLOSED_MODEL",
                    at,
                    f"the reader no longer declares {name!r} and forbids undeclared properties, "
                    f"but the writer may send it; keep it declared (deprecated) or allow extra "
                    f"properties, {_MAJOR}",
                )
            else:
                yield _finding(
                    "PROPERTY_REMOVED", at, f"the reader no longer declares {name!r}, so ignores it"
                )
                if r.additional is not None:  # a stated schema for extras now judges it
                    yield from self.nodes(w_schema, r.additional, at)
        yield from self.extras(w, r, path)

    def extras(self, w: _Branch, r: _Branch, path: str) -> Iterator[Finding]:
        """Undeclared properties; a writer without ``additionalProperties`` sends none."""
        at = f"{path}/additionalProperties"
        reader_forbids = _empty(self.reader, r.additional)
        if w.additional is not None and not _empty(self.writer, w.additional):
            if reader_forbids:
                yield _finding(
                    "ADDITIONAL_PROPERTIES_FORBIDDEN",
                    at,
                    f"the reader forbids undeclared properties but the writer's "
                    f"additionalProperties lets it send them; keep accepting them {_MAJOR}",
                )
            else:
                yield from self.nodes(w.additional, r.additional, at)
        elif reader_forbids:
            if w.additional is None:
                yield _finding(
                    "CONTENT_MODEL_CLOSED",
                    at,
                    "the reader now forbids undeclared properties; fine while writers send "
                    "only the properties they declare",
                )
        elif w.additional is not None:
            yield _finding(
                "CONTENT_MODEL_OPENED", at, "the reader now accepts undeclared properties"
            )


def _empty(doc: _Document, node: _Node | None) -> bool:
    """Whether a stated schema admits no value at all (``false``); absent is not empty."""
    return node is not None and not _options(doc, node)


def _kinds(branches: Iterable[_Branch]) -> list[str]:
    return list(dict.fromkeys(b.kind for b in branches))


def _types(branches: Iterable[_Branch]) -> str:
    names = list(dict.fromkeys("integer" if b.integer else b.kind for b in branches))
    return " or ".join(names) or "nothing"


def _integers(w: _Branch, r: _Branch, path: str) -> Iterator[Finding]:
    if r.integer and not w.integer:
        yield _finding(
            "TYPE_NARROWED",
            path,
            f"the reader accepts only integers but the writer may send any number; keep "
            f"'number' {_MAJOR}",
        )
    elif w.integer and not r.integer:
        yield _finding("TYPE_WIDENED", path, "the reader accepts any number, not only integers")


def _limit(
    w: _Limit | None, r: _Limit | None, path: str, *, lower: bool, integral: bool
) -> Iterator[Finding]:
    if r is None:
        if w is not None:
            yield _finding(f"{_rule(w)}_REMOVED", path, f"the reader drops {w}")
        return
    if w is None:
        yield _finding(
            f"{_rule(r)}_ADDED",
            path,
            f"the reader adds {r}, which rejects some data the writer may send; drop the "
            f"limit {_MAJOR}",
        )
        return
    w_key = _strictness(w, lower=lower, integral=integral)
    r_key = _strictness(r, lower=lower, integral=integral)
    if r_key > w_key:
        yield _finding(
            f"{_rule(r)}_TIGHTENED",
            path,
            f"{w} became {r} in the reader, which rejects values the writer may send; keep "
            f"{w} {_MAJOR}",
        )
    elif r_key < w_key:
        yield _finding(f"{_rule(r)}_LOOSENED", path, f"{w} became {r} in the reader")


def _multiple_of(w: _Branch, r: _Branch, path: str) -> Iterator[Finding]:
    if r.multiple_of is None:
        if w.multiple_of is not None:
            yield _finding("MULTIPLE_OF_REMOVED", path, f"the reader drops {w.multiple_of}")
        return
    step = w.multiple_of.exact if w.multiple_of else Fraction(1) if w.integer else None
    divisor = r.multiple_of.exact
    if step is not None and step % divisor == 0:
        if w.multiple_of is not None and step != divisor:
            yield _finding(
                "MULTIPLE_OF_LOOSENED",
                path,
                f"{w.multiple_of} became {r.multiple_of} in the reader",
            )
        return
    if w.multiple_of is None:
        verb, what = "ADDED", f"the reader adds {r.multiple_of}"
    else:
        verb = "TIGHTENED" if divisor % w.multiple_of.exact == 0 else "CHANGED"
        what = f"{w.multiple_of} became {r.multiple_of} in the reader"
    yield _finding(
        f"MULTIPLE_OF_{verb}",
        path,
        f"{what}, which rejects numbers the writer may send; keep the writer's step {_MAJOR}",
    )


def _same_text(family: str, w: str | None, r: str | None, path: str) -> Iterator[Finding]:
    keyword = family.lower()
    if w == r:
        return
    if r is None:
        yield _finding(f"{family}_REMOVED", path, f"the reader drops {keyword} {w!r}")
        return
    what = f"the reader adds {keyword} {r!r}" if w is None else f"{keyword} {w!r} became {r!r}"
    yield _finding(
        f"{family}_{'ADDED' if w is None else 'CHANGED'}",
        path,
        f"{what}, which the writer's strings need not match; keep the writer's {keyword} {_MAJOR}",
    )


def _rule(limit: _Limit) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", limit.keyword).upper()


def _presence(name: str, w: _Branch, r: _Branch, at: str) -> Iterator[Finding]:
    if name in r.required and name not in w.required:
        yield _finding(
            "PROPERTY_MADE_REQUIRED",
            at,
            f"the reader requires {name!r}, which the writer may leave out; keep it optional "
            f"with a default {_MAJOR}",
        )
    elif name in w.required and name not in r.required:
        yield _finding("PROPERTY_MADE_OPTIONAL", at, f"the reader no longer requires {name!r}")


def _added(name: str, r: _Branch, at: str) -> Iterator[Finding]:
    if name in r.required:
        yield _finding(
            "REQUIRED_PROPERTY_ADDED",
            at,
            f"the reader requires {name!r}, which the writer does not send; give it a default "
            f"(pydantic then leaves it out of 'required') {_MAJOR}",
        )
    elif name in r.defaults:
        yield _finding(
            "OPTIONAL_PROPERTY_ADDED_WITH_DEFAULT",
            at,
            f"the reader adds optional {name!r} with a default for writers that leave it out",
        )
    else:
        yield _finding(
            "OPTIONAL_PROPERTY_ADDED",
            at,
            f"the reader adds optional {name!r} without a default; it must cope with its absence",
        )
