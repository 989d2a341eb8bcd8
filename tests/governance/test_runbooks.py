"""Runbooks: one Markdown page per seam, generated from the registry."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from seamline.demo import build_registry
from seamline.exceptions import ConfigurationError
from seamline.governance import Snapshot, runbook, write_runbooks
from seamline.governance.runbooks import runbook_name

DEMO = Snapshot.of(build_registry())
REFUND_SEAM = next(e for e in DEMO.edges() if e.contract == "refund.request")


def test_file_names_are_stable_and_name_the_seam() -> None:
    """sender--receiver--contract.md, with 'external' for an entry point."""
    assert sorted(runbook_name(e) for e in DEMO.edges()) == [
        "external--intake--support.ticket.md",
        "intake--triage--support.case.md",
        "refunds--fulfillment--fulfillment.order.md",
        "triage--refunds--refund.request.md",
    ]


def test_runbook_names_owners_versions_policy_signals_and_commands() -> None:
    """The refund seam's page holds everything an on-call engineer needs, as of today."""
    today = date.today()
    text = runbook(DEMO, REFUND_SEAM, today=today)
    assert text.startswith("# Runbook: triage → refunds (refund.request)\n")
    assert "| contract owner | payments (owns refund.request, answers for the seam) |" in text
    assert "| sender owner | support-triage (runs triage@2.1.0) |" in text
    assert "| fallback owner | payments-oncall@example.com |" in text
    assert "Escalation path: payments-oncall@example.com (fallback owner) → payments" in text
    assert "reads it as 2.0.0 through refund.request 1.2.0 -> 2.0.0" in text
    retires = (today + timedelta(days=120)).isoformat()
    assert f"| 1.2.0 | deprecated |  | {retires} | currency is explicit" in text
    assert "| 2.0.0 | active |" in text
    assert "## Failure policy (refund.request@2.0.0)" in text
    assert "1. Sender feedback: 2 round(s): triage runs again" in text
    assert "2. Fallback agent: none declared." in text
    assert "span `invoke_agent refunds`" in text and "span `handoff triage -> refunds`" in text
    assert "`seamline.handoff.outcome = rejected`" in text
    assert "deprecated refund.request version (1.2.0)" in text
    for command in (
        "seamline dlq list",
        "seamline dlq show ID",
        "seamline dlq replay ID [--payload FILE]",
        'seamline dlq discard ID --reason "..."',
    ):
        assert command in text


def test_retired_versions_show_on_the_date_given() -> None:
    """Lifecycle is computed for the date asked about, not when the page was last written."""
    later = date.today() + timedelta(days=365)
    assert "| 1.2.0 | retired |" in runbook(DEMO, REFUND_SEAM, today=later)


def test_entry_point_page_has_no_sender() -> None:
    """An entry point is fed by external callers; the sender gets no feedback round."""
    seam = next(e for e in DEMO.edges() if e.sender is None)
    text = runbook(DEMO, seam)
    assert "| sender owner | external caller |" in text
    assert "callers send it; intake accepts ^1.0.0 and reads 1.0.0" in text
    assert "1. Sender feedback: none: the sender gets no second try." in text


def test_write_runbooks_writes_one_file_per_seam(tmp_path: Path) -> None:
    """Every seam gets its file in the (created) directory; writing twice gives the same text."""
    folder = tmp_path / "docs" / "runbooks"
    written = write_runbooks(DEMO, folder)
    assert sorted(p.name for p in written) == sorted(runbook_name(e) for e in DEMO.edges())
    page = folder / "triage--refunds--refund.request.md"
    first = page.read_text(encoding="utf-8")
    write_runbooks(DEMO, folder)
    assert page.read_text(encoding="utf-8") == first


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A file where the directory should be is reported with the fix."""
    blocker = tmp_path / "runbooks"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"cannot write runbooks to .*runbooks"):
        write_runbooks(DEMO, blocker)


def test_escalation_path_pages_each_person_once() -> None:
    """A receiver escalation that is also the fallback owner appears once in the path."""
    oncall = "payments-oncall@example.com"
    agents = tuple(
        a.model_copy(update={"escalation": oncall}) if a.name == "refunds" else a
        for a in DEMO.agents
    )
    text = runbook(DEMO.model_copy(update={"agents": agents}), REFUND_SEAM)
    assert f"| receiver escalation | {oncall} |" in text
    assert (
        f"Escalation path: {oncall} (fallback owner) → payments (contract owner) → "
        "support-triage (sender owner, if the payload itself is wrong)." in text
    )
