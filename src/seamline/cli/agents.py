"""``seamline agents``: who is registered, who owns them, and whose circuit is open."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from seamline.cli._common import (
    DEFAULT_STORE,
    ProjectOption,
    RegistryAppOption,
    StoreOption,
    console,
    open_project,
    open_store,
    store_exists,
)
from seamline.ledger import Ledger
from seamline.runtime import BreakerPolicy, Breakers, BreakerState
from seamline.types import utcnow

app = typer.Typer(help="Agents: owners, capabilities, health and circuit breakers.")

_STYLE = {
    BreakerState.CLOSED: "green",
    BreakerState.HALF_OPEN: "yellow",
    BreakerState.OPEN: "bold red",
}
_NOT_CALLS = ("circuit_open", "deadline", "unknown_agent")
"""Failures recorded without the agent having run: they say nothing about its health."""


@app.command("list")
def list_(
    project: ProjectOption = Path("seamline.toml"),
    app_: RegistryAppOption = None,
    store: StoreOption = DEFAULT_STORE,
    workflows: Annotated[
        int, typer.Option(min=1, help="How many recent workflows the breaker history reads.")
    ] = 200,
) -> None:
    """Every agent with its owner, capabilities, health and breaker state from the ledger.

    Breakers live in each runtime's process; this rebuilds their state by replaying the
    recent calls the ledger holds through the default breaker policy.
    """
    registry = open_project(project, app_).registry
    calls = list(_calls(Ledger(open_store(store)), workflows)) if store_exists(store) else []
    breakers = Breakers.from_history(BreakerPolicy(), registry, calls, now=utcnow())
    for one in registry.agents:
        version = str(one.card.version)
        mine = [failed for name, v, _, failed in calls if (name, v) == (one.name, version)]
        state = breakers.state(one.name, version)
        console.print(
            Text.assemble(
                (one.card.ref, "bold"),
                f"  {one.card.owner}",
                f" · {one.card.escalation}" if one.card.escalation else "",
            )
        )
        console.print(
            Text.assemble(
                "    breaker ",
                (state.value, _STYLE[state]),
                f" · health {registry.health(one.name).value}",
                f" · {sum(mine)} fault(s) in {len(mine)} recent call(s)",
            )
        )
        capabilities = ", ".join(sorted(one.card.capabilities)) or "none"
        console.print(Text(f"    capabilities {capabilities}", style="dim"))


def _calls(ledger: Ledger, limit: int) -> Iterator[tuple[str, str, datetime, bool]]:
    """(agent, version, when, failed) for each recorded delivery, from recent workflows."""
    for workflow in ledger.workflows(limit=limit):
        for view in ledger.handoffs(workflow.id):
            header = json.loads(view.envelope_json)["destination"]
            for entry in view.entries:
                if entry.kind == "completed":
                    yield header["name"], header["version"], entry.at, False
                elif entry.kind in ("failed", "retry"):
                    data = json.loads(entry.data or "{}")
                    if data.get("reason", data.get("code")) not in _NOT_CALLS:
                        yield header["name"], header["version"], entry.at, True
