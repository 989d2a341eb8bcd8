"""OpenAI Agents SDK: handoffs between SDK agents that travel as seamline handoffs.

In the SDK a handoff is a tool the model calls (``transfer_to_refunds``). Its typed
arguments reach only an ``on_handoff`` callback, and the next agent reads the conversation,
not the payload. :func:`contracted_handoff` keeps the tool, gives it the receiving
contract's JSON Schema as its arguments, and hands those arguments to seamline instead of
switching agents inside the SDK's run.

**How a run maps onto the SDK's loop.** Every agent of an :class:`AgentTeam` is a seamline
agent. seamline delivers a handoff to one by running that SDK agent (``Runner.run``) with
the handoff as its input, until the agent produces its final output (the workflow's result)
or calls a contracted handoff. That call ends the SDK run (the handoff's
``on_invoke_handoff`` raises a private signal, so the SDK never switches agents), and its
arguments go out as the agent's seamline handoff. From there it is a handoff like any
other: validated against the receiver's contract before the receiver runs, recorded in the
ledger with its envelope, verdict and evaluations, traced, and put through the contract's
failure policy:

- **Rejected**: the sender's SDK agent runs again on the same input, followed by a message
  listing every issue (``feedback_retries`` rounds), and hands off again.
- **Dead-lettered** after the last round (or sent to the contract's fallback agent): the
  workflow ends ``dead_lettered`` with every rejected payload in the ledger, and replaying
  the dead letter with a fixed payload runs the receiving SDK agent from it.
- **Gated**: the workflow ends ``waiting`` and no SDK run stays open. Approving the gate
  (``runtime.decide``, ``seamline gates approve``, the console) runs the receiving SDK
  agent from the approved or edited payload, in whichever process decides. An SDK run
  cannot wait days for a person; a seamline gate can.

The receiver's input is its contract's payload, never the sender's transcript: one user
message holding the user's request verbatim, the sender, the contract and the validated
(upcast, if the contract is mid-migration) payload as JSON. The first agent of a run gets
the user's text under the built-in :data:`PROMPT` contract.

Every handoff of a team's agents must be contracted: a plain SDK handoff would switch
agents inside one seamline step, and the ledger would name the wrong sender. The SDK honours
only the first handoff a model calls in one turn, so only that one reaches seamline. A run
that stops for a tool approval (``needs_approval``) is escalated to its owner, since
seamline cannot resume an SDK ``RunState``.

Needs the ``openai-agents`` extra: ``pip install "seamline[openai-agents]"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from seamline.agents import Agent as SeamlineAgent
from seamline.agents import Context, Escalate, Finish, HandOff, Outcome, agent
from seamline.contracts import Constraints, Contract
from seamline.exceptions import AgentError, ConfigurationError, Issue, MissingExtraError
from seamline.runtime import RunResult, Runtime
from seamline.types import jsonable

try:
    from agents import Agent, Handoff, RunConfig, RunContextWrapper, Runner
    from agents.exceptions import UserError
    from agents.items import TResponseInputItem
    from agents.run import DEFAULT_MAX_TURNS
    from agents.strict_schema import ensure_strict_json_schema
except ImportError as missing:
    raise MissingExtraError(
        feature="OpenAI Agents SDK handoffs (seamline.interop.openai_agents)",
        extra="openai-agents",
    ) from missing

__all__ = ["PROMPT", "AgentTeam", "Prompt", "contracted_handoff", "run"]


class Prompt(BaseModel):
    """What the user asked the first agent of a run, as the SDK would be given it."""

    model_config = ConfigDict(frozen=True)
    text: str = Field(min_length=1)


PROMPT = Contract(
    model=Prompt,
    name="openai-agents.prompt",
    version="1.0.0",
    owner="seamline",
    description="A user's request to the first OpenAI Agents SDK agent of a run.",
)

_in_step: ContextVar[bool] = ContextVar("seamline_openai_agents_step", default=False)
"""Set while seamline runs an SDK agent, so a contracted handoff knows it can hand off."""


class _HandedOff(Exception):
    """Ends an SDK run at a contracted handoff; never leaves :class:`_Step`."""

    def __init__(self, proposer: _Proposer, arguments: str) -> None:
        super().__init__(f"handed off to {proposer.target.name} through seamline")
        self.proposer = proposer
        self.arguments = arguments


@dataclass(frozen=True, slots=True)
class _Proposer:
    """A contracted handoff's ``on_invoke_handoff``: stop the SDK run with the arguments."""

    target: Agent[Any]
    contract: Contract[Any]
    tool_name: str

    async def __call__(self, context: RunContextWrapper[Any], arguments: str) -> Agent[Any]:
        if not _in_step.get():
            raise ConfigurationError(
                f"{self.tool_name} is a contracted handoff ({self.contract.ref}) that seamline "
                "carries: run the agents with seamline.interop.openai_agents.run(runtime, agent, "
                "input), not Runner.run, so the handoff is validated and recorded"
            )
        raise _HandedOff(self, arguments)


