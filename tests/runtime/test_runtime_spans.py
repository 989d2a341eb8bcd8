"""Every workflow, agent step and handoff opens an OpenTelemetry span."""

from __future__ import annotations

import json
from hashlib import sha256

import anyio
import pytest
from chain_fixtures import ORDER, ORDER_1, Order, chain
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from seamline import (
    Context,
    Contract,
    ContractDeprecationWarning,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    agent,
)
from seamline.contracts import MASK, Gate
from seamline.demo import TICKETS, build_registry
from seamline.evals import DEFAULT_EVALUATORS, Subject, Verdict, evaluator

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    """An SDK provider installed once for the process (the API allows one global provider)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_exporter))
    trace.set_tracer_provider(provider)
    return _exporter


def test_spans_form_a_tree_with_handoff_attributes(exporter: InMemorySpanExporter) -> None:
    """invoke_workflow contains one invoke_agent per step and one handoff span per transition."""
    exporter.clear()
    runtime = Runtime(Registry(agents=chain(3), contracts=[ORDER]))
    result = anyio.run(lambda: runtime.run("a0", ORDER_1, intent="refund", name="refunds"))
    spans: tuple[ReadableSpan, ...] = exporter.get_finished_spans()
    names = [span.name for span in spans]
    assert names.count("invoke_workflow refunds") == 1
    assert [n for n in names if n.startswith("invoke_agent")] == [
        "invoke_agent a0",
        "invoke_agent a1",
        "invoke_agent a2",
    ]
    assert [n for n in names if n.startswith("handoff")] == ["handoff a0 -> a1", "handoff a1 -> a2"]
    root = next(span for span in spans if span.name.startswith("invoke_workflow"))
    assert root.attributes is not None
    assert root.attributes["gen_ai.conversation.id"] == result.workflow_id
    for span in spans:
        if span is not root:
            assert span.parent is not None and span.parent.span_id == root.context.span_id
    handoff = next(span for span in spans if span.name == "handoff a0 -> a1")
    assert handoff.attributes is not None
    assert handoff.attributes["seamline.handoff.contract"] == "order@1.0.0"
    assert handoff.attributes["seamline.handoff.outcome"] == "validated"
    assert handoff.attributes["openinference.span.kind"] == "TOOL"


def test_deprecated_version_and_upcast_are_span_events(exporter: InMemorySpanExporter) -> None:
    """The demo's refund handoff span carries the deprecation warning and the upcast."""
    exporter.clear()
    runtime = Runtime(build_registry())
    _, ticket = TICKETS[0]
    with pytest.warns(ContractDeprecationWarning):
        anyio.run(lambda: runtime.run("intake", ticket, intent=ticket.message))
    span = next(s for s in exporter.get_finished_spans() if s.name == "handoff triage -> refunds")
    events = {event.name: dict(event.attributes or {}) for event in span.events}
    assert events["seamline.warning"]["code"] == "version_deprecated"
    assert events["seamline.upcast"] == {
        "from": "1.2.0",
        "to": "2.0.0",
        "steps": "refund.request 1.2.0 -> 2.0.0",
    }
    assert span.attributes is not None
    assert span.attributes["seamline.handoff.contract"] == "refund.request@2.0.0"
    spans = exporter.get_finished_spans()
    (tool,) = [s for s in spans if s.name == "execute_tool orders.lookup"]
    intake = next(s for s in spans if s.name == "invoke_agent intake")
    assert tool.parent is not None and tool.parent.span_id == intake.context.span_id
    assert tool.attributes is not None and tool.attributes["gen_ai.tool.name"] == "orders.lookup"


def test_memory_reads_are_retrieval_spans_linked_from_the_audit(
    exporter: InMemorySpanExporter,
) -> None:
    """Each read is a retrieval span under the agent's; its audit row names that span."""
    exporter.clear()

    @agent(name="reader", version="1.0.0", owner="tests", accepts=[ORDER])
    def reader(order: Order, ctx: Context) -> Outcome:
        ctx.memory.put("note", "kept")
        return Finish({"found": len(ctx.memory.search("kept"))})

    runtime = Runtime(Registry(agents=[reader], contracts=[ORDER]))
    result = anyio.run(lambda: runtime.run("reader", ORDER_1, intent="refund"))
    assert runtime.memory is not None
    (read,) = runtime.memory.reads(result.workflow_id)
    spans = exporter.get_finished_spans()
    agent_span = next(s for s in spans if s.name == "invoke_agent reader")
    (retrieval,) = [s for s in spans if s.name == "retrieval seamline.memory"]
    assert retrieval.parent is not None and retrieval.parent.span_id == agent_span.context.span_id
    assert read.trace_id == f"{retrieval.context.trace_id:032x}"
    assert read.span_id == f"{retrieval.context.span_id:016x}"
    assert retrieval.attributes is not None
    assert retrieval.attributes["gen_ai.operation.name"] == "retrieval"
    assert retrieval.attributes["seamline.memory.operation"] == "search"
    assert retrieval.attributes["seamline.memory.returned_count"] == 0
    assert retrieval.attributes["openinference.span.kind"] == "RETRIEVER"


