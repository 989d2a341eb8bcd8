"""The context-rot meter: what each agent was handed, next to what the workflow started with.

Rot is the slow loss of what matters along a chain: a summary that drops the deadline, an
amount paraphrased from 120.00 to "about 120", an agent that quietly widens its own
permissions. The boundary rejects the worst of it; this meter shows all of it, hop by
hop, from the ledger alone: for the original intent, every constraint and every tracked
fact, whether the receiver at each hop was handed it kept, changed, loosened, tightened or
not at all, and the first hop where each divergence appeared. Rejected attempts count too
(marked as caught), since that is where rot usually shows first.

Example:
    ```python
    report = context_rot(runtime.ledger, workflow_id, registry)
    report.fidelity            # share of tracked items the last receiver got intact
    report.divergences[0]      # first appearance of each divergence
    ```
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from seamline.contracts import MASK, Constraints, Envelope
from seamline.exceptions import RegistryError
from seamline.ledger import HandoffStatus, HandoffView, Ledger
from seamline.registry import Registry

__all__ = ["Change", "Divergence", "HopRot", "RotReport", "context_rot"]


class Change(StrEnum):
    """How an item reached a receiver, compared with what it was when first recorded."""

    KEPT = "kept"
    CHANGED = "changed"
    LOOSENED = "loosened"
    """A constraint made less strict: a higher budget, a later deadline, more permissions."""
    TIGHTENED = "tightened"
    """A constraint made stricter: allowed, and still a change worth seeing."""
    DROPPED = "dropped"
    """Not handed to the receiver at all."""
    ADDED = "added"
    """A constraint or fact that did not exist at the start."""
    OUT_OF_SCOPE = "out_of_scope"
    """A fact the receiver's contract does not declare: withheld by design, not lost."""


