"""The pytest plugin: inert by default, one ini line to collect every contract's tests."""

from __future__ import annotations

import sys

import pytest

# pytester runs pytest in this process and drops every module a run imported once it ends.
# Hypothesis and the generators imported first inside a run would come back as fresh copies
# in the next one, whose classes fail isinstance checks against the old: import them here.
import seamline.testing._probes  # noqa: F401

pytest_plugins = ["pytester"]

# Inner runs skip arize-phoenix's plugin, as this project's own runs do (pyproject addopts).
NO_PHOENIX = ("-p", "no:phoenix")

CONTRACTS_MODULE = """
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from seamline import Contract, Registry


class Order(BaseModel):
    order_id: str = Field(pattern=r"^O-[0-9]+$")
    quantity: int = Field(ge=1, le=99)


class Note(BaseModel):
    text: Annotated[str, BeforeValidator(str)]  # takes any value: the plugin must notice


ORDER = Contract(model=Order, name="shop.order", version="1.0.0", owner="shop")
NOTE = Contract(model=Note, name="shop.note", version="2.1.0", owner="shop")
CONTRACTS = [ORDER, NOTE]
NUMBER = 3


def registry():
    return Registry(contracts=[ORDER])


def unreachable():
    raise RuntimeError("the database is down")
"""

CASES = (
    "valid_payloads_accepted",
    "malformed_payloads_rejected",
    "edge_values_handled",
    "version_mismatch_detected",
)


def project(pytester: pytest.Pytester, option: str | None) -> None:
    """A project with the contracts above, one plain test and ``option`` as its ini value."""
    line = "" if option is None else f'seamline_contracts = "{option}"'
    pytester.makepyprojecttoml(
        f"""
        [tool.pytest.ini_options]
        {line}
        pythonpath = ["."]
        addopts = "--strict-config --strict-markers"
        filterwarnings = ["error"]
        """
    )
    pytester.makepyfile(shop_contracts=CONTRACTS_MODULE, test_plain="def test_plain(): pass")


def test_without_the_option_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    """No ini value: no collection hook registered and only the project's own tests."""
    project(pytester, None)
    config = pytester.parseconfigure(*NO_PHOENIX)
    assert config.pluginmanager.has_plugin("seamline")
    assert not config.pluginmanager.has_plugin("seamline-contracts-collection")
    result = pytester.runpytest(*NO_PHOENIX, "--collect-only", "-q")
    assert result.stdout.lines[0] == "test_plain.py::test_plain"
    assert "seamline" not in result.stdout.str()


def test_the_option_collects_every_contract_with_readable_node_ids(
    pytester: pytest.Pytester,
) -> None:
    """A list of contracts becomes ``seamline-contracts::name@version::case`` items."""
    project(pytester, "shop_contracts:CONTRACTS")
    result = pytester.runpytest(*NO_PHOENIX, "--collect-only", "-q")
    assert result.stdout.lines[:9] == [
        "test_plain.py::test_plain",
        *(f"seamline-contracts::shop.order@1.0.0::{case}" for case in CASES),
        *(f"seamline-contracts::shop.note@2.1.0::{case}" for case in CASES),
    ]


def test_generated_items_pass_and_fail_with_the_case_message(pytester: pytest.Pytester) -> None:
    """A sound contract passes; a coercing one fails with the probe and the fix, no traceback."""
    project(pytester, "shop_contracts:CONTRACTS")
    result = pytester.runpytest(*NO_PHOENIX)
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ shop.note@2.1.0::malformed_payloads_rejected _*",
            "shop.note@2.1.0::malformed_payloads_rejected: 1 problem(s) *",
            "  payload.text = * (wrong type: *): accepted, though the schema forbids it",
            "FAILED seamline-contracts::shop.note@2.1.0::malformed_payloads_rejected*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_registry_factory_is_called_and_the_built_in_contract_left_out(
    pytester: pytest.Pytester,
) -> None:
    """A function returning a Registry works; seamline's rejected-handoff gets no tests."""
    project(pytester, "shop_contracts:registry")
    result = pytester.runpytest(*NO_PHOENIX, "--collect-only", "-q")
    collected = [line for line in result.stdout.lines if line.startswith("seamline-contracts")]
    assert collected == [f"seamline-contracts::shop.order@1.0.0::{case}" for case in CASES]


