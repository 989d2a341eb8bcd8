"""Agent health as the ledger shows it: circuit breakers rebuilt from recent calls.

Breakers live in each runtime's process, and a process that only reads (the CLI, the HTTP
API) ran nothing. So the state shown is rebuilt by replaying the recent deliveries the
ledger holds through a breaker policy: what a runtime would hold after those calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from seamline.ledger import Ledger
from seamline.registry import Registry
from seamline.runtime import BreakerPolicy, Breakers, BreakerState
from seamline.types import utcnow

__all__ = ["AgentHealth", "agent_health", "recent_calls"]

_NOT_CALLS = ("circuit_open", "deadline", "unknown_agent")
"""Failures recorded without the agent having run: they say nothing about its health."""


@dataclass(frozen=True, slots=True)
class AgentHealth:
    """One agent version's breaker and the recent calls it was rebuilt from."""

    agent: str
    version: str
    breaker: BreakerState
    calls: int
    faults: int


def recent_calls(ledger: Ledger, workflows: int) -> Iterator[tuple[str, str, datetime, bool]]:
    """``(agent, version, when, failed)`` for each delivery in the newest ``workflows``."""
    for workflow in ledger.workflows(limit=workflows):
        for view in ledger.handoffs(workflow.id):
            header = json.loads(view.envelope_json)["destination"]
            for entry in view.entries:
                if entry.kind == "completed":
                    yield header["name"], header["version"], entry.at, False
                elif entry.kind in ("failed", "retry"):
                    data = json.loads(entry.data or "{}")
                    if data.get("reason", data.get("code")) not in _NOT_CALLS:
                        yield header["name"], header["version"], entry.at, True


def agent_health(
    registry: Registry,
    ledger: Ledger | None,
    *,
    workflows: int = 200,
    policy: BreakerPolicy | None = None,
    now: datetime | None = None,
) -> list[AgentHealth]:
    """Each registered agent's breaker after the ledger's recent calls (closed without one).

    Breakers mirror their state into a registry's health; they are rebuilt against a copy,
    so a report never changes how ``registry`` routes.
    """
    calls = list(recent_calls(ledger, workflows)) if ledger is not None else []
    scratch = Registry(agents=registry.agents)
    breakers = Breakers.from_history(policy or BreakerPolicy(), scratch, calls, now=now or utcnow())
    found = []
    for one in registry.agents:
        version = str(one.card.version)
        mine = [failed for name, v, _, failed in calls if (name, v) == (one.name, version)]
        found.append(
            AgentHealth(one.name, version, breakers.state(one.name, version), len(mine), sum(mine))
        )
    return found
