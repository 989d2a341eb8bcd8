"""Compatibility between contract versions: the rule table, the modes, and refused schemas."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field, create_model

from seamline.contracts.compatibility import (
    RULES,
    Compatibility,
    Finding,
    Violation,
    check_compatibility,
    compare,
)
from seamline.exceptions import ContractError

Schema = dict[str, Any]


def model(extra: Literal["ignore", "forbid", "allow"] = "ignore", /, **fields: Any) -> Schema:
    """The schema pydantic emits for a model with these ``name=(type, default)`` fields."""
    payload: type[BaseModel] = create_model("Payload", __config__=ConfigDict(extra=extra), **fields)
    return payload.model_json_schema()


def value(annotation: Any) -> Schema:
    """The schema of a model with one required field ``v`` of this type."""
    return model(v=(annotation, ...))


def obj(properties: Schema, *required: str, **keywords: Any) -> Schema:
    """A hand-written object schema, for shapes pydantic does not emit."""
    return {"type": "object", "properties": properties, "required": list(required), **keywords}


def one(schema: Any) -> Schema:
    """A hand-written object with one required property ``v``."""
    return obj({"v": schema}, "v")


# --- models the cases evolve ---------------------------------------------------------------


class Address(BaseModel):
    zip: str


class AddressWithCity(BaseModel):
    zip: str
    city: str


class AddressNumeric(BaseModel):
    zip: int


class Node(BaseModel):
    value: int
    children: list[Node] = []


class NodeFloat(BaseModel):
    value: float
    children: list[NodeFloat] = []


class NodeLabelled(BaseModel):
    value: int
    label: str
    children: list[NodeLabelled] = []


class Item(BaseModel):
    sku: str


class ItemNumbered(BaseModel):
    sku: int


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class MoreColors(Enum):
    RED = "red"
    BLUE = "blue"
    GREEN = "green"


class Cat(BaseModel):
    kind: Literal["cat"]


class Dog(BaseModel):
    kind: Literal["dog"]
    bark: bool = True


class StrictDog(BaseModel):
    kind: Literal["dog"]
    bark: bool


class Bird(BaseModel):
    kind: Literal["bird"]


def pets(*kinds: type[BaseModel]) -> Schema:
    """A model whose ``pet`` is a discriminated union of these models."""
    members: Any = functools.reduce(operator.or_, kinds)
    return value(Annotated[members, Field(discriminator="kind")])


# --- the table -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """An old and a new schema and the rule ids each direction must report."""

    old: Schema
    new: Schema
    backward: frozenset[str]
    """Breaking rules when the new version reads data written with the old one."""
    forward: frozenset[str]
    """Breaking rules when the old version reads data written with the new one."""
    notes: frozenset[str]
    """Non-breaking rules the backward check must report as well."""


def case(
    name: str, old: Schema, new: Schema, backward: str = "", forward: str = "", notes: str = ""
) -> Any:
    """One row: breaking rule ids backward, then forward, then notes; space-separated."""
    sets = (frozenset(text.split()) for text in (backward, forward, notes))
    return pytest.param(Case(old, new, *sets), id=name)


TEXT: Any = (str, ...)
"""A required string field, the filler most rows share."""
CASES = [
    # properties
    case(
        "required-added",
        model(a=TEXT),
        model(a=TEXT, order_value=(Decimal, ...)),
        "REQUIRED_PROPERTY_ADDED",
    ),
    case(
        "optional-added-with-default",
        model(a=TEXT),
        model(a=TEXT, note=(str, "")),
        notes="OPTIONAL_PROPERTY_ADDED_WITH_DEFAULT",
    ),
    case(
        "optional-added-none-default",
        model(a=TEXT),
        model(a=TEXT, note=(str | None, None)),
        notes="OPTIONAL_PROPERTY_ADDED_WITH_DEFAULT",
    ),
    case(
        "optional-added-default-factory",
        model(a=TEXT),
        model(a=TEXT, tags=(list[str], Field(default_factory=list))),
        notes="OPTIONAL_PROPERTY_ADDED",
    ),
    case(
        "required-removed-open",
        model(a=TEXT, b=(int, ...)),
        model(a=TEXT),
        forward="REQUIRED_PROPERTY_ADDED",
        notes="PROPERTY_REMOVED",
    ),
    case(
        "optional-removed-open", model(a=TEXT, b=(int, 0)), model(a=TEXT), notes="PROPERTY_REMOVED"
    ),
    case(
        "optional-removed-closed",
        model("forbid", a=TEXT, b=(int, 0)),
        model("forbid", a=TEXT),
        "PROPERTY_REMOVED_FROM_CLOSED_MODEL",
    ),
    case(
        "required-removed-closed",
        model("forbid", a=TEXT, b=(int, ...)),
        model("forbid", a=TEXT),
        "PROPERTY_REMOVED_FROM_CLOSED_MODEL",
        "REQUIRED_PROPERTY_ADDED",
    ),
    case(
        "made-required",
        model(a=TEXT, b=(int, 0)),
        model(a=TEXT, b=(int, ...)),
        "PROPERTY_MADE_REQUIRED",
    ),
    case(
        "made-optional",
        model(a=TEXT, b=(int, ...)),
        model(a=TEXT, b=(int, 0)),
        forward="PROPERTY_MADE_REQUIRED",
        notes="PROPERTY_MADE_OPTIONAL",
    ),
    case(
        "renamed",
        model(order_value=(Decimal, ...)),
        model(value=(Decimal, ...)),
        "REQUIRED_PROPERTY_ADDED",
        "REQUIRED_PROPERTY_ADDED",
    ),
    case(
        "required-undeclared",
        {"type": "object"},
        {"type": "object", "required": ["x"]},
        "REQUIRED_PROPERTY_ADDED",
    ),
    case(
        "any-object-to-model",
        {"type": "object"},
        obj({"a": {"type": "integer"}}),
        "TYPE_NARROWED",
        notes="OPTIONAL_PROPERTY_ADDED",
    ),
    case(
        "required-with-default",
        obj({"a": {"type": "string"}}, "a"),
        obj({"a": {"type": "string"}, "b": {"type": "integer", "default": 0}}, "a", "b"),
        "REQUIRED_PROPERTY_ADDED",
    ),
    case("property-schema-false", obj({"a": True}), obj({"a": False}), "TYPE_CHANGED"),
    # types
    case("str-to-int", value(str), value(int), "TYPE_CHANGED", "TYPE_CHANGED"),
    case("bool-to-str", value(bool), value(str), "TYPE_CHANGED", "TYPE_CHANGED"),
    case("int-to-float", value(int), value(float), forward="TYPE_NARROWED", notes="TYPE_WIDENED"),
    case(
        "made-nullable",
        value(int),
        value(int | None),
        forward="TYPE_NARROWED",
        notes="TYPE_WIDENED",
    ),
    case(
        "union-member-added",
        value(int),
        value(int | str),
        forward="TYPE_NARROWED",
        notes="TYPE_WIDENED",
    ),
    case("union-member-removed", value(int | str), value(str), "TYPE_NARROWED"),
    case("float-to-decimal", value(float), value(Decimal), forward="TYPE_NARROWED"),
    case(
        "optional-int-to-optional-str",
        value(int | None),
        value(str | None),
        "TYPE_NARROWED",
        "TYPE_NARROWED",
    ),
    case("scalar-to-list", value(str), value(list[str]), "TYPE_CHANGED", "TYPE_CHANGED"),
    case("list-items-changed", value(list[int]), value(list[str]), "TYPE_CHANGED", "TYPE_CHANGED"),
    case(
        "integer-to-number-step",
        one({"type": "integer"}),
        one({"type": "number", "multipleOf": 0.5}),
        forward="TYPE_NARROWED",
        notes="TYPE_WIDENED",
    ),
    # formats
    case(
        "datetime-to-str",
        value(datetime),
        value(str),
        forward="FORMAT_ADDED",
        notes="FORMAT_REMOVED",
    ),
    case("date-to-datetime", value(date), value(datetime), "FORMAT_CHANGED", "FORMAT_CHANGED"),
    case("str-to-uuid", value(str), value(UUID), "FORMAT_ADDED"),
    # enums and constants
    case(
        "literal-value-added",
        value(Literal["a", "b"]),
        value(Literal["a", "b", "c"]),
        forward="ENUM_VALUE_REMOVED",
        notes="ENUM_VALUE_ADDED",
    ),
    case(
        "literal-value-removed",
        value(Literal["a", "b", "c"]),
        value(Literal["a", "b"]),
        "ENUM_VALUE_REMOVED",
    ),
    case(
        "enum-member-added",
        value(Color),
        value(MoreColors),
        forward="ENUM_VALUE_REMOVED",
        notes="ENUM_VALUE_ADDED",
    ),
    case(
        "const-changed",
        value(Literal["v1"]),
        value(Literal["v2"]),
        "CONST_CHANGED",
        "CONST_CHANGED",
    ),
    case("str-to-literal", value(str), value(Literal["a", "b"]), "ENUM_ADDED"),
    case(
        "literal-to-str",
        value(Literal["a", "b"]),
        value(str),
        forward="ENUM_ADDED",
        notes="ENUM_REMOVED",
    ),
    case(
        "literal-null-removed",
        value(Literal[1, "a", None]),
        value(Literal[1, "a"]),
        "TYPE_NARROWED",
    ),
    case(
        "int-literal-to-int",
        value(Literal[1, 2]),
        value(int),
        forward="ENUM_ADDED",
        notes="ENUM_REMOVED",
    ),
    case(
        "enum-beyond-max-length",
        one({"type": "string", "enum": ["abc", "de"]}),
        one({"type": "string", "maxLength": 2}),
        "VALUE_REJECTED",
        "ENUM_ADDED",
    ),
    case("literal-to-uuid", value(Literal["x"]), value(UUID), "VALUE_REJECTED", "ENUM_ADDED"),
    # numeric limits
    case("minimum-added", value(int), value(Annotated[int, Field(ge=0)]), "MINIMUM_ADDED"),
    case(
        "minimum-raised",
        value(Annotated[int, Field(ge=0)]),
        value(Annotated[int, Field(ge=1)]),
        "MINIMUM_TIGHTENED",
    ),
    case("maximum-added", value(int), value(Annotated[int, Field(le=10)]), "MAXIMUM_ADDED"),
    case(
        "maximum-lowered",
        value(Annotated[int, Field(le=10)]),
        value(Annotated[int, Field(le=5)]),
        "MAXIMUM_TIGHTENED",
    ),
    case(
        "exclusive-minimum-added",
        value(float),
        value(Annotated[float, Field(gt=0)]),
        "EXCLUSIVE_MINIMUM_ADDED",
    ),
    case(
        "exclusive-minimum-raised",
        value(Annotated[float, Field(gt=0)]),
        value(Annotated[float, Field(gt=5)]),
        "EXCLUSIVE_MINIMUM_TIGHTENED",
    ),
    case(
        "exclusive-maximum-added",
        value(int),
        value(Annotated[int, Field(lt=10)]),
        "EXCLUSIVE_MAXIMUM_ADDED",
    ),
    case(
        "exclusive-maximum-lowered",
        value(Annotated[float, Field(lt=10)]),
        value(Annotated[float, Field(lt=5)]),
        "EXCLUSIVE_MAXIMUM_TIGHTENED",
    ),
    case(
        "integer-gt-0-is-ge-1",
        value(Annotated[int, Field(gt=0)]),
        value(Annotated[int, Field(ge=1)]),
    ),
    case(
        "number-ge-0-to-gt-0",
        value(Annotated[float, Field(ge=0)]),
        value(Annotated[float, Field(gt=0)]),
        "EXCLUSIVE_MINIMUM_TIGHTENED",
    ),
    case(
        "multiple-of-added",
        value(int),
        value(Annotated[int, Field(multiple_of=2)]),
        "MULTIPLE_OF_ADDED",
    ),
    case(
        "multiple-of-coarser",
        value(Annotated[int, Field(multiple_of=2)]),
        value(Annotated[int, Field(multiple_of=4)]),
        "MULTIPLE_OF_TIGHTENED",
    ),
    case(
        "multiple-of-changed",
        value(Annotated[int, Field(multiple_of=2)]),
        value(Annotated[int, Field(multiple_of=3)]),
        "MULTIPLE_OF_CHANGED",
        "MULTIPLE_OF_CHANGED",
    ),
    case(
        "binary-steps",
        one({"type": "number", "multipleOf": 0.5}),
        one({"type": "number", "multipleOf": 0.25}),
        forward="MULTIPLE_OF_TIGHTENED",
        notes="MULTIPLE_OF_LOOSENED",
    ),
    case(
        "decimal-steps-are-not-exact",
        one({"type": "number", "multipleOf": 0.3}),
        one({"type": "number", "multipleOf": 0.1}),
        "MULTIPLE_OF_CHANGED",
        "MULTIPLE_OF_CHANGED",
    ),
    # string limits
    case(
        "max-length-added",
        value(str),
        value(Annotated[str, Field(max_length=10)]),
        "MAX_LENGTH_ADDED",
    ),
    case(
        "max-length-lowered",
        value(Annotated[str, Field(max_length=10)]),
        value(Annotated[str, Field(max_length=5)]),
        "MAX_LENGTH_TIGHTENED",
    ),
    case(
        "min-length-added",
        value(str),
        value(Annotated[str, Field(min_length=1)]),
        "MIN_LENGTH_ADDED",
    ),
    case(
        "min-length-raised",
        value(Annotated[str, Field(min_length=1)]),
        value(Annotated[str, Field(min_length=3)]),
        "MIN_LENGTH_TIGHTENED",
    ),
    case(
        "pattern-added",
        value(str),
        value(Annotated[str, Field(pattern="^[A-Z]+$")]),
        "PATTERN_ADDED",
    ),
    case(
        "pattern-changed",
        value(Annotated[str, Field(pattern="^[A-Z]+$")]),
        value(Annotated[str, Field(pattern="^[A-Z0-9]+$")]),
        "PATTERN_CHANGED",
        "PATTERN_CHANGED",
    ),
    # arrays
    case(
        "min-items-added",
        value(list[int]),
        value(Annotated[list[int], Field(min_length=1)]),
        "MIN_ITEMS_ADDED",
    ),
    case(
        "min-items-raised",
        value(Annotated[list[int], Field(min_length=1)]),
        value(Annotated[list[int], Field(min_length=2)]),
        "MIN_ITEMS_TIGHTENED",
    ),
    case(
        "max-items-added",
        value(list[int]),
        value(Annotated[list[int], Field(max_length=5)]),
        "MAX_ITEMS_ADDED",
    ),
    case(
        "max-items-lowered",
        value(Annotated[list[int], Field(max_length=5)]),
        value(Annotated[list[int], Field(max_length=3)]),
        "MAX_ITEMS_TIGHTENED",
    ),
    case("list-to-set", value(list[int]), value(set[int]), "UNIQUE_ITEMS_ADDED"),
    case(
        "tuple-member-changed",
        value(tuple[int, str]),
        value(tuple[int, int]),
        "TYPE_CHANGED",
        "TYPE_CHANGED",
    ),
    case(
        "tuple-to-list",
        value(tuple[int, str]),
        value(list[int | str]),
        forward="MIN_ITEMS_ADDED MAX_ITEMS_ADDED TYPE_NARROWED",
    ),
    case(
        "list-of-models-changed",
        value(list[Item]),
        value(list[ItemNumbered]),
        "TYPE_CHANGED",
        "TYPE_CHANGED",
    ),
    # nested models, $ref and recursion
    case(
        "nested-required-added",
        value(Address),
        value(AddressWithCity),
        "REQUIRED_PROPERTY_ADDED",
    ),
    case(
        "nested-optional-changed",
        value(Address | None),
        value(AddressNumeric | None),
        "TYPE_CHANGED",
        "TYPE_CHANGED",
    ),
    case(
        "recursive-widened",
        value(Node),
        value(NodeFloat),
        forward="TYPE_NARROWED",
        notes="TYPE_WIDENED",
    ),
    case("recursive-required-added", value(Node), value(NodeLabelled), "REQUIRED_PROPERTY_ADDED"),
    case(
        "inline-to-ref",
        one(obj({"zip": {"type": "string"}}, "zip")),
        {**one({"$ref": "#/$defs/A"}), "$defs": {"A": obj({"zip": {"type": "string"}}, "zip")}},
    ),
    case(
        "allof-wrapped-ref",
        {
            **one({"allOf": [{"$ref": "#/definitions/A"}], "description": "old pydantic"}),
            "definitions": {"A": {"type": "string"}},
        },
        {**one({"$ref": "#/$defs/A"}), "$defs": {"A": {"type": "string"}}},
    ),
    case(
        "type-list-to-anyof",
        one({"type": ["string", "null"]}),
        one({"anyOf": [{"type": "string"}, {"type": "null"}]}),
    ),
    case(
        "mutually-recursive-changed",
        {
            **one({"$ref": "#/$defs/A"}),
            "$defs": {
                "A": obj({"b": {"$ref": "#/$defs/B"}}),
                "B": obj({"a": {"$ref": "#/$defs/A"}, "leaf": {"type": "string"}}),
            },
        },
        {
            **one({"$ref": "#/$defs/A"}),
            "$defs": {
                "A": obj({"b": {"$ref": "#/$defs/B"}}),
                "B": obj({"a": {"$ref": "#/$defs/A"}, "leaf": {"type": "integer"}}),
            },
        },
        "TYPE_CHANGED",
        "TYPE_CHANGED",
    ),
    # content models
    case(
        "dict-values-changed",
        value(dict[str, int]),
        value(dict[str, str]),
        "TYPE_CHANGED",
        "TYPE_CHANGED",
    ),
    case(
        "dict-values-widened",
        value(dict[str, int]),
        value(dict[str, float]),
        forward="TYPE_NARROWED",
    ),
    case("model-closed", model(a=TEXT), model("forbid", a=TEXT), notes="CONTENT_MODEL_CLOSED"),
    case(
        "allow-to-forbid",
        model("allow", a=TEXT),
        model("forbid", a=TEXT),
        "ADDITIONAL_PROPERTIES_FORBIDDEN",
    ),
    case("allow-to-ignore", model("allow", a=TEXT), model(a=TEXT)),
    case(
        "allow-then-typed-property",
        model("allow", a=TEXT),
        model("allow", a=TEXT, b=(int, 0)),
        "TYPE_NARROWED",
    ),
    case(
        "property-into-dict",
        obj({"a": {"type": "string"}}, "a"),
        {"type": "object", "additionalProperties": {"type": "integer"}},
        "TYPE_CHANGED",
        "REQUIRED_PROPERTY_ADDED TYPE_CHANGED",
    ),
    case(
        "min-properties-raised",
        {"type": "object", "minProperties": 1},
        {"type": "object", "minProperties": 2, "maxProperties": 5},
        "MIN_PROPERTIES_TIGHTENED MAX_PROPERTIES_ADDED",
    ),
    case(
        "max-properties-lowered",
        {"type": "object", "minProperties": 1, "maxProperties": 5},
        {"type": "object", "maxProperties": 3},
        "MAX_PROPERTIES_TIGHTENED",
        "MIN_PROPERTIES_ADDED",
    ),
    # unions
    case(
        "discriminated-branch-added", pets(Cat, Dog), pets(Cat, Dog, Bird), forward="UNION_NARROWED"
    ),
    case("discriminated-branch-tightened", pets(Cat, Dog), pets(Cat, StrictDog), "UNION_NARROWED"),
]


@pytest.mark.parametrize("row", CASES)
def test_breaking_rules_per_direction(row: Case) -> None:
    """Each direction reports exactly the expected breaking rules, plus the expected notes."""
    backward = compare(writer=row.old, reader=row.new)
    forward = compare(writer=row.new, reader=row.old)
    assert {f.rule for f in backward if f.breaking} == row.backward
    assert {f.rule for f in forward if f.breaking} == row.forward
    assert row.notes <= {f.rule for f in backward}
    assert all(f.breaking == RULES[f.rule] for f in backward + forward)


def test_every_rule_appears_in_the_table() -> None:
    """The table exercises every rule id the checker can report, in one direction or the other."""
    seen = {
        finding.rule
        for param in CASES
        for row in param.values
        for writer, reader in ((row.old, row.new), (row.new, row.old))
        for finding in compare(writer, reader)
    }
    assert seen == set(RULES)


@pytest.mark.parametrize(
    "schema", [s for p in CASES for row in p.values for s in (row.old, row.new)]
)
def test_a_schema_is_compatible_with_itself(schema: Schema) -> None:
    """Comparing a schema with itself finds nothing, recursive models included."""
    assert compare(schema, schema) == []


# --- findings: what they say and where they point --------------------------------------------


class RefundRequest(BaseModel):
    order_id: str


class RefundRequestValued(BaseModel):
    order_id: str
    order_value: Decimal


def test_finding_reads_rule_at_path_then_message() -> None:
    """str(Finding) is "RULE at /pointer: message", and the message says how to fix it."""
    (finding,) = compare(RefundRequest.model_json_schema(), RefundRequestValued.model_json_schema())
    assert finding == Finding(
        "REQUIRED_PROPERTY_ADDED", "/properties/order_value", finding.message, breaking=True
    )
    assert str(finding) == f"REQUIRED_PROPERTY_ADDED at /properties/order_value: {finding.message}"
    assert "'order_value'" in finding.message and "default" in finding.message
    assert "new major version" in finding.message


def test_root_findings_point_at_slash() -> None:
    """A finding about the root schema has the empty pointer and prints as "/"."""
    (finding,) = compare({"type": "object"}, {"type": "array"})
    assert finding.path == ""
    assert str(finding).startswith("TYPE_CHANGED at /: ")


def test_paths_follow_refs_and_keep_union_branches() -> None:
    """$ref is walked through (no /$defs in the path); an anyOf branch keeps its index."""
    required = compare(value(Address), value(AddressWithCity))
    assert [f.path for f in required] == ["/properties/v/properties/city"]
    nullable = compare(value(Address | None), value(AddressNumeric | None))
    assert [f.path for f in nullable] == ["/properties/v/anyOf/0/properties/zip"]


def test_a_removed_property_is_reported_where_it_was() -> None:
    """A property the reader no longer declares is reported at its old pointer."""
    (finding,) = compare(model(a=TEXT, gone=TEXT), model(a=TEXT))
    assert (finding.rule, finding.path) == ("PROPERTY_REMOVED", "/properties/gone")


def test_property_names_are_escaped_in_paths() -> None:
    """'/' and '~' in a property name are escaped as JSON pointers require."""
    (finding,) = compare(obj({}), obj({"a/b~c": {"type": "string"}}, "a/b~c"))
    assert finding.path == "/properties/a~1b~0c"


def test_annotations_and_metadata_are_ignored() -> None:
    """title, description, examples, default, $id, $schema and x- keys change nothing."""
    old = {"$id": "urn:a:1", "title": "A", "x-seamline": {"owner": "x"}, **one({"type": "string"})}
    noted = {"type": "string", "description": "d", "examples": ["e"], "default": "f"}
    new = {
        "$id": "urn:a:2",
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **one(noted),
    }
    assert compare(old, new) == []


def test_a_definition_that_is_only_itself_admits_nothing() -> None:
    """A $ref cycle with no structure in between terminates and is read as the false schema."""
    loop = {
        **one({"$ref": "#/$defs/A"}),
        "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
    }
    assert compare(loop, one({"type": "string"})) == []
    assert [f.rule for f in compare(one({"type": "string"}), loop)] == ["TYPE_CHANGED"]


def test_the_same_definition_is_checked_everywhere_it_is_used() -> None:
    """A definition used by two properties is reported at both paths, not once."""

    class Parties(BaseModel):
        billing: Address
        shipping: Address

    class PartiesNumeric(BaseModel):
        billing: AddressNumeric
        shipping: AddressNumeric

    paths = [
        f.path for f in compare(Parties.model_json_schema(), PartiesNumeric.model_json_schema())
    ]
    assert paths == ["/properties/billing/properties/zip", "/properties/shipping/properties/zip"]


def test_every_rule_has_a_fixed_breaking_flag() -> None:
    """RULES names every rule id once, in UPPER_SNAKE, with whether it breaks."""
    assert all(rule.replace("_", "").isalpha() and rule.isupper() for rule in RULES)
    assert RULES["REQUIRED_PROPERTY_ADDED"] is True
    assert RULES["OPTIONAL_PROPERTY_ADDED"] is False


# --- modes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "transitive", "backward", "forward"),
    [
        (Compatibility.BACKWARD, False, True, False),
        (Compatibility.BACKWARD_TRANSITIVE, True, True, False),
        (Compatibility.FORWARD, False, False, True),
        (Compatibility.FORWARD_TRANSITIVE, True, False, True),
        (Compatibility.FULL, False, True, True),
        (Compatibility.FULL_TRANSITIVE, True, True, True),
        (Compatibility.NONE, False, False, False),
    ],
)
def test_mode_properties(
    mode: Compatibility, transitive: bool, backward: bool, forward: bool
) -> None:
    """Each mode says whether it is transitive and which directions it checks."""
    assert (mode.transitive, mode.backward, mode.forward) == (transitive, backward, forward)


# A name removed and then re-added with another type: each step is fine, the jump is not.
CHAIN = [
    ("1.0.0", model(a=TEXT, b=(str, ""))),
    ("1.1.0", model(a=TEXT)),
    ("1.2.0", model(a=TEXT, b=(int, 0))),
]


@pytest.mark.parametrize(
    ("mode", "compared", "directions"),
    [
        (Compatibility.BACKWARD, ("1.1.0",), set()),
        (Compatibility.BACKWARD_TRANSITIVE, ("1.0.0", "1.1.0"), {"backward"}),
        (Compatibility.FORWARD, ("1.1.0",), set()),
        (Compatibility.FORWARD_TRANSITIVE, ("1.0.0", "1.1.0"), {"forward"}),
        (Compatibility.FULL, ("1.1.0",), set()),
        (Compatibility.FULL_TRANSITIVE, ("1.0.0", "1.1.0"), {"backward", "forward"}),
        (Compatibility.NONE, (), set()),
    ],
)
def test_transitive_modes_catch_what_the_last_step_hides(
    mode: Compatibility, compared: tuple[str, ...], directions: set[str]
) -> None:
    """Non-transitive modes compare with the last version only; transitive ones with all."""
    report = check_compatibility(CHAIN[:2], CHAIN[2], mode)
    assert (report.mode, report.candidate, report.compared) == (mode, "1.2.0", compared)
    assert {v.direction for v in report.violations} == directions
    assert report.compatible == (not directions)
    assert all(v.finding.rule == "TYPE_CHANGED" for v in report.violations)


@pytest.mark.parametrize(
    ("mode", "directions"),
    [
        (Compatibility.BACKWARD, {"backward"}),
        (Compatibility.BACKWARD_TRANSITIVE, {"backward"}),
        (Compatibility.FORWARD, {"forward"}),
        (Compatibility.FORWARD_TRANSITIVE, {"forward"}),
        (Compatibility.FULL, {"backward", "forward"}),
        (Compatibility.FULL_TRANSITIVE, {"backward", "forward"}),
        (Compatibility.NONE, set()),
    ],
)
def test_each_mode_checks_its_directions(mode: Compatibility, directions: set[str]) -> None:
    """A required field added breaks backward; one removed breaks forward; modes pick which."""
    old = ("1.0.0", model(a=TEXT, b=(int, ...)))
    new = ("1.1.0", model(a=TEXT, c=(int, ...)))
    report = check_compatibility([old], new, mode)
    assert {v.direction for v in report.violations} == directions
    assert report.compatible == (not directions)


def test_violation_names_direction_and_versions() -> None:
    """A violation prints "direction writer -> reader: finding" with the pair that broke."""
    report = check_compatibility(CHAIN[:2], CHAIN[2], Compatibility.FULL_TRANSITIVE)
    backward, forward = report.violations
    assert backward == Violation(backward.finding, "1.0.0", "1.2.0", "backward")
    assert forward == Violation(forward.finding, "1.2.0", "1.0.0", "forward")
    assert str(backward) == f"backward 1.0.0 -> 1.2.0: {backward.finding}"
    assert str(backward).startswith("backward 1.0.0 -> 1.2.0: TYPE_CHANGED at /properties/b: ")


def test_only_breaking_findings_become_violations() -> None:
    """Non-breaking differences (an optional field added) leave the report compatible."""
    report = check_compatibility(CHAIN[1:2], ("1.2.0", CHAIN[2][1]), Compatibility.FULL)
    assert report.compatible and report.violations == ()


def test_no_history_means_nothing_to_compare() -> None:
    """The first version of a major line is compatible under every mode."""
    report = check_compatibility([], CHAIN[0], Compatibility.FULL_TRANSITIVE)
    assert report.compatible and report.compared == ()


def test_none_does_not_read_the_schemas() -> None:
    """NONE compares nothing, so even a schema the checker cannot read passes."""
    report = check_compatibility(
        [("1.0.0", {"not": {}})], ("1.1.0", {"not": {}}), Compatibility.NONE
    )
    assert report.compatible


def test_bad_history_schema_names_its_version() -> None:
    """A schema the checker refuses is reported with the version it belongs to."""
    with pytest.raises(ContractError, match=r"schema 1\.0\.0: keyword 'not'"):
        check_compatibility([("1.0.0", {"not": {}})], CHAIN[0], Compatibility.BACKWARD)


# --- refused input -------------------------------------------------------------------------

REF_A: Schema = {"$defs": {"A": {"type": "string"}}}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        pytest.param([], "writer schema is a list, not a JSON Schema object", id="root-list"),
        pytest.param(True, "writer schema is a bool", id="root-bool"),
        pytest.param("{}", "writer schema is a str", id="root-str"),
        pytest.param(
            one(5),
            "a schema must be an object or a boolean, not int at /properties/v",
            id="subschema-int",
        ),
        pytest.param(
            one({"not": {"type": "null"}}),
            "keyword 'not' is not supported by the compatibility checker at /properties/v",
            id="not",
        ),
        pytest.param(
            {"if": {}, "then": {}, "else": {}}, "keyword 'if' is not supported", id="if-then-else"
        ),
        pytest.param(
            {"type": "object", "patternProperties": {"^x": {}}},
            "keyword 'patternProperties'",
            id="pattern-properties",
        ),
        pytest.param(
            {"dependentSchemas": {}}, "keyword 'dependentSchemas'", id="dependent-schemas"
        ),
        pytest.param(
            {"unevaluatedProperties": False}, "keyword 'unevaluatedProperties'", id="unevaluated"
        ),
        pytest.param({1: "x"}, "keyword 1 is not a string at /", id="non-string-key"),
        pytest.param(
            one({"$ref": "https://example.com/a.json"}),
            "$ref 'https://example.com/a.json' is not a local reference to a whole definition"
            " at /properties/v",
            id="remote-ref",
        ),
        pytest.param(
            one({"$ref": "#/properties/w"}), "is not a local reference", id="non-defs-ref"
        ),
        pytest.param(
            {**one({"$ref": "/$defs/A"}), **REF_A}, "is not a local reference", id="ref-no-hash"
        ),
        pytest.param(
            {**one({"$ref": "#/$defs/A/properties/x"}), **REF_A},
            "is not a local reference",
            id="ref-into-definition",
        ),
        pytest.param(
            one({"$ref": "#/$defs/Missing"}),
            "$ref '#/$defs/Missing' names a definition that does not exist at /properties/v;"
            " add 'Missing' to $defs",
            id="dangling-ref",
        ),
        pytest.param(
            one({"$ref": 5}), "$ref must be a string at /properties/v", id="ref-not-string"
        ),
        pytest.param(
            {**one({"$ref": "#/$defs/A", "maxLength": 3}), **REF_A},
            "$ref next to maxLength is not supported at /properties/v; move maxLength",
            id="ref-with-siblings",
        ),
        pytest.param(
            one({"anyOf": [{"type": "string"}], "type": "string"}),
            "anyOf next to type is not supported",
            id="anyof-with-siblings",
        ),
        pytest.param(
            one({"anyOf": []}),
            "anyOf must be a non-empty list of schemas at /properties/v",
            id="anyof-empty",
        ),
        pytest.param(
            one({"oneOf": {"type": "string"}}),
            "oneOf must be a non-empty list",
            id="oneof-not-list",
        ),
        pytest.param(
            one({"allOf": [{"type": "string"}, {"maxLength": 3}]}),
            "allOf with several schemas is not supported at /properties/v",
            id="allof-several",
        ),
        pytest.param(
            {"$defs": [], "type": "object"},
            "$defs must map definition names to schemas",
            id="defs-not-mapping",
        ),
        pytest.param(
            {"type": "object", "required": 5},
            "required must be a list of property names at /",
            id="required-not-list",
        ),
        pytest.param(
            {"type": "object", "required": [1]},
            "required must be a list of property names",
            id="required-not-names",
        ),
        pytest.param(
            {"type": "object", "properties": []},
            "properties must map names to schemas",
            id="properties-not-mapping",
        ),
        pytest.param(one({"type": "int"}), "type 'int' is not a JSON type", id="type-unknown"),
        pytest.param(
            one({"type": []}), "type [] is not a JSON type or a non-empty list", id="type-empty"
        ),
        pytest.param(
            one({"enum": "ab"}), "enum must be a list at /properties/v", id="enum-not-list"
        ),
        pytest.param(
            one({"enum": [{1, 2}]}), "is not a JSON value at /properties/v", id="enum-not-json"
        ),
        pytest.param(one({"const": float("nan")}), "nan is not a JSON value", id="const-nan"),
        pytest.param(
            one({"minimum": "0"}),
            "minimum must be a finite number, not '0' at /properties/v",
            id="minimum-string",
        ),
        pytest.param(
            one({"maximum": True}), "maximum must be a finite number, not True", id="maximum-bool"
        ),
        pytest.param(
            one({"maximum": float("inf")}),
            "maximum must be a finite number, not inf",
            id="maximum-infinite",
        ),
        pytest.param(
            one({"multipleOf": 0}),
            "multipleOf must be a positive number, not 0",
            id="multiple-of-zero",
        ),
        pytest.param(
            one({"minLength": -1}),
            "minLength must be a whole number of 0 or more",
            id="min-length-negative",
        ),
        pytest.param(
            one({"maxItems": 1.5}),
            "maxItems must be a whole number of 0 or more",
            id="max-items-fraction",
        ),
        pytest.param(
            one({"pattern": "("}),
            "pattern '(' is not a regular expression Python can compile",
            id="pattern-invalid",
        ),
        pytest.param(
            one({"pattern": 5}),
            "pattern must be a string at /properties/v",
            id="pattern-not-string",
        ),
        pytest.param(one({"format": ["email"]}), "format must be a string", id="format-not-string"),
        pytest.param(
            one({"uniqueItems": "yes"}),
            "uniqueItems must be true or false",
            id="unique-items-not-bool",
        ),
        pytest.param(
            one({"items": [{"type": "string"}]}),
            "items as a list is the pre-2020-12 tuple form at /properties/v;"
            " write the list as prefixItems",
            id="items-list",
        ),
        pytest.param(
            one({"prefixItems": {"type": "string"}}),
            "prefixItems must be a list of schemas",
            id="prefix-items-not-list",
        ),
    ],
)
def test_unreadable_schemas_raise_contract_error(schema: Any, expected: str) -> None:
    """Each malformed or unsupported shape raises ContractError naming keyword and path."""
    with pytest.raises(ContractError) as caught:
        compare(schema, {"type": "object"})
    assert expected in str(caught.value)
    assert str(caught.value).startswith("writer schema")


def test_the_reader_side_is_named_too() -> None:
    """Errors in the reader's schema say so."""
    with pytest.raises(ContractError, match=r"^reader schema: keyword 'not'"):
        compare({"type": "object"}, {"not": {}})


