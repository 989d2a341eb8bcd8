"""LLM agents: a chat model as a seamline agent that answers in its receiver's contract.

``llm_agent(...)`` returns an ordinary :class:`~seamline.agents.Agent`. Each step asks an
OpenAI-compatible chat-completions endpoint (OpenAI, or vLLM, Ollama and the like through
``base_url``) for the payload of the agent's handoff, with the receiving contract's JSON
Schema as the structured output: strict when the schema allows, non-strict with the reason
logged when it does not (:mod:`seamline.interop._structured`). The answer is validated
against the contract before it leaves the agent, and the issues of one that breaks it go
back to the model as a message, up to ``max_attempts`` calls a step. When the runtime's
boundary rejects the handoff all the same (a tracked fact paraphrased, say), the agent runs
again with ``ctx.feedback``, and the model is shown its previous answer and the issues.

A model that never gets it right does not stop anything silently. Its last JSON object goes
out as the handoff, so the boundary rejects it, records it with its issues and walks the
contract's failure policy (feedback rounds, fallback agent, then the dead-letter queue,
where it can be fixed and replayed). An answer that is not a JSON object, a refusal or a
failed request raises AgentError; rate limits, 5xx answers, timeouts and unreachable
servers raise TransientError, which the runtime retries under the accepted contract's
``retries`` (after the ``openai`` client's own retries).

The model is the receiver of the agent's input, so it is shown real values, sensitive ones
included; logs, spans and error messages never carry them.

Needs the ``llm`` extra: ``pip install "seamline[llm]"``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ValidationError

from seamline.agents import Agent, Context, Finish, HandOff, Outcome, agent
from seamline.contracts import Constraints, Contract, TaskItem, TaskState, payload_issues, redact
from seamline.exceptions import (
    AgentError,
    ConfigurationError,
    Issue,
    MissingExtraError,
    TransientError,
)
from seamline.interop._structured import ResponseSchema, response_schema
from seamline.tracing import record_model_call

if TYPE_CHECKING:
    from openai import APIError, AsyncOpenAI
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
    from openai.types.chat.completion_create_params import ResponseFormat

__all__ = ["DEFAULT_MODEL", "Destination", "Route", "llm_agent"]

DEFAULT_MODEL = "gpt-4.1-mini"
_log = logging.getLogger("seamline.llm")
_RESERVED = frozenset({"model", "messages", "response_format", "stream"})
_HINTS = {
    401: "; check the API key (OPENAI_API_KEY)",
    403: "; this key may not use this model",
    404: "; check the model name, and that the base URL ends in /v1",
}
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_REMEMBERED = 256
"""Answers kept for feedback rounds (one per handoff in flight, oldest forgotten first)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """Where an LLM agent's answer goes: an agent (``to``) or a ``capability``, under one
    of the contracts it emits, with the task progress and constraints a HandOff carries."""

    to: str | None = None
    capability: str | None = None
    contract: str | None = None
    """The emitted contract the model answers in; the agent's only one when not given."""
    tasks: Sequence[TaskItem] | Mapping[str, TaskState] = ()
    constraints: Constraints | None = None

    def __post_init__(self) -> None:
        if (self.to is None) == (self.capability is None):
            raise ConfigurationError(
                "Destination needs exactly one of to='agent-name' or capability='tag'"
            )

    def hand_off(self, contract: str, payload: BaseModel | Mapping[str, Any]) -> HandOff:
        """The handoff carrying ``payload`` there."""
        return HandOff(
            to=self.to,
            capability=self.capability,
            contract=contract,
            payload=payload,
            tasks=self.tasks,
            constraints=self.constraints,
        )


Route = Callable[[Any, Context], Destination | Outcome]
"""Chooses, from the agent's input, where the answer goes before the model is asked (so
the model answers in that destination's contract), or returns an outcome that needs no
model at all (a Finish, an Escalate)."""


