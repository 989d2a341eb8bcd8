"""The envelope and its typed parts: intent, tasks, tool outputs and tightening constraints."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from seamline.contracts import (
    EXTERNAL,
    AgentRef,
    AudioContent,
    Budget,
    Constraints,
    ContractRef,
    EmbeddedResource,
    Envelope,
    ImageContent,
    Intent,
    ResourceLink,
    TaskItem,
    TaskState,
    TextContent,
    ToolOutput,
)
from seamline.contracts.envelope import intent_hash

NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def envelope(**overrides: Any) -> Envelope:
    """A valid envelope, with any field overridden."""
    fields: dict[str, Any] = {
        "handoff_id": "h-1",
        "correlation_id": "wf-1",
        "source": EXTERNAL,
        "destination": AgentRef(name="triage", version="1.0.0"),
        "contract": ContractRef(name="ticket", version="1.0.0"),
        "intent": Intent.of("refund my order"),
        "hop": 0,
        "created_at": NOON,
        "payload": {"text": "hello"},
    }
    fields.update(overrides)
    return Envelope(**fields)


# --- intent, refs, tasks ---------------------------------------------------------------


def test_intent_of_hashes_the_utf8_text() -> None:
    """Intent.of keeps the text verbatim and stores the SHA-256 hex of its UTF-8 bytes."""
    text = "  Rembourse ma commande n° 42, s'il te plaît \n"
    intent = Intent.of(text)
    assert intent.text == text
    assert intent.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert intent.sha256 == intent_hash(text)


def test_intent_hash_distinguishes_small_edits() -> None:
    """A one-character paraphrase changes the hash."""
    assert intent_hash("refund my order") != intent_hash("refund my order.")


def test_intent_is_frozen_and_strict() -> None:
    """Intent cannot be mutated and rejects unknown fields."""
    intent = Intent.of("x")
    with pytest.raises(ValidationError, match="frozen"):
        setattr(intent, "text", "y")  # noqa: B010
    with pytest.raises(ValidationError, match="extra"):
        Intent(text="x", sha256=intent_hash("x"), note="paraphrased")


def test_agent_and_contract_refs_print_name_at_version() -> None:
    """AgentRef and ContractRef print as name@version."""
    assert str(AgentRef(name="triage", version="1.2.0")) == "triage@1.2.0"
    assert str(ContractRef(name="ticket", version="2.0.0")) == "ticket@2.0.0"
    assert str(EXTERNAL) == "external@0.0.0"


def test_agent_ref_needs_a_name() -> None:
    """An empty agent name fails validation."""
    with pytest.raises(ValidationError, match="name"):
        AgentRef(name="", version="1.0.0")


def test_task_item_states_are_an_enum() -> None:
    """Task items take TaskState values (or their strings) and reject prose states."""
    assert TaskItem(name="lookup", state="completed").state is TaskState.COMPLETED
    assert {s.value for s in TaskState} == {"completed", "in_progress", "skipped", "deferred"}
    with pytest.raises(ValidationError, match="state"):
        TaskItem(name="lookup", state="mostly done")


def test_task_item_needs_a_name() -> None:
    """A task item with an empty name fails validation."""
    with pytest.raises(ValidationError, match="name"):
        TaskItem(name="", state=TaskState.SKIPPED)


# --- tool outputs ----------------------------------------------------------------------


def test_tool_output_keeps_mcp_wire_names_and_round_trips() -> None:
    """Tool outputs serialise with MCP's camelCase names and parse back to equal objects."""
    output = ToolOutput(
        tool="search",
        call_id="c-1",
        content=(
            TextContent(text="found"),
            ImageContent(data="aGk=", mimeType="image/png"),
            AudioContent(data="aGk=", mimeType="audio/wav"),
            ResourceLink(uri="file:///a.txt", name="a.txt", size=3),
            EmbeddedResource(resource={"uri": "file:///b", "text": "b"}),
        ),
        structuredContent={"hits": 1},
        isError=False,
    )
    dumped = output.model_dump(mode="json")
    assert {"structuredContent", "isError"} <= set(dumped)
    assert dumped["content"][1]["mimeType"] == "image/png"
    assert [block["type"] for block in dumped["content"]] == [
        "text",
        "image",
        "audio",
        "resource_link",
        "resource",
    ]
    assert dumped["content"][3]["size"] == 3  # resource links keep extra MCP fields
    assert ToolOutput.model_validate_json(output.model_dump_json()) == output


