"""Generated contract tests: they pass on sound contracts and fail, readably, on broken ones."""

from __future__ import annotations

import sys
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

import seamline.testing
from seamline import Contract, MissingExtraError, Registry, agent
from seamline.agents import Context, Finish, Outcome
from seamline.demo import REFUND, TICKET, build_registry
from seamline.testing import ContractCase, contract_cases, contract_tests, registry_cases


class Priority(Enum):
    """How soon a parcel must go."""

    STANDARD = "standard"
    EXPRESS = "express"


class Parcel(BaseModel):
    """One parcel of a shipment."""

    model_config = ConfigDict(extra="forbid")
    sku: str = Field(pattern=r"^[A-Z]{2}-\d{3}$")
    weight_grams: int = Field(ge=1, le=30_000)
    label: str | None = Field(default=None, max_length=12)


class Prepaid(BaseModel):
    """Postage paid up front."""

    method: Literal["prepaid"]
    stamp_id: str


class OnAccount(BaseModel):
    """Postage billed to a customer account."""

    method: Literal["account"]
    account_no: int = Field(ge=1000)


class Shipment(BaseModel):
    """A shipment exercising every kind of constraint the probes know."""

    model_config = ConfigDict(extra="forbid")
    shipment_id: str = Field(min_length=3, max_length=20)
    parcels: list[Parcel] = Field(min_length=1, max_length=4)
    postage: Annotated[Prepaid | OnAccount, Field(discriminator="method")]
    insured_value: float = Field(gt=0, lt=1_000_000)
    priority: Priority
    carrier: Literal["dhl", "ups"]
    ship_by: datetime | None = None
    notes: dict[str, str] = {}


SHIPMENT = Contract(model=Shipment, name="logistics.shipment", version="1.4.2", owner="logistics")


def case_of(contract: Contract[Any], name: str, accepted: str | None = None) -> ContractCase:
    """One generated case of ``contract``, by name."""
    return next(case for case in contract_cases(contract, accepted) if case.name == name)


def failure_of(case: ContractCase) -> str:
    """The AssertionError message of a case that must fail."""
    with pytest.raises(AssertionError) as failure:
        case.run()
    return str(failure.value)


def test_cases_have_stable_ids_per_property() -> None:
    """One case per property, each with a ``name@version::property`` id."""
    assert [case.id for case in contract_cases(REFUND)] == [
        "refund.request@1.2.0::valid_payloads_accepted",
        "refund.request@1.2.0::malformed_payloads_rejected",
        "refund.request@1.2.0::edge_values_handled",
        "refund.request@1.2.0::version_mismatch_detected",
    ]


@pytest.mark.parametrize("case", contract_cases(SHIPMENT), ids=lambda case: case.name)
def test_a_sound_contract_passes_every_case(case: ContractCase) -> None:
    """Nested and tagged models, lists, enums, bounds, patterns and extras all check out."""
    case.run()


@pytest.mark.parametrize("case", registry_cases(build_registry()), ids=lambda case: case.id)
def test_demo_contracts(case: ContractCase) -> None:
    """Every version of the demo's contracts passes, money fields included."""
    case.run()


class BareMoney(BaseModel):
    """A bare Decimal: pydantic publishes it as `number | string`, wider than the model."""

    amount: Decimal = Field(gt=0, decimal_places=2)


BARE_MONEY = Contract(model=BareMoney, name="bare.money", version="1.0.0", owner="tests")


def test_the_decimal_gap_is_reported_with_the_field_and_the_fix() -> None:
    """A schema wider than its model reads as the field, pydantic's complaint and the fix."""
    message = failure_of(case_of(BARE_MONEY, "valid_payloads_accepted"))
    assert message.startswith("bare.money@1.0.0::valid_payloads_accepted: 1 problem(s)")
    assert "payload rejected: payload.amount" in message and "decimal" in message
    assert "make the schema state the model's rule" in message


class Booking(BaseModel):
    """A booking whose model is stricter than its schema says."""

    nights: int = Field(ge=1)

    @field_validator("nights")
    @classmethod
    def _short_stays_only(cls, nights: int) -> int:
        if nights > 30:
            raise ValueError("stays longer than 30 nights are booked by phone")
        return nights


def test_a_validator_the_schema_does_not_state_fails_valid_payloads() -> None:
    """Valid-by-schema payloads the model rejects fail with the field and the model's reason."""
    contract = Contract(model=Booking, name="hotel.booking", version="2.0.0", owner="hotels")
    message = failure_of(case_of(contract, "valid_payloads_accepted"))
    assert "hotel.booking@2.0.0::valid_payloads_accepted" in message
    assert "payload rejected: payload.nights: Value error, stays longer than 30 nights" in message
    assert "The published JSON Schema admits this payload but the model rejects it" in message


class Customer(BaseModel):
    """A customer whose name silently accepts anything."""

    name: Annotated[str, BeforeValidator(str)]


