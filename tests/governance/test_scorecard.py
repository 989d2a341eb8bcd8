"""The audit: each checklist item failing in turn, scores, and entry points."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from seamline.agents import Agent, Context, Finish, Outcome, agent
from seamline.contracts import Contract, FailurePolicy
from seamline.demo import build_registry
from seamline.governance import Evidence, Snapshot, audit
from seamline.governance.scorecard import NO_GATE, Check, Status
from seamline.registry import Registry


class Refund(BaseModel):
    """A refund to issue."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    order_id: str
    """The order to refund."""


class Note(BaseModel):
    text: str


REFUND = Contract(
    model=Refund, name="refund.request", version="1.0.0", owner="payments",
    fallback_owner="payments-oncall", policy=FailurePolicy(feedback_retries=2),
)  # fmt: skip
NOTE = Contract(model=Note, name="note", version="1.0.0", owner="support")
EVIDENCE = Evidence(
    exporter="OTEL_EXPORTER_OTLP_ENDPOINT",
    sdk_installed=True,
    tested={"refund.request": Path("tests/test_contracts.py")},
)


def body(payload: Any, ctx: Context) -> Outcome:
    """A trivial agent body."""
    return Finish(result=None)


def make(name: str, **card: Any) -> Agent:
    """An agent owned by ``{name}-team``."""
    return agent(name=name, version="1.0.0", owner=f"{name}-team", **card)(body)


BASE = Snapshot.of(
    Registry(
        agents=[make("triage", emits=[REFUND]), make("refunds", accepts=[REFUND])],
        contracts=[REFUND],
    )
)


def variant(
    contract: dict[str, Any] | None = None,
    receiver: dict[str, Any] | None = None,
    sender: dict[str, Any] | None = None,
) -> Snapshot:
    """BASE with the refund contract, refunds (receiver) or triage (sender) changed."""
    updates = {"refunds": receiver or {}, "triage": sender or {}}
    return BASE.model_copy(
        update={
            "contracts": tuple(
                c.model_copy(update=contract or {}) if c.name == REFUND.name else c
                for c in BASE.contracts
            ),
            "agents": tuple(a.model_copy(update=updates[a.name]) for a in BASE.agents),
        }
    )


def test_a_seam_with_everything_scores_100() -> None:
    """Documented, versioned, owned, with a failure path, traced and tested: 100, gate n/a."""
    report = audit(BASE, EVIDENCE)
    (seam,) = report.edges
    assert report.score == seam.score == 100.0 and seam.failures == ()
    assert seam.contract == "refund.request@1.0.0"
    statuses = {r.check: r.status for r in seam.results}
    assert list(statuses) == list(Check)
    assert statuses[Check.GATED] is Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("check", "snapshot", "evidence", "reason"),
    [
        (Check.DOCUMENTED, variant(contract={"description": ""}), EVIDENCE, "no description"),
        (
            Check.VERSIONED,
            variant(receiver={"accepts": {"refund.request": ">=1.0"}}),
            EVIDENCE,
            "refunds accepts refund.request >=1.0, which has no upper bound",
        ),
        (Check.OWNED, variant(sender={"owner": " "}), EVIDENCE, "no owner for agent triage"),
        (
            Check.FALLBACK_OWNER,
            variant(contract={"fallback_owner": None, "fallback_agent": "repair"}),
            EVIDENCE,
            "set fallback_owner on refund.request or an escalation contact on agent refunds",
        ),
        (
            Check.FAILURE_PATH,
            variant(contract={"feedback_retries": 0}),
            EVIDENCE,
            "0 feedback retries, no fallback agent, fallback owner payments-oncall",
        ),
        (Check.GATED, variant(contract={"consequential": True}), EVIDENCE, NO_GATE),
        (
            Check.INSTRUMENTED,
            BASE,
            replace(EVIDENCE, exporter=None),
            "set [tracing] exporter in seamline.toml",
        ),
        (
            Check.INSTRUMENTED,
            BASE,
            replace(EVIDENCE, sdk_installed=False),
            'pip install "seamline[otel]"',
        ),
        (
            Check.CONTRACT_TESTS,
            BASE,
            replace(EVIDENCE, tested={}),
            "no contract tests for refund.request",
        ),
    ],
    ids=[
        "documented",
        "versioned",
        "owned",
        "fallback-owner",
        "failure-path",
        "gated",
        "no-exporter",
        "no-sdk",
        "contract-tests",
    ],
)
def test_each_check_fails_alone(
    check: Check, snapshot: Snapshot, evidence: Evidence, reason: str
) -> None:
    """Taking away one thing fails exactly its check, with a reason, and costs its share."""
    (seam,) = audit(snapshot, evidence).edges
    (failure,) = seam.failures
    assert failure.check is check and reason in failure.reason
    applicable = 8 if check is Check.GATED else 7
    assert seam.score == round(100 * (applicable - 1) / applicable, 1)


def test_undocumented_fields_are_named() -> None:
    """A model without field docstrings fails documented, naming each bare field."""
    registry = Registry(agents=[make("notes", accepts=[NOTE])], contracts=[NOTE])
    (seam,) = audit(Snapshot.of(registry), EVIDENCE).edges
    result = next(r for r in seam.results if r.check is Check.DOCUMENTED)
    assert result.status is Status.FAIL
    assert result.reason.startswith("note@1.0.0 has no description; ")
    assert "undocumented fields of note@1.0.0: text; add attribute docstrings" in result.reason


def test_entry_points_need_a_bounded_range_and_a_receiver_escalation_will_do() -> None:
    """An entry point accepting * fails versioned; the receiver's escalation is a fallback owner."""
    registry = Registry(
        agents=[make("notes", accepts={"note": "*"}, escalation="support-oncall")],
        contracts=[NOTE],
    )
    (seam,) = audit(Snapshot.of(registry), EVIDENCE).edges
    assert seam.edge.sender is None
    statuses = {r.check: r.status for r in seam.results}
    assert statuses[Check.VERSIONED] is Status.FAIL
    assert statuses[Check.FALLBACK_OWNER] is Status.PASS


def test_project_score_is_the_mean_of_its_seams() -> None:
    """The demo's score is the mean of its four seams' scores; an empty registry scores 100."""
    report = audit(Snapshot.of(build_registry()), Evidence())
    assert report.project == "support-desk" and len(report.edges) == 4
    assert report.score == round(fmean(e.score for e in report.edges), 1)
    assert audit(Snapshot(), Evidence()).score == 100.0
