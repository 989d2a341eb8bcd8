"""The pytest plugin (entry point ``pytest11``): inert until a project names its contracts.

One line in the project's pytest configuration turns every contract version it names into
generated test items::

    [tool.pytest.ini_options]
    seamline_contracts = "myapp.agents:registry"

``registry`` may be a seamline Registry, a Contract, a list of Contracts, or a function
returning one of them. Items read ``seamline-contracts::refund.request@1.2.0::<case>``; select
or skip them with ``-k`` like any other test.

They are collected when pytest runs a directory (the default test paths, the rootdir, a test
folder), not when it is pointed at particular files or tests: contracts belong to the
project, not to any one file, and a developer re-running one test should not wait for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from seamline.contracts import Contract
from seamline.exceptions import ConfigurationError
from seamline.registry import Registry
from seamline.testing._cases import ContractCase, cases_for

if TYPE_CHECKING:  # pytest exports neither name; they only type repr_failure's override
    from _pytest._code.code import TerminalRepr, TracebackStyle

__all__ = ["ContractItem", "ContractSuite", "ContractVersion"]

_OPTION = "seamline_contracts"
_ROOT = "seamline-contracts"
_ACCEPTS = (
    "it must name a seamline Registry, a Contract, a list of Contracts, "
    "or a function returning one of them"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini option that enables generated contract tests."""
    parser.addini(
        _OPTION,
        "generate contract tests for a seamline Registry, Contract or list of Contracts, "
        "or a function returning one (package.module:attribute)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Switch collection on only when the option is set: otherwise no hook runs at all."""
    spec = str(config.getini(_OPTION)).strip()
    if spec:
        config.pluginmanager.register(_Collection(spec), f"{_ROOT}-collection")


class _Collection:
    """Adds the generated tests to the session's own collection, once per run.

    The session's collect report lists the top-level nodes pytest then expands; appending
    one collector there makes the generated items first-class: reported, selected by ``-k``
    and ``--deselect``, listed by ``--collect-only``, and collected exactly once. The user's
    code is imported here, at collection time, after conftest files and ``pythonpath`` have
    set up the import path, and only in runs that collect the contracts at all.
    """

    def __init__(self, spec: str) -> None:
        self.spec = spec

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        """Append the contract suite to the session's top-level nodes."""
        report = yield
        if isinstance(collector, pytest.Session) and _runs_a_directory(collector.config):
            cases = _cases(self.spec)
            report.result.append(
                ContractSuite.from_parent(collector, name=_ROOT, nodeid=_ROOT, cases=cases)
            )
        return report


class _CaseCollector(pytest.Collector):
    """A collector over generated cases; subclasses decide how they branch."""

    def __init__(self, *, cases: list[ContractCase], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cases = cases


class ContractSuite(_CaseCollector):
    """Every generated contract test of the project, one child per contract version."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        """One node per contract version, in the order the source lists them."""
        by_ref: dict[str, list[ContractCase]] = {}
        for case in self.cases:
            by_ref.setdefault(case.contract.ref, []).append(case)
        for ref, cases in by_ref.items():
            yield ContractVersion.from_parent(self, name=ref, cases=cases)


class ContractVersion(_CaseCollector):
    """The generated tests of one contract version."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        """One item per case."""
        for case in self.cases:
            yield ContractItem.from_parent(self, name=case.name, case=case)


class ContractItem(pytest.Item):
    """One generated contract test."""

    def __init__(self, *, case: ContractCase, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        """Run the case."""
        self.case.run()

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        """A failed case reads as its message (it names the payload and the fix), no traceback."""
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the case comes from: the project, and the case's id."""
        return self.path, None, self.case.id


def _runs_a_directory(config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    return any((base / str(arg).split("::")[0]).is_dir() for arg in config.args)


def _cases(spec: str) -> list[ContractCase]:
    """The cases for what ``spec`` names; any mistake in it is one UsageError line."""
    source = _resolve(spec)
    try:
        return cases_for(source)
    except ConfigurationError as error:
        raise pytest.UsageError(f"{_OPTION} = {spec!r}: {error}") from None


def _resolve(spec: str) -> Registry | Contract[Any] | list[Contract[Any]]:
    module_name, _, attribute = spec.partition(":")
    dotted = [*module_name.split("."), *attribute.split(".")]
    if ":" not in spec or not all(part.isidentifier() for part in dotted):
        raise pytest.UsageError(
            f"{_OPTION} = {spec!r} is not an import path; write package.module:attribute, "
            "e.g. myapp.agents:registry"
        )
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as error:
        raise pytest.UsageError(
            f"{_OPTION} = {spec!r}: cannot import {module_name} "
            f"({type(error).__name__}: {error}); install the package or add its folder to "
            "pytest's pythonpath option"
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise pytest.UsageError(
                f"{_OPTION} = {spec!r}: {module_name} has no attribute {attribute}; {_ACCEPTS}"
            )
        target = getattr(target, part)
    if callable(target):
        try:
            target = target()
        except Exception as error:
            raise pytest.UsageError(
                f"{_OPTION} = {spec!r}: calling {attribute}() raised "
                f"{type(error).__name__}: {error}; fix it so it returns the contracts"
            ) from None
    if isinstance(target, Registry | Contract):
        return target
    if isinstance(target, list | tuple) and all(isinstance(one, Contract) for one in target):
        return list(target)
    kind = type(target).__name__
    raise pytest.UsageError(f"{_OPTION} = {spec!r} names an object of type {kind}; {_ACCEPTS}")
