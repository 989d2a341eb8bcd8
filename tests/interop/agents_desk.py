"""An OpenAI Agents SDK triage -> refunds desk on the SDK's scripted models.

Shared by the adapter's tests and the span test's subprocess; nothing here reaches a network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents import Agent, RunConfig
from agents.items import TResponseOutputItem
from agents.testing import ScriptedModel, assistant_message, function_call
from refunds import REFUND

from seamline import Contract, Registry, Runtime, SqliteStore
from seamline.interop.openai_agents import AgentTeam, contracted_handoff

OFFLINE = RunConfig(tracing_disabled=True)
"""The SDK's own tracing would try to export to OpenAI."""


def transfer(**arguments: Any) -> list[TResponseOutputItem]:
    """A scripted model turn that calls the contracted handoff with ``arguments``."""
    return [function_call("transfer_to_refunds", arguments, call_id="call-refund")]


def answer(text: str) -> list[TResponseOutputItem]:
    """A scripted model turn that answers (the agent's final output)."""
    return [assistant_message(text)]


@dataclass(frozen=True)
class Desk:
    """The SDK agents, their scripted models and a runtime on a SQLite ledger."""

    triage: Agent[Any]
    triage_model: ScriptedModel
    refunds_model: ScriptedModel
    runtime: Runtime


def desk(
    ledger: Path,
    triage_turns: Iterable[list[TResponseOutputItem]],
    refunds_turns: Iterable[list[TResponseOutputItem]] = (),
    *,
    contract: Contract[Any] = REFUND,
) -> Desk:
    """triage hands off to refunds under ``contract``; each model plays its turns."""
    triage_model, refunds_model = ScriptedModel(triage_turns), ScriptedModel(refunds_turns)
    refunds = Agent(name="refunds", model=refunds_model, handoff_description="Pays refunds.")
    triage = Agent(
        name="triage", model=triage_model, handoffs=[contracted_handoff(refunds, contract)]
    )
    team = AgentTeam(triage, owner="support", version="1.0.0", run_config=OFFLINE)
    runtime = Runtime(Registry(agents=team.agents, contracts=team.contracts), SqliteStore(ledger))
    return Desk(triage, triage_model, refunds_model, runtime)
