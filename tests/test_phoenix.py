"""The demo's traces in a real backend: Arize Phoenix on loopback, read back over its REST API."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IBAN = "DE89370400440532013000"
WORKER = Path(__file__).with_name("phoenix_sensitive_worker.py")


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> Any:
    """GET JSON from Phoenix."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`phoenix serve` on free loopback ports, offline, with its telemetry switched off."""
    command = shutil.which("phoenix", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("arize-phoenix is not installed (pip install 'seamline[test]')")
    port = free_port()
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_WORKING_DIR": str(tmp_path_factory.mktemp("phoenix")),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
    }
    log = tmp_path_factory.mktemp("phoenix-log") / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([command, "serve"], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            pytest.skip(f"phoenix serve exited at start: {log.read_text()[-500:]}")
        try:
            get(f"{base}/v1/projects")
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.skip("phoenix serve did not answer within 120 s")
            time.sleep(0.5)
    yield base
    server.terminate()
    server.wait(timeout=30)


def spans(base: str, wanted: set[str]) -> list[dict[str, Any]]:
    """Poll Phoenix until the wanted span names have been ingested (ingestion is async)."""
    deadline = time.monotonic() + 60
    while True:
        found = get(f"{base}/v1/projects/default/spans?limit=1000")["data"]
        if wanted <= {span["name"] for span in found} or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.5)


def test_the_demo_span_tree_arrives_in_phoenix(phoenix: str, tmp_path: Path) -> None:
    """Workflow, agent, handoff, tool and retrieval spans, parented and attributed."""
    done = subprocess.run(
        [sys.executable, "-m", "seamline", "demo", "--store", str(tmp_path / "d.db"),
         "--otlp", f"{phoenix}/v1/traces"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wanted = {
        "invoke_workflow ticket T-1",
        "invoke_agent intake",
        "handoff triage -> refunds",
        "execute_tool orders.lookup",
        "retrieval seamline.memory",
    }
    found = spans(phoenix, wanted)
    assert wanted <= {span["name"] for span in found}
    by_id = {span["context"]["span_id"]: span for span in found}
    root = next(s for s in found if s["name"] == "invoke_workflow ticket T-1")
    assert root["parent_id"] is None and root["span_kind"] == "CHAIN"
    trace_id = root["context"]["trace_id"]
    agents = [
        s for s in found if s["context"]["trace_id"] == trace_id and s["span_kind"] == "AGENT"
    ]
    assert {s["attributes"]["gen_ai.agent.name"] for s in agents} == {
        "intake", "triage", "refunds", "fulfillment",
    }  # fmt: skip
    assert all(by_id[s["parent_id"]]["name"] == root["name"] for s in agents)
    handoff = next(
        s for s in found if s["name"] == "handoff triage -> refunds"
        and s["context"]["trace_id"] == trace_id
    )  # fmt: skip
    attributes = handoff["attributes"]
    assert attributes["seamline.handoff.contract"] == "refund.request@2.0.0"
    assert attributes["seamline.handoff.outcome"] == "validated"
    assert len(attributes["seamline.handoff.payload.sha256"]) == 64
    assert "intent_unchanged" in attributes["seamline.evaluation.passed"]


def test_no_sensitive_value_reaches_phoenix(phoenix: str) -> None:
    """A payload's sensitive IBAN is nowhere in what Phoenix stored, its spans included,
    though an evaluator quoted it in the explanation it exported."""
    done = subprocess.run(
        [sys.executable, str(WORKER), f"{phoenix}/v1/traces", IBAN],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = spans(phoenix, {"handoff payer -> bank", "retrieval seamline.memory"})
    assert "handoff payer -> bank" in {span["name"] for span in found}
    assert IBAN not in json.dumps(found)
    bank = next(span for span in found if span["name"] == "invoke_agent bank")
    (flag,) = [e for e in bank["events"] if e["name"] == "gen_ai.evaluation.result"]
    assert flag["attributes"]["gen_ai.evaluation.name"] == "dutch_account"
    assert flag["attributes"]["gen_ai.evaluation.score.label"] == "fail"
    assert flag["attributes"]["gen_ai.evaluation.explanation"] == "«masked» is not Dutch"
