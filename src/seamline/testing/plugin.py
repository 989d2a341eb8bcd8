"""The pytest plugin (entry point ``pytest11``): inert until a project names its contracts."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini option that enables generated contract tests."""
    parser.addini(
        "seamline_contracts",
        "import path of a seamline Registry or a factory returning one (module:attr)",
        default="",
    )
