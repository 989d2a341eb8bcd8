"""Where spans go: one call (or the standard OTEL_EXPORTER_OTLP_* variables) to export them.

The runtime only ever talks to opentelemetry-api (see :mod:`seamline.tracing`); this module
installs an SDK tracer provider with an exporter, so it needs the ``otel`` extra. The
provider is process-global, as OpenTelemetry's is: configure once, at start-up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from opentelemetry import trace

from seamline.exceptions import ConfigurationError, MissingExtraError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = ["Exporter", "configure"]

Exporter = Literal["console", "otlp", "otlp-http", "otlp-grpc", "memory"]


def configure(
    exporter: Exporter | None = None,
    *,
    endpoint: str | None = None,
    service_name: str = "seamline",
    timeout: float | None = None,
) -> TracerProvider:
    """Install a tracer provider exporting seamline's spans; returns it (flush on exit).

    With no ``exporter``, the standard environment decides: ``OTEL_EXPORTER_OTLP_ENDPOINT``
    (or ``..._TRACES_ENDPOINT``) with ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``http/protobuf``, the
    default, or ``grpc``). ``otlp`` means OTLP over HTTP/protobuf. ``memory`` keeps spans in
    an InMemorySpanExporter, for tests (``provider.exporter``). ``timeout`` bounds each
    OTLP export, retries included (the exporters' default is 10 s, which is also how long
    a flush at exit can wait on an unreachable collector).
    """
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise MissingExtraError(feature="exporting spans", extra="otel") from None
    kind = exporter or _from_environment()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    chosen = _exporter(kind, endpoint, timeout)
    # Network exporters batch off the hot path; console and memory show spans at once.
    batching = kind in ("otlp", "otlp-http", "otlp-grpc")
    exporting = _reporting(chosen, kind, endpoint) if batching else chosen
    provider.add_span_processor(
        BatchSpanProcessor(exporting) if batching else SimpleSpanProcessor(exporting)
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


def _exporter(kind: str, endpoint: str | None, timeout: float | None) -> SpanExporter:
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

            return OTLPSpanExporter(endpoint=endpoint, timeout=timeout)
        if kind == "otlp-grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )

            return GrpcSpanExporter(endpoint=endpoint, timeout=timeout)
    except ImportError:
        raise MissingExtraError(feature=f"the {kind} span exporter", extra="otel") from None
    raise ConfigurationError(
        f"unknown span exporter {kind!r}; use console, otlp (HTTP), otlp-grpc or memory"
    )


_EXPORTER_LOGGERS = {
    "otlp-grpc": "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "otlp-http": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
}


def _reporting(exporter: SpanExporter, kind: str, endpoint: str | None) -> SpanExporter:
    """``exporter`` behind a guard that reports the first failed export once.

    A collector that is down or misconfigured must not take the workflows with it, nor
    bury their output: the OTLP exporters log an error (and retry warnings) for every
    batch. Their complaints are kept instead of printed, and the first failure becomes
    one warning on the ``seamline.telemetry`` logger saying where and why; later
    failures only count.
    """
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    library = logging.getLogger(
        _EXPORTER_LOGGERS["otlp-grpc" if kind == "otlp-grpc" else "otlp-http"]
    )
    target = endpoint or _environment_endpoint() or "the default OTLP endpoint"

    class Complaints(logging.Filter):
        seen: list[str] = []  # noqa: RUF012  # this batch's, reset before each export

        def filter(self, record: logging.LogRecord) -> bool:
            if record.levelno < logging.WARNING:
                return True
            Complaints.seen.append(record.getMessage())
            return False

    library.addFilter(Complaints())

    class ReportOnce(SpanExporter):
        failures = 0

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            Complaints.seen = []
            try:
                result = exporter.export(spans)
                # The first complaint names the cause; later ones say it was retried.
                reason = Complaints.seen[0] if Complaints.seen else ""
            except Exception as error:  # an exporter bug must not reach the span processor
                result, reason = SpanExportResult.FAILURE, f"{type(error).__name__}: {error}"
            if result is SpanExportResult.FAILURE:
                self.failures += 1
                if self.failures == 1:
                    _log.warning(
                        "cannot export spans to %s (%s); workflows run on and their spans are "
                        "dropped. Check the endpoint (--otlp, OTEL_EXPORTER_OTLP_ENDPOINT) and "
                        "that a collector listens there. Reported once.",
                        target,
                        reason or "the export failed",
                    )
            return result

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return exporter.force_flush(timeout_millis)

    return ReportOnce()


def _environment_endpoint() -> str | None:
    return os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )


_log = logging.getLogger("seamline.telemetry")
