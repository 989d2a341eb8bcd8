"""Reading the ledger: handoffs as folds over the append-only log.

The store keeps transitions, not states. A handoff's state is the fold of its entries in
log order, so it can never disagree with its own history. Used by the runtime to resume
and replay, and by the CLI to show what happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from seamline.contracts import Envelope
from seamline.exceptions import NotFoundError
from seamline.stores import (
    DeadLetterRecord,
    DeadLetterStatus,
    Entry,
    Store,
    WorkflowRecord,
    WorkflowStatus,
)

__all__ = ["HandoffStatus", "HandoffView", "Ledger", "fold"]


class HandoffStatus(StrEnum):
    """Where one handoff stands, as its latest status-changing entry says."""

    PROPOSED = "proposed"
    VALIDATED = "validated"
    """Accepted and waiting for delivery: the workflow's open handoff."""
    GATED = "gated"
    """Accepted, and waiting for a human decision before delivery (see seamline.gates)."""
    EDITED = "edited"
    """Replaced at its gate by a human's edited copy, which carries on as a new handoff."""
    REJECTED = "rejected"
    COMPLETED = "completed"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"


_STATUS_OF_KIND = {status.value: status for status in HandoffStatus} | {
    "approved": HandoffStatus.VALIDATED,  # a gate's approval makes it the open handoff
    "declined": HandoffStatus.REJECTED,  # a gate's rejection
}


@dataclass(frozen=True, slots=True)
class HandoffView:
    """One handoff with everything the ledger knows about it."""

    id: str
    correlation_id: str
    status: HandoffStatus
    envelope_json: str
    entries: tuple[Entry, ...]

    @property
    def envelope(self) -> Envelope:
        """The envelope as it was proposed, sensitive values included (the runtime's copy)."""
        return Envelope.model_validate_json(self.envelope_json)

    @property
    def masked_envelope_json(self) -> str:
        """The envelope with its sensitive values masked: what any view shows people."""
        return self.envelope.masked().model_dump_json()

    @property
    def _header(self) -> dict[str, Any]:
        header: dict[str, Any] = json.loads(self.envelope_json)
        return header

    @property
    def hop(self) -> int:
        """Position in the chain (0 = the workflow's first handoff)."""
        return int(self._header["hop"])

    @property
    def route(self) -> str:
        """``source -> destination`` with versions."""
        h = self._header
        return (
            f"{h['source']['name']}@{h['source']['version']} -> "
            f"{h['destination']['name']}@{h['destination']['version']}"
        )

    @property
    def route_names(self) -> str:
        """``source → destination`` without versions, for narrow displays."""
        h = self._header
        return f"{h['source']['name']} → {h['destination']['name']}"

    @property
    def sender(self) -> str:
        """The source agent's name: who produced it."""
        return str(self._header["source"]["name"])

    @property
    def receiver(self) -> str:
        """The destination agent's name."""
        return str(self._header["destination"]["name"])

    @property
    def contract(self) -> str:
        """``name@version`` of the contract it travels under."""
        return "{name}@{version}".format(**self._header["contract"])

    @property
    def created_at(self) -> datetime:
        """When it was proposed."""
        return self.entries[0].at

    @property
    def outcome(self) -> Any:
        """What its receiver returned (decoded), if it completed."""
        for entry in reversed(self.entries):
            if entry.kind == "completed" and entry.data:
                return json.loads(entry.data)
        return None

    @property
    def is_open(self) -> bool:
        """Whether it still waits to be delivered."""
        return self.status is HandoffStatus.VALIDATED


def fold(entries: Iterable[Entry]) -> list[HandoffView]:
    """Group log rows by handoff (in order of first appearance) and derive each status."""
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.handoff_id, []).append(entry)
    views = []
    for handoff_id, rows in grouped.items():
        proposed = next((e for e in rows if e.kind == "proposed"), None)
        if proposed is None or proposed.data is None:
            continue  # entries about a handoff of another workflow (e.g. a replay marker)
        status = HandoffStatus.PROPOSED
        for row in rows:
            status = _STATUS_OF_KIND.get(row.kind, status)
        views.append(
            HandoffView(handoff_id, rows[0].correlation_id, status, proposed.data, tuple(rows))
        )
    return views


class Ledger:
    """Read-only questions about a store's ledger, with NotFoundError for unknown ids."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def workflow(self, workflow_id: str) -> WorkflowRecord:
        """One workflow."""
        workflow = self.store.get_workflow(workflow_id)
        if workflow is None:
            raise NotFoundError(
                f"no workflow {workflow_id!r} in the ledger; list them with "
                "`seamline workflows list`"
            )
        return workflow

    def workflows(
        self, *, status: WorkflowStatus | None = None, limit: int = 100
    ) -> list[WorkflowRecord]:
        """Workflows, newest first."""
        return self.store.list_workflows(status=status, limit=limit)

    def handoffs(self, workflow_id: str) -> list[HandoffView]:
        """A workflow's handoffs in chain order."""
        return fold(self.store.entries(correlation_id=workflow_id))

    def handoff(self, handoff_id: str) -> HandoffView:
        """One handoff."""
        views = fold(self.store.entries(handoff_id=handoff_id))
        if not views:
            raise NotFoundError(
                f"no handoff {handoff_id!r} in the ledger; list them with `seamline handoffs list`"
            )
        return views[0]

    def recent_handoffs(self, *, limit: int = 50) -> list[HandoffView]:
        """The newest handoffs across workflows, newest first."""
        found: list[HandoffView] = []
        for workflow in self.store.list_workflows(limit=limit):
            found.extend(self.handoffs(workflow.id))
        found.sort(key=lambda view: view.id, reverse=True)
        return found[:limit]

    def dead_letter(self, dead_letter_id: str) -> DeadLetterRecord:
        """One dead letter."""
        letter = self.store.get_dead_letter(dead_letter_id)
        if letter is None:
            raise NotFoundError(
                f"no dead letter {dead_letter_id!r}; list them with `seamline dlq list`"
            )
        return letter

    def dead_letters(
        self, *, status: DeadLetterStatus | None = None, limit: int = 100
    ) -> list[DeadLetterRecord]:
        """Dead letters, newest first."""
        return self.store.list_dead_letters(status=status, limit=limit)
