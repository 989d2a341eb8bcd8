"""The handoff chain end to end, on both store backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from chain_fixtures import ORDER, ORDER_1, Order, chain, relay

from seamline import (
    Agent,
    Budget,
    ConfigurationError,
    ConflictError,
    Constraints,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    HandoffError,
    HandoffValidationError,
    MemoryStore,
    NotFoundError,
    Outcome,
    Registry,
    RejectedHandoff,
    Runtime,
    SqliteStore,
    Store,
    TaskState,
    agent,
)
from seamline.stores import DeadLetterStatus, WorkflowStatus


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every runtime test runs on the in-memory and the SQLite ledger."""
    backend: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "l.db")
    yield backend
    backend.close()


def run(runtime: Runtime, entry: str, payload: Any, **options: Any) -> Any:
    """Drive ``runtime.run`` from a sync test."""
    return anyio.run(lambda: runtime.run(entry, payload, intent="refund my order", **options))


def kinds(store: Store, workflow_id: str) -> list[str]:
    """The ledger's transition kinds for one workflow, in order."""
    return [entry.kind for entry in store.entries(correlation_id=workflow_id)]


def test_chain_runs_to_the_end_and_records_every_transition(store: Store) -> None:
    """Three agents hand off in turn; each step is delivered, completed and logged once."""
    runtime = Runtime(Registry(agents=chain(3), contracts=[ORDER]), store)
    result = run(runtime, "a0", ORDER_1)
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == {"order_id": "ORD-1", "steps": 2}
    assert result.handoffs == 3
    log = kinds(store, result.workflow_id)
    assert log == ["proposed", "evaluated", "validated"] + [
        "delivered",
        "completed",
        "proposed",
        "evaluated",
        "validated",
    ] * 2 + [
        "delivered",
        "completed",
    ]
    views = runtime.ledger.handoffs(result.workflow_id)
    assert [v.route_names for v in views] == ["external → a0", "a0 → a1", "a1 → a2"]
    assert all(v.status.value == "completed" for v in views)


def test_async_and_sync_agents_mix(store: Store) -> None:
    """An async agent is awaited, a sync one called, in the same chain."""

    @agent(name="first", version="1.0.0", owner="t", accepts=[ORDER], emits=[ORDER])
    async def first(order: Order, ctx: Context) -> Outcome:
        await anyio.sleep(0)
        return HandOff(to="last", payload=order, tasks={"refund": TaskState.IN_PROGRESS})

    @agent(name="last", version="1.0.0", owner="t", accepts=[ORDER], threaded=True)
    def last(order: Order, ctx: Context) -> Outcome:
        return Finish([t.state.value for t in ctx.tasks])

    result = run(
        Runtime(Registry(agents=[first, last], contracts=[ORDER]), store), "first", ORDER_1
    )
    assert result.result == ["in_progress"]


def _sloppy_sender(fix_after: int, calls: list[tuple[int, tuple[str, ...]]]) -> Agent:
    @agent(name="sender", version="1.0.0", owner="t", accepts=[ORDER], emits=[ORDER])
    def sender(order: Order, ctx: Context) -> Outcome:
        calls.append((ctx.attempt, tuple(issue.path for issue in ctx.feedback)))
        if ctx.attempt <= fix_after:
            return HandOff(
                to="receiver", payload={"order_id": "bad", "amount": "a lot", "reason": "x"}
            )
        return HandOff(to="receiver", payload=order)

    return sender


def test_invalid_handoff_is_fed_back_to_its_sender_and_fixed(store: Store) -> None:
    """The receiver never sees the bad payload; the sender gets every issue and fixes it."""
    received: list[Order] = []

    @agent(name="receiver", version="1.0.0", owner="t", accepts=[ORDER])
    def receiver(order: Order, ctx: Context) -> Outcome:
        received.append(order)
        return Finish("ok")

    calls: list[tuple[int, tuple[str, ...]]] = []
    registry = Registry(agents=[_sloppy_sender(1, calls), receiver], contracts=[ORDER])
    result = run(Runtime(registry, store), "sender", ORDER_1)
    assert result.status is WorkflowStatus.COMPLETED
    assert calls == [(1, ()), (2, ("payload.order_id", "payload.amount", "payload.reason"))]
    assert received == [ORDER_1]
    log = kinds(store, result.workflow_id)
    assert log.count("rejected") == 1 and log.count("retried") == 1


