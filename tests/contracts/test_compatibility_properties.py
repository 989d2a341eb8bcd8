"""The compatibility checker against a real validator: no false "compatible", no crashes.

Schema pairs are drawn from the subset pydantic emits (objects, bounded numbers and strings,
enums, arrays and tuples, nullable unions, ``$defs``/``$ref``); the reader is the writer
with a few random edits, so both compatible and breaking pairs come up. Whenever
``compare`` finds nothing breaking, values drawn from the writer must validate under the
reader with ``jsonschema``.

Instances come from the writer *closed*: every object that declares ``properties`` but no
``additionalProperties`` gets ``false``. That encodes the checker's tolerant-reader
assumption (a writer sends only the properties it declares); without it an open writer
could send any extra property with any value, and no reader could ever add one.

Scalars are drawn by hypothesis-jsonschema; objects and arrays are composed here because
hypothesis-jsonschema 0.23.1 draws objects through a Hypothesis internal (``many.more()``)
that Hypothesis 6.170 no longer has. ``multipleOf`` stays integral: validators divide in
floating point, so the checker trusts a step only when it divides exactly on the binary
values, and whole steps keep the drawn values exact too (the rule table pins the
fractional cases).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from seamline.contracts.compatibility import Compatibility, check_compatibility, compare
from seamline.exceptions import ContractError

Schema = dict[str, Any]

NAMES = ("a", "b", "c")
SMALL = st.integers(min_value=-3, max_value=3)
COUNTS = st.integers(min_value=0, max_value=3)
LITERALS = st.sampled_from([0, 1, 2, "a", "b", "", None, True])
FAST = settings(
    max_examples=60,
    deadline=None,
    # drawing writers and instances inside one test trips these on a slow machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | SMALL | st.floats(-2, 2) | st.sampled_from(["", "a", "ab"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(NAMES), inner),
    max_leaves=4,
)


# --- schemas -------------------------------------------------------------------------------


@st.composite
def numbers(draw: st.DrawFn) -> Schema:
    """An integer or number with ordered bounds and an integral step."""
    schema: Schema = {"type": draw(st.sampled_from(["integer", "number"]))}
    low, high = sorted(draw(st.lists(SMALL, min_size=2, max_size=2)))
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = low
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = high + 2
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.integers(min_value=1, max_value=3))
    return schema


@st.composite
def strings(draw: st.DrawFn) -> Schema:
    """A date, or a string with optional length bounds and pattern."""
    if draw(st.booleans()):
        return {"type": "string", "format": "date"}  # alone: dates rarely match a pattern
    schema: Schema = {"type": "string"}
    low = draw(COUNTS)
    if draw(st.booleans()):
        schema["minLength"] = low
    if draw(st.booleans()):
        schema["maxLength"] = low + draw(COUNTS)
    if draw(st.booleans()):
        schema["pattern"] = draw(st.sampled_from(["^a", "b$", "^[ab]*$"]))
    return schema


SCALARS = st.one_of(
    numbers(),
    strings(),
    st.lists(LITERALS, min_size=1, max_size=3, unique_by=repr).map(lambda v: {"enum": v}),
    LITERALS.map(lambda value: {"const": value}),
    st.sampled_from([{"type": "boolean"}, {"type": "null"}, {}]),
)


def compounds(children: st.SearchStrategy[Schema]) -> st.SearchStrategy[Schema]:
    """Objects, arrays and unions over smaller schemas."""
    objects = st.builds(
        lambda properties, required, extra: {
            "type": "object",
            "properties": properties,
            "required": [name for name in required if name in properties],
            **extra,
        },
        st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
        st.lists(st.sampled_from(NAMES), unique=True),
        st.sampled_from([{}, {}, {"additionalProperties": False}])
        | children.map(lambda extra: {"additionalProperties": extra}),
    )
    arrays = st.builds(
        lambda items, prefix, low, spread, unique: {
            "type": "array",
            "items": items,
            **({"prefixItems": prefix} if prefix else {}),
            **({"minItems": low} if low else {}),
            **({"maxItems": low + spread} if spread is not None else {}),
            **({"uniqueItems": True} if unique else {}),
        },
        children,
        st.lists(children, max_size=2),
        COUNTS,
        st.none() | COUNTS,
        st.booleans(),
    )
    unions = st.builds(
        lambda a, b: {"anyOf": [a, b]}, children, children | st.just({"type": "null"})
    )
    return objects | arrays | unions


def referring(known: int, leaves: int) -> st.SearchStrategy[Schema]:
    """Schemas that may use the first ``known`` definitions (built once: they are slow)."""
    refs = [{"$ref": f"#/$defs/D{index}"} for index in range(known)] or [{}]
    return st.recursive(SCALARS | st.sampled_from(refs), compounds, max_leaves=leaves)


DEFINITIONS = [referring(known, leaves=4) for known in range(2)]
BODIES = [referring(known, leaves=6) for known in range(3)]


@st.composite
def documents(draw: st.DrawFn) -> Schema:
    """A root object with up to two definitions; the second may use the first."""
    count = draw(st.integers(min_value=0, max_value=2))
    definitions = {f"D{index}": draw(DEFINITIONS[index]) for index in range(count)}
    properties = draw(
        st.dictionaries(st.sampled_from(NAMES), BODIES[count], min_size=1, max_size=3)
    )
    required = [name for name in properties if draw(st.booleans())]
    root = {"type": "object", "properties": properties, "required": required}
    return {**root, "$defs": definitions} if definitions else root


# --- edits: the reader is the writer changed a little ----------------------------------------

EDITS: dict[str, st.SearchStrategy[Any]] = {
    "minimum": SMALL,
    "exclusiveMinimum": SMALL,
    "maximum": SMALL,
    "exclusiveMaximum": SMALL,
    "multipleOf": st.integers(min_value=1, max_value=3),
    "minLength": COUNTS,
    "maxLength": COUNTS,
    "minItems": COUNTS,
    "maxItems": COUNTS,
    "uniqueItems": st.booleans(),
    "additionalProperties": st.booleans(),
    "type": st.sampled_from(["integer", "number", "string", "object", "array", "null"]),
    "enum": st.lists(LITERALS, min_size=1, max_size=3, unique_by=repr),
    "pattern": st.sampled_from(["^a", "^[ab]*$"]),
    "format": st.just("date"),
}


def nodes(schema: Any) -> list[Schema]:
    """Every schema object inside ``schema``, definitions included (junk is skipped)."""
    if not isinstance(schema, dict):
        return []
    found = [schema]
    for key, value in schema.items():
        if key in ("properties", "$defs") and isinstance(value, dict):
            found.extend(node for sub in value.values() for node in nodes(sub))
        elif key in ("anyOf", "prefixItems") and isinstance(value, list):
            found.extend(node for sub in value for node in nodes(sub))
        elif key in ("items", "additionalProperties"):
            found.extend(nodes(value))
    return found


@st.composite
def edited(draw: st.DrawFn, writer: Schema) -> Schema:
    """``writer`` with up to three edits, each keeping it inside the generated subset."""
    reader = copy.deepcopy(writer)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        plain = [n for n in nodes(reader) if "$ref" not in n and "anyOf" not in n]
        node = draw(st.sampled_from(plain))
        action = draw(st.sampled_from(["set", "drop", "require", "add", "null"]))
        if action == "set":
            keyword = draw(st.sampled_from(sorted(EDITS)))
            node[keyword] = draw(EDITS[keyword])
        elif action == "drop" and (droppable := sorted(set(node) & set(EDITS))):
            del node[draw(st.sampled_from(droppable))]
        elif action == "require" and node.get("properties"):
            name = draw(st.sampled_from(sorted(node["properties"])))
            required = set(node.get("required", ())) ^ {name}
            node["required"] = sorted(required)
        elif action == "add" and "properties" in node:
            node["properties"][draw(st.sampled_from([*NAMES, "d"]))] = draw(SCALARS)
        elif action == "null" and node is not reader:  # the root keeps its $defs
            inner = dict(node)
            node.clear()
            node["anyOf"] = [inner, {"type": "null"}]
    return reader


# --- instances -----------------------------------------------------------------------------


def closed(schema: Any) -> Any:
    """``schema`` with objects that declare properties, and no others, closed (module doc)."""
    if not isinstance(schema, dict):
        return schema
    out = {key: _closed_values(key, value) for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _closed_values(key: str, value: Any) -> Any:
    if key in ("properties", "$defs"):
        return {name: closed(sub) for name, sub in value.items()}
    if key in ("anyOf", "prefixItems"):
        return [closed(sub) for sub in value]
    if key in ("items", "additionalProperties"):
        return closed(value)
    return value


def instances(root: Schema, node: Any) -> st.SearchStrategy[Any]:
    """Values shaped like ``node`` (refs resolved in ``root``); limits may still reject them."""
    if node is False:
        return st.nothing()
    if node is True or node == {}:
        return JSON
    if "$ref" in node:
        return instances(root, root["$defs"][node["$ref"].rsplit("/", 1)[1]])
    if "anyOf" in node:
        return st.one_of([instances(root, sub) for sub in node["anyOf"]])
    if node.get("type") == "object":
        properties = node.get("properties", {})
        required = [name for name in node.get("required", []) if name in properties]
        extra = node.get("additionalProperties", True)
        return st.fixed_dictionaries(
            {name: instances(root, properties[name]) for name in required},
            optional={
                **{
                    name: instances(root, extra)
                    for name in ("a", "x")  # "a" may be a name the reader declares
                    if extra is not False and name not in properties
                },
                **{
                    name: instances(root, s)
                    for name, s in properties.items()
                    if name not in required
                },
            },
        )
    if node.get("type") == "array":
        head = st.tuples(*(instances(root, sub) for sub in node.get("prefixItems", [])))
        item = instances(root, node.get("items", True))
        # not st.lists(item): Hypothesis refuses lists of an empty strategy outright
        tail: st.SearchStrategy[list[Any]] = st.just([]) | st.tuples(
            item, st.lists(item, max_size=2)
        ).map(lambda parts: [parts[0], *parts[1]])
        return st.tuples(head, tail).map(lambda parts: [*parts[0], *parts[1]])
    if "type" not in node and "enum" not in node and "const" not in node:
        return JSON  # hypothesis-jsonschema would reach its broken object path
    return scalars(json.dumps(node, sort_keys=True))


@functools.cache
def scalars(schema: str) -> st.SearchStrategy[Any]:
    """hypothesis-jsonschema's strategy for a scalar schema, built once per schema."""
    return from_schema(json.loads(schema))


