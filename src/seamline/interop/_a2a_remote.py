"""A remote A2A agent as a seamline destination: an Agent whose function makes the call.

Because the remote is an ordinary agent in the registry, the runtime treats it like any
receiver: the payload is validated against the contract before anything is sent, and the
call runs under the contract's timeout, retries, circuit breaker, fallback and dead-letter
queue. What the remote says comes back in seamline's terms:

- COMPLETED: its result (the artifact's data part, else its text) is the reply. With
  ``reply`` the reply is validated against that contract; with ``then`` it is handed on to
  that agent, whose boundary validates it, so a bad reply walks the contract's failure
  policy and ends in a dead letter listing every issue.
- INPUT_REQUIRED from a seamline agent is a human gate over there: the task is polled until
  it is decided. From another agent it asks for input no handoff can give: a failure.
- FAILED, REJECTED (the remote's contract refused the payload: its issues are named),
  CANCELED, AUTH_REQUIRED: an AgentError, permanent, down the failure policy.
- An unreachable agent, a timeout or a 5xx: a TransientError, retried under the contract's
  ``retries`` with backoff. The message id and the envelope key each handoff and attempt,
  so a retried message is recognised by a seamline receiver and runs nothing twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, Literal

import anyio
import httpx
from a2a.client import (
    A2ACardResolver,
    A2AClientTimeoutError,
    Client,
    ClientCallContext,
    ClientConfig,
    ClientFactory,
)
from a2a.client.service_parameters import ServiceParametersFactory, with_a2a_extensions
from a2a.extensions.common import find_extension_by_uri
from a2a.helpers import get_data_parts, get_text_parts, new_text_part
from a2a.types import (
    AgentCard as A2ACard,
)
from a2a.types import (
    GetTaskRequest,
    Message,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils import AGENT_CARD_WELL_KNOWN_PATH
from a2a.utils.errors import A2AError
from pydantic import BaseModel, ValidationError

from seamline.agents import Agent, AgentCard, Context, Finish, HandOff, Outcome
from seamline.contracts import Contract, Version, VersionRange
from seamline.exceptions import (
    AgentError,
    ConfigurationError,
    HandoffValidationError,
    RegistryError,
    TransientError,
)
from seamline.interop._a2a_wire import (
    HANDOFF_EXTENSION,
    JSON,
    TERMINAL,
    data_part,
    exact,
    extension_data,
    issues_from,
    struct_dict,
    validation_issues,
)
from seamline.stores import WorkflowStatus

__all__ = ["Binding", "remote_agent"]

Binding = Literal["JSONRPC", "HTTP+JSON"]
_BINDINGS: tuple[Binding, ...] = ("JSONRPC", "HTTP+JSON")


async def remote_agent(
    card_url: str,
    *,
    name: str | None = None,
    owner: str | None = None,
    accepts: Mapping[str, str] | None = None,
    reply: Contract[Any] | None = None,
    then: str | None = None,
    binding: Binding | None = None,
    timeout: float = 30.0,
    poll: float = 1.0,
    http: httpx.AsyncClient | None = None,
) -> Agent:
    """Read the A2A agent card at ``card_url`` (or a base URL, whose well-known card is
    read) and return an Agent that hands off to it, for a seamline registry.

    The card gives the name, version, description, capabilities (its skills' tags) and,
    through the seamline handoff-contract extension, the contracts and version ranges it
    accepts; ``name`` registers it under another name, ``owner`` names its owning team when
    the card names no provider organization, and ``accepts`` (``{"contract": "^1"}``) is
    needed for an agent whose card does not declare the extension (it overrides the card).
    The contracts themselves must be registered locally: the payload is validated here
    before it is sent.

    ``reply`` validates what comes back; ``then`` hands it on to that agent (under
    ``reply``'s contract if given) instead of finishing the workflow with it. ``binding``
    picks JSON-RPC or HTTP+JSON (by default the card's first that this client speaks);
    ``timeout`` bounds each HTTP request, ``poll`` is how often a task waiting at the
    remote's gate is checked; ``http`` is the client to use (its own settings then apply).

    Raises RegistryError when the card cannot be read or does not describe an agent
    seamline can hand off to, naming every problem.
    """
    if poll <= 0 or timeout <= 0:
        raise ConfigurationError(
            f"timeout and poll must be positive numbers of seconds, got {timeout} and {poll}"
        )
    if not card_url.endswith(".json"):
        card_url = card_url.rstrip("/") + AGENT_CARD_WELL_KNOWN_PATH
    async with _client(http, timeout) as client:
        try:
            card = await A2ACardResolver(client, card_url, agent_card_path="").get_agent_card()
        except A2AError as error:
            raise RegistryError(
                f"cannot read the A2A agent card at {card_url}: {error}; check the URL and "
                "that the agent is up"
            ) from None
    local = _local_card(card, card_url, name=name, owner=owner, accepts=accepts, binding=binding)
    if reply is not None and then is not None:
        local = replace(local, emits={reply.name: reply.version})
    remote = _Remote(
        card,
        local.name,
        reply=reply,
        then=then,
        binding=binding,
        timeout=timeout,
        poll=poll,
        http=http,
    )
    return Agent(card=local, fn=remote)


def _local_card(
    card: A2ACard,
    url: str,
    *,
    name: str | None,
    owner: str | None,
    accepts: Mapping[str, str] | None,
    binding: Binding | None,
) -> AgentCard:
    """The registry's card for the remote, or RegistryError naming every problem."""
    problems: list[str] = []
    name = name or card.name
    if not name:
        problems.append("it has no name (pass name=)")
    try:
        version = Version.parse(card.version)
    except ConfigurationError:
        problems.append(f"its version {card.version!r} is not MAJOR.MINOR.PATCH")
        version = Version(0)
    owner = owner or card.provider.organization
    if not owner:
        problems.append("it names no provider organization to own it (pass owner=)")
    wanted = (binding,) if binding else _BINDINGS
    if not {i.protocol_binding for i in card.supported_interfaces} & set(wanted):
        problems.append(f"it lists no {' or '.join(wanted)} interface")
    ranges: dict[str, VersionRange] = {}
    if accepts is not None:
        try:
            ranges = {contract: VersionRange.parse(spec) for contract, spec in accepts.items()}
        except ConfigurationError as error:
            problems.append(f"accepts: {error}")
    else:
        ranges = _declared_ranges(card, problems)
    if problems:
        raise RegistryError(
            f"the A2A agent card at {url} cannot be registered: {'; '.join(problems)}"
        )
    return AgentCard(
        name=name,
        version=version,
        owner=owner,
        capabilities=frozenset(tag for skill in card.skills for tag in skill.tags),
        accepts=ranges,
        description=card.description,
    )


def _declared_ranges(card: A2ACard, problems: list[str]) -> dict[str, VersionRange]:
    """The contracts the card's handoff-contract extension says the agent accepts."""
    extension = find_extension_by_uri(card, HANDOFF_EXTENSION)
    if extension is None:
        problems.append(
            f"it does not declare the seamline handoff-contract extension ({HANDOFF_EXTENSION}),"
            " so it does not say which contracts it accepts (pass accepts={'contract': '^1'})"
        )
        return {}
    declared = struct_dict(extension.params).get("contracts")
    where = "the handoff-contract extension's params.contracts"
    if not isinstance(declared, list) or not declared:
        problems.append(f"{where} is missing or empty")
        return {}
    ranges = {}
    for index, entry in enumerate(declared):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("versions"), str)
        ):
            problems.append(f"{where}[{index}] needs a name and a versions range, got {entry!r}")
            continue
        try:
            ranges[entry["name"]] = VersionRange.parse(entry["versions"])
        except ConfigurationError as error:
            problems.append(f"{where}[{index}].versions: {error}")
    return ranges


@asynccontextmanager
async def _client(
    http: httpx.AsyncClient | None, timeout: float
) -> AsyncIterator[httpx.AsyncClient]:
    """The caller's HTTP client, or a fresh one for this call (an event loop of its own
    cannot share a client with another, and runs come and go with their loops)."""
    if http is not None:
        yield http
        return
    async with httpx.AsyncClient(timeout=timeout) as client:
        yield client


class _Remote:
    """The function of a remote agent: one handoff, one A2A task, its result as an outcome."""

    def __init__(
        self,
        card: A2ACard,
        name: str,
        *,
        reply: Contract[Any] | None,
        then: str | None,
        binding: Binding | None,
        timeout: float,
        poll: float,
        http: httpx.AsyncClient | None,
    ) -> None:
        self.card = card
        self.name = name
        self.reply = reply
        self.then = then
        self.binding = binding
        self.timeout = timeout
        self.poll = poll
        self.http = http

    async def __call__(self, payload: BaseModel, ctx: Context) -> Outcome:
        envelope = ctx.envelope
        try:
            parts = [data_part(envelope.payload)]
        except ValueError as error:
            raise AgentError(f"cannot hand off to {self.name} over A2A: {error}") from None
        if envelope.intent.text:
            parts.insert(0, new_text_part(envelope.intent.text, media_type="text/plain"))
        extension = {
            "envelope": envelope.model_dump(mode="json", exclude={"payload"}),
            "attempt": ctx.attempt,
        }
        message = Message(
            role=Role.ROLE_USER,
            # One id per handoff and attempt: a retried message is the same message.
            message_id=f"{envelope.handoff_id}.{ctx.attempt}",
            context_id=envelope.correlation_id,
            parts=parts,
            extensions=[HANDOFF_EXTENSION],
            metadata={HANDOFF_EXTENSION: extension},
        )
        try:
            answer = await self._exchange(message)
        except A2AError as error:
            if _transient(error):
                raise TransientError(f"{self.name} over A2A: {error}") from None
            raise AgentError(f"{self.name} over A2A: {type(error).__name__}: {error}") from None
        return self._outcome(_reply(answer), envelope.handoff_id)

    async def _exchange(self, message: Message) -> Task | Message:
        """Send the message and wait for the task to end (polling through a gate's wait)."""
        call = ClientCallContext(
            service_parameters=ServiceParametersFactory.create(
                [with_a2a_extensions([HANDOFF_EXTENSION])]
            )
        )
        request = SendMessageRequest(
            message=message,
            configuration=SendMessageConfiguration(accepted_output_modes=[JSON, "text/plain"]),
        )
        async with _client(self.http, self.timeout) as http:
            config = ClientConfig(
                httpx_client=http,
                streaming=False,
                supported_protocol_bindings=[self.binding] if self.binding else list(_BINDINGS),
                use_client_preference=self.binding is not None,
            )
            client: Client = ClientFactory(config).create(self.card)
            async with client:
                answer = _answer(
                    [event async for event in client.send_message(request, context=call)]
                )
                while isinstance(answer, Task) and not _settled(answer):
                    await anyio.sleep(self.poll)
                    answer = await client.get_task(GetTaskRequest(id=answer.id), context=call)
        return answer

    def _outcome(self, value: Any, handoff_id: str) -> Outcome:
        if self.then is not None:
            if not isinstance(value, dict):
                raise AgentError(
                    f"{self.name} replied with a {type(value).__name__}, not a JSON object, so "
                    f"it cannot be handed on to {self.then}"
                )
            return HandOff(
                to=self.then, payload=value, contract=self.reply.name if self.reply else None
            )
        if self.reply is None:
            return Finish(value)
        try:
            return Finish(self.reply.model.model_validate(value))
        except ValidationError as error:
            raise HandoffValidationError(
                contract=self.reply.ref,
                issues=validation_issues(error, "reply"),
                handoff_id=handoff_id,
            ) from None


def _settled(task: Task) -> bool:
    """Whether the task is done with (or cannot go on); a seamline gate's wait is not."""
    state = task.status.state
    if state in TERMINAL or state == TaskState.TASK_STATE_AUTH_REQUIRED:
        return True
    if state == TaskState.TASK_STATE_INPUT_REQUIRED:
        detail = extension_data(task.status.message.metadata)
        return not (isinstance(detail, dict) and detail.get("status") == WorkflowStatus.WAITING)
    return False  # submitted or working: not there yet


def _answer(events: list[StreamResponse]) -> Task | Message:
    """The task or message a non-streaming send returned."""
    if len(events) == 1 and events[0].HasField("task"):
        return events[0].task
    if len(events) == 1 and events[0].HasField("message"):
        return events[0].message
    raise AgentError(f"an A2A send returned {len(events)} events instead of a task or a message")


def _reply(answer: Task | Message) -> Any:
    """What the remote answered, in seamline's terms, or the AgentError it amounts to."""
    if isinstance(answer, Message):
        return _content([answer.parts])
    state = answer.status.state
    said = " ".join(get_text_parts(answer.status.message.parts)) or "no reason given"
    detail = extension_data(answer.status.message.metadata)
    issues = issues_from(detail.get("issues")) if isinstance(detail, dict) else []
    if state == TaskState.TASK_STATE_COMPLETED:
        return _content(
            [artifact.parts for artifact in answer.artifacts] or [answer.status.message.parts]
        )
    if state == TaskState.TASK_STATE_REJECTED and issues:
        listed = "; ".join(str(issue) for issue in issues)
        raise AgentError(f"task {answer.id} rejected by the remote's contract: {listed}")
    if state == TaskState.TASK_STATE_INPUT_REQUIRED:
        raise AgentError(f"task {answer.id} asks for input, which a handoff cannot give: {said}")
    if state == TaskState.TASK_STATE_AUTH_REQUIRED:
        raise AgentError(
            f"task {answer.id} needs authentication: pass http= a client that carries "
            f"credentials ({said})"
        )
    ended = TaskState.Name(state).removeprefix("TASK_STATE_").lower()
    raise AgentError(f"task {answer.id} ended {ended}: {said}")


def _content(sources: list[Any]) -> Any:
    """The first data part's value (all of them when one source holds several), else the
    text, else None."""
    for parts in sources:
        found = get_data_parts(parts)
        if found:
            return exact(found[0] if len(found) == 1 else found)
    return "\n".join(text for parts in sources for text in get_text_parts(parts)) or None


def _transient(error: A2AError) -> bool:
    """A timeout, a connection that failed, or a server error: worth another try."""
    cause = error.__cause__
    if isinstance(error, A2AClientTimeoutError) or isinstance(cause, httpx.TransportError):
        return True
    return isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code >= 500
