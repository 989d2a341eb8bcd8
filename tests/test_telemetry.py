"""Exporting spans: the demo over real OTLP/HTTP to a loopback collector, and configure()."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from seamline import ConfigurationError
from seamline.telemetry import configure


class Collector(BaseHTTPRequestHandler):
    """A minimal OTLP/HTTP trace receiver: keeps every request body it is sent."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        """Accept one export request."""
        length = int(self.headers.get("Content-Length", "0"))
        Collector.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh Python process (a tracer provider can be installed once per process)."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_the_demo_exports_its_span_tree_over_otlp_http(tmp_path: Path) -> None:
    """`seamline demo --otlp URL` posts protobuf spans a collector can read back."""
    Collector.bodies = []
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1/traces"
        done = run("-m", "seamline", "demo", "--store", str(tmp_path / "d.db"), "--otlp", url)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    spans = []
    for body in Collector.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "seamline"
            for scope in resource.scope_spans:
                spans.extend(scope.spans)
    names = {span.name for span in spans}
    assert {
        "invoke_workflow ticket T-1",
        "invoke_agent intake",
        "handoff triage -> refunds",
    } <= names
    assert "retrieval seamline.memory" in names
    root = next(s for s in spans if s.name == "invoke_workflow ticket T-1")
    children = [s for s in spans if s.parent_span_id == root.span_id]
    assert {s.name for s in children} >= {"invoke_agent intake", "invoke_agent triage"}


def test_the_environment_chooses_the_exporter() -> None:
    """OTEL_EXPORTER_OTLP_* pick OTLP over gRPC or HTTP when no exporter is named."""
    script = (
        "from seamline.telemetry import configure; p = configure(); "
        "print(type(p.exporter).__module__)"
    )
    base = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
    grpc = run("-c", script, env=base | {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert grpc.returncode == 0, grpc.stderr
    assert "otlp.proto.grpc" in grpc.stdout
    http = run("-c", script, env=base)
    assert "otlp.proto.http" in http.stdout


def test_bad_exporter_settings_are_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown exporters, no endpoint, and unsupported protocols say what to do."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    with pytest.raises(ConfigurationError, match="unknown span exporter 'zipkin'"):
        configure("zipkin")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no OTEL_EXPORTER_OTLP_ENDPOINT set"):
        configure()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ConfigurationError, match="'http/json' is not supported"):
        configure()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_collector_is_reported_once_and_the_demo_still_runs(
    tmp_path: Path,
) -> None:
    """Every batch fails; stderr says so in one line, the workflows all finish."""
    url = f"http://127.0.0.1:{closed_port()}/v1/traces"
    done = run("-m", "seamline", "demo", "--store", str(tmp_path / "d.db"), "--otlp", url)
    assert done.returncode == 0, done.stderr
    assert "seamline workflows list" in done.stdout  # the demo ran to its end
    lines = done.stderr.splitlines()
    reports = [line for line in lines if "cannot export spans" in line]
    assert len(reports) == 1, done.stderr
    assert url in reports[0] and "Connection refused" in reports[0]
    assert not [line for line in lines if "Failed to export" in line or "Traceback" in line]


class Refusing(BaseHTTPRequestHandler):
    """A collector that answers every export with 400 Bad Request (not retried)."""

    def do_POST(self) -> None:
        """Refuse one export request."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(400)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def test_a_refusing_collector_is_reported_once_over_many_batches() -> None:
    """Ten flushed batches, ten refusals, one line; the exporter's own errors stay quiet."""
    server = HTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = f"""
import anyio, warnings
from seamline.telemetry import configure
from seamline.runtime import Runtime
from seamline.demo import TICKETS, build_registry
warnings.simplefilter("ignore")
provider = configure("otlp", endpoint="http://127.0.0.1:{server.server_port}/v1/traces")
runtime = Runtime(build_registry())
for _ in range(10):
    _, ticket = TICKETS[0]
    result = anyio.run(lambda: runtime.run("intake", ticket, intent=ticket.message))
    assert result.status.value == "completed", result
    provider.force_flush()
provider.shutdown()
print("ran 10")
"""
    try:
        done = run("-c", script)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ran 10"
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "cannot export spans" in lines[0] and "400" in lines[0]
