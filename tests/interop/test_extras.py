"""Integrations are extras: the core imports none of them, and a missing one names its extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

INTEGRATIONS = ("mcp", "openai", "a2a", "agents", "langgraph", "fastapi")
"""The top-level packages the interop and server extras bring."""


def python(code: str, *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, so no test's imports leak into the answer."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_the_core_and_the_cli_import_no_integration() -> None:
    """seamline, its runtime and its whole CLI load without one integration's package."""
    done = python(
        "import sys, seamline, seamline.runtime, seamline.cli\n"
        f"print(','.join(sorted(m for m in {INTEGRATIONS!r} if m in sys.modules)))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


BLOCK_MCP = "import sys\nsys.modules['mcp'] = None  # as if the mcp extra were not installed\n"


def test_the_mcp_helpers_without_the_extra_raise_missing_extra_error() -> None:
    """Importing seamline.interop.mcp without the SDK names the extra to install."""
    done = python(
        BLOCK_MCP + "from seamline.exceptions import MissingExtraError\n"
        "try:\n"
        "    import seamline.interop.mcp\n"
        "except MissingExtraError as error:\n"
        "    print(error)\n"
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "seamline[mcp]"' in done.stdout


def test_seamline_mcp_without_the_extra_says_which_to_install(tmp_path: Path) -> None:
    """The command fails in one line naming the extra; the rest of the CLI still loads."""
    (tmp_path / "l.db").touch()
    argv = ["seamline", "mcp", "--store", "l.db", "--app", "seamline.demo:build_registry"]
    done = python(
        BLOCK_MCP + f"from seamline.cli import main\nsys.argv = {argv!r}\nmain()\n", cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error:") and 'pip install "seamline[mcp]"' in done.stderr
    assert "Traceback" not in done.stderr
