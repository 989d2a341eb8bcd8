"""The registry: agents and contracts by name, routing, and start-up wiring checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from seamline.agents import Agent, Context, Finish, HandOff, Outcome, agent
from seamline.contracts import Contract, FailurePolicy, Version
from seamline.exceptions import ConfigurationError, Issue, RegistryError
from seamline.registry import REJECTED_HANDOFF, Health, Registry, RejectedHandoff, Route


class Ticket(BaseModel):
    """A support ticket."""

    text: str


class Refund(BaseModel):
    """A refund to issue."""

    order_id: str


class RefundV2(BaseModel):
    """A refund with an amount."""

    order_id: str
    amount: str


class Note(BaseModel):
    """An internal note."""

    body: str


TICKET = Contract(model=Ticket, name="ticket", version="1.0.0", owner="support")
REFUND_1 = Contract(model=Refund, name="refund.request", version="1.0.0", owner="payments")
REFUND_1_1 = Contract(model=Refund, name="refund.request", version="1.1.0", owner="payments")
REFUND_2 = Contract(model=RefundV2, name="refund.request", version="2.0.0", owner="payments")
NOTE = Contract(model=Note, name="note", version="1.0.0", owner="support")


def body(payload: Any, ctx: Context) -> Outcome:
    """A trivial agent body."""
    return Finish(result=None)


def make(name: str, **card: Any) -> Agent:
    """An agent called ``name`` owned by ``team`` with the given card fields."""
    return agent(name=name, version="1.0.0", owner="team", **card)(body)


INTAKE = make("intake", accepts=[TICKET], emits=[REFUND_1])
REFUNDS = make("refunds", accepts={"refund.request": "^1.0"}, capabilities=["refund"])


def registry(*agents: Agent, contracts: tuple[Contract[Any], ...] = ()) -> Registry:
    """A registry with the standard contracts plus any extra ones."""
    return Registry(agents=agents, contracts=(TICKET, REFUND_1, REFUND_1_1, NOTE, *contracts))


# --- registration and lookup -----------------------------------------------------------


def test_rejected_handoff_contract_is_always_registered() -> None:
    """An empty registry already holds the built-in rejected-handoff contract."""
    assert Registry().contracts == (REJECTED_HANDOFF,)
    assert Registry().contract("seamline.rejected-handoff") is REJECTED_HANDOFF
    assert REJECTED_HANDOFF.policy.feedback_retries == 0


def test_listings_are_sorted() -> None:
    """agents are sorted by name; contracts by name, then version."""
    reg = registry(REFUNDS, INTAKE, contracts=(REFUND_2,))
    assert [a.name for a in reg.agents] == ["intake", "refunds"]
    assert [c.ref for c in reg.contracts] == [
        "note@1.0.0",
        "refund.request@1.0.0",
        "refund.request@1.1.0",
        "refund.request@2.0.0",
        "seamline.rejected-handoff@1.0.0",
        "ticket@1.0.0",
    ]


def test_agent_lookup() -> None:
    """agent(name) returns the registered agent."""
    assert registry(INTAKE).agent("intake") is INTAKE


def test_unknown_agent_names_the_known_ones() -> None:
    """An unknown agent raises RegistryError listing registered agents and the fix."""
    with pytest.raises(RegistryError) as caught:
        registry(INTAKE, REFUNDS).agent("refund")
    message = str(caught.value)
    assert "no agent named 'refund' is registered (known: intake, refunds)" in message
    assert "register it or fix the handoff's destination" in message


def test_unknown_agent_in_an_empty_registry() -> None:
    """With no agents at all the message says 'known: none'."""
    with pytest.raises(RegistryError, match=r"known: none"):
        Registry().agent("intake")


def test_contract_lookup_defaults_to_newest() -> None:
    """contract(name) returns the newest registered version; a version picks that one."""
    reg = registry(contracts=(REFUND_2,))
    assert reg.contract("refund.request") is REFUND_2
    assert reg.contract("refund.request", "1.1.0") is REFUND_1_1
    assert reg.contract("refund.request", "1.1") is REFUND_1_1
    assert reg.contract("refund.request", Version(1, 0, 0)) is REFUND_1


def test_repeated_contract_lookups_agree() -> None:
    """Looking up the same name and version twice (the cached path) gives the same contract."""
    reg = registry()
    assert reg.contract("refund.request", "1.0.0") is reg.contract("refund.request", "1.0.0")


def test_unknown_contract_names_the_known_ones() -> None:
    """An unknown contract raises RegistryError listing the registered names."""
    with pytest.raises(RegistryError) as caught:
        registry().contract("refund")
    message = str(caught.value)
    assert "no contract named 'refund' is registered" in message
    assert "known: note, refund.request, seamline.rejected-handoff, ticket" in message
    assert "register it" in message


def test_unknown_contract_version_names_the_registered_ones() -> None:
    """A missing version raises RegistryError listing the versions that exist."""
    with pytest.raises(RegistryError) as caught:
        registry().contract("refund.request", "1.5")
    message = str(caught.value)
    assert "contract refund.request has no version 1.5.0 (registered: 1.0.0, 1.1.0)" in message
    assert "register that version or emit one that exists" in message


def test_duplicate_agent_name_is_rejected() -> None:
    """Two different agents with one name raise RegistryError; re-adding the same one is fine."""
    reg = registry(INTAKE)
    reg.add_agent(INTAKE)
    with pytest.raises(RegistryError) as caught:
        reg.add_agent(make("intake"))
    message = str(caught.value)
    assert "agent 'intake' is registered twice" in message
    assert "give each agent a unique name" in message
    assert reg.agent("intake") is INTAKE


def test_duplicate_contract_version_is_rejected() -> None:
    """A second, different contract under an existing name@version raises RegistryError."""
    reg = registry()
    reg.add_contract(REFUND_1)
    changed = Contract(model=RefundV2, name="refund.request", version="1.0.0", owner="payments")
    with pytest.raises(RegistryError) as caught:
        reg.add_contract(changed)
    message = str(caught.value)
    assert "contract refund.request@1.0.0 is registered twice with different definitions" in (
        message
    )
    assert "bump the version for a changed schema" in message
    assert reg.contract("refund.request", "1.0.0") is REFUND_1


def test_registry_error_is_a_configuration_error() -> None:
    """RegistryError is a wiring problem: a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        Registry().contract("nope")


