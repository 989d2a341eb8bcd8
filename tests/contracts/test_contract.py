"""Contracts: a payload model plus the metadata that makes it an interface between teams."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from seamline.contracts import Contract, FailurePolicy, Lifecycle, Version
from seamline.exceptions import ConfigurationError, ContractError, VersionError


class RefundRequest(BaseModel):
    """A customer's request for money back."""

    order_id: str
    amount: Decimal
    card_number: str | None = None


class NoDoc(BaseModel):
    value: int


def refund(**overrides: Any) -> Contract[RefundRequest]:
    """A valid refund contract, with any keyword overridden."""
    arguments: dict[str, Any] = {
        "model": RefundRequest,
        "name": "refund.request",
        "version": "1.0.0",
        "owner": "payments",
    }
    arguments.update(overrides)
    return Contract(**arguments)


def test_contract_keeps_its_definition() -> None:
    """A valid contract exposes its model, name, parsed version, owner and field sets."""
    contract = refund(
        version="1.2",
        sensitive=["card_number"],
        tracked=("order_id", "amount"),
        rewrites={"amount"},
        fallback_owner="payments-oncall",
    )
    assert contract.model is RefundRequest
    assert contract.name == "refund.request"
    assert contract.version == Version(1, 2, 0)
    assert contract.owner == "payments"
    assert contract.sensitive == frozenset({"card_number"})
    assert contract.tracked == frozenset({"order_id", "amount"})
    assert contract.rewrites == frozenset({"amount"})
    assert contract.fallback_owner == "payments-oncall"


def test_contract_defaults() -> None:
    """Without options a contract has no special fields and the default failure policy."""
    contract = refund()
    assert contract.sensitive == frozenset()
    assert contract.tracked == frozenset()
    assert contract.rewrites == frozenset()
    assert contract.policy == FailurePolicy(feedback_retries=2, fallback_agent=None)
    assert contract.fallback_owner is None


def test_contract_accepts_a_version_object() -> None:
    """The version may be given as a Version as well as a string."""
    assert refund(version=Version(2, 1, 0)).version == Version(2, 1, 0)


def test_contract_ref_is_name_at_version() -> None:
    """ref prints name@MAJOR.MINOR.PATCH, normalising a short version."""
    assert refund(version="2").ref == "refund.request@2.0.0"


def test_description_defaults_to_the_model_docstring() -> None:
    """With no description the model's docstring is used; an explicit one wins."""
    assert refund().description == "A customer's request for money back."
    assert refund(description="Refunds.").description == "Refunds."


def test_description_is_empty_without_a_docstring() -> None:
    """A model with no docstring and no description gives an empty description."""
    contract = Contract(model=NoDoc, name="no.doc", version="1", owner="team")
    assert contract.description == ""


def test_contract_is_immutable_and_hashable() -> None:
    """Contracts are frozen value objects: assignment raises, equal contracts hash equal."""
    contract = refund()
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(contract, "owner", "someone-else")  # noqa: B010
    assert hash(contract) == hash(refund())
    assert contract == refund()
    assert contract != refund(version="1.0.1")


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(dict, id="plain-class"),
        pytest.param(RefundRequest(order_id="o", amount=Decimal(1)), id="model-instance"),
        pytest.param("RefundRequest", id="string"),
        pytest.param(None, id="none"),
    ],
)
def test_model_must_be_a_basemodel_subclass(model: Any) -> None:
    """A model that is not a pydantic BaseModel subclass raises ContractError saying so."""
    with pytest.raises(ContractError) as caught:
        refund(model=model)
    message = str(caught.value)
    assert "'refund.request'" in message
    assert "must be a pydantic BaseModel subclass" in message


