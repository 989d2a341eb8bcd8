"""A seamline agent served over A2A: the card, the executor, and the ASGI app around them.

The executor turns an A2A message into the first handoff of a workflow on the agent's own
runtime, so the contract, the ledger, evaluators, gates, the failure policy and dead
letters apply exactly as for a local caller; the A2A task is a view of that workflow.

- Task id and workflow id are one id: ``seamline workflows show TASK_ID`` on the server.
  The contextId (the sender's correlation id) names the workflow: ``a2a:CONTEXT_ID``.
- A seamline sender's envelope keys the handoff: a retried message (same handoff, same
  attempt) runs nothing new and reports the recorded outcome, and two messages for one
  handoff in flight at once share one run. The key is derived from the sender's handoff id,
  so a sender and receiver sharing one store never mistake each other's handoffs.
- The sender's source is not taken on its word: the first handoff comes from ``external``,
  so a gate on the ``external -> agent`` edge cannot be stepped around by naming another
  sender. The hop count does travel, so a loop across seams still spends one hop budget.
- A run is shielded from the A2A task's cancellation: a step in flight finishes and is
  recorded rather than being cut off halfway. Cancelling a task that waits at a gate
  rejects the gate (the handoff is dead-lettered with the reason, and can be replayed);
  cancelling a running one stops its workflow after the step in flight (``Runtime.cancel``:
  a ``canceled`` dead letter, replayable); a workflow whose last step was in flight ends.
- Nothing is logged beyond ids, contract names and states: payloads and envelopes can hold
  sensitive values, and only the receiving agent may see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from a2a.helpers import get_data_parts, get_message_text, new_task, new_text_part
from a2a.server.agent_execution import (
    AgentExecutor,
    RequestContext,
    SimpleRequestContextBuilder,
)
from a2a.server.events import EventQueue
from a2a.server.id_generator import IDGenerator, IDGeneratorContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore, TaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    Message,
    Task,
    TaskState,
)
from a2a.utils import TransportProtocol
from pydantic import ValidationError
from starlette.applications import Starlette

from seamline.contracts import EXTERNAL, AgentRef, Envelope
from seamline.exceptions import ConfigurationError, ConflictError, HandoffValidationError, Issue
from seamline.gates import Decision, gate_view
from seamline.interop._a2a_wire import (
    HANDOFF_EXTENSION,
    JSON,
    WORKFLOW_STATES,
    data_part,
    exact,
    extension_data,
    issue_dicts,
    validation_issues,
)
from seamline.registry import Registry
from seamline.runtime import RunResult, Runtime
from seamline.stores import WorkflowStatus
from seamline.types import new_id, utcnow

__all__ = ["JSONRPC_PATH", "REST_PATH", "a2a_app", "agent_card"]

JSONRPC_PATH = "/a2a/jsonrpc"
"""Where the JSON-RPC binding is served, below the app's URL (A2A 1.0, and 0.3 clients)."""
REST_PATH = "/a2a/rest"
"""Where the HTTP+JSON binding is served, below the app's URL."""

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, HANDOFF_EXTENSION)
_CANCELLED_BY = "a2a-client"

_log = logging.getLogger("seamline.a2a")


def agent_card(registry: Registry, agent: str, *, url: str) -> AgentCard:
    """The A2A card of ``agent``, served at ``url`` (the app's public base URL).

    Its skill carries the agent's capability tags; the handoff-contract extension's params
    list each contract it accepts: the version range, the registered versions in it, the
    owner and the JSON Schema of the newest one, so a plain A2A client can build a payload.
    """
    one = registry.agent(agent)
    base = url.rstrip("/")
    accepted = []
    for name, versions in sorted(one.card.accepts.items()):
        readable = [c for c in registry.versions(name) if versions.admits(c.version)]
        newest = readable[-1]
        accepted.append(
            {
                "name": name,
                "versions": str(versions),
                "registered": [str(c.version) for c in readable],
                "owner": newest.owner,
                "schema": newest.json_schema(),
            }
        )
    extension = AgentExtension(
        uri=HANDOFF_EXTENSION,
        description=(
            "seamline handoff contracts: send the payload as one data part "
            "(application/json); a seamline sender puts its envelope in the message "
            "metadata under this URI. The payload is validated against the contract before "
            "the agent runs; a refused one ends the task REJECTED with every issue."
        ),
        required=False,
        params={"agent": one.card.ref, "contracts": accepted},
    )
    return AgentCard(
        name=one.name,
        description=one.card.description or f"seamline agent {one.name}, owned by {one.card.owner}",
        version=str(one.card.version),
        provider=AgentProvider(organization=one.card.owner, url=base),
        supported_interfaces=[
            AgentInterface(
                url=base + JSONRPC_PATH,
                protocol_binding=TransportProtocol.JSONRPC,
                protocol_version="1.0",
            ),
            AgentInterface(
                url=base + REST_PATH,
                protocol_binding=TransportProtocol.HTTP_JSON,
                protocol_version="1.0",
            ),
            AgentInterface(
                url=base + JSONRPC_PATH,
                protocol_binding=TransportProtocol.JSONRPC,
                protocol_version="0.3",
            ),
        ],
        capabilities=AgentCapabilities(
            streaming=True, push_notifications=False, extensions=[extension]
        ),
        default_input_modes=[JSON, "text/plain"],
        default_output_modes=[JSON],
        skills=[
            AgentSkill(
                id=one.name,
                name=one.name,
                description=one.card.description or f"receives {', '.join(one.card.accepts)}",
                # A2A requires at least one tag; an agent without capabilities is its name.
                tags=sorted(one.card.capabilities) or [one.name],
            )
        ],
    )