# --- contract_for and route ------------------------------------------------------------


def test_contract_for_prefers_an_explicit_contract() -> None:
    """An explicit contract= on the HandOff is used when the receiver accepts it."""
    receiver = make("r", accepts={"refund.request": "^1", "note": "^1"})
    handoff = HandOff(to="r", payload={"body": "x"}, contract="note")
    assert registry(receiver).contract_for(receiver, handoff) == "note"


def test_contract_for_infers_from_the_payload_model() -> None:
    """A pydantic payload's model picks the contract registered for it."""
    receiver = make("r", accepts={"refund.request": "^1", "note": "^1"})
    handoff = HandOff(to="r", payload=Note(body="x"))
    assert registry(receiver).contract_for(receiver, handoff) == "note"


def test_contract_for_uses_the_only_accepted_contract() -> None:
    """A dict payload to a receiver that accepts one contract travels under that contract."""
    handoff = HandOff(to="refunds", payload={"order_id": "A-1"})
    assert registry(REFUNDS).contract_for(REFUNDS, handoff) == "refund.request"


def test_contract_for_ambiguous_payload_asks_for_contract() -> None:
    """A dict payload to a receiver with several contracts raises, asking for contract=."""
    receiver = make("r", accepts={"refund.request": "^1", "note": "^1"})
    with pytest.raises(RegistryError) as caught:
        registry(receiver).contract_for(receiver, HandOff(to="r", payload={}))
    message = str(caught.value)
    assert "cannot tell which contract this handoff to 'r' uses" in message
    assert "pass contract= (it accepts note, refund.request)" in message


