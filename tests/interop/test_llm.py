"""LLM agents through the real openai client, against a fake chat server on loopback."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

import anyio
import openai
import pytest
from pydantic import BaseModel, Field, field_validator

from seamline import (
    Agent,
    ConfigurationError,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    MissingExtraError,
    Outcome,
    Registry,
    RunResult,
    Runtime,
    TaskState,
    agent,
)
from seamline.interop.llm import Destination, llm_agent
from seamline.ledger import HandoffStatus
from seamline.testing import ChatReply, FakeChatServer

IBAN = "DE89370400440532013000"
FOREIGN_IBAN = "GB29NWBK60161331926819"


class Claim(BaseModel):
    """A customer's refund claim."""

    order_id: str
    iban: str
    message: str


class Payout(BaseModel):
    """What payments needs to send money back."""

    order_id: str = Field(pattern=r"^ORD-[0-9]+$")
    iban: str
    cents: int = Field(gt=0, description="The refund in cents.")
    reason: Literal["damaged", "late"]

    @field_validator("iban")
    @classmethod
    def german(cls, value: str) -> str:
        """Payments pays out to German accounts only (and says which value it refused)."""
        if not value.startswith("DE"):
            raise ValueError(f"{value} is not a German IBAN")
        return value


CLAIM = Contract(
    model=Claim, name="claim", version="1.0.0", owner="support", sensitive=["iban"],
    tracked=["order_id"], policy=FailurePolicy(retries=1, backoff=0),
)  # fmt: skip
PAYOUT = Contract(
    model=Payout, name="payout", version="1.0.0", owner="payments", sensitive=["iban"],
    tracked=["order_id"], policy=FailurePolicy(feedback_retries=1),
)  # fmt: skip
CLAIM_1 = Claim(order_id="ORD-1", iban=IBAN, message="The lamp arrived broken.")
GOOD = {"order_id": "ORD-1", "iban": IBAN, "cents": 12999, "reason": "damaged"}
BROKEN = {"order_id": "ORD-1", "iban": IBAN, "cents": -5, "reason": "broken"}


@agent(name="payer", version="1.0.0", owner="payments", accepts=[PAYOUT])
def payer(payout: Payout, ctx: Context) -> Outcome:
    """Pays the refund out."""
    return Finish({"paid": payout.cents, "reason": payout.reason})


def client(url: str, **options: Any) -> openai.AsyncOpenAI:
    """The real client, pointed at ``url``, without its own retries unless asked."""
    return openai.AsyncOpenAI(base_url=url, api_key="test", **{"max_retries": 0, **options})


def writer(url: str, *, client_options: dict[str, Any] | None = None, **options: Any) -> Agent:
    """The LLM agent under test: a claim becomes a payout for ``payer``."""
    settings: dict[str, Any] = {"to": "payer", "max_attempts": 2, **options}
    return llm_agent(
        name="writer", version="1.0.0", owner="support", accepts=[CLAIM], emits=[PAYOUT],
        model="fake-model", client=client(url, **(client_options or {})), **settings,
    )  # fmt: skip


def run(llm: Agent) -> tuple[RunResult, Runtime]:
    """One claim through ``llm`` and on to ``payer``."""
    runtime = Runtime(Registry(agents=[llm, payer], contracts=[CLAIM, PAYOUT]))
    result = anyio.run(lambda: runtime.run(llm.name, CLAIM_1, intent="Refund my broken lamp"))
    return result, runtime


def statuses(runtime: Runtime, result: RunResult) -> list[tuple[str, HandoffStatus]]:
    """Each handoff's route and final status, in order."""
    return [(v.route_names, v.status) for v in runtime.ledger.handoffs(result.workflow_id)]


