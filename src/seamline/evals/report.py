"""What the evaluators said across a store: failures by evaluator, contract and agent.

Step-level evaluation leaves one ``evaluated`` ledger row per proposed handoff (the boundary
invariants and the blocking evaluators) and a second one when flagging evaluators ran beside
the receiver. :class:`EvaluationReport` counts those rows over a store's newest workflows so
an on-call engineer can see which check fails, under which contract, in whose output.

Every failure and error is attributed three ways:

* to its **evaluator** (with passes, so a failure rate means something);
* to the **contract** of the handoff, in the version the sender emitted
  (``refund.request@1.2.0``, even when the receiver read it upcast to 2.0.0): the receiver
  owns the contract, so this is also the receiving team's view, and the version points at
  the emitter still sending it;
* to the **producing agent** (the handoff's source), because the sender is the one that gets
  the issues back as feedback and must change what it sends. Each agent row also names the
  receivers its failed handoffs were addressed to, so a bad seam reads in one row (a
  separate table by receiver would mostly repeat the contract table).

Pure: it reads the ledger and returns typed rows; ``seamline evals report`` draws them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seamline.evals.evaluation import Evaluation, Label, Mode, loads
from seamline.ledger import HandoffView, Ledger

__all__ = ["EvaluationReport", "EvaluatorTally", "FailedEvaluation", "Ranked", "Tally"]

Ranked = tuple[tuple[str, int], ...]
"""``(name, count)`` pairs, most frequent first."""


@dataclass(frozen=True, slots=True)
class EvaluatorTally:
    """One evaluator (in one mode): how often it ran and what it answered."""

    name: str
    mode: Mode
    runs: int
    passes: int
    failures: int
    errors: int

    @property
    def fail_rate(self) -> float:
        """Failures per run, 0..1; errors are left out: they say nothing about the handoff."""
        return self.failures / self.runs if self.runs else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "name": self.name,
            "mode": self.mode.value,
            "runs": self.runs,
            "passes": self.passes,
            "failures": self.failures,
            "errors": self.errors,
            "fail_rate": round(self.fail_rate, 4),
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """Failures and errors at one contract or producing agent, out of the evaluations there."""

    key: str
    runs: int
    failures: int
    errors: int
    evaluators: Ranked
    """Which evaluators failed or erred here, and how often."""
    receivers: Ranked
    """Whom the failed or erred handoffs were for, and how often."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "key": self.key,
            "runs": self.runs,
            "failures": self.failures,
            "errors": self.errors,
            "evaluators": dict(self.evaluators),
            "receivers": dict(self.receivers),
        }


