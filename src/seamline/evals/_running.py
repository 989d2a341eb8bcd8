"""Running evaluators on one handoff: time limits, errors and masking, never a crash.

An evaluator is user code (often a network call to an LLM judge), so the runner treats it
like an untrusted receiver: whatever it raises, however long it hangs, whatever it
returns, the outcome is an :class:`Evaluation` and the workflow goes on.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Sequence
from typing import Any, cast

import anyio
import anyio.to_thread

from seamline.contracts import redact
from seamline.evals.evaluation import Evaluation, Evaluator, Label, Subject, Verdict
from seamline.exceptions import Issue

__all__ = ["blocking_issues", "run_evaluators"]


async def run_evaluators(evaluators: Sequence[Evaluator], subject: Subject) -> list[Evaluation]:
    """Every evaluator's result on ``subject``, in ``evaluators`` order.

    Inline evaluators run in place; the rest run concurrently, each under its own timeout.
    """
    results: list[Evaluation | None] = [None] * len(evaluators)
    waiting = []
    for index, chosen in enumerate(evaluators):
        if chosen.inline:
            results[index] = _inline(chosen, subject)
        else:
            waiting.append(index)
    if len(waiting) == 1:
        results[waiting[0]] = await _guarded(evaluators[waiting[0]], subject)
    elif waiting:

        async def one(index: int) -> None:
            results[index] = await _guarded(evaluators[index], subject)

        async with anyio.create_task_group() as group:
            for index in waiting:
                group.start_soon(one, index)
    return [result for result in results if result is not None]


def blocking_issues(
    evaluators: Sequence[Evaluator], evaluations: Sequence[Evaluation]
) -> list[Issue]:
    """The issues that stop a handoff: failed blocking evaluations, and errors of
    ``fail_closed`` ones. They reach the sender as feedback like any validation issue."""
    closed = {chosen.name for chosen in evaluators if chosen.fail_closed}
    issues = []
    for evaluation in evaluations:
        if evaluation.label is Label.FAIL:
            issues.append(
                Issue(
                    evaluation.path or f"evaluators.{evaluation.name}",
                    f"evaluator {evaluation.name} failed: "
                    f"{evaluation.explanation or 'no reason given'}",
                    "evaluation_failed",
                )
            )
        elif evaluation.label is Label.ERROR and evaluation.name in closed:
            issues.append(
                Issue(
                    f"evaluators.{evaluation.name}",
                    f"evaluator {evaluation.name} could not decide ({evaluation.explanation}) "
                    "and fails closed",
                    "evaluator_error",
                )
            )
    return issues


def _inline(chosen: Evaluator, subject: Subject) -> Evaluation:
    try:
        return _result(chosen, subject, chosen.check(subject))
    except Exception as error:  # an evaluator's bug is recorded, never raised
        return _error(chosen, subject, type(error).__name__, f"raised: {error}")


async def _guarded(chosen: Evaluator, subject: Subject) -> Evaluation:
    outcome: Any = None
    with anyio.move_on_after(chosen.timeout) as limit:
        try:
            if chosen.is_async:
                outcome = await cast(Awaitable[Any], chosen.check(subject))
            else:
                outcome = await anyio.to_thread.run_sync(
                    chosen.check, subject, abandon_on_cancel=True
                )
                if inspect.isawaitable(outcome):  # a sync callable handing back a coroutine
                    outcome = await outcome
        except Exception as error:
            return _error(chosen, subject, type(error).__name__, f"raised: {error}")
    if limit.cancelled_caught:
        return _error(chosen, subject, "timeout", f"gave no answer within {chosen.timeout:g}s")
    return _result(chosen, subject, outcome)


def _result(chosen: Evaluator, subject: Subject, outcome: object) -> Evaluation:
    if isinstance(outcome, bool):
        outcome = Verdict(outcome)
    if not isinstance(outcome, Verdict):
        return _error(
            chosen,
            subject,
            "bad_result",
            f"returned {type(outcome).__name__}; an evaluator returns bool or Verdict",
        )
    return Evaluation(
        chosen.name,
        chosen.mode,
        Label.PASS if outcome.passed else Label.FAIL,
        score=outcome.score,
        explanation=_masked(subject, outcome.explanation),
        path=outcome.path,
    )


def _error(chosen: Evaluator, subject: Subject, kind: str, message: str) -> Evaluation:
    return Evaluation(
        chosen.name,
        chosen.mode,
        Label.ERROR,
        explanation=_masked(subject, message),
        error_type=kind,
    )


def _masked(subject: Subject, text: str) -> str:
    """An explanation leaves the process (ledger, spans, CLI): mask what it quotes."""
    envelope = subject.envelope
    return redact(text, envelope.payload, envelope.sensitive) if envelope.sensitive else text