def test_an_llm_agent_hands_off_to_a_normal_agent_in_the_receivers_schema() -> None:
    """The request carries the model, the intent, the input and the payout schema (strict);
    the answer is validated, delivered to payer and recorded."""
    with FakeChatServer([ChatReply.json(GOOD)]) as server:
        result, runtime = run(writer(server.url))
    assert result.status == "completed" and result.result == {"paid": 12999, "reason": "damaged"}
    assert statuses(runtime, result) == [
        ("external → writer", HandoffStatus.COMPLETED),
        ("writer → payer", HandoffStatus.COMPLETED),
    ]
    (request,) = server.requests
    assert request.model == "fake-model"
    system, user = request.messages
    assert system["role"] == "system" and "payout@1.0.0, owned by payments" in system["content"]
    assert "never rounded or reworded: order_id" in system["content"]
    assert "Refund my broken lamp" in user["content"]
    assert CLAIM_1.model_dump_json() in user["content"]  # the receiver sees real values
    assert request.json_schema is not None
    assert request.json_schema["name"] == "payout" and request.json_schema["strict"] is True
    schema = request.json_schema["schema"]
    assert list(schema["properties"]) == ["order_id", "iban", "cents", "reason"]
    assert schema["required"] == ["order_id", "iban", "cents", "reason"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["reason"]["enum"] == ["damaged", "late"]
    assert "x-seamline" not in schema and "$id" not in schema


def test_invalid_answers_go_back_to_the_model_with_their_issues() -> None:
    """Prose, then a payload breaking the contract, then a good one: each reply's issues
    reach the model in the next request, with its answer; nothing invalid is handed off."""
    script = [ChatReply(content="Sure! Here is the payout."), ChatReply.json(BROKEN)]
    with FakeChatServer([*script, ChatReply.json(GOOD)]) as server:
        result, runtime = run(writer(server.url, max_attempts=3))
    assert result.status == "completed"
    _, second, third = server.requests
    assert "not JSON (Expecting value at line 1 column 1)" in second.prompt
    assert second.messages[-2] == {"role": "assistant", "content": "Sure! Here is the payout."}
    assert "payload.cents: Input should be greater than 0 [greater_than]" in third.prompt
    assert "payload.reason: Input should be 'damaged' or 'late' [literal_error]" in third.prompt
    assert third.messages[-1]["content"].endswith("the whole corrected JSON object.")
    assert [status for _, status in statuses(runtime, result)] == [HandoffStatus.COMPLETED] * 2


def test_a_boundary_rejection_reaches_the_model_with_its_previous_answer() -> None:
    """An answer valid on its own but changing a tracked fact is rejected at the boundary;
    the agent runs again with ctx.feedback and the model fixes it."""
    changed = {**GOOD, "order_id": "ORD-2"}
    with FakeChatServer([ChatReply.json(changed), ChatReply.json(GOOD)]) as server:
        result, runtime = run(writer(server.url))
    assert result.status == "completed"
    retry = server.requests[1]
    assert retry.messages[-2] == {"role": "assistant", "content": json.dumps(changed)}
    assert "The receiver rejected your handoff under payout@1.0.0" in retry.prompt
    assert "[fact_changed]" in retry.prompt
    assert [status for _, status in statuses(runtime, result)] == [
        HandoffStatus.COMPLETED,
        HandoffStatus.REJECTED,
        HandoffStatus.COMPLETED,
    ]


def test_a_model_that_never_gets_it_right_ends_in_the_dead_letter_queue() -> None:
    """Its last answer is handed off, rejected with its issues, fed back (one round), and
    dead-lettered whole: the model's payload and every issue are kept."""
    with FakeChatServer(lambda request: ChatReply.json(BROKEN)) as server:
        result, runtime = run(writer(server.url))
    assert result.status == "dead_lettered" and result.dead_letter_id is not None
    assert len(server.requests) == 4  # 2 attempts, twice: the first round and the feedback
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "validation"
    codes = {issue["code"] for issue in json.loads(letter.issues)}
    assert codes == {"greater_than", "literal_error"}
    assert json.loads(letter.envelope)["payload"] == BROKEN


def test_a_model_that_never_answers_json_fails_the_step_with_its_issues() -> None:
    """No JSON object to hand off: the agent fails, the claim is dead-lettered with why."""
    with FakeChatServer(lambda request: ChatReply(content="[1, 2]")) as server:
        result, runtime = run(writer(server.url, max_attempts=2))
    assert result.status == "dead_lettered" and result.dead_letter_id is not None
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert letter.reason == "agent_error"
    assert "writer raised AgentError: fake-model gave no valid payout@1.0.0 in 2 attempt(s)" in (
        letter.message
    )
    assert "a JSON array where an object was expected [not_an_object]" in letter.message
    assert len(server.requests) == 2


def test_a_refusal_is_an_agent_error() -> None:
    """A model that refuses fails the step at once, saying so."""
    with FakeChatServer([ChatReply(refusal="I can't help with that.")]) as server:
        result, runtime = run(writer(server.url))
    assert result.dead_letter_id is not None
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert "fake-model refused to answer: I can't help with that." in letter.message


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_transient_and_retried(status: int) -> None:
    """The runtime retries the step under the claim contract's retries, then dead-letters
    it with the status and the server's message."""
    failing = ChatReply.failure(status, "the model is busy")
    with FakeChatServer(lambda request: failing) as server:
        result, runtime = run(writer(server.url))
    assert result.status == "dead_lettered" and result.dead_letter_id is not None
    assert len(server.requests) == 2  # the first run and one retry
    (claim,) = [v for v in runtime.ledger.handoffs(result.workflow_id) if v.receiver == "writer"]
    assert [entry.kind for entry in claim.entries].count("retry") == 1
    letter = runtime.ledger.dead_letter(result.dead_letter_id)
    assert f"TransientError: fake-model at {server.url}/ answered {status} (the model is busy)" in (
        letter.message
    )


def test_a_429_with_retry_after_is_retried_by_the_client() -> None:
    """The openai client's own retry honours Retry-After; the step then succeeds."""
    limited = ChatReply.failure(429, "slow down", headers={"retry-after": "0"})
    with FakeChatServer([limited, ChatReply.json(GOOD)]) as server:
        result, _ = run(writer(server.url, client_options={"max_retries": 1}))
    assert result.status == "completed" and len(server.requests) == 2


def test_a_rejected_request_is_a_permanent_agent_error_with_a_hint() -> None:
    """A 401 is not retried: the claim is dead-lettered naming the key to check."""
    with FakeChatServer(lambda request: ChatReply.failure(401, "bad key")) as server:
        result, runtime = run(writer(server.url))
    assert result.dead_letter_id is not None and len(server.requests) == 1
    message = runtime.ledger.dead_letter(result.dead_letter_id).message
    assert "refused the request: 401 bad key; check the API key (OPENAI_API_KEY)" in message


def test_an_unreachable_server_is_a_transient_error() -> None:
    """Connection refused: retried, then dead-lettered saying the server cannot be reached."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result, runtime = run(writer(f"http://127.0.0.1:{port}/v1"))
    assert result.dead_letter_id is not None
    message = runtime.ledger.dead_letter(result.dead_letter_id).message
    assert f"TransientError: cannot reach fake-model at http://127.0.0.1:{port}/v1/" in message


def test_a_server_that_does_not_answer_in_time_is_a_transient_error() -> None:
    """The client's timeout becomes a TransientError."""
    slow = ChatReply(content=json.dumps(GOOD), delay=1.0)
    with FakeChatServer(lambda request: slow) as server:
        result, runtime = run(writer(server.url, client_options={"timeout": 0.2}))
    assert result.dead_letter_id is not None
    message = runtime.ledger.dead_letter(result.dead_letter_id).message
    assert "did not answer within the client's timeout" in message


class Note(BaseModel):
    """A payout with free-form labels, which strict mode cannot describe."""

    order_id: str
    labels: dict[str, str]


NOTE = Contract(model=Note, name="note", version="1.0.0", owner="payments")


@agent(name="filer", version="1.0.0", owner="payments", accepts=[NOTE])
def filer(note: Note, ctx: Context) -> Outcome:
    """Files the note."""
    return Finish(note.labels)


def test_a_schema_strict_mode_cannot_carry_goes_non_strict_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A free-form map: the schema is sent non-strict (and shown in the prompt), the reason
    is logged, and the answer is still validated."""
    answer = {"order_id": "ORD-1", "labels": {"carrier": "DHL"}}
    with FakeChatServer([ChatReply.json(answer)]) as server:
        caplog.set_level(logging.WARNING, "seamline.llm")
        noter = llm_agent(
            name="noter", version="1.0.0", owner="support", accepts=[CLAIM], emits=[NOTE],
            to="filer", model="fake-model", client=client(server.url),
        )  # fmt: skip
        runtime = Runtime(Registry(agents=[noter, filer], contracts=[CLAIM, NOTE]))
        result = anyio.run(lambda: runtime.run("noter", CLAIM_1, intent="label it"))
    assert result.result == {"carrier": "DHL"}
    (request,) = server.requests
    assert request.json_schema is not None and request.json_schema["strict"] is False
    assert request.json_schema["schema"]["properties"]["labels"]["additionalProperties"] == {
        "type": "string"
    }
    assert "The JSON Schema of the object:" in request.prompt
    assert caplog.messages == [
        "llm agent noter: note@1.0.0 goes to the model non-strict: strict structured outputs "
        "cannot carry #/properties/labels (keys it does not name, additionalProperties)"
    ]


def test_insisting_on_strict_for_such_a_schema_is_a_configuration_error() -> None:
    """strict=True refuses at declaration, naming the obstacle."""
    with pytest.raises(ConfigurationError, match=r"#/properties/labels \(keys it does not name"):
        llm_agent(
            name="noter", version="1.0.0", owner="support", accepts=[CLAIM], emits=[NOTE],
            to="filer", strict=True, client=client("http://127.0.0.1:9/v1"),
        )  # fmt: skip


def test_a_server_refusing_the_strict_schema_gets_it_non_strict(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 400 about response_format: the same step asks again non-strict, and so do later ones."""
    refused = ChatReply.failure(
        400, "Invalid schema for response_format 'payout': 'pattern' is not permitted.",
        param="response_format",
    )  # fmt: skip
    with FakeChatServer([refused, ChatReply.json(GOOD)]) as server:
        caplog.set_level(logging.WARNING, "seamline.llm")
        result, _ = run(writer(server.url))
    assert result.status == "completed"
    strict = [r.json_schema["strict"] for r in server.requests if r.json_schema is not None]
    assert strict == [True, False]
    assert "'pattern' is not permitted." in caplog.text and "non-strict from now on" in caplog.text


def test_sensitive_values_never_reach_a_log_record(caplog: pytest.LogCaptureFixture) -> None:
    """The model sees the IBAN; logs do not, even where a validator quoted a refused value."""
    foreign = {**GOOD, "iban": FOREIGN_IBAN}
    with FakeChatServer([ChatReply.json(foreign), ChatReply.json(GOOD)]) as server:
        caplog.set_level(logging.INFO)
        caplog.set_level(logging.DEBUG, "seamline")
        result, _ = run(writer(server.url))
    assert result.status == "completed"
    assert IBAN in server.requests[0].prompt and FOREIGN_IBAN in server.requests[1].prompt
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "payload.iban: Value error, «masked» is not a German IBAN" in logged
    assert "answered in" in logged  # the debug line of each call is there, without values
    assert IBAN not in logged and FOREIGN_IBAN not in logged


WORKER = Path(__file__).with_name("llm_spans_worker.py")


def test_each_model_call_is_a_chat_span_under_the_agent_span() -> None:
    """gen_ai request/response model, provider, server and token usage; no payload values."""
    with FakeChatServer([ChatReply.json(BROKEN), ChatReply.json(GOOD)]) as server:
        done = subprocess.run(
            [sys.executable, str(WORKER), server.url], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout)
    calls = [span for span in spans if span["name"] == "chat fake-model"]
    (step,) = [span for span in spans if span["name"] == "invoke_agent writer"]
    assert len(calls) == 2 and all(call["parent"] == step["id"] for call in calls)
    attributes = calls[1]["attributes"]
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == attributes["gen_ai.response.model"] == "fake-model"
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] > 0
    assert attributes["openinference.span.kind"] == "LLM"
    assert IBAN not in done.stdout