def test_a_python_object_that_contains_itself_is_refused() -> None:
    """A cyclic dict raises ContractError, not RecursionError."""
    schema: Schema = {"type": "object", "properties": {}}
    schema["properties"]["self"] = schema
    with pytest.raises(ContractError, match="nests too deeply or contains itself"):
        compare(schema, {"type": "object"})


@pytest.mark.parametrize(
    ("history", "candidate", "mode", "expected"),
    [
        pytest.param(
            "1.0.0", CHAIN[0], Compatibility.FULL, "history must be a list", id="history-str"
        ),
        pytest.param(5, CHAIN[0], Compatibility.FULL, "history must be a list", id="history-int"),
        pytest.param(
            [("1.0.0",)],
            CHAIN[0],
            Compatibility.FULL,
            "history entry ('1.0.0',) is not a (version, schema) pair",
            id="entry-short",
        ),
        pytest.param(
            [(1, {})],
            CHAIN[0],
            Compatibility.FULL,
            "is not a (version, schema) pair",
            id="version-not-str",
        ),
        pytest.param(
            [],
            {"type": "object"},
            Compatibility.FULL,
            "candidate {'type': 'object'} is not a (version, schema) pair",
            id="candidate-bare",
        ),
        pytest.param(
            [],
            CHAIN[0],
            "FULL",
            "'FULL' is not a compatibility mode; use one of BACKWARD",
            id="mode-str",
        ),
    ],
)
def test_malformed_check_arguments_raise_contract_error(
    history: Any, candidate: Any, mode: Any, expected: str
) -> None:
    """check_compatibility refuses malformed history, candidate and mode with what to pass."""
    with pytest.raises(ContractError) as caught:
        check_compatibility(history, candidate, mode)
    assert expected in str(caught.value)
