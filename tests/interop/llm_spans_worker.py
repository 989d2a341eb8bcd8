"""Runs test_llm's LLM agent once, recording spans in memory, and prints them as JSON.

A process of its own: OpenTelemetry takes one tracer provider per process, and the suite's
other span tests install theirs.
"""

from __future__ import annotations

import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from test_llm import run, writer

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
run(writer(sys.argv[1]))
spans = [
    {
        "name": span.name,
        "id": span.context.span_id if span.context else None,
        "parent": span.parent.span_id if span.parent else None,
        "attributes": dict(span.attributes or {}),
    }
    for span in exporter.get_finished_spans()
]
print(json.dumps(spans, default=list))