def test_a_route_chooses_the_destination_or_answers_without_the_model() -> None:
    """The route sees the input: a capability and its task state, or a Finish of its own."""

    def route(claim: Claim, ctx: Context) -> Destination | Outcome:
        if "broken" not in claim.message:
            return Finish({"resolution": "no refund needed"})
        return Destination(capability="payouts", tasks={"refund": TaskState.IN_PROGRESS})

    payer_by_capability = agent(
        name="payer", version="1.0.0", owner="payments", accepts=[PAYOUT], capabilities=["payouts"]
    )(payer.fn)
    with FakeChatServer([ChatReply.json(GOOD)]) as server:
        routed = writer(server.url, to=None, route=route)
        runtime = Runtime(Registry(agents=[routed, payer_by_capability], contracts=[CLAIM, PAYOUT]))
        calm = CLAIM_1.model_copy(update={"message": "Where is my parcel?"})
        skipped = anyio.run(lambda: runtime.run("writer", calm, intent="where is it"))
        paid = anyio.run(lambda: runtime.run("writer", CLAIM_1, intent="refund it"))
    assert skipped.result == {"resolution": "no refund needed"}
    assert paid.result == {"paid": 12999, "reason": "damaged"}
    assert len(server.requests) == 1
    handoff = runtime.ledger.handoffs(paid.workflow_id)[1]
    assert [(t.name, t.state) for t in handoff.envelope.tasks] == [("refund", "in_progress")]