# The property the checker exists for gets the most tries. Derandomized: once in a few
# hundred CI runs Hypothesis reported FlakyStrategyDefinition (inconsistent draws between a
# test case and its replay, from hypothesis-jsonschema's scalar strategies), failing the build
# without a counterexample; a fixed seed keeps the 150 examples and makes every run the same.
@settings(FAST, max_examples=150, derandomize=True)
@given(st.data())
def test_no_breaking_finding_means_the_reader_accepts_what_the_writer_sends(
    data: st.DataObject,
) -> None:
    """When compare() reports nothing breaking, every writer value validates under the reader."""
    writer = data.draw(documents(), label="writer")
    reader = data.draw(edited(writer), label="reader")
    for old, new in ((writer, reader), (reader, writer)):  # both directions of the pair
        findings = compare(old, new)
        if any(f.breaking for f in findings):
            continue
        sender = closed(old)
        valid_for_sender = Draft202012Validator(sender)
        receiver = Draft202012Validator(new)
        values = instances(sender, sender)
        for _ in range(3):  # drawn one by one: a writer that admits nothing skips the example
            value = data.draw(values, label="value")
            if valid_for_sender.is_valid(value):  # limits and uniqueness are not composed in
                assert receiver.is_valid(value), (value, findings)


@FAST
@given(documents())
def test_every_generated_schema_is_compatible_with_itself(schema: Schema) -> None:
    """compare(s, s) never reports a breaking finding, definitions and unions included."""
    assert not [f for f in compare(schema, schema) if f.breaking]


