"""Circuit breakers per destination agent and version: stop sending work to a dead agent.

A breaker counts the receiver's faults (exceptions, timeouts, broken outcomes; not
validation rejections, which feedback handles). It opens after ``failures`` consecutive
faults, or when at least ``min_calls`` calls in the last ``window`` seconds failed at
``error_rate`` or more. While open, handoffs to that agent fail at once with
``circuit_open`` and take the contract's fallback or the dead-letter queue; nothing waits.
After ``cooldown`` seconds one probe is let through (half-open): success closes the breaker,
a fault opens it again. The state is mirrored into the registry's health (open = down,
half-open = degraded), so capability routing steers around it too.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from seamline.exceptions import ConfigurationError
from seamline.registry import Health, Registry

__all__ = ["BreakerPolicy", "BreakerState", "Breakers"]


class BreakerState(StrEnum):
    """Where one agent's breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open."""

    failures: int = 5
    """Consecutive faults that open the breaker."""
    error_rate: float = 0.5
    window: float = 60.0
    """Seconds of history the error rate is computed over."""
    min_calls: int = 10
    """Calls in the window before the error rate counts (a single failure is not a rate)."""
    cooldown: float = 30.0
    """Seconds open before a probe is let through."""

    def __post_init__(self) -> None:
        if self.failures < 1 or self.min_calls < 1:
            raise ConfigurationError("breaker failures and min_calls must be at least 1")
        if not 0 < self.error_rate <= 1:
            raise ConfigurationError(f"breaker error_rate must be in (0, 1], got {self.error_rate}")
        if self.window <= 0 or self.cooldown <= 0:
            raise ConfigurationError("breaker window and cooldown must be positive seconds")


@dataclass(slots=True)
class _Breaker:
    state: BreakerState = BreakerState.CLOSED
    consecutive: int = 0
    opened_at: float = 0.0
    probing: bool = False
    calls: deque[tuple[float, bool]] = field(default_factory=deque)
    """(time, failed) of recent calls, oldest first."""


class Breakers:
    """The breakers of one runtime, keyed by ``agent@version``."""

    def __init__(
        self,
        policy: BreakerPolicy,
        registry: Registry,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.registry = registry
        self._clock = clock
        self._breakers: dict[str, _Breaker] = {}

    @classmethod
    def from_history(
        cls,
        policy: BreakerPolicy,
        registry: Registry,
        calls: Iterable[tuple[str, str, datetime, bool]],
        *,
        now: datetime,
    ) -> Breakers:
        """Breakers as a runtime would hold them after ``calls`` (agent, version, at, failed).

        How the CLI shows breaker states from the ledger, in a process that ran nothing.
        """
        instant = {"t": 0.0}
        breakers = cls(policy, registry, clock=lambda: instant["t"])
        for agent, version, at, failed in sorted(calls, key=lambda call: call[2]):
            instant["t"] = at.timestamp()
            breakers.allow(agent, version)
            breakers.record(agent, version, failed=failed)
        instant["t"] = now.timestamp()
        return breakers

    def state(self, agent: str, version: str) -> BreakerState:
        """The breaker's state now (an open one whose cooldown passed reads half-open)."""
        breaker = self._breakers.get(f"{agent}@{version}")
        if breaker is None:
            return BreakerState.CLOSED
        if breaker.state is BreakerState.OPEN and self._cooled(breaker):
            return BreakerState.HALF_OPEN
        return breaker.state

    def allow(self, agent: str, version: str) -> bool:
        """Whether a handoff may be delivered now; claims the single half-open probe."""
        breaker = self._breakers.setdefault(f"{agent}@{version}", _Breaker())
        if breaker.state is BreakerState.CLOSED:
            return True
        if breaker.state is BreakerState.OPEN and self._cooled(breaker):
            breaker.state = BreakerState.HALF_OPEN
            self._mirror(agent, breaker.state)
        if breaker.state is BreakerState.HALF_OPEN and not breaker.probing:
            breaker.probing = True
            return True
        return False

    def record(self, agent: str, version: str, *, failed: bool) -> None:
        """Count one delivered call's result."""
        breaker = self._breakers.setdefault(f"{agent}@{version}", _Breaker())
        now = self._clock()
        breaker.calls.append((now, failed))
        while breaker.calls and breaker.calls[0][0] < now - self.policy.window:
            breaker.calls.popleft()
        breaker.consecutive = breaker.consecutive + 1 if failed else 0
        if breaker.state is BreakerState.HALF_OPEN:
            breaker.probing = False
            self._set(agent, breaker, BreakerState.OPEN if failed else BreakerState.CLOSED, now)
            return
        if failed and self._tripped(breaker):
            self._set(agent, breaker, BreakerState.OPEN, now)

    def _tripped(self, breaker: _Breaker) -> bool:
        if breaker.consecutive >= self.policy.failures:
            return True
        if len(breaker.calls) < self.policy.min_calls:
            return False
        failed = sum(1 for _, bad in breaker.calls if bad)
        return failed / len(breaker.calls) >= self.policy.error_rate

    def _cooled(self, breaker: _Breaker) -> bool:
        return self._clock() - breaker.opened_at >= self.policy.cooldown

    def _set(self, agent: str, breaker: _Breaker, state: BreakerState, now: float) -> None:
        breaker.state = state
        if state is BreakerState.OPEN:
            breaker.opened_at = now
        if state is BreakerState.CLOSED:
            breaker.calls.clear()
            breaker.consecutive = 0
        self._mirror(agent, state)

    def _mirror(self, agent: str, state: BreakerState) -> None:
        health = {
            BreakerState.CLOSED: Health.HEALTHY,
            BreakerState.OPEN: Health.DOWN,
            BreakerState.HALF_OPEN: Health.DEGRADED,
        }[state]
        self.registry.set_health(agent, health)
