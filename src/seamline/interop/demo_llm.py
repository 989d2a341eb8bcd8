"""``seamline demo --model openai:MODEL``: the support desk with a chat model as triage.

The same tickets, agents and contracts as :mod:`seamline.demo`, except that triage is an
LLM agent (:func:`seamline.interop.llm.llm_agent`): the model reads the support case and
writes the refund request in ``refund.request@1.2.0``'s schema, and the boundary checks it
exactly as it checks the scripted triage. What the timelines show depends on the model.
"""

from __future__ import annotations

import os

from seamline.agents import Agent, Context, Finish, Outcome
from seamline.contracts import Budget, Constraints, TaskState
from seamline.demo import CASE, REFUND, SupportCase, build_registry
from seamline.exceptions import ConfigurationError
from seamline.interop.llm import DEFAULT_MODEL, Destination, llm_agent
from seamline.registry import Registry

__all__ = ["APP", "MODEL_ENV", "build_llm_registry", "llm_triage", "registry_for"]

APP = "seamline.interop.demo_llm:build_llm_registry"
"""How resume and replay find these agents again (the model from ``MODEL_ENV``)."""
MODEL_ENV = "SEAMLINE_DEMO_MODEL"

INSTRUCTIONS = """\
You triage customer-support cases for a web shop. Turn the case into a refund request for
the payments team: the refund is the whole order value in USD unless the customer asks for
less, and the reason is the one of the allowed reasons that matches the customer's words.
Money is a decimal string with at most two decimals, e.g. "54.50"."""


def registry_for(spec: str) -> Registry:
    """The demo registry for ``--model openai:MODEL``, once an API key is there to use."""
    provider, _, model = spec.partition(":")
    if provider != "openai" or not model:
        raise ConfigurationError(
            f"--model takes openai:MODEL (any OpenAI-compatible server), e.g. "
            f"openai:{DEFAULT_MODEL}; got {spec!r}"
        )
    if not os.environ.get("OPENAI_API_KEY"):
        raise ConfigurationError(
            f"--model {spec} needs an API key: set OPENAI_API_KEY (and OPENAI_BASE_URL for "
            "a server other than OpenAI's, e.g. http://localhost:11434/v1 for Ollama)"
        )
    return build_llm_registry(model)


def build_llm_registry(model: str | None = None) -> Registry:
    """The demo's registry with :func:`llm_triage` in place of the scripted triage."""
    base = build_registry()
    llm = llm_triage(model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL)
    return Registry(
        agents=[llm if one.name == llm.name else one for one in base.agents],
        contracts=base.contracts,
        migrations=base.migrations,
        name=base.name,
        gates=base.gates,
    )


def llm_triage(model: str) -> Agent:
    """Triage played by ``model``: a refund case becomes a refund request for payments."""
    return llm_agent(
        name="triage", version="3.0.0", owner="support-triage", accepts=[CASE],
        emits=[REFUND], capabilities=("triage",), route=_refunds, model=model,
        instructions=INSTRUCTIONS, description=f"Triage by {model}",
    )  # fmt: skip


def _refunds(case: SupportCase, ctx: Context) -> Destination | Outcome:
    """Refund cases go to payments (within the order's value); the rest need no model."""
    if case.category != "refund":
        return Finish({"ticket_id": case.ticket_id, "resolution": "answered by FAQ bot"})
    return Destination(
        capability="refunds",
        tasks={"identify_order": TaskState.COMPLETED, "classify": TaskState.COMPLETED,
               "refund": TaskState.IN_PROGRESS},
        constraints=Constraints(
            budget=Budget(limit=case.order_value, unit="USD"), compliance=frozenset({"pci"})
        ),
    )  # fmt: skip
