"""Every workflow, agent step and handoff opens an OpenTelemetry span."""

from __future__ import annotations

import anyio
import pytest
from chain_fixtures import ORDER, ORDER_1, chain
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from seamline import Registry, Runtime

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
