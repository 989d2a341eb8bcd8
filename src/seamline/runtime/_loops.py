"""Ping-pong detection: the same unresolved work bouncing between agents.

A hop budget alone lets a loop burn the whole budget before anyone notices. Two cheaper
signals catch it early, from a short trail of recent hops kept with the workflow:

* an agent is handed exactly the same payload and task state it was handed before; or
* handoffs alternate between the same two agents ``bounces`` times in a row while no task
  moved to ``completed``.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from pydantic_core import to_json

from seamline.contracts import Envelope, TaskState

__all__ = ["TRAIL_LENGTH", "Hop", "detect_loop", "hop_of"]

TRAIL_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Hop:
    """What loop detection remembers of one delivered handoff."""

    receiver: str
    signature: str
    progress: int


def hop_of(envelope: Envelope) -> Hop:
    """Summarise an envelope: receiver, payload+task fingerprint, completed-task count."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(envelope.destination.name.encode())
    digest.update(to_json(envelope.payload))
    digest.update(to_json([(t.name, t.state) for t in envelope.tasks]))
    progress = sum(1 for t in envelope.tasks if t.state is TaskState.COMPLETED)
    return Hop(envelope.destination.name, digest.hexdigest(), progress)


def detect_loop(trail: list[Hop], new: Hop, *, bounces: int) -> str | None:
    """Why ``new`` continues a loop, or None."""
    for old in trail:
        if old.signature == new.signature:
            return (
                f"{new.receiver} was handed the same payload and task state it already had; "
                "the work is not moving"
            )
    window = [*trail[-bounces:], new]
    if len(window) > bounces and len({hop.receiver for hop in window}) == 2:
        alternating = all(a.receiver != b.receiver for a, b in itertools.pairwise(window))
        if alternating and window[-1].progress <= window[0].progress:
            pair = " <-> ".join(sorted({hop.receiver for hop in window}))
            return (
                f"work bounced {bounces} times between {pair} without completing a task; "
                "fix the routing or the agents' hand-off conditions"
            )
    return None
