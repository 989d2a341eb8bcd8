"""Agents for the worker subprocess tests, importable as ``worker_app:registry``.

A chain of ``SEAMLINE_TEST_CHAIN`` agents (default 4). With ``SEAMLINE_TEST_SLOW`` seconds
set, the first agent touches ``SEAMLINE_TEST_MARKER`` (if named) and then sleeps that
long, so a test can signal a worker while a step is in flight.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from chain_fixtures import ORDER, Order, chain

from seamline import Agent, Context, HandOff, Outcome, Registry, agent


def _slow_first(seconds: float) -> Agent:
    @agent(name="a0", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    def a0(order: Order, ctx: Context) -> Outcome:
        marker = os.environ.get("SEAMLINE_TEST_MARKER")
        if marker:
            Path(marker).touch()
        time.sleep(seconds)
        return HandOff(to="a1", payload=order.model_copy(update={"step": order.step + 1}))

    return a0


def registry() -> Registry:
    """The chain, with a slow first agent when asked."""
    agents = chain(int(os.environ.get("SEAMLINE_TEST_CHAIN", "4")))
    slow = float(os.environ.get("SEAMLINE_TEST_SLOW", "0"))
    if slow:
        agents[0] = _slow_first(slow)
    return Registry(agents=agents, contracts=[ORDER])