class Verdict(BaseModel):
    """Whether the claim is plausible."""

    plausible: bool
    why: str


def test_a_terminal_llm_agent_finishes_with_its_validated_answer() -> None:
    """finish=Model: the answer in that model's schema is the workflow's result."""
    verdict = {"plausible": True, "why": "lamps break in transit"}
    with FakeChatServer(
        [ChatReply(content='{"plausible": "maybe"}'), ChatReply.json(verdict)]
    ) as server:
        judge = writer(server.url, to=None, finish=Verdict)
        result, _ = run(judge)
    assert result.status == "completed" and result.result == verdict
    assert server.requests[0].json_schema is not None
    assert server.requests[0].json_schema["name"] == "Verdict"
    assert "payload.plausible: Input should be a valid boolean" in server.requests[1].prompt


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"to": None}, "needs exactly one of to=, capability=, route= or finish="),
        ({"capability": "payouts"}, "needs exactly one of to=, capability=, route= or finish="),
        ({"max_attempts": 0}, "max_attempts must be at least 1, got 0"),
        ({"emits": []}, "emits no contract; list the receiving contract in emits="),
        ({"model_settings": {"model": "x"}}, "model_settings may not set model"),
        ({"emits": [PAYOUT, NOTE]}, "emits note, payout; pass route= returning Destination"),
    ],
)
def test_declaration_mistakes_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    """Each wiring mistake fails when the agent is declared, saying how to fix it."""
    settings: dict[str, Any] = {"to": "payer", "emits": [PAYOUT], **options}
    with pytest.raises(ConfigurationError, match=message):
        llm_agent(name="writer", version="1.0.0", owner="support", accepts=[CLAIM], **settings)


def test_without_the_extra_declaring_an_llm_agent_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No openai package: MissingExtraError with the pip command."""
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(MissingExtraError, match=r'pip install "seamline\[llm\]"'):
        llm_agent(name="w", version="1.0.0", owner="o", accepts=[CLAIM], emits=[PAYOUT], to="p")


def test_without_a_client_or_key_the_step_fails_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No client= and no OPENAI_API_KEY: the step fails naming the variable to set."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    keyless = llm_agent(
        name="writer", version="1.0.0", owner="support", accepts=[CLAIM], emits=[PAYOUT],
        to="payer",
    )  # fmt: skip
    result, runtime = run(keyless)
    assert result.dead_letter_id is not None
    message = runtime.ledger.dead_letter(result.dead_letter_id).message
    assert "llm agent 'writer' has no client:" in message and "Set OPENAI_API_KEY" in message


def test_a_fake_server_says_when_its_script_ran_out() -> None:
    """The test double names its own failure instead of hanging or answering nonsense."""
    with FakeChatServer([]) as server:
        result, runtime = run(writer(server.url))
    assert result.dead_letter_id is not None
    message = runtime.ledger.dead_letter(result.dead_letter_id).message
    assert "the fake chat server's script ran out after 0 replies" in message