def a2a_app(
    runtime: Runtime,
    agent: str,
    *,
    url: str,
    task_store: TaskStore | None = None,
    poll: float = 0.5,
) -> Starlette:
    """An ASGI app serving ``agent`` of ``runtime`` over A2A: its card at
    ``/.well-known/agent-card.json``, JSON-RPC at ``/a2a/jsonrpc`` and HTTP+JSON at
    ``/a2a/rest``, all below ``url``, the base URL clients reach it at (mount several
    agents under prefixes of one host, each with its own ``url``).

    ``poll`` is how often, in seconds, a task waiting at a gate checks the ledger for the
    decision, which people take through seamline (console, API or CLI), not through A2A.
    A2A tasks live in ``task_store`` (in memory by default); the workflows they show are
    in the runtime's store either way.
    """
    if poll <= 0:
        raise ConfigurationError(f"poll must be a positive number of seconds, got {poll}")
    card = agent_card(runtime.registry, agent, url=url)
    handler = DefaultRequestHandler(
        agent_executor=_Executor(runtime, agent, poll),
        task_store=task_store or InMemoryTaskStore(),
        agent_card=card,
        request_context_builder=SimpleRequestContextBuilder(task_id_generator=_WorkflowIds()),
        validate_input_modes=True,  # a part of a media type the card does not list: -32005
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await handler.aclose()

    return Starlette(
        routes=[
            *create_agent_card_routes(card),
            *create_jsonrpc_routes(handler, rpc_url=JSONRPC_PATH, enable_v0_3_compat=True),
            *create_rest_routes(handler, path_prefix=REST_PATH),
        ],
        lifespan=lifespan,
    )


class _WorkflowIds(IDGenerator):
    """Task ids are workflow ids, so they are made like the runtime's: time-ordered."""

    def generate(self, context: IDGeneratorContext) -> str:
        return new_id()


class _Refused(Exception):
    """The message cannot become a handoff; the task ends REJECTED with these issues."""

    def __init__(self, message: str, issues: list[Issue]) -> None:
        super().__init__(message)
        self.issues = issues


class _Executor(AgentExecutor):
    """Runs each A2A task as a workflow of one agent and mirrors its state onto the task."""

    def __init__(self, runtime: Runtime, agent: str, poll: float) -> None:
        self.runtime = runtime
        self.agent = runtime.registry.agent(agent)
        self.poll = poll
        self._runs: dict[str, asyncio.Future[RunResult]] = {}
        """Deliveries in flight by handoff key, so a repeated message joins the first."""
        self._workflows: dict[str, str] = {}
        """A2A task id -> the workflow it shows (another id when a handoff was repeated)."""
        self._cancelling: set[str] = set()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        task_id, context_id = context.task_id, context.context_id
        assert message is not None and task_id and context_id  # the SDK fills them in
        updater = TaskUpdater(event_queue, task_id, context_id)
        if context.current_task is not None:
            # A follow-up to a task left waiting (a persistent task store outlived this
            # process): keep showing its workflow.
            result = self.runtime.result(_workflow_of(context.current_task))
        else:
            await event_queue.enqueue_event(
                new_task(task_id, context_id, TaskState.TASK_STATE_SUBMITTED, history=[message])
            )
            await updater.start_work()
            try:
                result = await self._start(message, task_id, context_id)
            except _Refused as refused:
                _log.info("A2A task %s rejected: %d issue(s)", task_id, len(refused.issues))
                detail = {"status": "rejected", "issues": issue_dicts(refused.issues)}
                await updater.reject(_status(updater, str(refused), detail))
                return
        self._workflows[task_id] = result.workflow_id
        try:
            await self._follow(updater, result)
        finally:
            del self._workflows[task_id]

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task_id, context_id = context.task_id, context.context_id
        assert task_id and context_id  # cancel names an existing task
        self._cancelling.add(task_id)
        try:
            workflow_id = self._workflows.get(task_id)
            if workflow_id is not None:
                await self._withdraw(task_id, workflow_id)
            _log.info("A2A task %s canceled (workflow %s)", task_id, workflow_id)
            await TaskUpdater(event_queue, task_id, context_id).cancel()
        finally:
            self._cancelling.discard(task_id)

    async def _withdraw(self, task_id: str, workflow_id: str) -> None:
        """Stop a canceled task's workflow. Running, it stops after the step in flight
        (``Runtime.cancel``: the open handoff becomes a ``canceled`` dead letter). Waiting,
        its gates are rejected by the client: the client withdrew the request, so the
        handoff goes to the dead-letter queue, where it can be replayed."""
        status = self.runtime.result(workflow_id).status
        if status is WorkflowStatus.RUNNING:
            with contextlib.suppress(ConflictError):  # it ended meanwhile: that stands
                self.runtime.cancel(
                    workflow_id, reason=f"A2A task {task_id} was canceled by its client"
                )
            return
        if status is not WorkflowStatus.WAITING:
            return
        for gate in self._open_gates(workflow_id):
            # ConflictError: its owner decided meanwhile, and that decision stands.
            with contextlib.suppress(ConflictError):
                await self.runtime.decide(
                    gate["id"],
                    Decision.REJECT,
                    by=_CANCELLED_BY,
                    reason=f"A2A task {task_id} was canceled by its client",
                )

    async def _start(self, message: Message, task_id: str, context_id: str) -> RunResult:
        """Deliver the message as the workflow's first handoff; _Refused if it cannot be one."""
        payload = _payload(message)
        extension = extension_data(message.metadata)
        name = f"a2a:{context_id}"
        run: Callable[[], Awaitable[RunResult]]
        if isinstance(extension, dict) and "envelope" in extension:
            envelope = self._envelope(extension, payload, task_id)
            key = envelope.handoff_id

            def run() -> Awaitable[RunResult]:
                return self.runtime.deliver(envelope, name=name)

        else:  # a plain A2A client: its text is the intent, its contract the agent's only one
            key = task_id
            intent = get_message_text(message)

            def run() -> Awaitable[RunResult]:
                return self.runtime.run(
                    self.agent.name, payload, intent=intent, workflow_id=task_id, name=name
                )

        try:
            return await self._once(key, run)
        except HandoffValidationError as error:
            raise _Refused(str(error), list(error.issues)) from None
        except ConfigurationError as error:  # no contract to read it as, or none that fits
            raise _Refused(str(error), []) from None

    async def _once(self, key: str, run: Callable[[], Awaitable[RunResult]]) -> RunResult:
        """Run one delivery per key at a time, shielded from the waiting task's cancellation."""
        running = self._runs.get(key)
        if running is None:
            running = asyncio.ensure_future(run())
            self._runs[key] = running

            def forget(done: asyncio.Future[RunResult]) -> None:
                del self._runs[key]
                if not done.cancelled():
                    done.exception()  # its waiters report it; none may be left to ask

            running.add_done_callback(forget)
        return await asyncio.shield(running)

    def _envelope(
        self, extension: dict[str, Any], payload: dict[str, Any], task_id: str
    ) -> Envelope:
        """The sender's envelope made this workflow's first: keyed, sourced and addressed here."""
        try:
            incoming = Envelope.model_validate({**extension["envelope"], "payload": payload})
        except (ValidationError, TypeError) as error:
            issues = (
                validation_issues(error, f"metadata.{HANDOFF_EXTENSION}.envelope")
                if isinstance(error, ValidationError)
                else []
            )
            raise _Refused(
                "the seamline envelope in the message metadata is malformed; send the envelope "
                "of the handoff as seamline serializes it",
                issues,
            ) from None
        attempt = extension.get("attempt", 1)
        sensitive = set(incoming.sensitive)
        fallback_owner = None
        try:
            contract = self.runtime.registry.contract(
                incoming.contract.name, incoming.contract.version
            )
        except ConfigurationError:
            pass  # an unknown contract or version: the boundary refuses it, naming what it knows
        else:
            sensitive |= contract.sensitive
            fallback_owner = contract.fallback_owner
        return incoming.model_copy(
            update={
                "handoff_id": str(uuid.uuid5(_NAMESPACE, f"{incoming.handoff_id}.{attempt}")),
                "correlation_id": task_id,
                "parent_id": None,
                "source": EXTERNAL,
                "destination": AgentRef(name=self.agent.name, version=str(self.agent.card.version)),
                "sensitive": tuple(sorted(sensitive)),
                "facts": {},
                "fallback_owner": fallback_owner,
                "created_at": utcnow(),
            }
        )

    async def _follow(self, updater: TaskUpdater, result: RunResult) -> None:
        """Show the workflow's state on the task until it ends: a gate's wait is
        INPUT_REQUIRED, and the ledger is read every ``poll`` seconds for the decision."""
        shown = TaskState.TASK_STATE_WORKING
        while True:
            if updater.task_id in self._cancelling:
                return
            state = WORKFLOW_STATES[result.status]
            if state == TaskState.TASK_STATE_COMPLETED:
                await self._complete(updater, result)
                return
            if state == TaskState.TASK_STATE_FAILED:
                await self._fail(updater, result)
                return
            if state != shown:
                shown = state
                if state == TaskState.TASK_STATE_INPUT_REQUIRED:
                    await self._wait(updater, result.workflow_id)
                else:
                    await updater.start_work(_status(updater, "running", _detail(result)))
            await asyncio.sleep(self.poll)
            result = self.runtime.result(result.workflow_id)

    async def _complete(self, updater: TaskUpdater, result: RunResult) -> None:
        try:
            part = data_part(result.result)
        except ValueError as error:
            detail = {**_detail(result), "status": "unsendable"}
            text = f"workflow {result.workflow_id} completed, but its result cannot travel: {error}"
            await updater.failed(_status(updater, text, detail))
            return
        await updater.add_artifact(
            [part], name="result", metadata={HANDOFF_EXTENSION: _detail(result)}
        )
        _log.info("A2A task %s completed (workflow %s)", updater.task_id, result.workflow_id)
        await updater.complete(_status(updater, "completed", _detail(result)))

    async def _fail(self, updater: TaskUpdater, result: RunResult) -> None:
        outcome = result.result if isinstance(result.result, dict) else {}
        detail = _detail(result)
        if result.dead_letter_id is not None:
            letter = self.runtime.ledger.dead_letter(result.dead_letter_id)
            detail |= {
                "dead_letter_id": letter.id,
                "reason": letter.reason,
                "issues": json.loads(letter.issues),
            }
        if "owner" in outcome:
            detail["owner"] = outcome["owner"]
        text = (
            f"workflow {result.workflow_id} ended {result.status.value}: "
            f"{outcome.get('message') or outcome.get('reason') or 'see the ledger'}"
        )
        _log.info(
            "A2A task %s failed: workflow %s %s",
            updater.task_id,
            result.workflow_id,
            result.status.value,
        )
        await updater.failed(_status(updater, text, detail))

    async def _wait(self, updater: TaskUpdater, workflow_id: str) -> None:
        gates = self._open_gates(workflow_id)
        owners = ", ".join(sorted({gate["owner"] for gate in gates})) or "its owner"
        text = f"waiting for {owners} to decide at a human gate; the task resumes on the decision"
        detail = {
            "status": WorkflowStatus.WAITING.value,
            "workflow_id": workflow_id,
            "gates": gates,
        }
        _log.info("A2A task %s waits at a gate (workflow %s)", updater.task_id, workflow_id)
        await updater.requires_input(_status(updater, text, detail))

    def _open_gates(self, workflow_id: str) -> list[dict[str, Any]]:
        """The workflow's open gates as people see them (masked), for the status message."""
        gates = []
        for view in self.runtime.ledger.handoffs(workflow_id):
            gate = gate_view(view)
            if gate is not None and gate.is_open:
                gates.append(
                    {
                        "id": gate.id,
                        "owner": gate.owner,
                        "headline": gate.headline,
                        "deadline": gate.deadline.isoformat() if gate.deadline else None,
                    }
                )
        return gates


def _payload(message: Message) -> dict[str, Any]:
    """The message's one JSON object data part: the handoff's payload."""
    found = get_data_parts(message.parts)
    if len(found) != 1 or not isinstance(found[0], dict):
        raise _Refused(
            f"send the payload as exactly one data part holding a JSON object "
            f"({JSON}); this message has {len(found)} data part(s)",
            [Issue("message.parts", "expected one JSON object data part", "no_payload")],
        )
    return dict(exact(found[0]))


def _detail(result: RunResult) -> dict[str, Any]:
    return {"status": result.status.value, "workflow_id": result.workflow_id}


def _status(updater: TaskUpdater, text: str, detail: dict[str, Any]) -> Message:
    """A status message: words for people, the same facts under the extension for code."""
    return updater.new_agent_message(
        [new_text_part(text, media_type="text/plain")], metadata={HANDOFF_EXTENSION: detail}
    )


def _workflow_of(task: Task) -> str:
    detail = extension_data(task.status.message.metadata)
    if isinstance(detail, dict) and isinstance(detail.get("workflow_id"), str):
        return str(detail["workflow_id"])
    return str(task.id)