def contracted_handoff(
    agent: Agent[Any],
    contract: Contract[Any],
    *,
    tool_name_override: str | None = None,
    tool_description_override: str | None = None,
) -> Handoff[Any, Agent[Any]]:
    """A handoff to ``agent`` whose arguments are ``contract``'s payload (the SDK's
    ``handoff(agent, input_type=...)``, with seamline carrying the payload to ``agent``).

    The model sees the contract's JSON Schema, strict when the SDK can make it so (a
    free-form map keeps it non-strict); the arguments are validated by seamline, so one
    that breaks the contract walks its failure policy instead of failing the SDK run.
    """
    tool_name = tool_name_override or Handoff.default_tool_name(agent)
    try:
        schema, strict = ensure_strict_json_schema(contract.model.model_json_schema()), True
    except UserError:  # an open object (dict[str, Any]): the model gets the plain schema
        schema, strict = contract.model.model_json_schema(), False
    description = tool_description_override or (
        f"{Handoff.default_tool_description(agent)} The arguments are {contract.ref}"
        + (f": {contract.description}" if contract.description else ".")
    )
    return Handoff(
        tool_name=tool_name,
        tool_description=description,
        input_json_schema=schema,
        on_invoke_handoff=_Proposer(agent, contract, tool_name),
        agent_name=agent.name,
        strict_json_schema=strict,
    )


@dataclass(frozen=True, slots=True)
class _Step:
    """One SDK agent as a seamline agent: its run from the handoff it was given to its own."""

    sdk: Agent[Any]
    context: Any
    run_config: RunConfig | None
    max_turns: int

    async def __call__(self, payload: BaseModel, ctx: Context) -> Outcome:
        messages = [_user(_delivery(payload, ctx))]
        if ctx.feedback:
            messages.append(_user(_rejection(ctx.feedback)))
        entered = _in_step.set(True)
        try:
            result = await Runner.run(
                self.sdk,
                messages,
                context=self.context,
                max_turns=self.max_turns,
                run_config=self.run_config,
            )
        except _HandedOff as handed:
            proposer = handed.proposer
            return HandOff(
                to=proposer.target.name,
                payload=_arguments(self.sdk, proposer, handed.arguments),
                contract=proposer.contract.name,
            )
        finally:
            _in_step.reset(entered)
        if result.interruptions:
            tools = ", ".join(sorted({str(item.tool_name) for item in result.interruptions}))
            return Escalate(
                f"{self.sdk.name} stopped for approval of {tools} (an SDK interruption); "
                "seamline cannot resume an SDK RunState: put a seamline gate on the handoff "
                "instead, or approve the call inside the agent"
            )
        return Finish(result.final_output)


def _user(text: str) -> TResponseInputItem:
    return {"role": "user", "content": text}


def _delivery(payload: BaseModel, ctx: Context) -> str:
    """What the receiving SDK agent reads: the handoff itself, not the sender's transcript."""
    if isinstance(payload, Prompt):
        return payload.text
    handoff = {
        "intent": ctx.intent,
        "from": str(ctx.envelope.source),
        "contract": str(ctx.envelope.contract),
        "input": jsonable(payload),
    }
    return json.dumps(handoff, indent=2)


def _rejection(issues: Sequence[Issue]) -> str:
    listed = "\n".join(f"- {issue}" for issue in issues)
    return (
        "Your handoff was rejected by the receiving agent's contract, so nothing was handed "
        f"off. Fix every issue and hand off again:\n{listed}"
    )


def _arguments(sender: Agent[Any], proposer: _Proposer, arguments: str) -> dict[str, Any]:
    """The handoff's payload. Arguments that are not a JSON object are the sender's fault
    (its model misbehaved), not a payload the receiver's contract could judge."""
    fault = f"{sender.name}'s model called {proposer.tool_name} with arguments that are not"
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError as error:
        raise AgentError(f"{fault} JSON ({error})") from None
    if not isinstance(value, dict):
        raise AgentError(f"{fault} a JSON object but a {type(value).__name__}")
    return value


