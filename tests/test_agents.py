"""Agents: the @agent decorator, agent cards, outcomes and the receiver's context."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from seamline.agents import (
    Agent,
    AgentCard,
    Context,
    Escalate,
    Finish,
    HandOff,
    Outcome,
    agent,
)
from seamline.contracts import (
    EXTERNAL,
    AgentRef,
    Budget,
    Constraints,
    Contract,
    ContractRef,
    Envelope,
    Intent,
    TaskItem,
    TaskState,
    Version,
    VersionRange,
)
from seamline.exceptions import ConfigurationError, Issue, VersionError


class Ticket(BaseModel):
    """A support ticket."""

    text: str


class Refund(BaseModel):
    """A refund to issue."""

    order_id: str


TICKET = Contract(model=Ticket, name="ticket", version="1.2.0", owner="support")
TICKET_ZERO = Contract(model=Ticket, name="ticket.beta", version="0.3.0", owner="support")
REFUND = Contract(model=Refund, name="refund.request", version="2.1.0", owner="payments")


def reply(payload: Any, ctx: Context) -> Outcome:
    """A trivial agent body."""
    return Finish(result=payload)


def test_agent_decorator_builds_the_card() -> None:
    """@agent binds the function to a card with parsed version and normalised fields."""
    bound = agent(
        name="triage",
        version="1.2",
        owner="support",
        accepts={"ticket": "^1.0"},
        emits={"refund.request": "2.1"},
        capabilities=["triage", "support"],
        description="Sorts tickets.",
        threaded=True,
    )(reply)
    assert isinstance(bound, Agent)
    assert bound.fn is reply
    assert bound.name == "triage"
    card = bound.card
    assert card.version == Version(1, 2, 0)
    assert card.owner == "support"
    assert card.capabilities == frozenset({"triage", "support"})
    assert card.accepts == {"ticket": VersionRange.parse("^1.0")}
    assert card.emits == {"refund.request": Version(2, 1, 0)}
    assert card.description == "Sorts tickets."
    assert card.threaded is True
    assert card.ref == "triage@1.2.0"


def test_agent_defaults() -> None:
    """An agent declared with only the required fields speaks no contracts and runs inline."""
    card = agent(name="a", version="1", owner="team")(reply).card
    assert card.capabilities == frozenset()
    assert dict(card.accepts) == {}
    assert dict(card.emits) == {}
    assert card.description == "A trivial agent body."  # the docstring's first line
    assert card.escalation is None
    assert card.threaded is False


def test_accepting_contract_objects_allows_up_to_the_next_major() -> None:
    """Accepting a Contract object accepts its version and later ones of the same major."""
    card = agent(name="a", version="1", owner="t", accepts=[TICKET, REFUND])(reply).card
    assert str(card.accepts["ticket"]) == "^1.2.0"
    assert card.accepts["ticket"].admits("1.9.0")
    assert not card.accepts["ticket"].admits("1.1.0")
    assert not card.accepts["ticket"].admits("2.0.0")
    assert card.accepts["refund.request"].admits("2.1.0")


def test_accepting_a_zero_major_contract_follows_caret_rules() -> None:
    """For a 0.x contract the implied caret range stops at the next minor (npm semantics)."""
    card = agent(name="a", version="1", owner="t", accepts=[TICKET_ZERO])(reply).card
    assert card.accepts["ticket.beta"].admits("0.3.9")
    assert not card.accepts["ticket.beta"].admits("0.4.0")


def test_emitting_contract_objects_uses_their_versions() -> None:
    """Emitting Contract objects records each contract's own version."""
    card = agent(name="a", version="1", owner="t", emits=[TICKET, REFUND])(reply).card
    assert card.emits == {"ticket": Version(1, 2, 0), "refund.request": Version(2, 1, 0)}


def test_async_functions_are_accepted() -> None:
    """An async function can be an agent; the decorator keeps it as is."""

    async def slow(payload: Any, ctx: Context) -> Outcome:
        return Finish(result=None)

    assert agent(name="slow", version="1", owner="t")(slow).fn is slow


