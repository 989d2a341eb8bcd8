"""Reading the ledger: handoff states folded from the append-only log, and id lookups."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from seamline.contracts import EXTERNAL, AgentRef, ContractRef, Envelope, Intent
from seamline.exceptions import NotFoundError
from seamline.ledger import HandoffStatus, HandoffView, Ledger, fold
from seamline.stores import (
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    Entry,
    MemoryStore,
    WorkflowRecord,
    WorkflowStatus,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def envelope(handoff_id: str, *, cid: str = "wf-1", hop: int = 0) -> Envelope:
    """A handoff from the caller to triage, or from triage to refunds after hop 0."""
    source = EXTERNAL if hop == 0 else AgentRef(name="triage", version="1.0.0")
    destination = AgentRef(name="triage" if hop == 0 else "refunds", version="1.2.0")
    return Envelope(
        handoff_id=handoff_id,
        correlation_id=cid,
        source=source,
        destination=destination,
        contract=ContractRef(name="ticket", version="1.0.0"),
        intent=Intent.of("refund my order"),
        hop=hop,
        created_at=T0,
        payload={"text": "broken"},
    )


class Log:
    """Builds one workflow's ledger rows with consecutive sequence numbers."""

    def __init__(self, cid: str = "wf-1") -> None:
        self.cid = cid
        self.rows: list[Entry] = []

    def add(
        self, handoff_id: str, kind: str, data: str | None = None, *, bare: bool = False
    ) -> Log:
        """Append a row; a ``proposed`` row carries its envelope unless ``bare``."""
        if kind == "proposed" and data is None and not bare:
            hop = 0 if not self.rows else 1
            data = envelope(handoff_id, cid=self.cid, hop=hop).model_dump_json()
        seq = len(self.rows) + 1
        self.rows.append(
            Entry(
                correlation_id=self.cid,
                seq=seq,
                handoff_id=handoff_id,
                kind=kind,
                at=T0 + timedelta(seconds=seq),
                data=data,
            )
        )
        return self


def workflow(workflow_id: str, status: WorkflowStatus = WorkflowStatus.RUNNING) -> WorkflowRecord:
    """A workflow row."""
    return WorkflowRecord(
        id=workflow_id,
        name="support",
        status=status,
        entry="triage",
        intent_sha256=Intent.of("refund my order").sha256,
        max_hops=10,
        app=None,
        result=None,
        created_at=T0,
        updated_at=T0,
    )


def dead_letter(letter_id: str) -> DeadLetterRecord:
    """An open dead letter."""
    return DeadLetterRecord(
        id=letter_id,
        correlation_id="wf-1",
        reason="validation",
        message="rejected",
        issues="[]",
        envelope=envelope(letter_id).model_dump_json(),
        path="[]",
        status=DeadLetterStatus.OPEN,
        created_at=T0,
    )


# --- fold ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "status"),
    [
        pytest.param(["proposed"], HandoffStatus.PROPOSED, id="proposed"),
        pytest.param(["proposed", "validated"], HandoffStatus.VALIDATED, id="validated"),
        pytest.param(["proposed", "rejected"], HandoffStatus.REJECTED, id="rejected"),
        pytest.param(
            ["proposed", "validated", "completed"], HandoffStatus.COMPLETED, id="completed"
        ),
        pytest.param(["proposed", "validated", "failed"], HandoffStatus.FAILED, id="failed"),
        pytest.param(
            ["proposed", "rejected", "dead_lettered"],
            HandoffStatus.DEAD_LETTERED,
            id="dead-lettered",
        ),
        pytest.param(
            ["proposed", "rejected", "validated"], HandoffStatus.VALIDATED, id="latest-wins"
        ),
        pytest.param(
            ["proposed", "validated", "attempt_started", "feedback_sent"],
            HandoffStatus.VALIDATED,
            id="other-kinds-keep-status",
        ),
    ],
)
def test_fold_derives_status_from_the_latest_status_entry(
    kinds: list[str], status: HandoffStatus
) -> None:
    """A handoff's status is its latest status-changing entry; other kinds leave it as is."""
    log = Log()
    for kind in kinds:
        log.add("h-1", kind)
    [view] = fold(log.rows)
    assert view.status is status
    assert view.is_open is (status is HandoffStatus.VALIDATED)
    assert view.entries == tuple(log.rows)


def test_fold_groups_by_handoff_in_order_of_first_appearance() -> None:
    """Interleaved rows are grouped per handoff, ordered by each handoff's first row."""
    log = Log().add("h-b", "proposed").add("h-a", "proposed").add("h-b", "completed")
    log.add("h-a", "validated")
    views = fold(log.rows)
    assert [(v.id, v.status) for v in views] == [
        ("h-b", HandoffStatus.COMPLETED),
        ("h-a", HandoffStatus.VALIDATED),
    ]
    assert [e.seq for e in views[0].entries] == [1, 3]


def test_fold_skips_handoffs_without_a_proposed_envelope() -> None:
    """Rows about a handoff never proposed here (or proposed without data) are not views."""
    log = Log().add("h-other", "replayed").add("h-1", "proposed")
    log.add("h-empty", "proposed", bare=True).add("h-empty", "validated")
    assert [v.id for v in fold(log.rows)] == ["h-1"]