class Payout(BaseModel):
    """A payout with a secret."""

    order_id: str
    iban: str


PAYOUT = Contract(model=Payout, name="payout", version="1.3.0", owner="pay", sensitive=["iban"])


def test_handoff_spans_carry_versions_and_a_masked_payload_hash(
    exporter: InMemorySpanExporter,
) -> None:
    """Versions, contract and payload size and hash, computed over the masked payload."""
    exporter.clear()

    @agent(name="sender", version="4.2.0", owner="pay", accepts=[PAYOUT], emits=[PAYOUT])
    def sender(payout: Payout, ctx: Context) -> Outcome:
        return HandOff(to="bank", payload=payout)

    @agent(name="bank", version="1.0.1", owner="pay", accepts=[PAYOUT])
    def bank(payout: Payout, ctx: Context) -> Outcome:
        return Finish(None)

    runtime = Runtime(Registry(agents=[sender, bank], contracts=[PAYOUT]))
    secret = Payout(order_id="ORD-9", iban="DE89370400440532013000")
    anyio.run(lambda: runtime.run("sender", secret, intent="pay out"))
    span = next(s for s in exporter.get_finished_spans() if s.name == "handoff sender -> bank")
    attributes = dict(span.attributes or {})
    assert attributes["seamline.handoff.source.version"] == "4.2.0"
    assert attributes["seamline.handoff.destination.version"] == "1.0.1"
    assert attributes["seamline.handoff.contract.name"] == "payout"
    assert attributes["seamline.handoff.contract.version"] == "1.3.0"
    masked = json.dumps({"iban": MASK, "order_id": "ORD-9"}, sort_keys=True, separators=(",", ":"))
    assert attributes["seamline.handoff.payload.sha256"] == sha256(masked.encode()).hexdigest()
    assert attributes["seamline.handoff.payload.size"] == len(masked.encode())
    assert "DE89370400440532013000" not in str(attributes)


def test_handoff_spans_record_feedback_rounds_and_the_final_path(
    exporter: InMemorySpanExporter,
) -> None:
    """T-2 is rejected then fixed on attempt 2; T-3 ends in the dead-letter queue."""
    runtime = Runtime(build_registry())
    outcomes = {}
    for index in (1, 2):
        exporter.clear()
        _, ticket = TICKETS[index]
        with pytest.warns(ContractDeprecationWarning):
            anyio.run(lambda ticket=ticket: runtime.run("intake", ticket, intent=ticket.message))  # type: ignore[misc]
        outcomes[ticket.ticket_id] = [
            (
                (s.attributes or {})["seamline.handoff.outcome"],
                (s.attributes or {})["seamline.handoff.attempt"],
                (s.attributes or {})["seamline.handoff.validation.issue_count"],
            )
            for s in exporter.get_finished_spans()
            if s.name == "handoff triage -> refunds"
        ]
    assert outcomes["T-2"] == [("rejected_with_feedback", 1, 2), ("validated", 2, 0)]
    assert outcomes["T-3"][-1] == ("dead_lettered", 3, 1)


