"""Generated contract tests: every contract checked as an independent unit.

A contract is an interface between teams, so it gets tests of its own, derived from what it
publishes rather than written by hand: payloads valid under its JSON Schema get through the
boundary check, malformed ones are stopped at the field that is wrong, boundary values hold,
and envelopes for another version or contract are refused.

Three ways in, from the same cases:

- ``contract_cases(contract)`` / ``registry_cases(registry)``: plain objects whose ``run()``
  raises AssertionError; no pytest needed.
- ``test_refund = contract_tests(REFUND)`` in a test module: parametrized pytest tests.
- ``seamline_contracts = "package.module:attr"`` under ``[tool.pytest.ini_options]``: the
  bundled plugin collects every contract of a registry as ``seamline-contracts::...`` items.

Needs the ``testing`` extra: ``pip install "seamline[testing]"``.

For LLM agents (:mod:`seamline.interop.llm`), ``FakeChatServer`` is an OpenAI-compatible
chat endpoint on loopback answering from a script (``ChatReply``), so agents are tested
offline through the real ``openai`` client; it needs nothing beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from seamline.contracts import Contract
from seamline.exceptions import MissingExtraError
from seamline.registry import Registry
from seamline.testing._cases import ContractCase, cases_for, contract_cases, registry_cases
from seamline.testing._chat import ChatReply, ChatRequest, FakeChatServer

__all__ = [
    "ChatReply",
    "ChatRequest",
    "ContractCase",
    "FakeChatServer",
    "contract_cases",
    "contract_tests",
    "registry_cases",
]


def contract_tests(
    source: Registry | Contract[Any] | Iterable[Contract[Any]],
) -> Callable[[ContractCase], None]:
    """A pytest test function running every generated case of ``source``, one per parameter.

    Assign it to a ``test_`` name in a test module and pytest collects it::

        test_refund = contract_tests(REFUND)   # test_refund[refund.request@1.2.0::...]
    """
    try:
        import pytest
    except ModuleNotFoundError as error:
        raise MissingExtraError(
            feature="seamline.testing.contract_tests", extra="testing"
        ) from error
    cases = cases_for(source)

    @pytest.mark.parametrize("case", cases, ids=[case.id for case in cases])
    def test_contract(case: ContractCase) -> None:
        """Run one generated contract case."""
        __tracebackhide__ = True
        case.run()

    return test_contract
