"""Contract schemas narrowed into strict structured outputs, or sent non-strict with why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import pytest
from pydantic import AnyUrl, BaseModel, Field, RootModel

from seamline import ConfigurationError
from seamline.interop._structured import response_schema


class Money(BaseModel):
    """An amount in one currency."""

    value: str
    currency: str = "EUR"


class Parcel(BaseModel):
    kind: Literal["parcel"]
    weight: float


class Letter(BaseModel):
    kind: Literal["letter"]
    stamps: int


class Shipment(BaseModel):
    """A shipment, described the way pydantic usually writes it."""

    note: str | None = None
    label: str = Field("", max_length=20)
    tracking: AnyUrl
    sent: datetime
    refund: Money = Field(description="What comes back.")
    fee: Money
    item: Annotated[Parcel | Letter, Field(discriminator="kind")]


def narrowed(model: type[BaseModel]) -> dict[str, Any]:
    """The strict copy of ``model``'s schema (failing the test if there is none)."""
    schema = response_schema("shipment", "", model.model_json_schema(), strict=None)
    assert schema.reason is None and schema.narrowed is not None
    return schema.narrowed


def test_every_object_is_closed_and_every_field_required() -> None:
    """Fields with defaults become required (the model states them); defaults are dropped."""
    schema = narrowed(Shipment)
    assert schema["required"] == list(Shipment.model_fields)
    assert schema["additionalProperties"] is False
    note = schema["properties"]["note"]
    assert note == {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Note"}
    money = schema["$defs"]["Money"]
    assert money["required"] == ["value", "currency"] and money["additionalProperties"] is False


def test_keywords_strict_mode_lacks_are_dropped_and_the_rest_kept() -> None:
    """maxLength and an unlisted format go (the contract still checks them); date-time stays."""
    properties = narrowed(Shipment)["properties"]
    assert properties["label"] == {"type": "string", "title": "Label"}
    assert properties["tracking"] == {"type": "string", "title": "Tracking"}
    assert properties["sent"]["format"] == "date-time"


def test_a_reference_beside_other_keywords_is_inlined_and_a_bare_one_kept() -> None:
    """strict mode reads a $ref alone: the described field gets Money inline."""
    properties = narrowed(Shipment)["properties"]
    assert properties["fee"] == {"$ref": "#/$defs/Money"}
    refund = properties["refund"]
    assert refund["description"] == "What comes back." and "$ref" not in refund
    assert refund["required"] == ["value", "currency"] and refund["additionalProperties"] is False


def test_a_tagged_union_becomes_any_of() -> None:
    """oneOf with a discriminator: its tags keep the branches apart, so anyOf says the same."""
    item = narrowed(Shipment)["properties"]["item"]
    assert "oneOf" not in item and "discriminator" not in item
    assert item["anyOf"] == [{"$ref": "#/$defs/Parcel"}, {"$ref": "#/$defs/Letter"}]


class Loose(BaseModel):
    anything: Any
    tags: list[Any]
    extra: dict[str, int]


@pytest.mark.parametrize(
    ("schema", "obstacles"),
    [
        (
            Loose.model_json_schema(),
            "#/properties/anything (a value of any type); #/properties/tags/items (a value of "
            "any type); #/properties/extra (keys it does not name, additionalProperties)",
        ),
        (RootModel[list[int]].model_json_schema(), "# (a root that is not one object)"),
        (
            {"type": "object", "properties": {"x": {"type": "array"}}},
            "#/properties/x (an array of any items)",
        ),
        (
            {"type": "object", "properties": {"x": {"allOf": [{"type": "string"}, {}]}}},
            "#/properties/x (an intersection, allOf)",
        ),
        (
            {"type": "object", "properties": {"x": {"type": "string", "not": {"const": ""}}}},
            "#/properties/x (a negation, not)",
        ),
        (
            {"type": "object", "properties": {"x": {"$ref": "other.json#/x"}}},
            "#/properties/x (a reference outside the schema, other.json#/x)",
        ),
    ],
)
def test_what_strict_mode_cannot_carry_goes_non_strict_with_every_reason(
    schema: dict[str, Any], obstacles: str
) -> None:
    """The loose schema is sent instead, and the reason lists each obstacle by its path."""
    sent = response_schema("x", "", schema, strict=None)
    assert not sent.strict and sent.loose == schema
    assert sent.reason == f"strict structured outputs cannot carry {obstacles}"
    assert sent.response_format()["json_schema"]["strict"] is False


def test_the_response_format_names_the_contract_safely_and_drops_registry_metadata() -> None:
    """A dotted contract name becomes a valid schema name; $id and x-seamline stay home."""
    schema = {"$id": "urn:x", "x-seamline": {}, **Money.model_json_schema()}
    sent = response_schema("refund.request", "Refunds.", schema, strict=False)
    assert sent.response_format() == {
        "type": "json_schema",
        "json_schema": {
            "name": "refund_request",
            "schema": Money.model_json_schema(),
            "strict": False,
            "description": "Refunds.",
        },
    }
    assert sent.reason is None


def test_strict_true_refuses_a_schema_it_cannot_narrow() -> None:
    """The error names the obstacle and the way out."""
    with pytest.raises(ConfigurationError, match=r"pass strict=None to send it non-strict"):
        response_schema("loose", "", Loose.model_json_schema(), strict=True)