def llm_agent(
    *,
    name: str,
    version: str,
    owner: str,
    accepts: Mapping[str, str] | Iterable[Contract[Any]],
    emits: Iterable[Contract[Any]] = (),
    to: str | None = None,
    capability: str | None = None,
    route: Route | None = None,
    finish: type[BaseModel] | None = None,
    model: str = DEFAULT_MODEL,
    client: AsyncOpenAI | None = None,
    instructions: str = "",
    max_attempts: int = 3,
    strict: bool | None = None,
    model_settings: Mapping[str, Any] | None = None,
    capabilities: Iterable[str] = (),
    description: str = "",
    escalation: str | None = None,
) -> Agent:
    """An agent whose answer a chat model writes, in the receiving contract's schema.

    Exactly one of ``to`` (an agent), ``capability``, ``route`` (a function of the input
    and context returning a :class:`Destination` or an outcome) or ``finish`` (a pydantic
    model: the agent ends the workflow with the model's answer as its result) says where
    the answer goes. ``emits`` lists the contracts the model answers in; ``accepts`` is
    what :func:`~seamline.agents.agent` takes.

    ``client`` is an ``openai.AsyncOpenAI``, pointed at any OpenAI-compatible server with
    ``base_url``; without one, each step opens a client from the environment
    (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``). ``max_attempts`` bounds the model calls of one
    step. ``strict``: None uses strict structured outputs whenever the schema allows (and
    falls back, logging why, when the schema or the server does not), True insists, False
    never asks. ``model_settings`` go to every request as they are (``temperature``,
    ``seed``, ``max_completion_tokens``...).

    Example:
        ```python
        triage = llm_agent(
            name="triage", version="3.0.0", owner="support", accepts=[CASE],
            emits=[REFUND], capability="refunds", model="gpt-4.1-mini",
            instructions="Turn the support case into a refund request.",
        )
        ```
    """
    _require_openai()
    chosen = [option for option in (to, capability, route, finish) if option is not None]
    if len(chosen) != 1:
        raise ConfigurationError(
            f"llm agent {name!r} needs exactly one of to=, capability=, route= or finish= "
            "to say where its answer goes"
        )
    if max_attempts < 1:
        raise ConfigurationError(f"max_attempts must be at least 1, got {max_attempts}")
    if clash := sorted(_RESERVED.intersection(model_settings or {})):
        raise ConfigurationError(
            f"model_settings may not set {', '.join(clash)}: the agent sets them itself"
        )
    emitted = list(emits)
    if finish is not None:
        outputs = {"": _Output.result(finish, strict)}
    elif emitted:
        outputs = {c.name: _Output.contract(c, strict) for c in emitted}
    else:
        raise ConfigurationError(
            f"llm agent {name!r} emits no contract; list the receiving contract in emits= so "
            "the model answers in its schema"
        )
    for output in outputs.values():
        if output.schema.reason:
            _log.warning(
                "llm agent %s: %s goes to the model non-strict: %s", name, output.ref,
                output.schema.reason,
            )  # fmt: skip
    fixed = None if to is None and capability is None else Destination(to=to, capability=capability)
    if fixed is not None and len(outputs) > 1:
        raise ConfigurationError(
            f"llm agent {name!r} emits {', '.join(sorted(outputs))}; pass route= returning "
            "Destination(..., contract=NAME) to say which one the model answers in"
        )
    chat = _Chat(
        agent=name,
        model=model,
        client=client,
        instructions=instructions,
        max_attempts=max_attempts,
        strict=strict,
        settings=dict(model_settings or {}),
    )

    async def answer(payload: BaseModel, ctx: Context) -> Outcome:
        if finish is not None:
            result = await chat.answer(outputs[""], payload, ctx)
            if result.value is None:
                raise chat.gave_up(outputs[""], result, ctx)
            return Finish(result.value)
        destination = fixed or cast(Route, route)(payload, ctx)
        if not isinstance(destination, Destination):
            return destination
        output = _pick(outputs, destination.contract, name)
        result = await chat.answer(output, payload, ctx)
        if result.value is not None:
            return destination.hand_off(output.name, result.value)
        if isinstance(result.data, dict):
            # The boundary records it, rejects it with its issues and walks the failure
            # policy: the answer is kept for inspection and replay, not dropped here.
            return destination.hand_off(output.name, result.data)
        raise chat.gave_up(output, result, ctx)

    return agent(
        name=name,
        version=version,
        owner=owner,
        accepts=accepts,
        emits=emitted,
        capabilities=capabilities,
        description=description or f"LLM agent ({model})",
        escalation=escalation,
    )(answer)