def test_contract_for_receiver_that_accepts_nothing() -> None:
    """A receiver with no accepted contracts is reported as accepting nothing."""
    receiver = make("mute")
    with pytest.raises(RegistryError, match=r"it accepts nothing"):
        registry(receiver).contract_for(receiver, HandOff(to="mute", payload={}))


def test_contract_for_rejects_a_contract_the_receiver_does_not_accept() -> None:
    """A contract the receiver does not accept raises RegistryError naming what it accepts."""
    handoff = HandOff(to="refunds", payload=Note(body="x"))
    with pytest.raises(RegistryError) as caught:
        registry(REFUNDS).contract_for(REFUNDS, handoff)
    assert "agent 'refunds' does not accept contract 'note' (it accepts refund.request)" in str(
        caught.value
    )


def test_route_by_name_uses_the_senders_emitted_version() -> None:
    """Routing to a named agent picks the contract and the version the sender emits."""
    route = registry(INTAKE, REFUNDS).route(INTAKE, HandOff(to="refunds", payload={}))
    assert route == Route(receiver="refunds", contract="refund.request", version="1.0.0")


def test_route_by_name_defaults_to_the_newest_version() -> None:
    """A sender that does not declare what it emits sends the newest registered version."""
    sender = make("sender")
    route = registry(sender, REFUNDS).route(sender, HandOff(to="refunds", payload={}))
    assert route.version == "1.1.0"


def test_route_to_an_unknown_agent() -> None:
    """Routing to an unregistered agent raises RegistryError."""
    with pytest.raises(RegistryError, match="no agent named 'billing'"):
        registry(INTAKE).route(INTAKE, HandOff(to="billing", payload={}))


def test_route_under_an_unregistered_contract() -> None:
    """A receiver accepting a contract nobody registered cannot be routed to by default."""
    receiver = make("r", accepts={"ghost": "^1"})
    sender = make("s")
    with pytest.raises(RegistryError, match="no contract named 'ghost'"):
        registry(receiver, sender).route(sender, HandOff(to="r", payload={}))


def test_route_by_capability_picks_the_first_capable_agent_by_name() -> None:
    """Among several capable agents that accept the version, the first by name wins."""
    a = make("b-refunds", accepts={"refund.request": "^1"}, capabilities=["refund"])
    b = make("a-refunds", accepts={"refund.request": "^1"}, capabilities=["refund"])
    route = registry(a, b, INTAKE).route(INTAKE, HandOff(capability="refund", payload={}))
    assert route.receiver == "a-refunds"


def test_route_by_capability_skips_agents_that_do_not_accept_the_version() -> None:
    """A capable agent whose accepted range excludes the emitted version is passed over."""
    old = make("a-old", accepts={"refund.request": "~1.0.0"}, capabilities=["refund"])
    new = make("b-new", accepts={"refund.request": "^1.1"}, capabilities=["refund"])
    sender = make("s", emits={"refund.request": "1.1.0"})
    route = registry(old, new, sender).route(sender, HandOff(capability="refund", payload={}))
    assert route == Route(receiver="b-new", contract="refund.request", version="1.1.0")


def test_route_by_unknown_capability() -> None:
    """No agent with the capability raises RegistryError saying where to declare it."""
    with pytest.raises(RegistryError) as caught:
        registry(INTAKE, REFUNDS).route(INTAKE, HandOff(capability="billing", payload={}))
    message = str(caught.value)
    assert "no agent declares capability 'billing'" in message
    assert "add it to an agent's card" in message