def test_a_silent_coercion_fails_malformed_payloads() -> None:
    """A before-validator turning any value into text is caught: the wrong type gets through."""
    contract = Contract(model=Customer, name="crm.customer", version="1.0.0", owner="crm")
    message = failure_of(case_of(contract, "malformed_payloads_rejected"))
    assert "crm.customer@1.0.0::malformed_payloads_rejected" in message
    assert "(wrong type: " in message and "accepted, though the schema forbids it" in message


class Stay(BaseModel):
    """A stay whose model collapses every problem into one issue at the top."""

    check_in: datetime

    @model_validator(mode="wrap")
    @classmethod
    def _one_vague_error(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError:
            raise ValueError("not a valid stay") from None


def test_an_issue_at_the_wrong_path_fails_malformed_payloads() -> None:
    """Rejecting at ``payload`` instead of the broken field misleads senders, and is caught."""
    contract = Contract(model=Stay, name="hotel.stay", version="1.0.0", owner="hotels")
    message = failure_of(case_of(contract, "malformed_payloads_rejected"))
    assert "payload.check_in removed (required field removed): rejected at payload: " in message
    assert "expected an issue at payload.check_in [missing]" in message


class Voucher(BaseModel):
    """A voucher whose schema promises a length limit the model never enforces."""

    code: str = Field(json_schema_extra={"maxLength": 4})


def test_a_bound_only_the_schema_states_fails_edge_values() -> None:
    """The value just past a schema bound is accepted by the model, and the case says so."""
    contract = Contract(model=Voucher, name="shop.voucher", version="1.0.0", owner="shop")
    message = failure_of(case_of(contract, "edge_values_handled"))
    assert "payload.code = " in message
    assert "(5 characters): accepted, though the schema forbids it" in message


class Leaf(BaseModel):
    """A recursive model: a tree of named nodes."""

    name: str = Field(min_length=1)
    children: list[Leaf] = []
    weight: int | str = 0


def test_recursive_models_and_unions_are_generated() -> None:
    """Self-referencing models terminate and union members report below the field's path."""
    contract = Contract(model=Leaf, name="catalog.tree", version="0.3.1", owner="catalog")
    for case in contract_cases(contract):
        case.run()


@pytest.mark.parametrize("accepted", ["^1.1", "~1.2", ">=1.0,<3", "1.2.0", "*", "^2"])
def test_versions_outside_each_range_are_rejected(accepted: str) -> None:
    """Nearby versions are rejected exactly when the receiver's range excludes them."""
    case = next(
        c for c in contract_cases(REFUND, accepted) if c.name == "version_mismatch_detected"
    )
    case.run()


def test_a_boundary_that_ignores_versions_fails_the_version_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A boundary letting a foreign version or contract through fails, naming each claim."""
    monkeypatch.setattr("seamline.testing._cases.hands_off", lambda *args, **kwargs: [])
    message = failure_of(case_of(REFUND, "version_mismatch_detected", "^1.2"))
    assert "refund.request@2.0.0 against ^1.2: no [version_not_accepted] issue at " in message
    assert "refund.request.other@1.2.0 against ^1.2: no [contract_mismatch] issue at " in message


@agent(name="refunds", version="3.0.0", owner="payments", accepts={"refund.request": "~1.2"})
def refunds(request: BaseModel, ctx: Context) -> Outcome:
    """A receiver that accepts only the 1.2 line."""
    return Finish({})


def test_registry_cases_cover_every_contract_but_the_built_in_one() -> None:
    """Every registered version gets cases; seamline's own rejected-handoff contract does not."""
    registry = Registry(agents=[refunds], contracts=[REFUND, TICKET])
    cases = registry_cases(registry)
    assert {case.contract.ref for case in cases} == {"refund.request@1.2.0", "support.ticket@1.0.0"}
    for case in cases:
        if case.name == "version_mismatch_detected":
            case.run()


def test_the_testing_extra_is_named_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without hypothesis-jsonschema the error says which extra to install."""
    monkeypatch.setitem(sys.modules, "hypothesis_jsonschema", None)
    for name in ("_probes", "_schema"):  # forget them, so the next use imports them afresh
        monkeypatch.delitem(sys.modules, f"seamline.testing.{name}", raising=False)
        monkeypatch.delattr(seamline.testing, name, raising=False)
    with pytest.raises(MissingExtraError, match=r'pip install "seamline\[testing\]"'):
        contract_cases(TICKET)


def test_public_names_are_pinned() -> None:
    """seamline.testing exports exactly its documented API."""
    assert seamline.testing.__all__ == [
        "ChatReply",
        "ChatRequest",
        "ContractCase",
        "FakeChatServer",
        "contract_cases",
        "contract_tests",
        "registry_cases",
    ]


test_ticket_contract = contract_tests(TICKET)
"""The one-line enablement inside a test module, used for real."""