@dataclass(frozen=True, slots=True)
class FailedEvaluation:
    """One failed or erred evaluation, with the handoff it was about."""

    at: datetime
    workflow_id: str
    handoff_id: str
    route: str
    """``source → destination``."""
    contract: str
    """``name@version`` as the sender emitted it."""
    evaluation: Evaluation

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "at": self.at.isoformat(),
            "workflow_id": self.workflow_id,
            "handoff_id": self.handoff_id,
            "route": self.route,
            "contract": self.contract,
            **self.evaluation.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """Every evaluation in a store's newest workflows, counted."""

    workflows: int
    """Workflows read (leg workflows of a fan-out count as workflows of their own)."""
    handoffs: int
    """Handoffs that were evaluated."""
    evaluations: int
    by_evaluator: tuple[EvaluatorTally, ...]
    """Every evaluator that ran, the most failures and errors first."""
    by_contract: tuple[Tally, ...]
    """Every contract evaluated, the most failures and errors first."""
    by_agent: tuple[Tally, ...]
    """Every producing agent evaluated, the most failures and errors first."""
    recent: tuple[FailedEvaluation, ...]
    """The newest failures and errors, newest first."""

    @property
    def failures(self) -> int:
        """Failed evaluations."""
        return sum(row.failures for row in self.by_evaluator)

    @property
    def errors(self) -> int:
        """Evaluations whose evaluator raised, hung or answered nonsense."""
        return sum(row.errors for row in self.by_evaluator)

    @classmethod
    def collect(cls, ledger: Ledger, *, workflows: int = 1000, recent: int = 5) -> EvaluationReport:
        """Count the evaluations of the newest ``workflows`` workflows; keep the ``recent``
        newest failures and errors whole."""
        read = ledger.workflows(limit=workflows)
        handoffs = 0
        evaluators: dict[tuple[str, Mode], Counter[Label]] = {}
        contracts, agents = _Tallies(), _Tallies()
        failures: list[FailedEvaluation] = []
        for workflow in read:
            for view in ledger.handoffs(workflow.id):
                found = list(_evaluations(view))
                emitted = _emitted(view)
                handoffs += bool(found)
                for at, evaluation in found:
                    labels = evaluators.setdefault((evaluation.name, evaluation.mode), Counter())
                    labels[evaluation.label] += 1
                    contracts.add(emitted, evaluation, view.receiver)
                    agents.add(view.sender, evaluation, view.receiver)
                    if not evaluation.passed:
                        failures.append(
                            FailedEvaluation(
                                at, workflow.id, view.id, view.route_names, emitted, evaluation
                            )
                        )
        by_evaluator = sorted(
            (
                EvaluatorTally(name, mode, *_counts(labels))
                for (name, mode), labels in evaluators.items()
            ),
            key=lambda row: (-(row.failures + row.errors), -row.runs, row.name),
        )
        failures.sort(key=lambda failure: failure.at, reverse=True)
        return cls(
            workflows=len(read),
            handoffs=handoffs,
            evaluations=sum(row.runs for row in by_evaluator),
            by_evaluator=tuple(by_evaluator),
            by_contract=contracts.rows(),
            by_agent=agents.rows(),
            recent=tuple(failures[:recent]),
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``seamline evals report --json``)."""
        return {
            "workflows": self.workflows,
            "handoffs": self.handoffs,
            "evaluations": self.evaluations,
            "failures": self.failures,
            "errors": self.errors,
            "by_evaluator": [row.as_dict() for row in self.by_evaluator],
            "by_contract": [row.as_dict() for row in self.by_contract],
            "by_agent": [row.as_dict() for row in self.by_agent],
            "recent": [failure.as_dict() for failure in self.recent],
        }


def _evaluations(view: HandoffView) -> Iterable[tuple[datetime, Evaluation]]:
    for entry in view.entries:
        if entry.kind == "evaluated":
            for evaluation in loads(entry.data):
                yield entry.at, evaluation


def _emitted(view: HandoffView) -> str:
    """``name@version`` as the sender emitted it. The ledger records an accepted handoff as
    its receiver read it (after an upcast) and a rejected one as sent; keying both by the
    emitted version keeps one seam in one row."""
    upcast = next((e for e in view.entries if e.kind == "upcast"), None)
    if upcast is None:
        return view.contract
    name = view.contract.rpartition("@")[0]
    return f"{name}@{json.loads(upcast.data or '{}')['from']}"


class _Tallies:
    """Counts keyed by a contract or an agent while the ledger is read."""

    def __init__(self) -> None:
        self.labels: dict[str, Counter[Label]] = {}
        self.evaluators: dict[str, Counter[str]] = {}
        self.receivers: dict[str, Counter[str]] = {}

    def add(self, key: str, evaluation: Evaluation, receiver: str) -> None:
        self.labels.setdefault(key, Counter())[evaluation.label] += 1
        if not evaluation.passed:
            self.evaluators.setdefault(key, Counter())[evaluation.name] += 1
            self.receivers.setdefault(key, Counter())[receiver] += 1

    def rows(self) -> tuple[Tally, ...]:
        made = [
            Tally(
                key,
                labels.total(),
                labels[Label.FAIL],
                labels[Label.ERROR],
                _ranked(self.evaluators.get(key)),
                _ranked(self.receivers.get(key)),
            )
            for key, labels in self.labels.items()
        ]
        made.sort(key=lambda row: (-(row.failures + row.errors), -row.runs, row.key))
        return tuple(made)


def _counts(labels: Counter[Label]) -> tuple[int, int, int, int]:
    """``(runs, passes, failures, errors)``."""
    return labels.total(), labels[Label.PASS], labels[Label.FAIL], labels[Label.ERROR]


def _ranked(counts: Counter[str] | None) -> Ranked:
    return tuple(counts.most_common()) if counts else ()
