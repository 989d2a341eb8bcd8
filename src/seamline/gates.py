"""Human gates: what a paused handoff shows the person deciding it, and their decisions.

A gated handoff (see :class:`seamline.contracts.Gate`) is recorded as ``gated`` in the
ledger instead of ``validated``, and its workflow waits (status ``waiting``) until someone
decides. The ``gated`` row carries two representations: the human summary (the current
state, the proposed next action, the exact decision requested, what happens on each branch
and the payload's diff against the previous hop), rendered once from the contract's
template with sensitive values masked, and the machine payload, which is the envelope
itself. Decisions are ledger rows too (``approved``, ``declined``, ``edited``), each naming
who and when, so a gate survives restarts and its history is the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from seamline.contracts import MASK, Contract, Envelope, Gate, mask_payload
from seamline.exceptions import ConfigurationError, NotFoundError
from seamline.ledger import HandoffView, Ledger
from seamline.stores import WorkflowStatus

__all__ = [
    "Decision",
    "GateView",
    "describe_gate",
    "gate_view",
    "list_gates",
    "open_gate",
    "payload_diff",
]


class Decision(StrEnum):
    """What a person may do with a gated handoff."""

    APPROVE = "approve"
    """Deliver it as it is."""
    REJECT = "reject"
    """Stop it, with a reason: it is dead-lettered (and escalated if its contract says so)."""
    EDIT = "edit"
    """Deliver a corrected payload instead, validated again first."""


class GateView(BaseModel):
    """One gate as people, the CLI and the API see it: every value masked."""

    model_config = ConfigDict(frozen=True)

    id: str
    """The gated handoff's id."""
    workflow_id: str
    route: str
    contract: str
    owner: str
    """The team that decides."""
    headline: str
    summary: str
    """The whole human summary: state, proposed action, decision, branches, diff."""
    payload: dict[str, Any]
    """The machine payload, masked."""
    diff: list[dict[str, Any]]
    """``{path, was, now}`` for each field that differs from the previous hop's payload."""
    gated_at: datetime
    deadline: datetime | None
    status: Literal["open", "approved", "rejected", "edited", "canceled"]
    """``canceled``: its workflow was canceled while it waited (``Runtime.cancel``)."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    escalated_to: str | None = None
    replaced_by: str | None = None
    """For an edited gate: the handoff that carried the edited payload on."""

    @property
    def is_open(self) -> bool:
        """Whether it still waits for a decision."""
        return self.status == "open"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return self.model_dump(mode="json")


_DECIDED: dict[str, Literal["approved", "rejected", "edited"]] = {
    "approved": "approved",
    "declined": "rejected",
    "edited": "edited",
}


def gate_view(view: HandoffView) -> GateView | None:
    """The gate of handoff ``view``, or None if it was never gated."""
    gated = next((e for e in view.entries if e.kind == "gated"), None)
    if gated is None:
        return None
    data: dict[str, Any] = json.loads(gated.data or "{}")
    status: Literal["open", "approved", "rejected", "edited", "canceled"] = "open"
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    escalated: str | None = None
    replaced: str | None = None
    for entry in view.entries:
        detail: dict[str, Any] = json.loads(entry.data or "{}")
        if entry.kind in _DECIDED:
            status = _DECIDED[entry.kind]
            decided_by, decided_at, reason = detail.get("by"), entry.at, detail.get("reason")
            replaced = detail.get("as")
        elif entry.kind == "gate_escalated":
            escalated = detail.get("to")
        elif entry.kind == "failed" and status == "open":
            status, decided_at, reason = "canceled", entry.at, detail.get("message")
    envelope = view.envelope
    return GateView(
        id=view.id,
        workflow_id=view.correlation_id,
        route=view.route_names,
        contract=view.contract,
        owner=str(data.get("owner")),
        headline=str(data.get("headline", "")),
        summary=str(data.get("summary", "")),
        payload=mask_payload(envelope.payload, envelope.sensitive),
        diff=list(data.get("diff", [])),
        gated_at=gated.at,
        deadline=datetime.fromisoformat(data["deadline"]) if data.get("deadline") else None,
        status=status,
        decided_by=decided_by,
        decided_at=decided_at,
        reason=reason,
        escalated_to=escalated,
        replaced_by=replaced,
    )


def list_gates(ledger: Ledger, *, status: str = "open", limit: int = 100) -> list[GateView]:
    """Gates, newest first: ``open`` ones (of waiting workflows), ``decided`` or ``all``
    (among the newest ``limit`` workflows)."""
    if status not in ("open", "decided", "all"):
        raise ConfigurationError(f"unknown gate status {status!r}; use open, decided or all")
    wanted = WorkflowStatus.WAITING if status == "open" else None
    found: list[GateView] = []
    for workflow in ledger.workflows(status=wanted, limit=limit):
        for view in ledger.handoffs(workflow.id):
            gate = gate_view(view)
            if gate is not None and (status == "all" or gate.is_open == (status == "open")):
                found.append(gate)
    found.sort(key=lambda gate: gate.gated_at, reverse=True)
    return found[:limit]


def describe_gate(
    gate: Gate,
    contract: Contract[Any],
    envelope: Envelope,
    previous: Envelope | None,
    *,
    escalation: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The ``gated`` row's data: who decides, by when, and the human summary.

    Everything here is rendered from masked values: the summary is read by people and
    shown by the console to any team, and the deciding team sees the payload masked too.
    """
    masked = mask_payload(envelope.payload, envelope.sensitive)
    before = mask_payload(previous.payload, previous.sensitive) if previous else {}
    diff = payload_diff(before, masked) if previous is not None else []
    sender, receiver = envelope.source.name, envelope.destination.name
    headline = _headline(gate, masked) or f"{contract.ref} from {sender} to {receiver}"
    owner = gate.owner or contract.owner
    lines = [
        headline,
        "",
        f"State: workflow {envelope.correlation_id} at hop {envelope.hop}; {sender} has "
        f"handed {contract.ref} to {receiver}, which has not run yet.",
        f"Proposed next action: deliver it to {receiver}.",
        f"Decision requested from {owner}: approve, reject with a reason, or edit the payload.",
        f"- Approve: {receiver} receives it as it is and the workflow continues.",
        _on_reject(contract, escalation),
        f"- Edit: your payload is validated against {contract.ref} again, then delivered.",
    ]
    if previous is None:
        lines.append("This is the workflow's first handoff: there is no previous hop.")
    elif diff:
        lines.append(f"Changes since the previous hop ({previous.contract}):")
        lines.extend(f"  {d['path']}: {_shown(d['was'])} -> {_shown(d['now'])}" for d in diff)
    else:
        lines.append("No field changed since the previous hop.")
    return {
        "owner": owner,
        "headline": headline,
        "summary": "\n".join(lines),
        "diff": diff,
        "deadline": (now + gate.deadline).isoformat() if gate.deadline else None,
        "fallback_owner": contract.fallback_owner,
    }