def _require_openai() -> None:
    try:
        import openai  # noqa: F401  # only whether it is there
    except ImportError:
        raise MissingExtraError(feature="LLM agents (seamline.interop.llm)", extra="llm") from None


def _pick(outputs: dict[str, _Output], contract: str | None, agent_name: str) -> _Output:
    if contract is None and len(outputs) == 1:
        return next(iter(outputs.values()))
    if contract in outputs:
        return outputs[contract]
    raise ConfigurationError(
        f"llm agent {agent_name!r} was routed under contract {contract or '(none named)'}; it "
        f"emits {', '.join(sorted(outputs))}: name one of them in Destination(contract=...)"
    )


@dataclass(slots=True)
class _Output:
    """What the model answers with, and the pydantic model that checks the answer."""

    name: str
    ref: str
    about: str
    model: type[BaseModel]
    schema: ResponseSchema
    """Replaced by its non-strict form if a server refuses the strict one."""
    tracked: frozenset[str] = frozenset()
    sensitive: frozenset[str] = frozenset()

    @classmethod
    def contract(cls, contract: Contract[Any], strict: bool | None) -> _Output:
        about = f"the contract {contract.ref}, owned by {contract.owner}: {contract.description}"
        schema = response_schema(
            contract.name, contract.description, contract.json_schema(), strict=strict
        )
        return cls(
            contract.name, contract.ref, about, contract.model, schema,
            contract.tracked, contract.sensitive,
        )  # fmt: skip

    @classmethod
    def result(cls, model: type[BaseModel], strict: bool | None) -> _Output:
        about = (model.__doc__ or "").strip() or "the result"
        schema = response_schema(model.__name__, about, model.model_json_schema(), strict=strict)
        return cls("", model.__name__, f"the final result: {about}", model, schema)

    def parse(self, text: str | None, truncated: bool) -> _Answer:
        """The answer checked against the model: the value, or every issue found."""
        if text is None:
            issue = Issue(
                "payload", "the reply had no content; answer with the JSON object", "empty"
            )
            return _Answer(text, None, None, (issue,))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            fix = (
                "it was cut off at the token limit, so answer more briefly"
                if truncated
                else "answer with the JSON object alone, without prose or code fences"
            )
            where = f"{error.msg} at line {error.lineno} column {error.colno}"
            return _Answer(
                text, None, None, (Issue("payload", f"not JSON ({where}); {fix}", "json_invalid"),)
            )
        if not isinstance(data, dict):
            kind = _JSON_KINDS.get(type(data), "value")
            issue = Issue("payload", f"a JSON {kind} where an object was expected", "not_an_object")
            return _Answer(text, data, None, (issue,))
        try:
            return _Answer(text, data, self.model.model_validate(data), ())
        except ValidationError as error:
            return _Answer(text, data, None, tuple(payload_issues(error)))


@dataclass(frozen=True, slots=True)
class _Answer:
    text: str | None
    """The reply as the model wrote it."""
    data: Any
    """The reply parsed as JSON; None when it was not JSON."""
    value: BaseModel | None
    """The reply validated; None when it broke the contract."""
    issues: tuple[Issue, ...]


