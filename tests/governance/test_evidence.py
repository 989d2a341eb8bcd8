"""What the audit reads from the project on disk: span exporters and contract tests."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from seamline.exceptions import ConfigurationError
from seamline.governance import gather_evidence
from seamline.project import Project, load_project


def project(root: Path, extra: str = "") -> Project:
    """The demo registry as a project rooted at ``root``, with ``extra`` TOML appended."""
    file = root / "seamline.toml"
    file.write_text(
        '[project]\napp = "seamline.demo:build_registry"\n' + textwrap.dedent(extra),
        encoding="utf-8",
    )
    return load_project(file)


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_declared_exporter_or_otlp_variable_counts_as_instrumented(tmp_path: Path) -> None:
    """[tracing] exporter or a non-empty OTLP endpoint variable is where spans go."""
    declared = project(tmp_path, '[tracing]\nexporter = "otlp"\n')
    evidence = gather_evidence(declared, environ={})
    assert evidence.exporter == "[tracing] exporter = 'otlp'" and evidence.sdk_installed
    bare = project(tmp_path)
    assert gather_evidence(bare, environ={"OTEL_EXPORTER_OTLP_ENDPOINT": ""}).exporter is None
    variable = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318"}
    assert gather_evidence(bare, environ=variable).exporter == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


def test_missing_sdk_is_noticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an importable opentelemetry-sdk nothing is exported, whatever is declared."""
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk", None)  # blocks the import
    declared = project(tmp_path, '[tracing]\nexporter = "console"\n')
    assert not gather_evidence(declared, environ={}).sdk_installed


def test_pytest_option_covers_every_contract(tmp_path: Path) -> None:
    """seamline_contracts in [tool.pytest.ini_options] puts all contracts under test."""
    config = write(
        tmp_path / "pyproject.toml",
        """
        [tool.pytest.ini_options]
        seamline_contracts = "seamline.demo:build_registry"
        """,
    )
    evidence = gather_evidence(project(tmp_path), environ={})
    assert evidence.pytest_config == config
    assert evidence.covers("refund.request") == evidence.covers("anything") == config


@pytest.mark.parametrize(("name", "section"), [("setup.cfg", "tool:pytest"), ("tox.ini", "pytest")])
def test_ini_style_configurations_are_read(tmp_path: Path, name: str, section: str) -> None:
    """setup.cfg's [tool:pytest] and tox.ini's [pytest] count like pyproject's table."""
    config = write(tmp_path / name, f"[{section}]\nseamline_contracts = app:registry\n")
    assert gather_evidence(project(tmp_path), environ={}).pytest_config == config


def test_pytest_ini_wins_like_it_does_for_pytest(tmp_path: Path) -> None:
    """A pytest.ini without the option shadows a pyproject.toml that sets it."""
    write(tmp_path / "pytest.ini", "[pytest]\naddopts = -q\n")
    write(tmp_path / "pyproject.toml", '[tool.pytest.ini_options]\nseamline_contracts = "a:b"\n')
    assert gather_evidence(project(tmp_path), environ={}).pytest_config is None


def test_test_files_calling_contract_tests_cover_the_contracts_they_name(tmp_path: Path) -> None:
    """Only test files that call contract_tests( count, only for names they mention."""
    covering = write(
        tmp_path / "tests" / "test_contracts.py",
        """
        from seamline.testing import contract_tests
        test_refunds = contract_tests("refund.request")
        """,
    )
    write(tmp_path / "tests" / "test_other.py", 'CASE = "support.case"\n')
    write(tmp_path / ".venv" / "test_vendored.py", 'contract_tests("support.ticket")\n')
    write(tmp_path / "tests" / "helpers.py", 'contract_tests("fulfillment.order")\n')
    evidence = gather_evidence(project(tmp_path), environ={})
    assert dict(evidence.tested) == {"refund.request": covering}
    assert evidence.covers("support.case") is None


def test_malformed_configuration_is_an_error(tmp_path: Path) -> None:
    """A pyproject.toml or setup.cfg that does not parse is reported with its path."""
    write(tmp_path / "pyproject.toml", "[tool.pytest.ini_options\n")
    with pytest.raises(ConfigurationError, match=r"pyproject\.toml: not valid TOML"):
        gather_evidence(project(tmp_path), environ={})
    (tmp_path / "pyproject.toml").unlink()
    write(tmp_path / "setup.cfg", "seamline_contracts = a:b\n")
    with pytest.raises(ConfigurationError, match=r"setup\.cfg: not a valid ini file"):
        gather_evidence(project(tmp_path), environ={})
