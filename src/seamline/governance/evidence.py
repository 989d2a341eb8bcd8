"""What the audit cannot see in a registry: whether spans are exported and contracts tested.

Both are read from the project on disk and the environment, never from running code:

- **instrumented**: the project declares a span exporter (``[tracing] exporter`` in
  ``seamline.toml``) or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` variable is set, *and* opentelemetry-sdk is
  importable (without it every span is a no-op, whatever is configured).
- **contract tests**: the pytest configuration pytest would pick under the project root sets
  ``seamline_contracts`` (the plugin then tests every contract), or else test files under
  the root call ``contract_tests(`` and name the contract.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from seamline.exceptions import ConfigurationError
from seamline.project import Project

__all__ = ["Evidence", "gather_evidence"]

_OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_PYTEST_OPTION = "seamline_contracts"
_TEST_CALL = "contract_tests("
# Where pytest looks for its configuration in one directory, in its order of precedence:
# (file, section); a pytest.ini wins even without a [pytest] section.
_PYTEST_FILES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", "tool.pytest.ini_options"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)
_SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "site-packages", "venv"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """Facts about a project that the audit scores alongside its registry."""

    exporter: str | None = None
    """Where a span exporter is declared (``None``: nowhere)."""
    sdk_installed: bool = False
    """Whether opentelemetry-sdk is importable."""
    pytest_config: Path | None = None
    """The pytest configuration that sets ``seamline_contracts`` (every contract covered)."""
    tested: Mapping[str, Path] = field(default_factory=dict)
    """Contract name -> a test file that calls ``contract_tests(`` and names it."""

    @property
    def instrumented(self) -> bool:
        """Whether the handoff spans reach an exporter."""
        return self.exporter is not None and self.sdk_installed

    def covers(self, contract: str) -> Path | None:
        """The file that puts ``contract`` under contract tests, if any."""
        return self.pytest_config or self.tested.get(contract)


def gather_evidence(project: Project, environ: Mapping[str, str] | None = None) -> Evidence:
    """Look at ``project``'s files and ``environ`` (default: this process's environment)."""
    environ = os.environ if environ is None else environ
    exporter = (
        f"[tracing] exporter = {project.settings.tracing!r}" if project.settings.tracing else None
    )
    exporter = exporter or next((name for name in _OTLP_VARIABLES if environ.get(name)), None)
    names = {c.name for c in project.registry.contracts}
    config = _pytest_config(project.root)
    return Evidence(
        exporter=exporter,
        sdk_installed=importlib.util.find_spec("opentelemetry.sdk") is not None,
        pytest_config=config,
        tested={} if config else _tested(project.root, names),
    )


def _pytest_config(root: Path) -> Path | None:
    """The file pytest would read its configuration from, if it sets the contracts option."""
    for name, section in _PYTEST_FILES:
        path = root / name
        if not path.is_file():
            continue
        options = _toml_options(path) if name.endswith(".toml") else _ini_options(path, section)
        if options is None and not name.endswith("pytest.ini"):
            continue
        value = (options or {}).get(_PYTEST_OPTION)
        return path if isinstance(value, str) and value.strip() else None
    return None


def _toml_options(path: Path) -> Mapping[str, object] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML ({error}); fix the syntax") from None
    options = data.get("tool", {}).get("pytest", {}).get("ini_options")
    return options if isinstance(options, dict) else None


def _ini_options(path: Path, section: str) -> Mapping[str, object] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        message = str(error).splitlines()[0]
        raise ConfigurationError(f"{path}: not a valid ini file ({message}); fix it") from None
    return dict(parser[section]) if parser.has_section(section) else None


def _tested(root: Path, names: set[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in _test_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        if _TEST_CALL in text:
            for name in sorted(names - found.keys()):
                if name in text:
                    found[name] = path
    return found


def _test_files(root: Path) -> Iterator[Path]:
    for folder, directories, files in os.walk(root):
        directories[:] = sorted(
            d for d in directories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
        )
        for name in sorted(files):
            if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
                yield Path(folder, name)
