"""Agents for the worker subprocess tests, importable as ``worker_app:registry``.

A chain of ``SEAMLINE_TEST_CHAIN`` agents (default 4), each taking ``SEAMLINE_TEST_DELAY``
seconds (default 0), so workers can be killed mid-step. With ``SEAMLINE_TEST_SLOW``
seconds set, the first agent touches ``SEAMLINE_TEST_MARKER`` (if named) and then sleeps
that long, so a test can signal a worker while a step is in flight.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from chain_fixtures import ORDER, Order

from seamline import Agent, Context, Finish, HandOff, Outcome, Registry, agent


def _relay(name: str, to: str | None, delay: float, marker: str | None = None) -> Agent:
    @agent(name=name, version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    def step(order: Order, ctx: Context) -> Outcome:
        if marker:
            Path(marker).touch()
        time.sleep(delay)
        if to is None:
            return Finish({"order_id": order.order_id, "steps": order.step})
        return HandOff(to=to, payload=order.model_copy(update={"step": order.step + 1}))

    return step


def registry() -> Registry:
    """The chain a0 -> a1 -> ... as the environment describes it."""
    length = int(os.environ.get("SEAMLINE_TEST_CHAIN", "4"))
    delay = float(os.environ.get("SEAMLINE_TEST_DELAY", "0"))
    slow = float(os.environ.get("SEAMLINE_TEST_SLOW", "0"))
    agents = [
        _relay(f"a{i}", f"a{i + 1}" if i < length - 1 else None, delay) for i in range(length)
    ]
    if slow:
        agents[0] = _relay("a0", "a1", slow, os.environ.get("SEAMLINE_TEST_MARKER"))
    return Registry(agents=agents, contracts=[ORDER])