def test_exhausted_feedback_dead_letters_with_issues_and_path(store: Store) -> None:
    """After feedback_retries rounds the handoff is dead-lettered whole; the receiver never runs."""
    ran: list[Order] = []

    @agent(name="receiver", version="1.0.0", owner="t", accepts=[ORDER])
    def receiver(order: Order, ctx: Context) -> Outcome:
        ran.append(order)
        return Finish("ok")

    calls: list[tuple[int, tuple[str, ...]]] = []
    runtime = Runtime(
        Registry(agents=[_sloppy_sender(99, calls), receiver], contracts=[ORDER]), store
    )
    result = run(runtime, "sender", ORDER_1)
    assert result.status is WorkflowStatus.DEAD_LETTERED
    assert len(calls) == 3 and not ran
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "validation" and letter.status is DeadLetterStatus.OPEN
    assert {i["path"] for i in json.loads(letter.issues)} == {
        "payload.order_id",
        "payload.amount",
        "payload.reason",
    }
    assert json.loads(letter.path) == [
        "external@0.0.0 -> sender@1.0.0",
        "sender@1.0.0 -> receiver@1.0.0",
    ]
    assert json.loads(letter.envelope)["payload"]["amount"] == "a lot"


def test_fallback_agent_receives_the_rejected_handoff(store: Store) -> None:
    """With a fallback declared, exhausted feedback goes to it as a typed RejectedHandoff."""
    strict = Contract(
        model=Order, name="strict", version="1.0.0", owner="t",
        policy=FailurePolicy(feedback_retries=0, fallback_agent="repair"),
    )  # fmt: skip
    seen: list[RejectedHandoff] = []

    @agent(name="sender", version="1.0.0", owner="t", accepts=[ORDER], emits=[strict])
    def sender(order: Order, ctx: Context) -> Outcome:
        return HandOff(to="receiver", payload={"order_id": "ORD-1", "amount": -1, "reason": "late"})

    @agent(name="receiver", version="1.0.0", owner="t", accepts=[strict])
    def receiver(order: Order, ctx: Context) -> Outcome:
        raise AssertionError("must not run")

    @agent(name="repair", version="1.0.0", owner="t", accepts={"seamline.rejected-handoff": "^1"})
    def repair(rejected: RejectedHandoff, ctx: Context) -> Outcome:
        seen.append(rejected)
        return Finish("repaired")

    registry = Registry(agents=[sender, receiver, repair], contracts=[ORDER, strict])
    result = run(Runtime(registry, store), "sender", ORDER_1)
    assert result.result == "repaired"
    assert seen[0].receiver == "receiver@1.0.0" and seen[0].issues[0].path == "payload.amount"
    assert "fallback" in kinds(store, result.workflow_id)


def test_agent_fault_goes_to_the_fallback_agent(store: Store) -> None:
    """A receiver that raises hands its payload to the contract's fallback agent."""
    guarded = Contract(
        model=Order, name="guarded", version="1.0.0", owner="t",
        policy=FailurePolicy(fallback_agent="simple"),
    )  # fmt: skip

    @agent(name="fancy", version="1.0.0", owner="t", accepts=[guarded])
    def fancy(order: Order, ctx: Context) -> Outcome:
        raise TimeoutError("model provider down")

    @agent(name="simple", version="1.0.0", owner="t", accepts={"seamline.rejected-handoff": "^1"})
    def simple(rejected: RejectedHandoff, ctx: Context) -> Outcome:
        return Finish(rejected.issues[0].message)

    registry = Registry(agents=[fancy, simple], contracts=[guarded])
    result = run(Runtime(registry, store), "fancy", ORDER_1, contract="guarded")
    assert result.result == "fancy raised TimeoutError: model provider down"
    views = Runtime(registry, store).ledger.handoffs(result.workflow_id)
    assert views[0].status.value == "failed"