def test_evaluations_are_gen_ai_evaluation_result_events(
    exporter: InMemorySpanExporter,
) -> None:
    """Blocking results sit on the handoff span; flagging ones on the receiver's agent span,
    naming the handoff. An explanation quoting a sensitive value is masked."""
    exporter.clear()

    @evaluator(mode="flagging")
    def iban_country(handoff: Subject) -> Verdict:
        iban = handoff.payload.iban  # type: ignore[attr-defined]
        return Verdict(iban.startswith("NL"), score=0.1, explanation=f"{iban} is not Dutch")

    @agent(name="sender", version="4.2.0", owner="pay", accepts=[PAYOUT], emits=[PAYOUT])
    def sender(payout: Payout, ctx: Context) -> Outcome:
        return HandOff(to="bank", payload=payout)

    @agent(name="bank", version="1.0.1", owner="pay", accepts=[PAYOUT])
    def bank(payout: Payout, ctx: Context) -> Outcome:
        return Finish(None)

    runtime = Runtime(
        Registry(agents=[sender, bank], contracts=[PAYOUT]),
        evaluators=[*DEFAULT_EVALUATORS, iban_country],
    )
    secret = Payout(order_id="ORD-9", iban="DE89370400440532013000")
    anyio.run(lambda: runtime.run("sender", secret, intent="pay out"))
    spans = exporter.get_finished_spans()
    handoff = next(s for s in spans if s.name == "handoff sender -> bank")
    # Bare passes are listed in one attribute; events are for results with something to say.
    assert handoff.events == ()
    assert set((handoff.attributes or {})["seamline.evaluation.passed"]) == {  # type: ignore[arg-type]
        "contract_accepted",
        "schema_valid",
        "intent_unchanged",
        "constraints_kept",
        "facts_unchanged",
        "required_fields",
    }
    latency = (handoff.attributes or {})["seamline.handoff.latency_ms"]
    assert isinstance(latency, float) and latency > 0
    bank_span = next(s for s in spans if s.name == "invoke_agent bank")
    (flag,) = [dict(e.attributes or {}) for e in bank_span.events]
    assert flag["gen_ai.evaluation.name"] == "iban_country"
    assert flag["gen_ai.evaluation.score.label"] == "fail"
    assert flag["gen_ai.evaluation.score.value"] == 0.1
    assert flag["gen_ai.evaluation.explanation"] == f"{MASK} is not Dutch"
    assert flag["seamline.handoff.id"] == (handoff.attributes or {})["seamline.handoff.id"]
    everything = str([(s.attributes, [e.attributes for e in s.events]) for s in spans])
    assert "DE89370400440532013000" not in everything


def test_failed_blocking_evaluations_are_events_on_the_handoff_span(
    exporter: InMemorySpanExporter,
) -> None:
    """A rejected handoff's failing evaluation is an event with label, mode and explanation;
    its passing ones stay in the attribute."""
    exporter.clear()

    @evaluator("dutch_only")
    def dutch_only(handoff: Subject) -> Verdict:
        if handoff.receiver != "bank":
            return Verdict(True)
        return Verdict(False, explanation="payouts go to Dutch accounts only")

    @agent(name="sender", version="4.2.0", owner="pay", accepts=[PAYOUT], emits=[PAYOUT])
    def sender(payout: Payout, ctx: Context) -> Outcome:
        return HandOff(to="bank", payload=payout)

    @agent(name="bank", version="1.0.1", owner="pay", accepts=[PAYOUT])
    def bank(payout: Payout, ctx: Context) -> Outcome:
        return Finish(None)

    runtime = Runtime(
        Registry(agents=[sender, bank], contracts=[PAYOUT]),
        evaluators=[*DEFAULT_EVALUATORS, dutch_only],
    )
    secret = Payout(order_id="ORD-9", iban="DE89370400440532013000")
    anyio.run(lambda: runtime.run("sender", secret, intent="pay out"))
    handoffs = [s for s in exporter.get_finished_spans() if s.name == "handoff sender -> bank"]
    assert len(handoffs) == 3  # two feedback rounds, then the dead-letter queue
    for span in handoffs:
        (event,) = span.events
        assert event.name == "gen_ai.evaluation.result"
        assert dict(event.attributes or {}) == {
            "gen_ai.evaluation.name": "dutch_only",
            "gen_ai.evaluation.score.label": "fail",
            "seamline.evaluation.mode": "blocking",
            "gen_ai.evaluation.explanation": "payouts go to Dutch accounts only",
        }
        assert "required_fields" in (span.attributes or {})["seamline.evaluation.passed"]  # type: ignore[operator]


def test_a_gate_shows_as_a_gated_handoff_and_a_decision_span(
    exporter: InMemorySpanExporter,
) -> None:
    """The gated handoff's span ends ``gated``; the approval is a ``gate_decision`` span
    naming the gate and who decided, with the receiver's step under it."""
    exporter.clear()
    runtime = Runtime(Registry(agents=chain(2), contracts=[ORDER], gates={("a0", "a1"): Gate()}))
    anyio.run(lambda: runtime.run("a0", ORDER_1, intent="refund", name="refunds"))
    [gate] = runtime.gates()
    handoff = next(s for s in exporter.get_finished_spans() if s.name == "handoff a0 -> a1")
    assert (handoff.attributes or {})["seamline.handoff.outcome"] == "gated"
    anyio.run(lambda: runtime.decide(gate.id, "approve", by="alice"))
    spans = exporter.get_finished_spans()
    decision = next(s for s in spans if s.name == "gate_decision approve")
    attributes = dict(decision.attributes or {})
    assert attributes["seamline.gate.decided_by"] == "alice"
    assert attributes["seamline.handoff.id"] == gate.id
    assert attributes["gen_ai.conversation.id"] == gate.workflow_id
    step = next(s for s in spans if s.name == "invoke_agent a1")
    workflow = next(s for s in spans if s.parent and s.parent.span_id == decision.context.span_id)
    assert step.parent is not None and step.parent.span_id == workflow.context.span_id
