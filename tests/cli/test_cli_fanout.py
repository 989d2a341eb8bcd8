"""`seamline workflows show` renders a supervisor's fan-out and its legs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import anyio
from typer.testing import CliRunner

from seamline import SqliteStore
from seamline.cli import app

EXAMPLE = Path(__file__).parents[2] / "examples" / "research-supervisor" / "research.py"


def test_workflows_show_lists_the_fan_out_and_each_leg(tmp_path: Path) -> None:
    """The supervisor's timeline has a fan-out line naming its three leg workflows."""
    spec = importlib.util.spec_from_file_location("research_example_cli", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_example_cli"] = module
    spec.loader.exec_module(module)
    db = tmp_path / "research.db"
    anyio.run(module.main, str(db))
    store = SqliteStore(db)
    (lead,) = [w for w in store.list_workflows() if "." not in w.id]
    store.close()
    result = CliRunner().invoke(
        app, ["workflows", "show", lead.id, "--store", str(db)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.stderr
    assert "⑃ fan-out" in result.stdout and "3 leg(s)" in result.stdout
    for index in range(3):
        assert f"{lead.id}.0.{index}" in result.stdout