def test_loosened_constraint_and_changed_fact_are_rejected(store: Store) -> None:
    """Raising the budget or rewording a tracked amount is a validation error, not a handoff."""

    @agent(name="sender", version="1.0.0", owner="t", accepts=[ORDER], emits=[ORDER])
    def sender(order: Order, ctx: Context) -> Outcome:
        looser = Constraints(budget=Budget(limit=Decimal("1000")))
        return HandOff(
            to="receiver",
            payload=order.model_copy(update={"amount": Decimal("13")}),
            constraints=looser,
        )

    receiver = relay("receiver", None)
    runtime = Runtime(Registry(agents=[sender, receiver], contracts=[ORDER]), store)
    result = run(
        runtime, "sender", ORDER_1, constraints=Constraints(budget=Budget(limit=Decimal("50")))
    )
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    codes = {i["code"] for i in json.loads(letter.issues)}
    assert codes == {"constraint_loosened", "fact_changed"}


def test_invalid_first_payload_raises_and_stores_nothing(store: Store) -> None:
    """A bad starting payload is the caller's error: raised, and no workflow is created."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), store)
    with pytest.raises(HandoffValidationError, match=r"payload\.amount") as caught:
        run(runtime, "a0", {"order_id": "ORD-1", "amount": "zero", "reason": "late"})
    assert [i.code for i in caught.value.issues] == ["decimal_parsing"]
    assert store.list_workflows() == []


def test_delivering_the_same_handoff_twice_runs_the_receiver_once(store: Store) -> None:
    """The handoff id is the idempotency key: a redelivery returns the recorded outcome."""
    runs: list[int] = []

    @agent(name="once", version="1.0.0", owner="t", accepts=[ORDER])
    def once(order: Order, ctx: Context) -> Outcome:
        runs.append(1)
        return Finish({"n": len(runs)})

    runtime = Runtime(Registry(agents=[once], contracts=[ORDER]), store)
    envelope = runtime._engine.first_envelope(
        "once", ORDER_1, intent="x", constraints=Constraints(), contract=None, workflow_id=None
    )
    first = anyio.run(runtime.deliver, envelope)
    second = anyio.run(runtime.deliver, envelope)
    assert runs == [1]
    assert first == second
    assert first.result == {"n": 1}


def test_duplicate_workflow_id_is_a_conflict(store: Store) -> None:
    """Starting a workflow under an id the ledger holds is refused and changes nothing."""
    runtime = Runtime(Registry(agents=chain(1), contracts=[ORDER]), store)
    run(runtime, "a0", ORDER_1, workflow_id="wf-1")
    before = kinds(store, "wf-1")
    with pytest.raises(ConflictError, match="already exists"):
        run(runtime, "a0", ORDER_1, workflow_id="wf-1")
    assert kinds(store, "wf-1") == before


def test_ping_pong_of_the_same_payload_is_dead_lettered(store: Store) -> None:
    """Two agents bouncing identical work is stopped at the first repeat."""
    registry = Registry(agents=[_bouncer("a", "b"), _bouncer("b", "a")], contracts=[ORDER])
    runtime = Runtime(registry, store)
    result = run(runtime, "a", ORDER_1)
    assert result.status is WorkflowStatus.DEAD_LETTERED
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "ping_pong" and "same payload" in letter.message


def _bouncer(name: str, to: str, *, vary: bool = False) -> Agent:
    @agent(name=name, version="1.0.0", owner="t", accepts=[ORDER], emits=[ORDER])
    def bounce(order: Order, ctx: Context) -> Outcome:
        step = order.step + 1 if vary else order.step
        return HandOff(to=to, payload=order.model_copy(update={"step": step}))

    return bounce


def test_alternation_without_progress_is_a_loop(store: Store) -> None:
    """Payloads that change but complete no task still count as bouncing."""
    registry = Registry(
        agents=[_bouncer("a", "b", vary=True), _bouncer("b", "a", vary=True)], contracts=[ORDER]
    )
    runtime = Runtime(registry, store, bounces=4)
    result = run(runtime, "a", ORDER_1)
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "ping_pong" and "bounced 4 times between a <-> b" in letter.message


def test_hop_budget_dead_letters_and_replay_grants_more(store: Store) -> None:
    """A chain longer than max_hops stops; replay with extra hops finishes it."""
    runtime = Runtime(Registry(agents=chain(6), contracts=[ORDER]), store)
    result = run(runtime, "a0", ORDER_1, max_hops=3)
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "hop_budget"
    with pytest.raises(HandoffError, match="extra_hops"):
        anyio.run(runtime.replay, letter.id)
    assert runtime.ledger.dead_letter(letter.id).status is DeadLetterStatus.OPEN
    done = anyio.run(lambda: runtime.replay(letter.id, extra_hops=5))
    assert done.status is WorkflowStatus.COMPLETED and done.result == {
        "order_id": "ORD-1",
        "steps": 5,
    }


@pytest.mark.parametrize(
    ("behaviour", "reason", "phrase"),
    [
        pytest.param("raise", "agent_error", "raised ValueError: boom", id="raises"),
        pytest.param("none", "bad_outcome", "returned nothing", id="returns-none"),
        pytest.param("wrong", "bad_outcome", "returned a dict", id="wrong-type"),
        pytest.param("unknown", "bad_handoff", "no agent named 'ghost'", id="unknown-agent"),
        pytest.param("not-json", "bad_handoff", "not JSON", id="payload-not-json"),
        pytest.param("bad-tasks", "bad_handoff", "malformed parts", id="bad-envelope-parts"),
    ],
)
def test_agent_faults_are_caught_at_the_boundary(
    store: Store, behaviour: str, reason: str, phrase: str
) -> None:
    """Whatever a broken agent does, the runtime survives and dead-letters with the reason."""

    @agent(name="broken", version="1.0.0", owner="t", accepts=[ORDER], emits=[ORDER])
    def broken(order: Order, ctx: Context) -> Any:
        match behaviour:
            case "raise":
                raise ValueError("boom")
            case "none":
                return None
            case "wrong":
                return {"not": "an outcome"}
            case "unknown":
                return HandOff(to="ghost", payload=order)
            case "not-json":
                return HandOff(to="broken", payload={"order_id": object()})
            case _:
                return HandOff(to="broken", payload=order, tasks=[object()])  # type: ignore[list-item]

    runtime = Runtime(Registry(agents=[broken], contracts=[ORDER]), store)
    result = run(runtime, "broken", ORDER_1)
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert (letter.reason, result.status) == (reason, WorkflowStatus.DEAD_LETTERED)
    assert phrase in letter.message


def test_replay_with_a_fixed_payload_completes_and_bad_fix_changes_nothing(store: Store) -> None:
    """Replay validates again: a still-bad payload raises and the letter stays open."""
    calls: list[tuple[int, tuple[str, ...]]] = []
    receiver = relay("receiver", None)
    runtime = Runtime(
        Registry(agents=[_sloppy_sender(99, calls), receiver], contracts=[ORDER]), store
    )
    letter_id = run(runtime, "sender", ORDER_1).dead_letter_id
    before = kinds(store, runtime.ledger.dead_letter(letter_id).correlation_id)
    with pytest.raises(HandoffValidationError, match=r"payload\.reason"):
        anyio.run(
            lambda: runtime.replay(
                letter_id, payload={"order_id": "ORD-1", "amount": "12.50", "reason": "?"}
            )
        )
    workflow_id = runtime.ledger.dead_letter(letter_id).correlation_id
    assert kinds(store, workflow_id) == before
    assert runtime.ledger.dead_letter(letter_id).status is DeadLetterStatus.OPEN
    fixed = {"order_id": "ORD-1", "amount": "12.50", "reason": "late"}
    result = anyio.run(lambda: runtime.replay(letter_id, payload=fixed))
    assert result.status is WorkflowStatus.COMPLETED
    assert runtime.ledger.dead_letter(letter_id).status is DeadLetterStatus.REPLAYED
    with pytest.raises(ConflictError, match="already replayed"):
        anyio.run(runtime.replay, letter_id)


def test_replay_cannot_smuggle_a_changed_fact(store: Store) -> None:
    """The replayed payload is checked against the facts the workflow had recorded."""
    calls: list[tuple[int, tuple[str, ...]]] = []
    runtime = Runtime(
        Registry(agents=[_sloppy_sender(99, calls), relay("receiver", None)], contracts=[ORDER]),
        store,
    )
    letter_id = run(runtime, "sender", ORDER_1).dead_letter_id
    wrong = {"order_id": "ORD-1", "amount": "99.00", "reason": "late"}
    with pytest.raises(HandoffValidationError, match="fact_changed"):
        anyio.run(lambda: runtime.replay(letter_id, payload=wrong))


def test_discard_closes_the_letter_and_the_workflow(store: Store) -> None:
    """Discarding records who-why in the ledger and ends the workflow as discarded."""
    calls: list[tuple[int, tuple[str, ...]]] = []
    runtime = Runtime(
        Registry(agents=[_sloppy_sender(99, calls), relay("receiver", None)], contracts=[ORDER]),
        store,
    )
    result = run(runtime, "sender", ORDER_1)
    runtime.discard(result.dead_letter_id, reason="customer withdrew")
    assert runtime.ledger.workflow(result.workflow_id).status is WorkflowStatus.DISCARDED
    assert kinds(store, result.workflow_id)[-1] == "discarded"
    with pytest.raises(ConflictError):
        runtime.discard(result.dead_letter_id, reason="again")
    with pytest.raises(NotFoundError, match="seamline dlq list"):
        runtime.discard("nope", reason="x")
    with pytest.raises(ConfigurationError, match=r"reason is empty"):
        runtime.discard(result.dead_letter_id, reason=" ")


def test_resume_of_a_finished_workflow_runs_nothing(store: Store) -> None:
    """Resuming a completed workflow reports its recorded result."""
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER]), store)
    result = run(runtime, "a0", ORDER_1)
    before = kinds(store, result.workflow_id)
    assert anyio.run(runtime.resume, result.workflow_id) == result
    assert kinds(store, result.workflow_id) == before
    with pytest.raises(NotFoundError):
        anyio.run(runtime.resume, "missing")


def test_escalation_records_owner_and_request(store: Store) -> None:
    """Escalate ends the chain waiting on a human, addressed to the right owner."""
    from seamline import Escalate

    @agent(name="cautious", version="1.0.0", owner="risk", accepts=[ORDER])
    def cautious(order: Order, ctx: Context) -> Outcome:
        return Escalate(reason="needs a second pair of eyes")

    result = run(
        Runtime(Registry(agents=[cautious], contracts=[ORDER]), store), "cautious", ORDER_1
    )
    assert result.status is WorkflowStatus.ESCALATED
    assert result.result["owner"] == "risk"
    assert "refund my order" in result.result["request"]


def test_runtime_rejects_bad_settings() -> None:
    """Nonsense budgets are configuration errors with the fix in the message."""
    registry = Registry(agents=chain(1), contracts=[ORDER])
    with pytest.raises(ConfigurationError, match="max_hops must be at least 1"):
        Runtime(registry, max_hops=0)
    with pytest.raises(ConfigurationError, match="bounces must be at least 2"):
        Runtime(registry, bounces=1)
