"""Spans for every workflow, agent step and handoff, through opentelemetry-api.

Until an SDK is configured these are no-op spans costing a few microseconds, so the
instrumentation is always on and exporters can be added later without touching the
runtime. Every attribute name lives here. Span names follow the OpenTelemetry GenAI
conventions (``invoke_workflow``, ``invoke_agent``); the handoff span carries
``seamline.handoff.*`` attributes until a handoff convention is ratified.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind

from seamline.contracts import Envelope, mask_payload
from seamline.telemetry import configure

if TYPE_CHECKING:
    from seamline.evals import Evaluation

__all__ = [
    "HANDOFF_CONTRACT",
    "HANDOFF_DESTINATION",
    "HANDOFF_OUTCOME",
    "HANDOFF_SOURCE",
    "agent_span",
    "configure",
    "gate_span",
    "handoff_span",
    "record_envelope",
    "record_evaluations",
    "record_event",
    "record_model_call",
    "record_outcome",
    "record_returned",
    "record_tool_call",
    "recording",
    "retrieval_span",
    "workflow_span",
]

OPERATION = "gen_ai.operation.name"
AGENT_NAME = "gen_ai.agent.name"
AGENT_VERSION = "gen_ai.agent.version"
CONVERSATION_ID = "gen_ai.conversation.id"
WORKFLOW_NAME = "gen_ai.workflow.name"
OPENINFERENCE_KIND = "openinference.span.kind"
HANDOFF_SOURCE = "seamline.handoff.source"
HANDOFF_DESTINATION = "seamline.handoff.destination"
HANDOFF_CONTRACT = "seamline.handoff.contract"
HANDOFF_ID = "seamline.handoff.id"
HANDOFF_OUTCOME = "seamline.handoff.outcome"
HANDOFF_ISSUES = "seamline.handoff.validation.issue_count"
HANDOFF_ATTEMPT = "seamline.handoff.attempt"
HANDOFF_LATENCY = "seamline.handoff.latency_ms"
GATE_DECISION = "seamline.gate.decision"
GATE_DECIDED_BY = "seamline.gate.decided_by"
EVALUATION_EVENT = "gen_ai.evaluation.result"
EVALUATION_NAME = "gen_ai.evaluation.name"
EVALUATION_SCORE = "gen_ai.evaluation.score.value"
EVALUATION_LABEL = "gen_ai.evaluation.score.label"
EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"
EVALUATION_MODE = "seamline.evaluation.mode"
EVALUATIONS_PASSED = "seamline.evaluation.passed"

HANDOFF_SOURCE_VERSION = "seamline.handoff.source.version"
HANDOFF_DESTINATION_VERSION = "seamline.handoff.destination.version"
HANDOFF_CONTRACT_NAME = "seamline.handoff.contract.name"
HANDOFF_CONTRACT_VERSION = "seamline.handoff.contract.version"
HANDOFF_PAYLOAD_SHA256 = "seamline.handoff.payload.sha256"
HANDOFF_PAYLOAD_BYTES = "seamline.handoff.payload.size"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
ERROR_TYPE = "error.type"
DATA_SOURCE = "gen_ai.data_source.id"
MEMORY_OPERATION = "seamline.memory.operation"
MEMORY_RETURNED = "seamline.memory.returned_count"
MEMORY_SOURCE = "seamline.memory"

_tracer = trace.get_tracer("seamline")
_NO_SPAN = nullcontext(INVALID_SPAN)


def _start(
    name: str,
    attributes: dict[str, str],
    *,
    on: bool,
    kind: SpanKind = SpanKind.INTERNAL,
) -> AbstractContextManager[Span]:
    """A span made current for its block, or the shared no-op when nothing records."""
    if not on:
        return _NO_SPAN
    return _tracer.start_as_current_span(name, kind=kind, attributes=attributes)


def recording() -> bool:
    """Whether an SDK tracer provider is installed, i.e. whether spans go anywhere.

    The API's no-op path still costs ~10us a span on a small VM; the runtime asks this once
    per workflow run and skips span creation while nothing would record it.
    """
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def workflow_span(
    name: str, correlation_id: str, *, on: bool = True
) -> AbstractContextManager[Span]:
    """The root span of one workflow run (or resume)."""
    return _start(
        f"invoke_workflow {name}",
        {
            OPERATION: "invoke_workflow",
            WORKFLOW_NAME: name,
            CONVERSATION_ID: correlation_id,
            OPENINFERENCE_KIND: "CHAIN",
        },
        on=on,
    )


def agent_span(
    name: str, version: str, correlation_id: str, *, on: bool = True
) -> AbstractContextManager[Span]:
    """One agent step."""
    return _start(
        f"invoke_agent {name}",
        {
            OPERATION: "invoke_agent",
            AGENT_NAME: name,
            AGENT_VERSION: version,
            CONVERSATION_ID: correlation_id,
            OPENINFERENCE_KIND: "AGENT",
        },
        on=on,
    )


def handoff_span(
    source: str, destination: str, contract: str, handoff_id: str, *, on: bool = True
) -> AbstractContextManager[Span]:
    """One transition between agents: validation, routing decision and ledger commit."""
    return _start(
        f"handoff {source} -> {destination}",
        {
            HANDOFF_SOURCE: source,
            HANDOFF_DESTINATION: destination,
            HANDOFF_CONTRACT: contract,
            HANDOFF_ID: handoff_id,
            OPENINFERENCE_KIND: "TOOL",
        },
        on=on,
    )


def record_outcome(
    span: Span, outcome: str, issues: int = 0, attempt: int = 1, started: float | None = None
) -> None:
    """Mark how a handoff ended: ``validated``, ``gated`` (waiting for a person),
    ``rejected_with_feedback`` (the sender runs again), ``fallback`` or ``dead_lettered``,
    with its issue count, sender attempt and, from
    ``started`` (a ``time.perf_counter()`` reading), the seam's own latency in ms: checks,
    evaluators and the ledger commit."""
    if span.is_recording():
        attributes: dict[str, str | int | float] = {
            HANDOFF_OUTCOME: outcome,
            HANDOFF_ATTEMPT: attempt,
            HANDOFF_ISSUES: issues,
        }
        if started is not None:
            attributes[HANDOFF_LATENCY] = round((time.perf_counter() - started) * 1e3, 3)
        span.set_attributes(attributes)


def record_evaluations(
    span: Span, evaluations: Iterable[Evaluation], handoff_id: str | None = None
) -> None:
    """A ``gen_ai.evaluation.result`` event per evaluation that says something, on the span
    evaluated; bare passes are listed in one ``seamline.evaluation.passed`` attribute.

    Most handoffs pass the same half-dozen checks with nothing more to say; an event each
    would cost more than the rest of the span and bury the failures, errors and scores
    that matter. Explanations were masked when the evaluations were made. ``handoff_id``
    names the handoff when the span is not its own (flagging evaluators report on the
    receiver's).
    """
    if not span.is_recording():
        return
    passed = [e.name for e in evaluations if e.label.value == "pass" and _bare(e)]
    if passed:
        span.set_attribute(EVALUATIONS_PASSED, passed)
    for evaluation in evaluations:
        if evaluation.label.value == "pass" and _bare(evaluation):
            continue
        attributes = _evaluation_attributes(evaluation)
        if handoff_id is not None:
            attributes = {**attributes, HANDOFF_ID: handoff_id}
        span.add_event(EVALUATION_EVENT, attributes)


def _bare(evaluation: Evaluation) -> bool:
    return evaluation.score is None and not evaluation.explanation


@lru_cache(maxsize=512)
def _evaluation_attributes(evaluation: Evaluation) -> dict[str, str | float]:
    """Event attributes; cached, since most handoffs repeat the same passing results."""
    attributes: dict[str, str | float] = {
        EVALUATION_NAME: evaluation.name,
        EVALUATION_LABEL: evaluation.label.value,
        EVALUATION_MODE: evaluation.mode.value,
    }
    if evaluation.score is not None:
        attributes[EVALUATION_SCORE] = float(evaluation.score)
    if evaluation.explanation:
        attributes[EVALUATION_EXPLANATION] = evaluation.explanation
    if evaluation.error_type is not None:
        attributes[ERROR_TYPE] = evaluation.error_type
    return attributes


def record_event(span: Span, name: str, attributes: dict[str, str]) -> None:
    """Attach a point-in-time fact to a handoff (a deprecated version, an upcast)."""
    if span.is_recording():
        span.add_event(name, attributes)


def gate_span(
    gate_id: str, correlation_id: str, decision: str, by: str
) -> AbstractContextManager[Span]:
    """A person's decision on a gated handoff (``gate_decision {decision}``), in the
    workflow's conversation; what runs after an approval nests under it."""
    return _start(
        f"gate_decision {decision}",
        {
            OPERATION: "gate_decision",
            HANDOFF_ID: gate_id,
            GATE_DECISION: decision,
            GATE_DECIDED_BY: by,
            CONVERSATION_ID: correlation_id,
            OPENINFERENCE_KIND: "CHAIN",
        },
        on=recording(),
    )


def retrieval_span(operation: str, correlation_id: str) -> AbstractContextManager[Span]:
    """One memory read (``retrieval seamline.memory``), a child of the reading agent's span.

    Only the operation and, afterwards, how many artifacts came back are recorded: the
    query and the values may hold what a contract marks sensitive, and they stay in the
    read audit, inside the store.
    """
    return _start(
        f"retrieval {MEMORY_SOURCE}",
        {
            OPERATION: "retrieval",
            DATA_SOURCE: MEMORY_SOURCE,
            MEMORY_OPERATION: operation,
            CONVERSATION_ID: correlation_id,
            OPENINFERENCE_KIND: "RETRIEVER",
        },
        on=recording(),
        kind=SpanKind.CLIENT,
    )


def record_returned(span: Span, count: int) -> None:
    """How many artifacts a memory read handed back."""
    if span.is_recording():
        span.set_attribute(MEMORY_RETURNED, count)


def record_envelope(span: Span, envelope: Envelope) -> None:
    """What crossed the seam, without its values: versions, contract, payload hash and size.

    The hash is taken over the payload with sensitive fields masked, so a low-entropy
    secret (a card's last four digits) cannot be recovered by hashing guesses.
    """
    if not span.is_recording():
        return
    masked = mask_payload(envelope.payload, envelope.sensitive)
    body = json.dumps(masked, sort_keys=True, separators=(",", ":"), default=str).encode()
    span.set_attributes(
        {
            HANDOFF_SOURCE_VERSION: envelope.source.version,
            HANDOFF_DESTINATION_VERSION: envelope.destination.version,
            HANDOFF_CONTRACT_NAME: envelope.contract.name,
            HANDOFF_CONTRACT_VERSION: envelope.contract.version,
            HANDOFF_PAYLOAD_SHA256: hashlib.sha256(body).hexdigest(),
            HANDOFF_PAYLOAD_BYTES: len(body),
        }
    )


def record_tool_call(tool: str, call_id: str | None, failed: bool) -> None:
    """An ``execute_tool {tool}`` span for a tool call an agent recorded in its handoff.

    The call ran inside the agent, so the span marks it (name, call id, error) under the
    agent's span rather than timing it; arguments and results stay in the envelope.
    """
    attributes: dict[str, str] = {OPERATION: "execute_tool", TOOL_NAME: tool}
    if call_id:
        attributes[TOOL_CALL_ID] = call_id
    if failed:
        attributes[ERROR_TYPE] = "tool_error"
    attributes[OPENINFERENCE_KIND] = "TOOL"
    with _tracer.start_as_current_span(
        f"execute_tool {tool}", kind=SpanKind.INTERNAL, attributes=attributes
    ):
        pass


PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
SERVER_ADDRESS = "server.address"
LLM_MODEL = "llm.model_name"
LLM_PROMPT_TOKENS = "llm.token_count.prompt"
LLM_COMPLETION_TOKENS = "llm.token_count.completion"


def record_model_call(
    model: str,
    started: int,
    *,
    server: str | None = None,
    response_model: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    finish_reasons: Iterable[str] = (),
    error: str | None = None,
) -> None:
    """A ``chat {model}`` span for one chat-completions call, under the calling agent's span.

    Opened after the call with its start time (``started``, from ``time.time_ns()``), so
    the caller needs no span around its await. It carries the requested and answering
    models, the token usage (also under OpenInference's names, which Phoenix adds up) and,
    for a call that failed, ``error.type``. Messages and replies are never attributes:
    they hold the payload's real values.
    """
    if not recording():
        return
    attributes: dict[str, str | int | list[str]] = {
        OPERATION: "chat",
        PROVIDER: "openai",
        REQUEST_MODEL: model,
        LLM_MODEL: response_model or model,
        OPENINFERENCE_KIND: "LLM",
    }
    optional: dict[str, str | int | list[str] | None] = {
        SERVER_ADDRESS: server,
        RESPONSE_MODEL: response_model,
        INPUT_TOKENS: input_tokens,
        OUTPUT_TOKENS: output_tokens,
        LLM_PROMPT_TOKENS: input_tokens,
        LLM_COMPLETION_TOKENS: output_tokens,
        FINISH_REASONS: list(finish_reasons) or None,
        ERROR_TYPE: error,
    }
    attributes.update({name: value for name, value in optional.items() if value is not None})
    span = _tracer.start_span(
        f"chat {model}", kind=SpanKind.CLIENT, start_time=started, attributes=attributes
    )
    span.end()