def _on_reject(contract: Contract[Any], escalation: str | None) -> str:
    fallback = contract.policy.fallback_agent
    if fallback is not None:
        return f"- Reject: {fallback} gets it with your reason, as its contract's fallback."
    escalated = f" and the workflow is escalated to {escalation}" if escalation else ""
    return f"- Reject: it is dead-lettered with your reason{escalated}."


def _headline(gate: Gate, masked: Mapping[str, Any]) -> str:
    if not gate.summary:
        return ""
    try:
        return gate.summary.format_map(_Fields(masked))
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        return f"{gate.summary} (could not be filled in: {error})"


class _Fields(dict[str, Any]):
    """Template fields: an absent optional field reads as a dash, not a KeyError."""

    def __missing__(self, key: str) -> str:
        return "—"


def payload_diff(was: Mapping[str, Any], now: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``{path, was, now}`` for each top-level field that differs (pass masked payloads)."""
    return [
        {"path": f"payload.{name}", "was": was.get(name), "now": now.get(name)}
        for name in sorted(was.keys() | now.keys())
        if was.get(name) != now.get(name)
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "(absent)"
    return value if value == MASK or isinstance(value, str) else json.dumps(value, default=str)


def open_gate(ledger: Ledger, gate_id: str) -> tuple[HandoffView, GateView]:
    """The handoff and gate of ``gate_id``, or NotFoundError saying how to find one."""
    try:
        view = ledger.handoff(gate_id)
    except NotFoundError:
        raise NotFoundError(
            f"no gate {gate_id!r}; list the open ones with `seamline gates list`"
        ) from None
    gate = gate_view(view)
    if gate is None:
        raise NotFoundError(
            f"handoff {gate_id} was never gated; list the open gates with `seamline gates list`"
        )
    return view, gate