def test_content_blocks_keep_mcps_optional_fields_and_any_structured_json() -> None:
    """Annotations and _meta stay on every block; structuredContent may be any JSON value."""
    wire = {
        "tool": "t",
        "content": [
            {"type": "text", "text": "x", "annotations": {"priority": 0.5}, "_meta": {"k": 1}},
            {"type": "resource", "resource": {"uri": "file:///b", "blob": "YQ=="}, "_meta": {}},
        ],
        "structuredContent": [1, "two"],
        "isError": False,
    }
    output = ToolOutput.model_validate(wire)
    assert output.model_dump(mode="json", exclude={"call_id"}) == wire


def test_tool_output_rejects_unknown_content_types() -> None:
    """A content block with an unknown type fails the discriminated union."""
    with pytest.raises(ValidationError, match="video"):
        ToolOutput.model_validate({"tool": "t", "content": [{"type": "video", "data": "x"}]})


# --- budget and constraints ------------------------------------------------------------


def test_budget_defaults_to_usd_and_rejects_negative_limits() -> None:
    """A budget's unit defaults to USD and its limit must be >= 0."""
    assert Budget(limit=Decimal(5)).unit == "USD"
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Budget(limit=Decimal(-1))


def test_constraints_default_to_unrestricted() -> None:
    """Default constraints have no budget, deadline or permission limits and no tags."""
    constraints = Constraints()
    assert constraints.budget is None
    assert constraints.deadline is None
    assert constraints.permissions is None
    assert constraints.compliance == frozenset()


def test_constraints_reject_a_naive_deadline() -> None:
    """A deadline without a timezone fails validation with an example of the right form."""
    with pytest.raises(ValidationError) as caught:
        Constraints(deadline=datetime(2026, 1, 1, 12, 0))
    message = str(caught.value)
    assert "deadline must be timezone-aware" in message
    assert "2026-01-01T12:00:00+00:00" in message


def test_constraints_accept_an_aware_deadline() -> None:
    """A timezone-aware deadline in any zone is accepted."""
    tz = timezone(timedelta(hours=2))
    assert Constraints(deadline=datetime(2026, 1, 1, 14, 0, tzinfo=tz)).deadline == NOON


LOOSENINGS = [
    pytest.param(
        Constraints(budget=Budget(limit=Decimal(100))),
        Constraints(budget=Budget(limit=Decimal(150))),
        [("constraints.budget.limit", "constraint_loosened", "budget raised from 100 to 150")],
        id="budget-raised",
    ),
    pytest.param(
        Constraints(budget=Budget(limit=Decimal(100))),
        Constraints(),
        [("constraints.budget", "constraint_dropped", "budget was dropped")],
        id="budget-dropped",
    ),
    pytest.param(
        Constraints(budget=Budget(limit=Decimal(100), unit="USD")),
        Constraints(budget=Budget(limit=Decimal(10), unit="EUR")),
        [("constraints.budget.unit", "constraint_loosened", "unit changed from USD to EUR")],
        id="budget-unit-changed-even-if-lower",
    ),
    pytest.param(
        Constraints(deadline=NOON),
        Constraints(deadline=NOON + timedelta(minutes=1)),
        [("constraints.deadline", "constraint_loosened", "deadline moved later")],
        id="deadline-later",
    ),
    pytest.param(
        Constraints(deadline=NOON),
        Constraints(),
        [("constraints.deadline", "constraint_dropped", "deadline was dropped")],
        id="deadline-dropped",
    ),
    pytest.param(
        Constraints(permissions=frozenset({"read"})),
        Constraints(permissions=frozenset({"read", "refund", "email"})),
        [("constraints.permissions", "constraint_loosened", "permissions added: email, refund")],
        id="permissions-added",
    ),
    pytest.param(
        Constraints(permissions=frozenset({"read"})),
        Constraints(),
        [("constraints.permissions", "constraint_dropped", "permission limits were dropped")],
        id="permissions-dropped",
    ),
    pytest.param(
        Constraints(compliance=frozenset({"pci", "gdpr", "sox"})),
        Constraints(compliance=frozenset({"sox"})),
        [("constraints.compliance", "constraint_dropped", "compliance tags dropped: gdpr, pci")],
        id="compliance-dropped",
    ),
]


@pytest.mark.parametrize(("previous", "current", "expected"), LOOSENINGS)
def test_loosened_from_reports_each_loosening(
    previous: Constraints, current: Constraints, expected: list[tuple[str, str, str]]
) -> None:
    """Each way of loosening a constraint is one issue with its path, code and what changed."""
    issues = current.loosened_from(previous)
    assert [(i.path, i.code) for i in issues] == [(path, code) for path, code, _ in expected]
    for issue, (_, _, phrase) in zip(issues, expected, strict=True):
        assert phrase in issue.message
        assert "may tighten constraints, never loosen or drop them" in issue.message