def test_route_by_capability_explains_every_refusal() -> None:
    """When capable agents exist but none can take the handoff, each one's reason is listed."""
    old = make("a-old", accepts={"refund.request": "~1.0.0"}, capabilities=["refund"])
    notes = make("b-notes", accepts={"note": "^1"}, capabilities=["refund"])
    sender = make("s", emits={"refund.request": "1.1.0"})
    reg = registry(old, notes, sender)
    with pytest.raises(RegistryError) as caught:
        reg.route(sender, HandOff(capability="refund", payload=Refund(order_id="A-1")))
    message = str(caught.value)
    assert "no agent with capability 'refund' accepts this handoff" in message
    assert "a-old: accepts refund.request ~1.0.0" in message
    assert "b-notes: agent 'b-notes' does not accept contract 'refund.request'" in message


# --- check -----------------------------------------------------------------------------


def test_check_passes_on_sound_wiring() -> None:
    """A registry whose ranges, emits and fallbacks all resolve passes check()."""
    repair = make("repair", accepts=[REJECTED_HANDOFF])
    guarded = Contract(
        model=Ticket,
        name="ticket.guarded",
        version="1.0.0",
        owner="support",
        policy=FailurePolicy(fallback_agent="repair"),
    )
    registry(INTAKE, REFUNDS, repair, contracts=(guarded,)).check()


def test_check_rejects_an_accepted_range_with_no_registered_version() -> None:
    """An agent accepting a range that no registered version satisfies fails check()."""
    reg = registry(make("r", accepts={"refund.request": "^2"}))
    with pytest.raises(RegistryError) as caught:
        reg.check()
    message = str(caught.value)
    assert message.startswith("registry check failed: ")
    assert "agent r accepts refund.request ^2 but no such version is registered" in message


def test_check_rejects_accepting_an_unregistered_contract() -> None:
    """Accepting a contract name nobody registered fails check()."""
    with pytest.raises(RegistryError, match="agent r accepts ghost \\^1 but no such version"):
        registry(make("r", accepts={"ghost": "^1"})).check()


def test_check_rejects_emitting_an_unregistered_version() -> None:
    """An agent emitting a version that is not registered fails check()."""
    with pytest.raises(RegistryError) as caught:
        registry(make("s", emits={"refund.request": "1.2.0"})).check()
    assert "agent s emits refund.request@1.2.0, which is not registered" in str(caught.value)


def test_check_rejects_an_unknown_fallback_agent() -> None:
    """A contract whose failure policy names an unregistered fallback agent fails check()."""
    guarded = Contract(
        model=Ticket,
        name="ticket.guarded",
        version="1.0.0",
        owner="support",
        policy=FailurePolicy(fallback_agent="repair"),
    )
    with pytest.raises(RegistryError) as caught:
        registry(contracts=(guarded,)).check()
    assert "contract ticket.guarded@1.0.0 names unknown fallback agent 'repair'" in str(
        caught.value
    )


def test_check_rejects_a_fallback_that_cannot_receive_rejected_handoffs() -> None:
    """A fallback agent must accept the seamline.rejected-handoff contract."""
    guarded = Contract(
        model=Ticket,
        name="ticket.guarded",
        version="1.0.0",
        owner="support",
        policy=FailurePolicy(fallback_agent="refunds"),
    )
    with pytest.raises(RegistryError) as caught:
        registry(REFUNDS, contracts=(guarded,)).check()
    assert (
        "fallback agent 'refunds' of ticket.guarded@1.0.0 must accept seamline.rejected-handoff"
        in str(caught.value)
    )


def test_check_lists_every_problem_at_once() -> None:
    """check() collects all wiring problems into one error, separated by semicolons."""
    guarded = Contract(
        model=Ticket,
        name="ticket.guarded",
        version="1.0.0",
        owner="support",
        policy=FailurePolicy(fallback_agent="nobody"),
    )
    bad = make("bad", accepts={"ghost": "^1"}, emits={"ticket": "9.0.0"})
    with pytest.raises(RegistryError) as caught:
        registry(bad, contracts=(guarded,)).check()
    problems = str(caught.value).removeprefix("registry check failed: ").split("; ")
    assert len(problems) == 3
    assert any("accepts ghost" in p for p in problems)
    assert any("emits ticket@9.0.0" in p for p in problems)
    assert any("unknown fallback agent 'nobody'" in p for p in problems)