def test_model_may_not_be_a_dataclass() -> None:
    """A dataclass with the right fields is still rejected: payloads are pydantic models."""

    @dataclasses.dataclass
    class Plain:
        order_id: str

    with pytest.raises(ContractError, match="pydantic BaseModel subclass"):
        refund(model=Plain)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("refund request", id="space"),
        pytest.param("refund/request", id="slash"),
        pytest.param("refund@1", id="at-sign"),
        pytest.param("...", id="only-dots"),
        pytest.param("refund:request", id="colon"),
    ],
)
def test_contract_rejects_bad_names(name: str) -> None:
    """A name with characters other than letters, digits, '.', '-', '_' raises ContractError."""
    with pytest.raises(ContractError) as caught:
        refund(name=name)
    message = str(caught.value)
    assert f"contract name {name!r} is invalid" in message
    assert "use letters, digits, '.', '-' or '_'" in message


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("refund", id="word"),
        pytest.param("refund.request", id="dotted"),
        pytest.param("refund-request_v2", id="dash-underscore-digit"),
        pytest.param("a", id="single-letter"),
    ],
)
def test_contract_accepts_good_names(name: str) -> None:
    """Dotted, dashed and underscored names are valid."""
    assert refund(name=name).name == name


def test_contract_requires_an_owner() -> None:
    """An empty owner raises ContractError asking for the receiving team."""
    with pytest.raises(ContractError) as caught:
        refund(owner="")
    message = str(caught.value)
    assert "'refund.request' has no owner" in message
    assert "name the receiving team" in message


def test_contract_rejects_a_bad_version() -> None:
    """An unparseable version raises VersionError (a ConfigurationError)."""
    with pytest.raises(VersionError, match="is not a semantic version"):
        refund(version="v1")
    with pytest.raises(ConfigurationError):
        refund(version="1.0.0.0")


@pytest.mark.parametrize("kind", ["sensitive", "tracked", "rewrites"])
def test_field_sets_must_name_model_fields(kind: str) -> None:
    """Unknown names in sensitive/tracked/rewrites raise ContractError listing the real fields."""
    with pytest.raises(ContractError) as caught:
        refund(**{kind: ["order_id", "ammount"]})
    message = str(caught.value)
    assert f"{kind} fields ['ammount']" in message
    assert "are not fields of RefundRequest" in message
    assert "(fields: amount, card_number, order_id)" in message


def test_rewrites_must_be_tracked() -> None:
    """A rewrite of a real but untracked field raises ContractError naming it and the fix."""
    with pytest.raises(ContractError) as caught:
        refund(tracked=["order_id"], rewrites=["amount", "card_number"])
    message = str(caught.value)
    assert "rewrites names fields that are not tracked (amount, card_number)" in message
    assert "add them to tracked or remove them from rewrites" in message


def test_failure_policy_defaults() -> None:
    """The default ladder is two feedback rounds and no fallback agent."""
    policy = FailurePolicy()
    assert policy.feedback_retries == 2
    assert policy.fallback_agent is None


def test_failure_policy_allows_zero_retries() -> None:
    """Zero feedback retries is valid: skip straight to the fallback or dead letter."""
    assert FailurePolicy(feedback_retries=0, fallback_agent="repair").feedback_retries == 0


def test_failure_policy_rejects_negative_retries() -> None:
    """A negative retry count raises ContractError suggesting 0."""
    with pytest.raises(ContractError) as caught:
        FailurePolicy(feedback_retries=-1)
    message = str(caught.value)
    assert "feedback_retries must be 0 or more, got -1" in message
    assert "use 0 to turn it off" in message


def test_contract_keeps_a_given_policy() -> None:
    """An explicit failure policy is kept as given."""
    policy = FailurePolicy(feedback_retries=5, fallback_agent="repair")
    assert refund(policy=policy).policy is policy


