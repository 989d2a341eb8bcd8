"""Evaluators on their own: configuration, the built-ins, and the runner's guard rails."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from seamline.contracts import (
    EXTERNAL,
    MASK,
    AgentRef,
    Contract,
    ContractRef,
    Envelope,
    Intent,
    redact,
)
from seamline.evals import (
    Evaluation,
    Evaluator,
    Label,
    Mode,
    Subject,
    Verdict,
    blocking_issues,
    boundary,
    dumps,
    evaluator,
    loads,
    required_fields,
    run_evaluators,
    value_range,
)
from seamline.exceptions import ConfigurationError, Issue
from seamline.types import utcnow


class Refund(BaseModel):
    """A refund with a sensitive card field and an optional note."""

    order_id: str
    amount: Decimal
    card: str
    tags: list[str]
    note: str | None = None


REFUND = Contract(
    model=Refund, name="refund", version="1.0.0", owner="payments", sensitive=("card",)
)


def subject(**fields: Any) -> Subject:
    """A handoff of a refund (defaults filled in) to ``refunds``."""
    values: dict[str, Any] = {
        "order_id": "ORD-7",
        "amount": "120.00",
        "card": "4242",
        "tags": ["late"],
    }
    values.update(fields)
    envelope = Envelope(
        handoff_id="h-1",
        correlation_id="wf-1",
        source=EXTERNAL,
        destination=AgentRef(name="refunds", version="1.0.0"),
        contract=ContractRef(name="refund", version="1.0.0"),
        sensitive=("card",),
        intent=Intent.of("refund order 7"),
        hop=0,
        created_at=utcnow(),
        payload=values,
    )
    return Subject(envelope, Refund.model_validate(values), REFUND)


def run(evaluators: list[Evaluator], on: Subject | None = None) -> list[Evaluation]:
    """Run ``evaluators`` on ``on`` (a default refund) from sync code."""
    return anyio.run(run_evaluators, evaluators, on or subject())


# --- configuration ------------------------------------------------------------------------


def test_decorator_takes_the_function_name_and_detects_async() -> None:
    """@evaluator names the evaluator after the function and records whether it is async."""

    @evaluator(mode="flagging", contracts=["refund"])
    async def polite(handoff: Subject) -> bool:
        return True

    assert polite.name == "polite"
    assert polite.mode is Mode.FLAGGING
    assert polite.is_async and not polite.inline
    assert polite.applies("refund") and not polite.applies("order")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "sometimes"}, "unknown evaluator mode 'sometimes'"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": -1.5}, "timeout must be a positive number"),
        ({"name": "  "}, "an evaluator needs a name"),
    ],
)
def test_bad_configuration_is_refused_with_a_clear_message(
    options: dict[str, Any], message: str
) -> None:
    """Each bad option raises ConfigurationError saying what to fix."""
    with pytest.raises(ConfigurationError, match=message):
        evaluator(**options)(lambda s: True)


def test_a_check_that_is_not_callable_is_refused() -> None:
    """Evaluator(check=...) must be given something it can call."""
    with pytest.raises(ConfigurationError, match="check must be callable"):
        Evaluator(name="x", check="not a function")  # type: ignore[arg-type]


def test_value_range_needs_a_bound() -> None:
    """A range with no bound would pass everything; it is refused."""
    with pytest.raises(ConfigurationError, match="at least one of ge, gt, le, lt"):
        value_range("amount")


# --- built-ins ----------------------------------------------------------------------------


def test_boundary_reports_all_invariants_passed_for_an_accepted_handoff() -> None:
    """No issues: every boundary invariant is a pass."""
    names = {e.name for e in boundary(()) if e.passed}
    assert names == {
        "contract_accepted",
        "schema_valid",
        "intent_unchanged",
        "constraints_kept",
        "facts_unchanged",
    }


def test_boundary_groups_issues_by_invariant_and_reports_only_failures() -> None:
    """Issue codes map onto the invariant they break; unknown codes are schema findings."""
    issues = [
        Issue("intent", "changed", "intent_changed"),
        Issue("deadline", "dropped", "constraint_dropped"),
        Issue("payload.amount", "changed", "fact_changed"),
        Issue("payload.order_id", "Field required", "missing"),
        Issue("payload.amount", "not a decimal", "decimal_parsing"),
        Issue("contract.version", "outside", "version_not_accepted"),
    ]
    found = {e.name: e for e in boundary(issues)}
    assert set(found) == {
        "intent_unchanged",
        "constraints_kept",
        "facts_unchanged",
        "required_fields",
        "schema_valid",
        "contract_accepted",
    }
    assert all(e.label is Label.FAIL and e.mode is Mode.BLOCKING for e in found.values())
    assert found["schema_valid"].path == "payload.amount"
    assert "decimal_parsing" in found["schema_valid"].explanation


@pytest.mark.parametrize(
    ("fields", "empty"),
    [
        ({"order_id": ""}, "payload.order_id"),
        ({"order_id": "   "}, "payload.order_id"),
        ({"tags": []}, "payload.tags"),
    ],
)
def test_required_fields_fail_when_present_but_empty(fields: dict[str, Any], empty: str) -> None:
    """A blank string or an empty list passes the schema but not required_fields."""
    [result] = run([required_fields()], subject(**fields))
    assert result.label is Label.FAIL
    assert result.path == empty
    assert empty in result.explanation


def test_required_fields_ignore_optional_fields_and_pass_full_payloads() -> None:
    """An optional field left empty is fine."""
    [result] = run([required_fields()], subject(note=""))
    assert result.passed


@pytest.mark.parametrize(
    ("bounds", "amount", "passed"),
    [
        ({"le": 500}, "120.00", True),
        ({"le": 100}, "120.00", False),
        ({"gt": 120}, "120.00", False),
        ({"ge": 120}, "120.00", True),
        ({"lt": Decimal("120.01")}, "120.00", True),
        ({"ge": 0, "le": 50}, "-3", False),
    ],
)
def test_value_range(bounds: dict[str, Any], amount: str, passed: bool) -> None:
    """Each bound is applied as written; a failure names the field and the range."""
    [result] = run([value_range("amount", **bounds)], subject(amount=amount))
    assert result.passed is passed
    if not passed:
        assert result.path == "payload.amount"
        assert "outside the range" in result.explanation


def test_value_range_passes_an_absent_value_and_fails_a_non_number() -> None:
    """Absent is required_fields' business; a non-number is a failure, not a crash."""
    [absent] = run([value_range("note", le=5)], subject())
    assert absent.passed
    [text] = run([value_range("order_id", le=5)], subject())
    assert text.label is Label.FAIL and "not a number" in text.explanation