class AgentTeam:
    """SDK agents as seamline agents, to register with a :class:`~seamline.Registry`.

    The team is every agent reachable from ``entries`` through contracted handoffs. Each
    accepts the contracts handed to it (``^version`` of the newest; older versions reach it
    through the registry's migrations) and emits those of its own handoffs; each entry also
    accepts :data:`PROMPT`. ``context``, ``run_config`` and ``max_turns`` go to every
    ``Runner.run`` of the team's agents, wherever seamline runs them (a gate approved in
    another process, a replayed dead letter).

    Example:
        ```python
        refunds = Agent(name="refunds", instructions="...")
        triage = Agent(name="triage", instructions="...",
                       handoffs=[contracted_handoff(refunds, refund_v1)])
        team = AgentTeam(triage, owner="support", version="1.0.0")
        runtime = Runtime(Registry(agents=team.agents, contracts=team.contracts),
                          SqliteStore("seamline.db"))
        result = await run(runtime, triage, "My lamp arrived broken, refund me")
        ```
    """

    def __init__(
        self,
        *entries: Agent[Any],
        owner: str,
        version: str,
        context: Any = None,
        run_config: RunConfig | None = None,
        max_turns: int = DEFAULT_MAX_TURNS,
    ) -> None:
        if not entries:
            raise ConfigurationError("an AgentTeam needs at least one entry agent")
        members = _members(entries)
        accepts: dict[str, dict[str, Contract[Any]]] = {name: {} for name in members}
        emits: dict[str, dict[str, Contract[Any]]] = {name: {} for name in members}
        for entry in entries:
            accepts[entry.name][PROMPT.name] = PROMPT
        for sender, proposer in _proposers(members.values()):
            contract = proposer.contract
            sent = emits[sender.name].setdefault(contract.name, contract)
            if sent is not contract:
                raise ConfigurationError(
                    f"{sender.name} hands off {sent.ref} and {contract.ref}; an agent emits one "
                    "version of a contract, so migrate the older handoff"
                )
            taken = accepts[proposer.target.name]
            if contract.name not in taken or contract.version > taken[contract.name].version:
                taken[contract.name] = contract
        self.contracts: tuple[Contract[Any], ...] = tuple(
            {id(c): c for c in [PROMPT, *(c for e in emits.values() for c in e.values())]}.values()
        )
        """:data:`PROMPT` and every contract the team's handoffs carry."""
        self.agents: tuple[SeamlineAgent, ...] = tuple(
            agent(
                name=name,
                version=version,
                owner=owner,
                accepts={c.name: f"^{c.version}" for c in accepts[name].values()},
                emits={c.name: str(c.version) for c in emits[name].values()},
                description=sdk.handoff_description or f"OpenAI Agents SDK agent {name}",
            )(_Step(sdk, context, run_config, max_turns))
            for name, sdk in members.items()
        )
        """The team's agents, by SDK agent name."""


def _members(entries: Iterable[Agent[Any]]) -> dict[str, Agent[Any]]:
    """Every agent reachable through contracted handoffs, by name (names must be unique)."""
    members: dict[str, Agent[Any]] = {}
    waiting = list(entries)
    while waiting:
        sdk = waiting.pop()
        known = members.get(sdk.name)
        if known is sdk:
            continue
        if known is not None:
            raise ConfigurationError(
                f"two different SDK agents are named {sdk.name!r}; seamline addresses agents "
                "by name, so give each a unique one"
            )
        members[sdk.name] = sdk
        waiting.extend(proposer.target for _, proposer in _proposers([sdk]))
    return members


def _proposers(senders: Iterable[Agent[Any]]) -> list[tuple[Agent[Any], _Proposer]]:
    """Each sender's contracted handoffs; a plain one is refused, naming the fix."""
    found = []
    for sender in senders:
        for handoff in sender.handoffs:
            proposer = getattr(handoff, "on_invoke_handoff", None)
            if not isinstance(proposer, _Proposer):
                target = handoff.agent_name if isinstance(handoff, Handoff) else handoff.name
                raise ConfigurationError(
                    f"{sender.name} hands off to {target} without a contract; in a seamline "
                    f"team every handoff is contracted: contracted_handoff({target}, contract)"
                )
            found.append((sender, proposer))
    return found


async def run(
    runtime: Runtime,
    agent: Agent[Any],
    input: str,
    *,
    constraints: Constraints | None = None,
    workflow_id: str | None = None,
) -> RunResult:
    """Run a workflow that starts by giving ``input`` (the user's words, also its intent)
    to the SDK ``agent`` of a team registered with ``runtime``; returns when it ends or
    waits at a gate (``result.status``). To start at an agent with a typed payload instead,
    call ``runtime.run(agent.name, payload, intent=...)``.
    """
    return await runtime.run(
        agent.name,
        {"text": input},
        intent=input,
        constraints=constraints,
        contract=PROMPT.name,
        workflow_id=workflow_id,
    )
