"""Where spans go: one call (or the standard OTEL_EXPORTER_OTLP_* variables) to export them.

The runtime only ever talks to opentelemetry-api (see :mod:`seamline.tracing`); this module
installs an SDK tracer provider with an exporter, so it needs the ``otel`` extra. The
provider is process-global, as OpenTelemetry's is: configure once, at start-up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from opentelemetry import trace

from seamline.exceptions import ConfigurationError, MissingExtraError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["Exporter", "configure"]

Exporter = Literal["console", "otlp", "otlp-http", "otlp-grpc", "memory"]


def configure(
    exporter: Exporter | None = None,
    *,
    endpoint: str | None = None,
    service_name: str = "seamline",
) -> TracerProvider:
    """Install a tracer provider exporting seamline's spans; returns it (flush on exit).

    With no ``exporter``, the standard environment decides: ``OTEL_EXPORTER_OTLP_ENDPOINT``
    (or ``..._TRACES_ENDPOINT``) with ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf``, the
    default, or ``grpc``). ``otlp`` means OTLP over HTTP/protobuf. ``memory`` keeps spans in
    an InMemorySpanExporter, for tests (``provider.exporter``).
    """
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise MissingExtraError(feature="exporting spans", extra="otel") from None
    kind = exporter or _from_environment()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    chosen = _exporter(kind, endpoint)
    # Network exporters batch off the hot path; console and memory show spans at once.
    batching = kind in ("otlp", "otlp-http", "otlp-grpc")
    provider.add_span_processor(
        BatchSpanProcessor(chosen) if batching else SimpleSpanProcessor(chosen)
    )
    provider.exporter = chosen  # type: ignore[attr-defined]  # handy for tests and flushes
    trace.set_tracer_provider(provider)
    return provider


def _from_environment() -> Exporter:
    if not (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    ):
        raise ConfigurationError(
            "no span exporter given and no OTEL_EXPORTER_OTLP_ENDPOINT set; pass "
            "exporter='console' | 'otlp' | 'otlp-grpc' | 'memory', or set the endpoint"
        )
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    if protocol not in ("http/protobuf", "grpc"):
        raise ConfigurationError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported; use http/protobuf or grpc"
        )
    return "otlp-grpc" if protocol == "grpc" else "otlp-http"


def _exporter(kind: str, endpoint: str | None) -> SpanExporter:
    try:
        if kind == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
        if kind == "memory":
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )

            return InMemorySpanExporter()
        if kind in ("otlp", "otlp-http"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
        if kind == "otlp-grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )

            return GrpcSpanExporter(endpoint=endpoint) if endpoint else GrpcSpanExporter()
    except ImportError:
        raise MissingExtraError(feature=f"the {kind} span exporter", extra="otel") from None
    raise ConfigurationError(
        f"unknown span exporter {kind!r}; use console, otlp (HTTP), otlp-grpc or memory"
    )
