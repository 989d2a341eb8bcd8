"""``seamline demo --model openai:MODEL``: triage played by a model, here a fake one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamline import SqliteStore
from seamline.cli import app
from seamline.interop.demo_llm import build_llm_registry
from seamline.ledger import Ledger
from seamline.testing import ChatReply, ChatRequest, FakeChatServer

runner = CliRunner()


def triage_model(request: ChatRequest) -> ChatReply:
    """Answers each case with its refund request; T-2's first answer writes the amount as
    prose (as models do), and the agent's own check sends it back."""
    user = request.messages[1]["content"]
    case = json.loads(user.split("):\n", 1)[1].split("\n\n", 1)[0])
    amount = case["order_value"]
    if case["ticket_id"] == "T-2" and "does not satisfy" not in request.prompt:
        amount = f"${amount} (full refund)"
    return ChatReply.json(
        {
            "order_id": case["order_id"],
            "customer_id": case["customer_id"],
            "order_value": case["order_value"],
            "amount": amount,
            "currency": "USD",
            "reason": "not_received" if "received" in case["message"] else "damaged",
        }
    )


def test_the_demo_runs_with_triage_played_by_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENAI_BASE_URL and a key lead the demo to the server; every ticket reaches its end."""
    db = tmp_path / "demo.db"
    with FakeChatServer(triage_model) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        result = runner.invoke(app, ["demo", "--store", str(db), "--model", "openai:fake-1"])
    assert result.exit_code == 0, result.output
    assert "intake@1.4.0 → triage@3.0.0 → refunds@3.1.0" in result.stdout
    assert [r.model for r in server.requests] == ["fake-1"] * 5
    assert "payload.amount: Input should be a valid decimal" in server.requests[2].prompt
    store = SqliteStore(db)
    try:
        ledger = Ledger(store)
        workflows = sorted(ledger.workflows(), key=lambda w: w.name)
        assert [(w.name, w.status, w.app) for w in workflows] == [
            ("ticket T-1", "completed", "seamline.interop.demo_llm:build_llm_registry"),
            ("ticket T-2", "completed", "seamline.interop.demo_llm:build_llm_registry"),
            ("ticket T-3", "completed", "seamline.interop.demo_llm:build_llm_registry"),
            ("ticket T-4", "escalated", "seamline.interop.demo_llm:build_llm_registry"),
        ]
    finally:
        store.close()


def test_without_an_api_key_the_demo_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """One error line on stderr, exit 1, nothing run."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(app, ["demo", "--store", "unused.db", "--model", "openai:gpt-4.1-mini"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: --model openai:gpt-4.1-mini needs an API key: set OPENAI_API_KEY (and "
        "OPENAI_BASE_URL for a server other than OpenAI's, e.g. http://localhost:11434/v1 for "
        "Ollama)"
    ]


def test_a_model_without_its_provider_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """--model gpt-4 (no provider): the error shows the form expected."""
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    result = runner.invoke(app, ["demo", "--store", "unused.db", "--model", "gpt-4"])
    assert result.exit_code == 1
    assert "--model takes openai:MODEL" in result.stderr and "got 'gpt-4'" in result.stderr


def test_replays_rebuild_triage_with_the_model_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The recorded app builds the registry without arguments: SEAMLINE_DEMO_MODEL decides."""
    monkeypatch.setenv("SEAMLINE_DEMO_MODEL", "llama3.2")
    triage = build_llm_registry().agent("triage")
    assert triage.card.description == "Triage by llama3.2"
    assert {a.name for a in build_llm_registry().agents} == {
        "intake",
        "triage",
        "refunds",
        "fulfillment",
    }
