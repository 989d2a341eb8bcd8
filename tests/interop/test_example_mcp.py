"""The MCP example asks a demo ledger its questions through `seamline mcp` over stdio."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "mcp-server" / "ask_seamline.py"


def test_the_example_finds_the_dead_letter_and_the_exact_order_value(tmp_path: Path) -> None:
    """The dead letter's issue is the paraphrased value; memory holds the exact one."""
    spec = importlib.util.spec_from_file_location("mcp_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mcp_example"] = module
    spec.loader.exec_module(module)
    answers = module.main(str(tmp_path / "ledger.db"))
    assert "search_memory" in answers["tools"]
    (issue,) = answers["dead_letter"]["issues"]
    assert issue["code"] == "fact_changed" and "'129.99' to '130'" in issue["message"]
    order = {"order_id": "ORD-1003", "value": "129.99", "currency": "USD", "status": "delivered"}
    assert order in answers["remembered"]
    assert answers["refund_contract_owner"] == "payments"
