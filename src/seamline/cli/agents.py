"""``seamline agents``: who is registered, who owns them, and whose circuit is open."""

from __future__ import annotations

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
from seamline.health import agent_health
from seamline.ledger import Ledger
from seamline.runtime import BreakerState

app = typer.Typer(help="Agents: owners, capabilities, health and circuit breakers.")

_STYLE = {
    BreakerState.CLOSED: "green",
    BreakerState.HALF_OPEN: "yellow",
    BreakerState.OPEN: "bold red",
}


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
    ledger = Ledger(open_store(store)) if store_exists(store) else None
    for one, health in zip(
        registry.agents, agent_health(registry, ledger, workflows=workflows), strict=True
    ):
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
                (health.breaker.value, _STYLE[health.breaker]),
                f" · health {registry.health(one.name).value}",
                f" · {health.faults} fault(s) in {health.calls} recent call(s)",
            )
        )
        capabilities = ", ".join(sorted(one.card.capabilities)) or "none"
        console.print(Text(f"    capabilities {capabilities}", style="dim"))