class _Chat:
    """One agent's side of the conversation: prompts, model calls, checks and feedback."""

    def __init__(
        self,
        *,
        agent: str,
        model: str,
        client: AsyncOpenAI | None,
        instructions: str,
        max_attempts: int,
        strict: bool | None,
        settings: dict[str, Any],
    ) -> None:
        self.agent = agent
        self.model = model
        self.client = client
        self.instructions = instructions.strip()
        self.max_attempts = max_attempts
        self.strict = strict
        self.settings = settings
        # The runtime re-runs an agent whose handoff was rejected, in the same process and
        # with the same handoff id; the model is shown what it answered the last time.
        self._answers: OrderedDict[str, str] = OrderedDict()

    async def answer(self, output: _Output, payload: BaseModel, ctx: Context) -> _Answer:
        """The model's answer for ``output``, asked again with the issues until it holds."""
        messages = self._opening(output, payload, ctx)
        previous = self._answers.pop(ctx.envelope.handoff_id, None)
        if ctx.feedback:
            if previous is not None:
                messages.append({"role": "assistant", "content": previous})
            lead = f"The receiver rejected your handoff under {output.ref}"
            messages.append({"role": "user", "content": _feedback(lead, ctx.feedback)})
        async with self._client() as client:
            answer = await self._ask(client, messages, output)
            for attempt in range(1, self.max_attempts):
                if answer.value is not None:
                    break
                _log.info(
                    "llm agent %s: answer %d of %d from %s breaks %s: %s", self.agent, attempt,
                    self.max_attempts, self.model, output.ref, self._masked(answer, output, ctx),
                )  # fmt: skip
                lead = f"Your answer does not satisfy {output.ref}"
                messages.append({"role": "assistant", "content": answer.text or ""})
                messages.append({"role": "user", "content": _feedback(lead, answer.issues)})
                answer = await self._ask(client, messages, output)
        if answer.text is not None:
            self._remember(ctx.envelope.handoff_id, answer.text)
        return answer

    def gave_up(self, output: _Output, answer: _Answer, ctx: Context) -> AgentError:
        """The error for a model that answered with no usable payload at all."""
        return AgentError(
            f"{self.model} gave no valid {output.ref} in {self.max_attempts} attempt(s): "
            f"{self._masked(answer, output, ctx)}"
        )

    def _opening(
        self, output: _Output, payload: BaseModel, ctx: Context
    ) -> list[ChatCompletionMessageParam]:
        system = [self.instructions] if self.instructions else []
        system.append(
            f'You are the agent "{self.agent}". Answer with one JSON object: {output.about} '
            "It is validated against that before anyone acts on it; an answer that breaks it "
            "comes back to you with the issues to fix."
        )
        if output.tracked:
            system.append(
                "Copy these fields exactly as you were given them, never rounded or reworded: "
                f"{', '.join(sorted(output.tracked))}."
            )
        if not output.schema.strict:  # the server may only glance at a non-strict schema
            system.append(f"The JSON Schema of the object:\n{json.dumps(output.schema.loose)}")
        ref = ctx.envelope.contract
        user = [
            f"The user's request, verbatim:\n{ctx.intent}",
            f"Your input ({ref.name}@{ref.version}):\n{payload.model_dump_json()}",
        ]
        facts = {k: v for k, v in ctx.envelope.facts.items() if k in output.tracked}
        if facts:
            user.append(f"Facts of this workflow, to pass on unchanged:\n{json.dumps(facts)}")
        return [
            {"role": "system", "content": "\n\n".join(system)},
            {"role": "user", "content": "\n\n".join(user)},
        ]

    async def _ask(
        self, client: AsyncOpenAI, messages: list[ChatCompletionMessageParam], output: _Output
    ) -> _Answer:
        completion = await self._complete(client, messages, output)
        if not completion.choices:
            return output.parse(None, truncated=False)
        choice = completion.choices[0]
        if choice.message.refusal:
            raise AgentError(f"{self.model} refused to answer: {choice.message.refusal}")
        return output.parse(choice.message.content, truncated=choice.finish_reason == "length")

    async def _complete(
        self, client: AsyncOpenAI, messages: list[ChatCompletionMessageParam], output: _Output
    ) -> ChatCompletion:
        import openai

        started = time.time_ns()
        host = client.base_url.host
        try:
            # Typed by hand: with settings passed as **kwargs no overload of create is chosen.
            completion: ChatCompletion = await client.chat.completions.create(
                model=self.model,
                messages=messages,
                response_format=cast("ResponseFormat", output.schema.response_format()),
                **self.settings,
            )
        except openai.APIError as error:
            record_model_call(self.model, started, server=host, error=type(error).__name__)
            if self._strict_refused(error, output):
                return await self._complete(client, messages, output)
            raise _failure(error, client, self.model) from None
        usage = completion.usage
        record_model_call(
            self.model,
            started,
            server=host,
            response_model=completion.model,
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            finish_reasons=[choice.finish_reason for choice in completion.choices],
        )
        _log.debug(
            "llm agent %s: %s answered in %.0f ms (%s prompt, %s completion tokens)", self.agent,
            completion.model, (time.time_ns() - started) / 1e6,
            usage.prompt_tokens if usage else "?", usage.completion_tokens if usage else "?",
        )  # fmt: skip
        return completion

    def _strict_refused(self, error: APIError, output: _Output) -> bool:
        """Whether a server refused the strict schema (then it goes non-strict from now on)."""
        import openai

        if not (
            isinstance(error, openai.BadRequestError)
            and output.schema.strict
            and self.strict is None
        ):
            return False
        detail = _detail(error)
        if error.param != "response_format" and "response_format" not in detail:
            return False
        output.schema = output.schema.without_strict(f"the server refused it: {detail}")
        _log.warning(
            "llm agent %s: %s refused the strict schema of %s (%s); sending it non-strict from "
            "now on, and still validating every answer against the contract",
            self.agent, self.model, output.ref, detail,
        )  # fmt: skip
        return True

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[AsyncOpenAI]:
        if self.client is not None:
            yield self.client
            return
        import openai

        try:
            # One client per step: an httpx pool is bound to the event loop that opened it.
            client = openai.AsyncOpenAI()
        except openai.OpenAIError as error:
            raise ConfigurationError(
                f"llm agent {self.agent!r} has no client: {error} Set OPENAI_API_KEY (and "
                "OPENAI_BASE_URL for a server other than OpenAI's) or pass client="
            ) from None
        async with client:
            yield client

    def _remember(self, handoff_id: str, text: str) -> None:
        self._answers[handoff_id] = text
        while len(self._answers) > _REMEMBERED:
            self._answers.popitem(last=False)

    def _masked(self, answer: _Answer, output: _Output, ctx: Context) -> str:
        """The issues as text, quoting no sensitive value of the answer or the input."""
        text = "; ".join(str(issue) for issue in answer.issues)
        if isinstance(answer.data, dict):
            text = redact(text, answer.data, output.sensitive)
        return redact(text, ctx.envelope.payload, ctx.envelope.sensitive)


def _feedback(lead: str, issues: Iterable[Issue]) -> str:
    listed = "\n".join(f"- {issue}" for issue in issues)
    return f"{lead}:\n{listed}\nAnswer again with the whole corrected JSON object."


def _detail(error: APIError) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return cast(str, body["message"])
    return error.message


def _failure(error: APIError, client: AsyncOpenAI, model: str) -> AgentError:
    """A failed request as the runtime's kind of fault: transient if waiting may cure it."""
    import openai

    where = f"{model} at {client.base_url}"
    if isinstance(error, openai.APITimeoutError):
        return TransientError(f"{where} did not answer within the client's timeout")
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__ or error
        return TransientError(f"cannot reach {where}: {cause}; is the server up?")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status in (408, 409, 429) or status >= 500:
            return TransientError(
                f"{where} answered {status} ({_detail(error)}), also after the client's "
                f"{client.max_retries} retries"
            )
        return AgentError(
            f"{where} refused the request: {status} {_detail(error)}{_HINTS.get(status, '')}"
        )
    return AgentError(f"{where} sent a reply the client cannot read: {error}")