def test_value_range_on_a_sensitive_field_masks_the_value() -> None:
    """The explanation quotes the value; a sensitive one comes out masked."""
    [result] = run([value_range("card", le=1000)], subject(card="4242"))
    assert result.label is Label.FAIL
    assert "4242" not in result.explanation and MASK in result.explanation


# --- the runner's guard rails -------------------------------------------------------------


def test_sync_and_async_checks_return_bools_or_verdicts_in_order() -> None:
    """Results come back in the order the evaluators were given, whatever ran first."""

    @evaluator()
    async def slow(handoff: Subject) -> Verdict:
        await anyio.sleep(0.05)
        return Verdict(True, score=0.9, explanation="fine")

    @evaluator(mode="flagging")
    def quick(handoff: Subject) -> bool:
        return handoff.payload.amount < 100  # type: ignore[attr-defined, no-any-return]

    results = run([slow, quick])
    assert [(r.name, r.label, r.score) for r in results] == [
        ("slow", Label.PASS, 0.9),
        ("quick", Label.FAIL, None),
    ]
    assert results[1].mode is Mode.FLAGGING


def test_a_raising_evaluator_is_recorded_as_an_error_with_masked_message() -> None:
    """The exception becomes an error result; the sensitive value it quoted is masked."""

    @evaluator()
    def nosy(handoff: Subject) -> bool:
        raise ValueError(f"card {handoff.payload.card} looks odd")  # type: ignore[attr-defined]

    [result] = run([nosy])
    assert result.label is Label.ERROR
    assert result.error_type == "ValueError"
    assert "4242" not in result.explanation and MASK in result.explanation


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_hanging_evaluator_times_out(kind: str) -> None:
    """Sync (in a thread) and async evaluators are cut off at their timeout."""
    if kind == "async":

        async def hang(handoff: Subject) -> bool:
            await anyio.sleep(30)
            return True

        chosen = evaluator("hang", timeout=0.1)(hang)
    else:

        def stuck(handoff: Subject) -> bool:
            time.sleep(1)
            return True

        chosen = evaluator("hang", timeout=0.1)(stuck)
    started = time.monotonic()
    [result] = run([chosen])
    assert time.monotonic() - started < 0.9
    assert result.label is Label.ERROR and result.error_type == "timeout"
    assert "0.1s" in result.explanation


def test_a_wrong_return_type_is_an_error() -> None:
    """An evaluator returning neither bool nor Verdict is an error, not a silent pass."""
    chosen = evaluator("vague")(lambda s: "looks fine")  # type: ignore[arg-type, return-value]
    [result] = run([chosen])
    assert result.label is Label.ERROR and result.error_type == "bad_result"
    assert "returned str" in result.explanation


def test_blocking_issues_come_from_failures_and_fail_closed_errors() -> None:
    """A failure always blocks; an error blocks only a fail_closed evaluator."""
    open_ = evaluator("open")(lambda s: True)
    closed = evaluator("closed", fail_closed=True)(lambda s: True)
    results = [
        Evaluation("open", Mode.BLOCKING, Label.ERROR, explanation="raised"),
        Evaluation("closed", Mode.BLOCKING, Label.ERROR, explanation="timeout"),
        Evaluation("rules", Mode.BLOCKING, Label.FAIL, explanation="too big", path="payload.x"),
    ]
    issues = blocking_issues([open_, closed], results)
    assert [(i.path, i.code) for i in issues] == [
        ("evaluators.closed", "evaluator_error"),
        ("payload.x", "evaluation_failed"),
    ]
    assert "too big" in issues[1].message


def test_evaluations_round_trip_through_json() -> None:
    """What the ledger stores reads back equal, empty fields left out."""
    results = [
        Evaluation("a", Mode.BLOCKING, Label.PASS),
        Evaluation("b", Mode.FLAGGING, Label.ERROR, 0.25, "slow", "payload.x", "timeout"),
    ]
    text = dumps(results)
    assert '"score"' in text and text.count('"explanation"') == 1
    assert loads(text) == results
    assert loads(None) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4242 declined", f"card {MASK} declined"),
        ("order 14242 fine", "order 14242 fine"),
        ("nothing here", "nothing here"),
        ("4242", MASK),
    ],
)
def test_redact_masks_whole_tokens_only(text: str, expected: str) -> None:
    """A sensitive value is masked where it stands alone, not inside another token."""
    assert redact(text, {"card": "4242", "name": "x"}, ["card"]) == expected


def test_redact_reaches_nested_and_list_values() -> None:
    """Dotted paths and lists under a sensitive field are masked leaf by leaf."""
    payload = {"payload": {"iban": "DE89 3704"}, "codes": ["alpha", 12]}
    text = "iban DE89 3704 codes alpha and 12"
    assert (
        redact(text, payload, ["payload.iban", "codes"]) == f"iban {MASK} codes {MASK} and {MASK}"
    )