# --- rejected handoffs -----------------------------------------------------------------


def test_rejected_handoff_build_wraps_every_issue() -> None:
    """RejectedHandoff.build keeps the payload and turns each Issue into a model."""
    issues = [
        Issue("payload.amount", "missing", "missing"),
        Issue("intent", "changed", "intent_changed"),
    ]
    rejected = RejectedHandoff.build(
        sender="intake",
        receiver="refunds",
        contract="refund.request@1.0.0",
        payload={"order_id": "A-1"},
        issues=issues,
    )
    assert rejected.payload == {"order_id": "A-1"}
    assert [(i.path, i.message, i.code) for i in rejected.issues] == [
        ("payload.amount", "missing", "missing"),
        ("intent", "changed", "intent_changed"),
    ]
    assert REJECTED_HANDOFF.model.model_validate(rejected.model_dump()) == rejected


# --- health, versions and compatibility -------------------------------------------------


def test_capability_routing_prefers_healthy_then_degraded_and_never_down() -> None:
    """The documented rule: healthy by name, then degraded by name; down is skipped."""
    a = make("a-refunds", accepts={"refund.request": "^1"}, capabilities=["refund"])
    b = make("b-refunds", accepts={"refund.request": "^1"}, capabilities=["refund"])
    reg = registry(a, b, INTAKE)
    handoff = HandOff(capability="refund", payload={})
    reg.set_health("a-refunds", "degraded")
    assert reg.route(INTAKE, handoff).receiver == "b-refunds"
    reg.set_health("b-refunds", Health.DOWN)
    assert reg.route(INTAKE, handoff).receiver == "a-refunds"
    reg.set_health("a-refunds", "down")
    with pytest.raises(RegistryError, match="a-refunds: marked down; b-refunds: marked down"):
        reg.route(INTAKE, handoff)
    assert reg.route(INTAKE, HandOff(to="a-refunds", payload={})).receiver == "a-refunds"


def test_health_of_unknown_agents_and_unknown_states_are_errors() -> None:
    """Health is kept only for registered agents and the three known states."""
    reg = registry(REFUNDS)
    assert reg.health("refunds") is Health.HEALTHY
    with pytest.raises(RegistryError, match="no agent named 'ghost'"):
        reg.set_health("ghost", "down")
    with pytest.raises(RegistryError, match=r"unknown health 'sleepy'.*healthy, degraded, down"):
        reg.set_health("refunds", "sleepy")


def test_versions_lists_one_contract_oldest_first() -> None:
    """All registered versions of a contract, in version order."""
    reg = registry(contracts=(REFUND_2,))
    assert [str(c.version) for c in reg.versions("refund.request")] == ["1.0.0", "1.1.0", "2.0.0"]
    with pytest.raises(RegistryError, match="no contract named 'ghost'"):
        reg.versions("ghost")


def test_check_refuses_a_minor_version_that_breaks_its_mode() -> None:
    """A breaking change under the same major is refused at build time with rule and path."""
    breaking = Contract(model=RefundV2, name="refund.request", version="1.2.0", owner="payments")
    with pytest.raises(RegistryError) as caught:
        registry(contracts=(breaking,)).check()
    message = str(caught.value)
    assert "refund.request@1.2.0 breaks BACKWARD without a major version bump" in message
    assert "REQUIRED_PROPERTY_ADDED at /properties/amount" in message


def test_check_accepts_the_same_change_as_a_new_major_or_under_none() -> None:
    """A major bump may break; a contract declared NONE is never compared."""
    registry(contracts=(REFUND_2,)).check()
    loose = Contract(
        model=RefundV2,
        name="refund.request",
        version="1.2.0",
        owner="payments",
        compatibility="NONE",
    )
    registry(contracts=(loose,)).check()