_INTACT = frozenset({Change.KEPT, Change.TIGHTENED})
_DELIVERED = frozenset({HandoffStatus.VALIDATED, HandoffStatus.COMPLETED, HandoffStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Divergence:
    """One item that did not reach a receiver as it started."""

    item: str
    """``intent``, ``constraint budget``, ``fact amount``..."""
    change: Change
    hop: int
    route: str
    caught: bool
    """The handoff carrying it was stopped (rejected or dead-lettered), so no receiver
    acted on it."""
    was: str | None
    now: str | None


@dataclass(frozen=True, slots=True)
class HopRot:
    """What one handoff's receiver was handed, item by item."""

    hop: int
    route: str
    contract: str
    status: HandoffStatus
    kept: int
    """Items handed intact (a tightened constraint counts: nothing was lost)."""
    tracked: int
    """Items known at this point that were in scope for this receiver."""
    divergences: tuple[Divergence, ...]

    @property
    def fidelity(self) -> float:
        """Share of in-scope items handed intact (1.0 when nothing was tracked)."""
        return self.kept / self.tracked if self.tracked else 1.0

    @property
    def delivered(self) -> bool:
        """Whether a receiver got it (rejected and dead-lettered handoffs never are)."""
        return self.status in _DELIVERED


@dataclass(frozen=True, slots=True)
class RotReport:
    """The context-rot meter for one workflow."""

    workflow_id: str
    name: str
    origin: dict[str, str]
    """Each tracked item as the workflow started with it (sensitive values masked)."""
    hops: tuple[HopRot, ...]

    @property
    def divergences(self) -> list[Divergence]:
        """Each divergence at the first hop it appeared, in chain order."""
        first: dict[tuple[str, Change], Divergence] = {}
        for hop in self.hops:
            for divergence in hop.divergences:
                first.setdefault((divergence.item, divergence.change), divergence)
        return list(first.values())

    @property
    def fidelity(self) -> float:
        """Fidelity at the last delivered hop: how much of the start reached the end."""
        delivered = [hop for hop in self.hops if hop.delivered]
        return delivered[-1].fidelity if delivered else 1.0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the CLI prints with ``--json``."""
        return {
            "workflow_id": self.workflow_id,
            "name": self.name,
            "fidelity": round(self.fidelity, 4),
            "origin": self.origin,
            "hops": [
                {
                    "hop": hop.hop,
                    "route": hop.route,
                    "contract": hop.contract,
                    "status": hop.status.value,
                    "kept": hop.kept,
                    "tracked": hop.tracked,
                    "fidelity": round(hop.fidelity, 4),
                    "divergences": [_divergence(d) for d in hop.divergences],
                }
                for hop in self.hops
            ],
            "divergences": [_divergence(d) for d in self.divergences],
        }


def context_rot(ledger: Ledger, workflow_id: str, registry: Registry | None = None) -> RotReport:
    """Measure ``workflow_id``'s context rot from its ledger.

    With ``registry``, a fact the receiver's contract does not declare counts as out of
    scope (minimum necessary context at work) instead of dropped.
    """
    workflow = ledger.workflow(workflow_id)
    views = [v for v in ledger.handoffs(workflow_id) if v.status is not HandoffStatus.PROPOSED]
    if not views:
        return RotReport(workflow.id, workflow.name, {}, ())
    start = views[0].envelope
    hidden = frozenset(name for view in views for name in view.envelope.sensitive)
    meter = _Meter(start, hidden, registry)
    hops = tuple(meter.hop(view) for view in views)
    return RotReport(workflow.id, workflow.name, meter.origin, hops)


class _Meter:
    """Walks the chain, keeping what each item was when first recorded."""

    def __init__(self, start: Envelope, hidden: frozenset[str], registry: Registry | None):
        self.hidden = hidden
        self.registry = registry
        self.intent = start.intent.text
        self.constraints = start.constraints
        self.facts: dict[str, Any] = dict(start.facts)
        self.origin = {"intent": self.intent}
        self.origin |= {f"constraint {k}": v for k, v in _constraint_items(self.constraints)}
        self.origin |= {f"fact {k}": self._shown(k, v) for k, v in self.facts.items()}

    def hop(self, view: HandoffView) -> HopRot:
        envelope = view.envelope
        caught = view.status not in _DELIVERED
        found: list[tuple[str, Change, str | None, str | None]] = []
        found.append(self._intent(envelope))
        found.extend(self._constraints(envelope.constraints))
        found.extend(self._facts(envelope))
        in_scope = [entry for entry in found if entry[1] is not Change.OUT_OF_SCOPE]
        kept = sum(1 for _, change, _, _ in in_scope if change in _INTACT)
        divergences = tuple(
            Divergence(item, change, envelope.hop, view.route_names, caught, was, now)
            for item, change, was, now in found
            if change not in (Change.KEPT, Change.OUT_OF_SCOPE)
        )
        tracked = sum(1 for _, change, _, _ in in_scope if change is not Change.ADDED)
        if not caught:  # what a receiver acted on is the reference for later hops
            self.facts.update(envelope.facts)
            self.constraints = envelope.constraints
        return HopRot(
            envelope.hop,
            view.route_names,
            view.contract,
            view.status,
            kept,
            tracked,
            divergences,
        )

    def _intent(self, envelope: Envelope) -> tuple[str, Change, str | None, str | None]:
        if envelope.intent.text == self.intent:
            return ("intent", Change.KEPT, None, None)
        return ("intent", Change.CHANGED, self.intent, envelope.intent.text)

    def _constraints(
        self, now: Constraints
    ) -> Iterator[tuple[str, Change, str | None, str | None]]:
        before = dict(_constraint_items(self.constraints))
        after = dict(_constraint_items(now))
        loosened = {
            issue.path.removeprefix("constraints.").split(".")[0]
            for issue in now.loosened_from(self.constraints)
        }
        for name in sorted(before.keys() | after.keys()):
            item = f"constraint {name}"
            was, got = before.get(name), after.get(name)
            if was == got:
                yield (item, Change.KEPT, was, got)
            elif got is None:
                yield (item, Change.DROPPED, was, None)
            elif was is None:
                yield (item, Change.ADDED, None, got)
            elif name in loosened:
                yield (item, Change.LOOSENED, was, got)
            else:
                yield (item, Change.TIGHTENED, was, got)

    def _facts(self, envelope: Envelope) -> Iterator[tuple[str, Change, str | None, str | None]]:
        declared = self._declared(envelope)
        payload = envelope.payload
        for name in sorted(self.facts.keys() | envelope.facts.keys()):
            item = f"fact {name}"
            if name not in self.facts:
                if name in payload:
                    yield (item, Change.ADDED, None, self._shown(name, payload[name]))
                continue
            was = self._shown(name, self.facts[name])
            if name in payload:
                same = payload[name] == self.facts[name]
                now = self._shown(name, payload[name])
                yield (item, Change.KEPT if same else Change.CHANGED, was, now)
            elif declared is not None and name not in declared:
                yield (item, Change.OUT_OF_SCOPE, was, None)
            else:
                yield (item, Change.DROPPED, was, None)

    def _declared(self, envelope: Envelope) -> frozenset[str] | None:
        if self.registry is None:
            return None
        ref = envelope.contract
        try:
            contract = self.registry.contract(ref.name, ref.version)
        except RegistryError:
            return None
        return frozenset(contract.model.model_fields)

    def _shown(self, name: str, value: Any) -> str:
        if name in self.hidden:
            return MASK
        return value if isinstance(value, str) else json.dumps(value, default=str)


def _constraint_items(constraints: Constraints) -> Iterator[tuple[str, str]]:
    """Each constraint that is set, as display text."""
    if constraints.budget is not None:
        yield "budget", f"{constraints.budget.limit} {constraints.budget.unit}"
    if constraints.deadline is not None:
        yield "deadline", constraints.deadline.isoformat()
    if constraints.permissions is not None:
        yield "permissions", ", ".join(sorted(constraints.permissions)) or "(none)"
    if constraints.compliance:
        yield "compliance", ", ".join(sorted(constraints.compliance))


def _divergence(divergence: Divergence) -> dict[str, Any]:
    return {
        "item": divergence.item,
        "change": divergence.change.value,
        "hop": divergence.hop,
        "route": divergence.route,
        "caught": divergence.caught,
        "was": divergence.was,
        "now": divergence.now,
    }