@FAST
@given(st.data())
def test_a_new_required_property_breaks_and_a_real_value_shows_it(data: st.DataObject) -> None:
    """REQUIRED_PROPERTY_ADDED is reported, and no closed writer value satisfies the reader."""
    writer = data.draw(documents(), label="writer")
    reader = {**writer, "required": [*writer["required"], "new"]}
    reader["properties"] = {**writer["properties"], "new": {"type": "string"}}
    assert "REQUIRED_PROPERTY_ADDED" in {f.rule for f in compare(writer, reader) if f.breaking}
    sender = closed(writer)
    value = data.draw(instances(sender, sender), label="value")
    assert not Draft202012Validator(reader).is_valid(value)


@FAST
@given(documents())
def test_adding_null_to_the_root_never_breaks_a_reader(schema: Schema) -> None:
    """Widening the whole schema to ``anyOf [schema, null]`` is backward compatible."""
    definitions = {"$defs": schema["$defs"]} if "$defs" in schema else {}
    body = {key: value for key, value in schema.items() if key != "$defs"}
    widened = {**definitions, "anyOf": [body, {"type": "null"}]}
    assert not [f for f in compare(schema, widened) if f.breaking]


# --- fuzz: anything in, findings or ContractError out ------------------------------------------

STRUCTURE = ("properties", "required", "items", "prefixItems", "anyOf", "oneOf", "allOf", "const")
OTHERS = ("$ref", "$defs", "not", "if", "patternProperties", "title", "x-seamline", "default")
KEYWORDS = st.sampled_from([*EDITS, *STRUCTURE, *OTHERS])
JUNK: st.SearchStrategy[Any] = st.recursive(
    JSON | st.sampled_from(["#/$defs/D0", "#/$defs/nope", "http://x", float("nan"), 10**400]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(KEYWORDS | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=8,
)


def survives(writer: Any, reader: Any) -> None:
    """compare() returns findings or raises ContractError; anything else fails the test."""
    try:
        findings = compare(writer, reader)
    except ContractError:
        return  # refusing a schema it cannot judge is the documented outcome
    assert all(str(f).startswith(f"{f.rule} at ") for f in findings)


@FAST
@given(JUNK, JUNK)
def test_arbitrary_values_give_findings_or_contract_error(writer: Any, reader: Any) -> None:
    """Random JSON-like input never raises anything but ContractError."""
    survives(writer, reader)


@FAST
@given(st.data())
def test_mutated_schemas_give_findings_or_contract_error(data: st.DataObject) -> None:
    """A valid schema with any keyword set to any value never crashes the checker."""
    writer = data.draw(documents(), label="writer")
    reader = copy.deepcopy(writer)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        node = data.draw(st.sampled_from(nodes(reader)))
        node[data.draw(KEYWORDS)] = data.draw(JUNK)
    survives(writer, reader)
    survives(reader, writer)
    mode = data.draw(st.sampled_from(Compatibility))
    with contextlib.suppress(ContractError):
        check_compatibility([("1.0.0", writer)], ("1.1.0", reader), mode)
