"""The LLM example runs offline against the fake chat server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import anyio
import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "llm" / "claims.py"


def test_the_example_corrects_its_sloppy_model_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key: the scripted model's prose amount is sent back once, then the claim is paid."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    spec = importlib.util.spec_from_file_location("llm_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "llm_example", module)
    spec.loader.exec_module(module)
    issue = "- payload.amount: Input should be a valid decimal [decimal_parsing]"
    assert anyio.run(module.main) == {
        "status": "completed",
        "result": {"refunded": "89.90 EUR", "order_id": "ORD-20231"},
        "model calls": 2,
        "first answer's issue": issue,
    }