def test_json_schema_carries_the_contract_metadata() -> None:
    """json_schema() is the model's schema plus a stable $id and an x-seamline block."""
    contract = refund(
        version="1.4",
        sensitive=["card_number"],
        tracked=["order_id", "amount"],
        rewrites=["amount"],
        policy=FailurePolicy(feedback_retries=1, fallback_agent="repair"),
        fallback_owner="payments-oncall",
        compatibility="full_transitive",
        retires="2027-03-31",
        changelog="splits the amount",
        consequential=True,
    )
    schema = contract.json_schema()
    assert schema["$id"] == "urn:seamline:contract:refund.request:1.4.0"
    assert set(schema["properties"]) == {"order_id", "amount", "card_number"}
    assert schema["required"] == ["order_id", "amount"]
    assert schema["x-seamline"] == {
        "name": "refund.request",
        "version": "1.4.0",
        "owner": "payments",
        "description": "A customer's request for money back.",
        "sensitive": ["card_number"],
        "tracked": ["amount", "order_id"],
        "rewrites": ["amount"],
        "failure_policy": {"feedback_retries": 1, "fallback_agent": "repair"},
        "fallback_owner": "payments-oncall",
        "compatibility": "FULL_TRANSITIVE",
        "deprecated": None,
        "retires": "2027-03-31",
        "changelog": "splits the amount",
        "consequential": True,
    }


@pytest.mark.parametrize(
    ("deprecated", "retires", "today", "stage"),
    [
        (None, None, "2026-01-01", Lifecycle.ACTIVE),
        ("2026-06-01", None, "2026-05-31", Lifecycle.ACTIVE),
        ("2026-06-01", None, "2026-06-01", Lifecycle.DEPRECATED),
        (None, "2026-09-01", "2026-01-01", Lifecycle.DEPRECATED),
        ("2026-06-01", "2026-09-01", "2026-08-31", Lifecycle.DEPRECATED),
        ("2026-06-01", "2026-09-01", "2026-09-01", Lifecycle.RETIRED),
    ],
)
def test_lifecycle_follows_the_announced_dates(
    deprecated: str | None, retires: str | None, today: str, stage: Lifecycle
) -> None:
    """Announcing a retirement deprecates at once; the retirement day itself rejects."""
    contract = refund(deprecated=deprecated, retires=retires)
    assert contract.lifecycle(date.fromisoformat(today)) is stage


def test_bad_lifecycle_dates_and_modes_are_contract_errors() -> None:
    """Unparseable dates, a retirement before the deprecation, an unknown mode."""
    with pytest.raises(ContractError, match="write YYYY-MM-DD"):
        refund(retires="next spring")
    with pytest.raises(ContractError, match="announce the deprecation first"):
        refund(deprecated="2026-06-01", retires="2026-01-01")
    with pytest.raises(ContractError, match="unknown compatibility mode 'SIDEWAYS'; use one of"):
        refund(compatibility="SIDEWAYS")


def test_rewrites_by_agent_are_kept_and_checked() -> None:
    """A mapping names who may rewrite each field; an empty list is refused."""
    contract = Contract(
        model=RefundRequest,
        name="refund.adjusted",
        version="1.0.0",
        owner="payments",
        tracked=("amount",),
        rewrites={"amount": ["adjuster"]},
    )
    assert contract.rewrites == frozenset({"amount"})
    assert contract.may_rewrite("amount", "adjuster")
    assert not contract.may_rewrite("amount", "intake")
    assert not contract.may_rewrite("order_id", "adjuster")
    with pytest.raises(ContractError, match="rewrites gives no agents for amount"):
        Contract(
            model=RefundRequest,
            name="refund.adjusted",
            version="1.0.0",
            owner="payments",
            tracked=("amount",),
            rewrites={"amount": []},
        )


def test_replace_keeps_who_may_rewrite() -> None:
    """A project file overriding an owner must not widen who may rewrite a fact."""
    contract = Contract(
        model=RefundRequest,
        name="refund.adjusted",
        version="1.0.0",
        owner="payments",
        tracked=("amount",),
        rewrites={"amount": ["adjuster"]},
    )
    copy = dataclasses.replace(contract, owner="billing")
    assert copy.owner == "billing" and copy.rewriters == {"amount": frozenset({"adjuster"})}
    assert not copy.may_rewrite("amount", "intake")
    with pytest.raises(ContractError, match="rewriters names fields missing from rewrites"):
        dataclasses.replace(contract, rewrites=frozenset())