def test_deadline_loosening_names_both_instants() -> None:
    """A later deadline's message prints the old and new deadlines in ISO form."""
    later = NOON + timedelta(hours=1)
    [issue] = Constraints(deadline=later).loosened_from(Constraints(deadline=NOON))
    assert NOON.isoformat() in issue.message
    assert later.isoformat() in issue.message


TIGHTENINGS = [
    pytest.param(Constraints(), Constraints(), id="both-empty"),
    pytest.param(
        Constraints(budget=Budget(limit=Decimal(100))),
        Constraints(budget=Budget(limit=Decimal(40))),
        id="budget-lowered",
    ),
    pytest.param(
        Constraints(budget=Budget(limit=Decimal(100))),
        Constraints(budget=Budget(limit=Decimal(100))),
        id="budget-unchanged",
    ),
    pytest.param(Constraints(), Constraints(budget=Budget(limit=Decimal(5))), id="budget-added"),
    pytest.param(
        Constraints(deadline=NOON),
        Constraints(deadline=NOON - timedelta(hours=1)),
        id="deadline-earlier",
    ),
    pytest.param(
        Constraints(deadline=NOON),
        Constraints(deadline=NOON.astimezone(timezone(timedelta(hours=5)))),
        id="same-deadline-other-zone",
    ),
    pytest.param(Constraints(), Constraints(deadline=NOON), id="deadline-added"),
    pytest.param(
        Constraints(permissions=frozenset({"read", "refund"})),
        Constraints(permissions=frozenset({"read"})),
        id="permissions-narrowed",
    ),
    pytest.param(
        Constraints(permissions=frozenset({"read"})),
        Constraints(permissions=frozenset()),
        id="permissions-emptied",
    ),
    pytest.param(
        Constraints(),
        Constraints(permissions=frozenset({"read"})),
        id="permissions-restricted-from-unlimited",
    ),
    pytest.param(
        Constraints(compliance=frozenset({"pci"})),
        Constraints(compliance=frozenset({"pci", "gdpr"})),
        id="compliance-tag-added",
    ),
]


@pytest.mark.parametrize(("previous", "current"), TIGHTENINGS)
def test_loosened_from_accepts_tightening(previous: Constraints, current: Constraints) -> None:
    """Constraints that only tighten (or stay equal) produce no issues."""
    assert current.loosened_from(previous) == []


def test_loosened_from_reports_every_loosening_at_once() -> None:
    """Several loosenings in one step are all reported, in a stable order."""
    previous = Constraints(
        budget=Budget(limit=Decimal(10)),
        deadline=NOON,
        permissions=frozenset({"read"}),
        compliance=frozenset({"pci"}),
    )
    issues = Constraints().loosened_from(previous)
    assert [i.path for i in issues] == [
        "constraints.budget",
        "constraints.deadline",
        "constraints.permissions",
        "constraints.compliance",
    ]
    assert {i.code for i in issues} == {"constraint_dropped"}


# --- envelope --------------------------------------------------------------------------


def test_envelope_defaults() -> None:
    """A minimal envelope has no parent, tasks, tool outputs or facts, and open constraints."""
    env = envelope()
    assert env.parent_id is None
    assert env.tasks == ()
    assert env.tool_outputs == ()
    assert env.facts == {}
    assert env.constraints == Constraints()
    assert env.fallback_owner is None


def test_envelope_round_trips_through_json() -> None:
    """An envelope with every part filled serialises to JSON and parses back equal."""
    env = envelope(
        parent_id="h-0",
        tasks=(TaskItem(name="lookup", state=TaskState.COMPLETED, note="ok"),),
        tool_outputs=(ToolOutput(tool="crm", content=(TextContent(text="vip"),)),),
        constraints=Constraints(
            budget=Budget(limit=Decimal("9.99"), unit="EUR"),
            deadline=NOON,
            permissions=frozenset({"read"}),
            compliance=frozenset({"gdpr"}),
        ),
        facts={"order_id": "A-1"},
        fallback_owner="support",
        hop=3,
    )
    assert Envelope.model_validate_json(env.model_dump_json()) == env


def test_envelope_rejects_unknown_fields() -> None:
    """Extra top-level fields are refused, so a typo cannot smuggle data past the contract."""
    with pytest.raises(ValidationError, match="extra"):
        envelope(summary="the customer wants a refund")


def test_envelope_rejects_negative_hops() -> None:
    """hop counts from 0."""
    with pytest.raises(ValidationError, match="hop"):
        envelope(hop=-1)


def test_envelope_is_frozen() -> None:
    """An envelope cannot be edited in place."""
    env = envelope()
    with pytest.raises(ValidationError, match="frozen"):
        setattr(env, "hop", 1)  # noqa: B010