def test_agent_requires_a_name() -> None:
    """An empty agent name raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="agent name must not be empty"):
        agent(name="", version="1", owner="t")


def test_agent_requires_an_owner() -> None:
    """An agent with no owner raises ConfigurationError asking for the owning team."""
    with pytest.raises(ConfigurationError) as caught:
        agent(name="triage", version="1", owner="")
    message = str(caught.value)
    assert "agent 'triage' has no owner" in message
    assert "name the team that runs it" in message


def test_agent_rejects_a_bad_version() -> None:
    """A malformed agent version raises VersionError."""
    with pytest.raises(VersionError, match="'one' is not a semantic version"):
        agent(name="a", version="one", owner="t")


def test_agent_rejects_a_bad_accepted_range() -> None:
    """A malformed accepted range raises VersionError with the accepted spellings."""
    with pytest.raises(VersionError, match="is not a version range"):
        agent(name="a", version="1", owner="t", accepts={"ticket": "about 1"})


def test_agent_rejects_a_bad_emitted_version() -> None:
    """A malformed emitted version raises VersionError."""
    with pytest.raises(VersionError, match="is not a semantic version"):
        agent(name="a", version="1", owner="t", emits={"ticket": "^1"})


def test_agent_must_decorate_a_callable() -> None:
    """Applying the decorator to a non-callable raises ConfigurationError naming the agent."""
    decorate: Any = agent(name="a", version="1", owner="t")
    with pytest.raises(ConfigurationError, match="agent 'a' must decorate a callable, got 42"):
        decorate(42)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="neither"),
        pytest.param({"to": "refunds", "capability": "refund"}, id="both"),
    ],
)
def test_handoff_needs_exactly_one_target(kwargs: dict[str, Any]) -> None:
    """HandOff requires exactly one of to= or capability=, and says so."""
    with pytest.raises(ConfigurationError, match="exactly one of to='agent-name' or capability"):
        HandOff(payload={}, **kwargs)


def test_handoff_by_name_or_capability() -> None:
    """A HandOff can address an agent by name or by capability, with carried-over defaults."""
    by_name = HandOff(to="refunds", payload=Refund(order_id="A-1"))
    assert by_name.capability is None
    assert by_name.contract is None
    assert by_name.constraints is None
    assert by_name.task_items() == ()
    assert tuple(by_name.tool_outputs) == ()
    assert HandOff(capability="refund", payload={"order_id": "A-1"}).to is None


def test_handoff_tasks_from_a_mapping() -> None:
    """Tasks given as a name -> state mapping become typed TaskItems in order."""
    handoff = HandOff(
        to="x", payload={}, tasks={"lookup": TaskState.COMPLETED, "refund": TaskState.DEFERRED}
    )
    assert handoff.task_items() == (
        TaskItem(name="lookup", state=TaskState.COMPLETED),
        TaskItem(name="refund", state=TaskState.DEFERRED),
    )


def test_handoff_tasks_from_items() -> None:
    """Tasks given as TaskItems are kept as a tuple."""
    items = [TaskItem(name="lookup", state=TaskState.SKIPPED, note="cached")]
    assert HandOff(to="x", payload={}, tasks=items).task_items() == tuple(items)


def test_finish_and_escalate() -> None:
    """Finish carries a result; Escalate carries a reason and an optional owner."""
    assert Finish(result={"ok": True}).result == {"ok": True}
    escalation = Escalate(reason="needs a human")
    assert escalation.reason == "needs a human"
    assert escalation.owner is None
    assert Escalate(reason="r", owner="legal").owner == "legal"


def test_context_exposes_the_envelope() -> None:
    """Context gives the verbatim intent, constraints and tasks of its envelope."""
    constraints = Constraints(budget=Budget(limit=Decimal(10)))
    tasks = (TaskItem(name="lookup", state=TaskState.COMPLETED),)
    env = Envelope(
        handoff_id="h",
        correlation_id="wf",
        source=EXTERNAL,
        destination=AgentRef(name="triage", version="1.0.0"),
        contract=ContractRef(name="ticket", version="1.2.0"),
        tasks=tasks,
        intent=Intent.of("Refund me!"),
        constraints=constraints,
        hop=0,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={"text": "hi"},
    )
    ctx = Context(envelope=env)
    assert ctx.intent == "Refund me!"
    assert ctx.constraints == constraints
    assert ctx.tasks == tasks
    assert ctx.feedback == ()
    assert ctx.attempt == 1
    issue = Issue("payload.text", "too short", "too_short")
    assert Context(envelope=env, feedback=(issue,), attempt=2).feedback == (issue,)


def test_agent_card_ref() -> None:
    """An AgentCard built directly prints name@version as its ref."""
    card = AgentCard(name="x", version=Version(0, 1, 0), owner="t")
    assert card.ref == "x@0.1.0"