def test_fold_of_nothing_is_empty() -> None:
    """No rows, no handoffs."""
    assert fold([]) == []


def test_handoff_view_reads_its_envelope() -> None:
    """A view exposes the proposed envelope and its hop, route, contract and creation time."""
    log = Log().add("h-0", "proposed").add("h-1", "proposed")
    first, second = fold(log.rows)
    assert first.envelope == envelope("h-0")
    assert first.hop == 0
    assert first.route == "external@0.0.0 -> triage@1.2.0"
    assert second.hop == 1
    assert second.route == "triage@1.0.0 -> refunds@1.2.0"
    assert second.contract == "ticket@1.0.0"
    assert second.created_at == T0 + timedelta(seconds=2)
    assert second.correlation_id == "wf-1"


def test_handoff_view_outcome_is_the_last_completed_data() -> None:
    """outcome decodes the data of the last completed entry, and is None before completion."""
    log = Log().add("h-1", "proposed").add("h-1", "validated")
    assert fold(log.rows)[0].outcome is None
    log.add("h-1", "completed", json.dumps({"finish": 1})).add(
        "h-1", "completed", json.dumps({"finish": 2})
    )
    assert fold(log.rows)[0].outcome == {"finish": 2}


# --- Ledger ----------------------------------------------------------------------------


@pytest.fixture
def ledger() -> Ledger:
    """A ledger over a memory store holding two workflows and one dead letter."""
    store = MemoryStore()
    one = Log("wf-1").add("h-1", "proposed").add("h-1", "validated").add("h-1", "completed")
    one.add("h-2", "proposed").add("h-2", "rejected").add("h-2", "dead_lettered")
    two = Log("wf-2").add("h-3", "proposed").add("h-3", "validated")
    store.apply(Commit(workflow=workflow("wf-1", WorkflowStatus.DEAD_LETTERED), entries=one.rows))
    store.apply(
        Commit(workflow=workflow("wf-2"), entries=two.rows, dead_letters=[dead_letter("h-2")])
    )
    return Ledger(store)


def test_ledger_workflow(ledger: Ledger) -> None:
    """workflow(id) returns the stored workflow."""
    assert ledger.workflow("wf-2") == workflow("wf-2")


def test_ledger_unknown_workflow(ledger: Ledger) -> None:
    """An unknown workflow id raises NotFoundError pointing at the list command."""
    with pytest.raises(NotFoundError) as caught:
        ledger.workflow("wf-404")
    message = str(caught.value)
    assert "no workflow 'wf-404' in the ledger" in message
    assert "seamline workflows list" in message


def test_ledger_workflows_pass_filters_through(ledger: Ledger) -> None:
    """workflows() lists newest first and honours the status filter and limit."""
    assert [w.id for w in ledger.workflows()] == ["wf-2", "wf-1"]
    assert [w.id for w in ledger.workflows(status=WorkflowStatus.DEAD_LETTERED)] == ["wf-1"]
    assert [w.id for w in ledger.workflows(limit=1)] == ["wf-2"]


def test_ledger_handoffs_of_a_workflow(ledger: Ledger) -> None:
    """handoffs(id) folds that workflow's log into views in chain order."""
    views = ledger.handoffs("wf-1")
    assert [(v.id, v.status) for v in views] == [
        ("h-1", HandoffStatus.COMPLETED),
        ("h-2", HandoffStatus.DEAD_LETTERED),
    ]
    assert ledger.handoffs("wf-404") == []


def test_ledger_handoff_by_id(ledger: Ledger) -> None:
    """handoff(id) returns that one handoff's view."""
    view = ledger.handoff("h-3")
    assert isinstance(view, HandoffView)
    assert (view.correlation_id, view.status, view.is_open) == (
        "wf-2",
        HandoffStatus.VALIDATED,
        True,
    )


def test_ledger_unknown_handoff(ledger: Ledger) -> None:
    """An unknown handoff id raises NotFoundError (a LookupError) pointing at the list command."""
    with pytest.raises(NotFoundError) as caught:
        ledger.handoff("h-404")
    assert isinstance(caught.value, LookupError)
    message = str(caught.value)
    assert "no handoff 'h-404' in the ledger" in message
    assert "seamline handoffs list" in message


def test_ledger_recent_handoffs_newest_first(ledger: Ledger) -> None:
    """recent_handoffs() gathers handoffs across workflows, newest (highest id) first, limited."""
    assert [v.id for v in ledger.recent_handoffs()] == ["h-3", "h-2", "h-1"]
    assert [v.id for v in ledger.recent_handoffs(limit=2)] == ["h-3", "h-2"]


def test_ledger_dead_letter(ledger: Ledger) -> None:
    """dead_letter(id) returns the record; dead_letters() lists with filters."""
    assert ledger.dead_letter("h-2") == dead_letter("h-2")
    assert [d.id for d in ledger.dead_letters()] == ["h-2"]
    assert ledger.dead_letters(status=DeadLetterStatus.REPLAYED) == []


def test_ledger_unknown_dead_letter(ledger: Ledger) -> None:
    """An unknown dead letter id raises NotFoundError pointing at the DLQ list command."""
    with pytest.raises(NotFoundError) as caught:
        ledger.dead_letter("h-404")
    message = str(caught.value)
    assert "no dead letter 'h-404'" in message
    assert "seamline dlq list" in message
