"""The research supervisor example runs and handles its slow and its failing source."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import anyio

from seamline import SqliteStore
from seamline.ledger import Ledger

EXAMPLE = Path(__file__).parents[2] / "examples" / "research-supervisor" / "research.py"


def test_the_example_handles_a_slow_and_a_failing_sub_agent(tmp_path: Path) -> None:
    """markets is retried after its timeout; patents falls back to the stale cache."""
    spec = importlib.util.spec_from_file_location("research_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_example"] = module
    spec.loader.exec_module(module)
    db = tmp_path / "research.db"
    result = anyio.run(module.main, str(db))
    sources = {f["source"]: f["fresh"] for f in result["findings"]}
    assert sources == {"papers": True, "markets": True, "patents": False}
    assert result["stale"] == ["patents"] and result["missing"] == []
    store = SqliteStore(db)
    ledger = Ledger(store)
    retries: dict[str, list[str]] = {}
    for workflow in ledger.workflows():
        for view in ledger.handoffs(workflow.id):
            for entry in view.entries:
                if entry.kind == "retry":
                    retries.setdefault(workflow.id.rsplit(".", 1)[-1], []).append(
                        json.loads(entry.data or "{}")["code"]
                    )
    assert retries == {"1": ["timeout"], "2": ["agent_error", "agent_error"]}
    store.close()
