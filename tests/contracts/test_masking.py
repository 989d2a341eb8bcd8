"""Masking: sensitive payload values and facts read as MASK everywhere but the receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from seamline.contracts import (
    EXTERNAL,
    MASK,
    AgentRef,
    Contract,
    ContractRef,
    Envelope,
    Intent,
    VersionRange,
    check_handoff,
    mask_payload,
)

NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
IBAN = "DE89370400440532013000"
OTHER_IBAN = "GB33BUKB20201555555555"


class Payout(BaseModel):
    """Money to send to a customer's bank account."""

    order_id: str
    iban: str
    holder: dict[str, str] = {}


PAYOUT = Contract(
    model=Payout,
    name="payout",
    version="1.0.0",
    owner="billing",
    sensitive=("iban", "holder"),
    tracked=("order_id", "iban"),
)


def envelope(**overrides: Any) -> Envelope:
    """A payout envelope whose IBAN is sensitive, with any field overridden."""
    fields: dict[str, Any] = {
        "handoff_id": "h-1",
        "correlation_id": "wf-1",
        "source": EXTERNAL,
        "destination": AgentRef(name="payouts", version="1.0.0"),
        "contract": ContractRef(name="payout", version="1.0.0"),
        "sensitive": ("holder", "iban"),
        "intent": Intent.of("refund order A-1 to my bank account"),
        "facts": {"order_id": "A-1", "iban": IBAN},
        "hop": 0,
        "created_at": NOON,
        "payload": {"order_id": "A-1", "iban": IBAN, "holder": {"name": "Ada Lovelace"}},
    }
    fields.update(overrides)
    return Envelope(**fields)


def test_mask_payload_replaces_sensitive_values_and_skips_absent_ones() -> None:
    """Each named field present reads MASK; a sensitive field left out is not added."""
    payload = {"order_id": "A-1", "iban": IBAN}
    assert mask_payload(payload, ["iban", "holder"]) == {"order_id": "A-1", "iban": MASK}
    assert payload == {"order_id": "A-1", "iban": IBAN}


def test_a_sensitive_nested_model_is_masked_whole() -> None:
    """Contracts name top-level fields: a sensitive field holding an object is masked whole."""
    masked = mask_payload({"holder": {"name": "Ada Lovelace"}}, ["holder"])
    assert masked == {"holder": MASK}


def test_a_dotted_path_masks_inside_a_nested_mapping_only() -> None:
    """``payload.iban`` masks the IBAN a rejected-handoff wrapper carries, keeping its siblings."""
    wrapper = {"contract": "payout@1.0.0", "payload": {"order_id": "A-1", "iban": IBAN}}
    masked = mask_payload(wrapper, ["payload.iban"])
    assert masked == {"contract": "payout@1.0.0", "payload": {"order_id": "A-1", "iban": MASK}}
    assert wrapper["payload"] == {"order_id": "A-1", "iban": IBAN}


def test_masked_hides_sensitive_payload_and_facts_and_keeps_the_rest() -> None:
    """masked() masks sensitive payload fields and facts; the rest and the original are intact."""
    original = envelope()
    masked = original.masked()
    assert masked.payload == {"order_id": "A-1", "iban": MASK, "holder": MASK}
    assert masked.facts == {"order_id": "A-1", "iban": MASK}
    assert masked.model_dump(exclude={"payload", "facts"}) == original.model_dump(
        exclude={"payload", "facts"}
    )
    assert original.payload["iban"] == IBAN and original.facts["iban"] == IBAN
    assert IBAN not in masked.model_dump_json()


def test_masked_without_sensitive_fields_is_the_envelope_itself() -> None:
    """An envelope with nothing sensitive is shown as it is."""
    plain = envelope(sensitive=())
    assert plain.masked() is plain


def test_an_envelope_recorded_before_sensitive_existed_still_loads() -> None:
    """Ledger JSON without a ``sensitive`` key reads as nothing sensitive."""
    recorded = json.loads(envelope().model_dump_json())
    del recorded["sensitive"]
    loaded = Envelope.model_validate_json(json.dumps(recorded))
    assert loaded.sensitive == ()
    assert loaded.masked().payload["iban"] == IBAN


def test_a_changed_sensitive_fact_is_reported_without_its_values() -> None:
    """fact_changed on a tracked sensitive field names the path but quotes neither value."""
    changed = envelope(payload={"order_id": "A-1", "iban": OTHER_IBAN})
    verdict = check_handoff(
        changed,
        PAYOUT,
        VersionRange.parse("^1"),
        intent_sha256=changed.intent.sha256,
        previous_constraints=None,
        facts={"order_id": "A-1", "iban": IBAN},
    )
    assert isinstance(verdict, list)
    [issue] = verdict
    assert (issue.path, issue.code) == ("payload.iban", "fact_changed")
    assert IBAN not in issue.message and OTHER_IBAN not in issue.message
    assert f"tracked fact changed from {MASK} to {MASK}" in issue.message


def test_a_fact_sensitive_on_an_earlier_hop_stays_unquoted() -> None:
    """A fact the envelope marks sensitive is not quoted even if this contract does not say so."""
    relaxed = Contract(
        model=Payout, name="payout", version="1.0.0", owner="billing", tracked=("iban",)
    )
    changed = envelope(payload={"order_id": "A-1", "iban": OTHER_IBAN})
    verdict = check_handoff(
        changed,
        relaxed,
        VersionRange.parse("^1"),
        intent_sha256=changed.intent.sha256,
        previous_constraints=None,
        facts={"iban": IBAN},
    )
    assert isinstance(verdict, list)
    assert all(IBAN not in issue.message for issue in verdict)