def test_running_single_files_neither_collects_nor_imports_contracts(
    pytester: pytest.Pytester,
) -> None:
    """Pointed at a file, pytest skips the contracts: the named module is never imported."""
    project(pytester, "exploding:CONTRACTS")
    pytester.makepyfile(exploding="raise SystemExit('imported')")
    result = pytester.runpytest(*NO_PHOENIX, "test_plain.py")
    result.assert_outcomes(passed=1)


def test_parametrized_contract_tests_in_a_module(pytester: pytest.Pytester) -> None:
    """``test_x = contract_tests(...)`` collects one parametrized test per case."""
    project(pytester, None)
    pytester.makepyfile(
        test_shop="""
        from seamline.testing import contract_tests
        from shop_contracts import ORDER

        test_order = contract_tests(ORDER)
        """
    )
    result = pytester.runpytest(*NO_PHOENIX, "test_shop.py", "-v")
    result.stdout.fnmatch_lines(
        [f"test_shop.py::test_order[[]shop.order@1.0.0::{case}[]] PASSED*" for case in CASES]
    )
    result.assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("option", "error"),
    [
        (
            "shop_contracts",
            "ERROR: seamline_contracts = 'shop_contracts' is not an import path; "
            "write package.module:attribute, e.g. myapp.agents:registry",
        ),
        (
            "no_such_module:REGISTRY",
            "ERROR: seamline_contracts = 'no_such_module:REGISTRY': cannot import no_such_module "
            "(ModuleNotFoundError: No module named 'no_such_module'); install the package or "
            "add its folder to pytest's pythonpath option",
        ),
        (
            "shop_contracts:REGISTRY",
            "ERROR: seamline_contracts = 'shop_contracts:REGISTRY': shop_contracts has no "
            "attribute REGISTRY; it must name a seamline Registry, a Contract, a list of "
            "Contracts, or a function returning one of them",
        ),
        (
            "shop_contracts:NUMBER",
            "ERROR: seamline_contracts = 'shop_contracts:NUMBER' names an object of type int; "
            "it must name a seamline Registry, a Contract, a list of Contracts, or a function "
            "returning one of them",
        ),
        (
            "shop_contracts:unreachable",
            "ERROR: seamline_contracts = 'shop_contracts:unreachable': calling unreachable() "
            "raised RuntimeError: the database is down; fix it so it returns the contracts",
        ),
    ],
    ids=["malformed", "module-missing", "attribute-missing", "wrong-type", "factory-raises"],
)
def test_a_bad_option_is_one_usage_error_line(
    pytester: pytest.Pytester, option: str, error: str
) -> None:
    """Each mistake in the option stops the run with one line saying what and how to fix it."""
    project(pytester, option)
    result = pytester.runpytest(*NO_PHOENIX)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [error]


def test_a_missing_extra_is_one_usage_error_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the testing extra the run stops naming the extra to install."""
    project(pytester, "shop_contracts:CONTRACTS")
    monkeypatch.setitem(sys.modules, "hypothesis_jsonschema", None)
    for name in ("_probes", "_schema"):  # forget them, so the next use imports them afresh
        monkeypatch.delitem(sys.modules, f"seamline.testing.{name}", raising=False)
        monkeypatch.delattr(f"seamline.testing.{name}", raising=False)
    result = pytester.runpytest(*NO_PHOENIX)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: seamline_contracts = 'shop_contracts:CONTRACTS': seamline.testing "
            "(generated contract tests) needs an optional dependency: "
            'pip install "seamline[testing]"'
        ]
    )
