"""A2A: a seamline agent served over the protocol, and a remote A2A agent as a destination.

The server and the client run in-process (httpx's ASGI transport) and over a real loopback
socket (uvicorn in a thread). The protocol checks follow what the official conformance kit
(a2a-tck, 1.0) holds a server to at the MUST level: the card, SendMessage, GetTask,
CancelTask, their error codes on both bindings, and the A2A-Version header.
"""

from __future__ import annotations

import inspect
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import pytest
import uvicorn
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.helpers import new_data_part, new_text_part
from a2a.types import (
    AgentCard as A2ACard,
)
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError
from a2a.utils.proto_utils import validate_proto_required_fields
from google.protobuf import json_format  # type: ignore[import-untyped]  # protobuf ships no types
from pydantic import BaseModel
from starlette.applications import Starlette

from seamline import (
    Agent,
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    RegistryError,
    RunResult,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.contracts import AgentRef, Budget, Constraints, ContractRef, Envelope, Gate, Intent
from seamline.interop.a2a import (
    HANDOFF_EXTENSION,
    JSONRPC_PATH,
    REST_PATH,
    Binding,
    a2a_app,
    remote_agent,
)
from seamline.stores import WorkflowStatus
from seamline.types import new_id, utcnow

T = TypeVar("T")
BASE = "http://refunds.test"
V1 = {"A2A-Version": "1.0"}
BINDINGS: list[Binding] = ["JSONRPC", "HTTP+JSON"]


class RefundRequest(BaseModel):
    """What the refunds agent needs."""

    order_id: str
    amount: Decimal
    quantity: int
    card_number: str


class RefundDecision(BaseModel):
    """What it answers."""

    order_id: str
    approved: bool
    refunded: Decimal


REFUND = Contract(
    model=RefundRequest,
    name="refund.request",
    version="1.2.0",
    owner="payments",
    tracked=("order_id",),
    sensitive=("card_number",),
)
DECISION = Contract(model=RefundDecision, name="refund.decision", version="1.0.0", owner="payments")
SECRET = "4111111111111111"
GOOD = {"order_id": "ORD-7", "amount": "42.50", "quantity": 3, "card_number": SECRET}


def run(main: Callable[[], Awaitable[T]]) -> T:
    """One test's async body on asyncio (the SDK's loop)."""
    return anyio.run(main)


@dataclass
class Server:
    """The refunds agent's own runtime, on its own SQLite ledger, and what it was handed."""

    runtime: Runtime
    seen: list[RefundRequest] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    budgets: list[Budget | None] = field(default_factory=list)

    def app(self, url: str = BASE, poll: float = 0.05) -> Starlette:
        """The agent served over A2A at ``url``."""
        return a2a_app(self.runtime, "refunds", url=url, poll=poll)


def server(
    tmp_path: Path, *, answer: Callable[[RefundRequest], Any] | None = None, slow: float = 0
) -> Server:
    """The refunds agent, gated for amounts over 100 on its first handoff, answering a
    decision (or ``answer(request)``) after ``slow`` seconds."""
    served: list[Server] = []

    @agent(
        name="refunds",
        version="3.0.0",
        owner="payments",
        accepts=[REFUND],
        capabilities=["refunds", "payments"],
        description="Decides refunds against the order on record",
    )
    async def refunds(request: RefundRequest, ctx: Context) -> Outcome:
        await anyio.sleep(slow)
        state = served[0]
        state.seen.append(request)
        state.intents.append(ctx.intent)
        state.budgets.append(ctx.constraints.budget)
        if answer is not None:
            return Finish(answer(request))
        return Finish(
            RefundDecision(order_id=request.order_id, approved=True, refunded=request.amount)
        )

    registry = Registry(
        agents=[refunds],
        contracts=[REFUND],
        gates={("external", "refunds"): Gate(when=lambda r: r.amount > 100, owner="payments")},
    )
    served.append(Server(Runtime(registry, SqliteStore(tmp_path / "server.db"))))
    return served[0]


def asgi(app: Starlette) -> httpx.AsyncClient:
    """An HTTP client talking to ``app`` in-process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


def plain_message(payload: dict[str, Any], text: str = "My lamp arrived broken") -> Message:
    """What a plain A2A client sends: the user's words and the payload as a data part."""
    return Message(
        role=Role.ROLE_USER,
        message_id=f"m-{time.monotonic_ns()}",
        parts=[new_text_part(text), new_data_part(payload, media_type="application/json")],
    )


def wire_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The same as JSON, for raw wire checks."""
    return {
        "messageId": f"m-{time.monotonic_ns()}",
        "role": "ROLE_USER",
        "parts": [{"text": "refund"}, {"data": payload, "mediaType": "application/json"}],
    }


async def sdk_client(http: httpx.AsyncClient, binding: Binding) -> Client:
    """The official SDK's client for the served card, pinned to ``binding``."""
    card = await A2ACardResolver(http, BASE).get_agent_card()
    config = ClientConfig(
        httpx_client=http,
        streaming=False,
        supported_protocol_bindings=[binding],
        use_client_preference=True,
    )
    return ClientFactory(config).create(card)


async def send(client: Client, message: Message) -> Task:
    """SendMessage, expecting a task back."""
    request = SendMessageRequest(
        message=message,
        configuration=SendMessageConfiguration(accepted_output_modes=["application/json"]),
    )
    events = [event async for event in client.send_message(request)]
    assert len(events) == 1 and events[0].HasField("task")
    return events[0].task


async def rpc(
    http: httpx.AsyncClient, method: str, params: dict[str, Any], headers: dict[str, str] = V1
) -> dict[str, Any]:
    """One raw JSON-RPC call; the whole response object."""
    response = await http.post(
        JSONRPC_PATH,
        json={"jsonrpc": "2.0", "id": 7, "method": method, "params": params},
        headers=headers,
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def until(
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], seconds: float = 10
) -> T:
    """Poll ``read`` until ``done`` says so."""
    with anyio.fail_after(seconds):
        while True:
            value = await read()
            if done(value):
                return value
            await anyio.sleep(0.02)


def state(task: Task) -> str:
    """The task's state by its proto name."""
    return str(TaskState.Name(task.status.state))


def plain(value: Any) -> Any:
    """A protobuf value or struct as JSON values."""
    return json_format.MessageToDict(value)


def extension(metadata: Any) -> dict[str, Any]:
    """What a status message or artifact carries under the handoff-contract extension."""
    found: dict[str, Any] = plain(metadata)[HANDOFF_EXTENSION]
    return found


# -- the card ------------------------------------------------------------------------------


def test_the_card_is_served_at_the_well_known_path_with_skills_and_the_contract_extension(
    tmp_path: Path,
) -> None:
    """The card is well-formed (every REQUIRED field), lists both bindings (and 0.3 JSON-RPC),
    carries the capability tags as skill tags and declares the handoff-contract extension
    with the accepted contract, its range, versions and schema; it has an ETag."""
    served = server(tmp_path)

    async def main() -> tuple[httpx.Response, A2ACard]:
        async with asgi(served.app()) as http:
            response = await http.get("/.well-known/agent-card.json")
            return response, await A2ACardResolver(http, BASE).get_agent_card()

    response, card = run(main)
    assert response.status_code == 200 and response.headers["etag"]
    validate_proto_required_fields(card)
    body = response.json()
    assert body["name"] == "refunds" and body["version"] == "3.0.0"
    assert body["provider"]["organization"] == "payments"
    assert [
        (i["protocolBinding"], i["protocolVersion"], i["url"]) for i in body["supportedInterfaces"]
    ] == [
        ("JSONRPC", "1.0", BASE + JSONRPC_PATH),
        ("HTTP+JSON", "1.0", BASE + REST_PATH),
        ("JSONRPC", "0.3", BASE + JSONRPC_PATH),
    ]
    assert body["skills"][0]["tags"] == ["payments", "refunds"]
    (declared,) = body["capabilities"]["extensions"]
    assert declared["uri"] == HANDOFF_EXTENSION and not declared.get("required", False)
    (contract,) = declared["params"]["contracts"]
    assert contract["name"] == "refund.request" and contract["versions"] == "^1.2.0"
    assert contract["registered"] == ["1.2.0"] and contract["owner"] == "payments"
    assert contract["schema"]["required"] == ["order_id", "amount", "quantity", "card_number"]


# -- SendMessage, GetTask, CancelTask through the official client --------------------------


@pytest.mark.parametrize("binding", BINDINGS)
def test_send_message_runs_the_workflow_and_returns_the_result_as_an_artifact(
    tmp_path: Path, binding: Binding
) -> None:
    """A plain A2A message becomes a workflow's first handoff: validated, run, recorded; the
    task completes with the result as a data artifact, its id is the workflow id, and
    GetTask returns it again."""
    served = server(tmp_path)

    async def main() -> tuple[Task, Task]:
        async with asgi(served.app()) as http:
            client = await sdk_client(http, binding)
            task = await send(client, plain_message(GOOD))
            return task, await client.get_task(GetTaskRequest(id=task.id))

    task, again = run(main)
    assert state(task) == "TASK_STATE_COMPLETED" and again == task
    (artifact,) = task.artifacts
    assert plain(artifact.parts[0].data) == {
        "order_id": "ORD-7",
        "approved": True,
        "refunded": "42.50",
    }
    assert extension(artifact.metadata) == {"status": "completed", "workflow_id": task.id}
    workflow = served.runtime.ledger.workflow(task.id)
    assert workflow.status is WorkflowStatus.COMPLETED and workflow.name == f"a2a:{task.context_id}"
    assert served.seen[0].quantity == 3 and isinstance(served.seen[0].quantity, int)
    assert served.intents == ["My lamp arrived broken"]


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_payload_that_breaks_the_contract_is_rejected_before_the_agent_runs(
    tmp_path: Path, binding: Binding
) -> None:
    """REJECTED, with every issue addressed by path in the status; the agent never ran and
    no workflow was started."""
    served = server(tmp_path)
    bad = {**GOOD, "amount": "about forty", "quantity": "three"}

    async def main() -> Task:
        async with asgi(served.app()) as http:
            return await send(await sdk_client(http, binding), plain_message(bad))

    task = run(main)
    assert state(task) == "TASK_STATE_REJECTED"
    detail = extension(task.status.message.metadata)
    assert {issue["path"] for issue in detail["issues"]} == {"payload.amount", "payload.quantity"}
    assert served.seen == [] and served.runtime.store.list_workflows(limit=10) == []


def test_a_message_without_a_payload_part_is_rejected_saying_how_to_send_one(
    tmp_path: Path,
) -> None:
    """Text alone is not a payload: REJECTED, naming the data part it needs."""
    served = server(tmp_path)
    message = Message(role=Role.ROLE_USER, message_id="m-text", parts=[new_text_part("refund me")])

    async def main() -> Task:
        async with asgi(served.app()) as http:
            return await send(await sdk_client(http, "JSONRPC"), message)

    task = run(main)
    assert state(task) == "TASK_STATE_REJECTED"
    assert "exactly one data part" in task.status.message.parts[0].text


def test_a_malformed_envelope_is_rejected_naming_its_fields(tmp_path: Path) -> None:
    """Envelope metadata that is not a seamline envelope: REJECTED with the fields at fault,
    addressed under the extension's metadata; nothing ran."""
    served = server(tmp_path)
    message = plain_message(GOOD)
    message.extensions.append(HANDOFF_EXTENSION)
    message.metadata.update({HANDOFF_EXTENSION: {"envelope": {"handoff_id": "h-1", "hop": -1}}})

    async def main() -> Task:
        async with asgi(served.app()) as http:
            return await send(await sdk_client(http, "JSONRPC"), message)

    task = run(main)
    assert state(task) == "TASK_STATE_REJECTED" and served.seen == []
    paths = {issue["path"] for issue in extension(task.status.message.metadata)["issues"]}
    root = f"metadata.{HANDOFF_EXTENSION}.envelope"
    assert {f"{root}.hop", f"{root}.intent", f"{root}.contract"} <= paths


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_gate_waits_as_input_required_until_decided_in_seamline(
    tmp_path: Path, binding: Binding
) -> None:
    """A gated first handoff shows INPUT_REQUIRED naming the gate and its owner; approving it
    through seamline completes the task."""
    served = server(tmp_path)
    big = {**GOOD, "amount": "250.00"}

    async def main() -> tuple[Task, Task]:
        async with asgi(served.app()) as http:
            client = await sdk_client(http, binding)
            waiting = await send(client, plain_message(big))
            (gate,) = served.runtime.gates()
            await served.runtime.decide(gate.id, "approve", by="payments-lead")
            done = await until(
                lambda: client.get_task(GetTaskRequest(id=waiting.id)),
                lambda task: task.status.state == TaskState.TASK_STATE_COMPLETED,
            )
            return waiting, done

    waiting, done = run(main)
    assert state(waiting) == "TASK_STATE_INPUT_REQUIRED"
    detail = extension(waiting.status.message.metadata)
    assert detail["status"] == "waiting" and detail["gates"][0]["owner"] == "payments"
    assert "payments" in waiting.status.message.parts[0].text
    assert plain(done.artifacts[0].parts[0].data)["refunded"] == "250.00"


@pytest.mark.parametrize("binding", BINDINGS)
def test_cancel_withdraws_a_waiting_task_and_a_finished_one_is_not_cancelable(
    tmp_path: Path, binding: Binding
) -> None:
    """CancelTask on a task waiting at a gate: CANCELED, the gate rejected by the client and
    the handoff kept whole as an open dead letter. Cancelling it again, or a completed task,
    is TaskNotCancelableError; an unknown id is TaskNotFoundError."""
    served = server(tmp_path)

    async def main() -> tuple[Task, list[type[Exception]]]:
        async with asgi(served.app()) as http:
            client = await sdk_client(http, binding)
            waiting = await send(client, plain_message({**GOOD, "amount": "250.00"}))
            canceled = await client.cancel_task(CancelTaskRequest(id=waiting.id))
            completed = await send(client, plain_message(GOOD))
            errors: list[type[Exception]] = []
            for task_id in (waiting.id, completed.id, "no-such-task"):
                with pytest.raises((TaskNotCancelableError, TaskNotFoundError)) as raised:
                    await client.cancel_task(CancelTaskRequest(id=task_id))
                errors.append(raised.type)
            return canceled, errors

    canceled, errors = run(main)
    assert state(canceled) == "TASK_STATE_CANCELED"
    assert errors == [TaskNotCancelableError, TaskNotCancelableError, TaskNotFoundError]
    result = served.runtime.result(canceled.id)
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    (gate,) = served.runtime.gates(status="decided")
    assert gate.status == "rejected" and gate.decided_by == "a2a-client"
    letter = served.runtime.ledger.dead_letter(result.dead_letter_id)
    assert json.loads(letter.envelope)["payload"]["amount"] == "250.00"


def test_cancelling_a_running_task_lets_its_step_finish_and_be_recorded(tmp_path: Path) -> None:
    """Cancelled while the agent works (returnImmediately): the task is CANCELED at once and
    stays so, while the step in flight finishes and the workflow is recorded whole."""
    served = server(tmp_path, slow=0.3)

    async def main() -> tuple[Task, Task]:
        async with asgi(served.app()) as http:
            client = await sdk_client(http, "HTTP+JSON")
            request = SendMessageRequest(
                message=plain_message(GOOD),
                configuration=SendMessageConfiguration(return_immediately=True),
            )
            (event,) = [event async for event in client.send_message(request)]
            canceled = await client.cancel_task(CancelTaskRequest(id=event.task.id))
            with anyio.fail_after(10):
                while (record := served.runtime.store.get_workflow(canceled.id)) is None or (
                    record.status is WorkflowStatus.RUNNING
                ):
                    await anyio.sleep(0.02)
            return canceled, await client.get_task(GetTaskRequest(id=canceled.id))

    canceled, later = run(main)
    assert state(canceled) == state(later) == "TASK_STATE_CANCELED"
    assert served.runtime.result(canceled.id).status is WorkflowStatus.COMPLETED
    assert len(served.seen) == 1


# -- the wire: error codes and the A2A-Version header --------------------------------------


def test_json_rpc_error_codes_are_the_protocols(tmp_path: Path) -> None:
    """TaskNotFound -32001 (GetTask, CancelTask), TaskNotCancelable -32002, a media type
    the card does not list -32005, invalid params -32602 (no message; a contextId that is
    not its task's), unknown method -32601, each with a google.rpc ErrorInfo in the
    a2a-protocol.org domain."""
    served = server(tmp_path)

    async def main() -> dict[str, dict[str, Any]]:
        async with asgi(served.app()) as http:
            sent = await rpc(http, "SendMessage", {"message": wire_message(GOOD)})
            task = sent["result"]["task"]
            mismatch = {**wire_message(GOOD), "taskId": task["id"], "contextId": "another"}
            binary = {**wire_message(GOOD), "parts": [{"raw": "dGNr", "mediaType": "x/tck"}]}
            return {
                "get": await rpc(http, "GetTask", {"id": "no-such-task"}),
                "cancel": await rpc(http, "CancelTask", {"id": "no-such-task"}),
                "done": await rpc(http, "CancelTask", {"id": task["id"]}),
                "media": await rpc(http, "SendMessage", {"message": binary}),
                "empty": await rpc(http, "SendMessage", {}),
                "context": await rpc(http, "SendMessage", {"message": mismatch}),
                "method": await rpc(http, "NoSuchMethod", {}),
            }

    answers = run(main)
    codes = {name: answer["error"]["code"] for name, answer in answers.items()}
    assert codes == {
        "get": -32001,
        "cancel": -32001,
        "done": -32002,
        "media": -32005,
        "empty": -32602,
        "context": -32602,
        "method": -32601,
    }
    info = answers["get"]["error"]["data"][0]
    assert info["reason"] == "TASK_NOT_FOUND" and info["domain"] == "a2a-protocol.org"


def test_http_json_errors_are_google_rpc_statuses(tmp_path: Path) -> None:
    """HTTP+JSON: an unknown task is 404 NOT_FOUND, a finished one not cancelable is 400,
    a malformed body is 400 INVALID_ARGUMENT, each with its ErrorInfo reason."""
    served = server(tmp_path)

    async def main() -> list[httpx.Response]:
        async with asgi(served.app()) as http:
            sent = await http.post(
                f"{REST_PATH}/message:send", json={"message": wire_message(GOOD)}, headers=V1
            )
            task_id = sent.json()["task"]["id"]
            return [
                await http.get(f"{REST_PATH}/tasks/no-such-task", headers=V1),
                await http.post(f"{REST_PATH}/tasks/{task_id}:cancel", headers=V1),
                await http.post(f"{REST_PATH}/message:send", json={"nope": 1}, headers=V1),
            ]

    found = [(r.status_code, r.json()["error"]["details"][0]["reason"]) for r in run(main)]
    assert found == [(404, "TASK_NOT_FOUND"), (400, "TASK_NOT_CANCELABLE"), (400, "INVALID_PARAMS")]


def test_the_a2a_version_header_missing_means_0_3_and_unsupported_versions_are_refused(
    tmp_path: Path,
) -> None:
    """1.0 is served; no header reads as 0.3, so a 1.0 method is VersionNotSupported
    (-32009) while the 0.3 method is served with 0.3 semantics; 2.0 is refused on both
    bindings (HTTP+JSON: 400 VERSION_NOT_SUPPORTED)."""
    served = server(tmp_path)
    legacy = {
        "message": {
            "kind": "message",
            "messageId": "m-legacy",
            "role": "user",
            "parts": [{"kind": "text", "text": "refund"}, {"kind": "data", "data": GOOD}],
        }
    }

    async def main() -> tuple[list[dict[str, Any]], dict[str, Any], httpx.Response]:
        async with asgi(served.app()) as http:
            modern = [
                await rpc(http, "SendMessage", {"message": wire_message(GOOD)}, headers=headers)
                for headers in (V1, {}, {"A2A-Version": "2.0"})
            ]
            old = await rpc(http, "message/send", legacy, headers={})
            rest = await http.get(f"{REST_PATH}/tasks/any", headers={"A2A-Version": "2.0"})
            return modern, old, rest

    (current, missing, future), old, rest = run(main)
    assert current["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert missing["error"]["code"] == future["error"]["code"] == -32009
    assert missing["error"]["data"][0]["reason"] == "VERSION_NOT_SUPPORTED"
    assert old["result"]["kind"] == "task" and old["result"]["status"]["state"] == "completed"
    assert old["result"]["artifacts"][0]["parts"][0]["data"]["approved"] is True
    assert rest.status_code == 400
    assert rest.json()["error"]["details"][0]["reason"] == "VERSION_NOT_SUPPORTED"


# -- a remote A2A agent as a seamline destination ------------------------------------------


def triage(contract: Contract[Any] = REFUND) -> Agent:
    """The local sender: hands every request to refunds."""

    @agent(name="triage", version="2.1.0", owner="support", accepts=[contract], emits=[contract])
    def triage_fn(request: BaseModel, ctx: Context) -> Outcome:
        return HandOff(to="refunds", payload=request)

    return triage_fn


def archivist(kept: list[RefundDecision]) -> Agent:
    """A local receiver of the remote's reply."""

    @agent(name="archivist", version="1.0.0", owner="support", accepts=[DECISION])
    def archivist_fn(decision: RefundDecision, ctx: Context) -> Outcome:
        kept.append(decision)
        return Finish({"archived": decision.order_id})

    return archivist_fn


def client_runtime(tmp_path: Path, *agents: Agent, refund: Contract[Any] = REFUND) -> Runtime:
    """The sending side: triage and ``agents``, on its own registry and SQLite ledger."""
    registry = Registry(agents=[triage(refund), *agents], contracts=[refund, DECISION])
    return Runtime(registry, SqliteStore(tmp_path / "client.db"))


async def start(local: Runtime, payload: dict[str, Any] = GOOD, **options: Any) -> RunResult:
    """A local workflow at triage."""
    return await local.run("triage", payload, intent="My lamp arrived broken, refund me", **options)


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_handoff_to_a_remote_agent_carries_the_envelope_and_validates_the_reply(
    tmp_path: Path, binding: Binding
) -> None:
    """The card becomes a registry agent; the handoff travels with its envelope (intent and
    constraints) and the correlation id as contextId; the reply is validated as the reply
    contract and finishes the workflow; each ledger holds its side."""
    served = server(tmp_path)

    async def main() -> tuple[Agent, RunResult, Runtime]:
        async with asgi(served.app()) as http:
            refunds = await remote_agent(BASE, http=http, reply=DECISION, binding=binding)
            local = client_runtime(tmp_path, refunds)
            budget = Constraints(budget=Budget(limit=Decimal("60")))
            return refunds, await start(local, constraints=budget), local

    refunds, result, local = run(main)
    assert refunds.card.capabilities == {"refunds", "payments"} and refunds.card.owner == "payments"
    assert str(refunds.card.accepts["refund.request"]) == "^1.2.0"
    assert result.status is WorkflowStatus.COMPLETED
    assert result.result == {"order_id": "ORD-7", "approved": True, "refunded": "42.50"}
    assert served.intents == ["My lamp arrived broken, refund me"]
    assert served.budgets == [Budget(limit=Decimal("60"))]
    (remote,) = served.runtime.store.list_workflows(limit=10)
    assert remote.name == f"a2a:{result.workflow_id}" and remote.status is WorkflowStatus.COMPLETED
    kinds = [entry.kind for entry in local.store.entries(correlation_id=result.workflow_id)]
    assert kinds.count("delivered") == 2 and kinds[-1] == "completed"


def test_a_repeated_handoff_runs_the_remote_agent_once_and_a_new_attempt_again(
    tmp_path: Path,
) -> None:
    """The same handoff and attempt sent twice (a retry after a lost reply) runs nothing
    new over there and answers the recorded outcome; a feedback round is a new attempt."""
    served = server(tmp_path)

    async def main() -> list[Outcome]:
        async with asgi(served.app()) as http:
            refunds = await remote_agent(BASE, http=http)
            envelope = Envelope(
                handoff_id=new_id(),
                correlation_id=new_id(),
                source=AgentRef(name="triage", version="2.1.0"),
                destination=AgentRef(name="refunds", version="3.0.0"),
                contract=ContractRef(name="refund.request", version="1.2.0"),
                intent=Intent.of("refund me"),
                hop=1,
                created_at=utcnow(),
                payload=GOOD,
            )
            payload = RefundRequest.model_validate(GOOD)
            outcomes = []
            for attempt in (1, 1, 2):
                outcome = refunds.fn(payload, Context(envelope, attempt=attempt))
                assert inspect.isawaitable(outcome)
                outcomes.append(await outcome)
            return outcomes

    first, repeated, second_attempt = run(main)
    assert first == repeated == second_attempt
    assert len(served.seen) == 2


def test_a_reply_that_breaks_its_contract_walks_the_failure_policy_to_a_dead_letter(
    tmp_path: Path,
) -> None:
    """Handed on with ``then``, a bad reply is refused at the next boundary: the remote is
    asked again (feedback rounds), then the reply is dead-lettered with every issue and kept
    whole. Without ``then`` the reply check fails the remote's step, naming the issues."""
    served = server(tmp_path, answer=lambda r: {"order_id": r.order_id, "approved": "maybe"})

    kept: list[RefundDecision] = []
    (tmp_path / "other").mkdir()

    async def main() -> tuple[RunResult, RunResult, Runtime, Runtime]:
        async with asgi(served.app()) as http:
            handed = await remote_agent(BASE, http=http, reply=DECISION, then="archivist")
            local = client_runtime(tmp_path, handed, archivist(kept))
            finishing = await remote_agent(BASE, http=http, reply=DECISION)
            other = client_runtime(tmp_path / "other", finishing)
            return await start(local), await start(other), local, other

    via_then, via_reply, local, other = run(main)
    assert via_then.status is WorkflowStatus.DEAD_LETTERED and via_then.dead_letter_id
    letter = local.ledger.dead_letter(via_then.dead_letter_id)
    issues = json.loads(letter.issues)
    assert {i["path"] for i in issues} == {"payload.approved", "payload.refunded"}
    assert json.loads(letter.envelope)["payload"] == {"order_id": "ORD-7", "approved": "maybe"}
    assert kept == []
    # Asked once and again in each feedback round; then once by the workflow without then.
    assert len(served.seen) == 1 + DECISION.policy.feedback_retries + 1
    assert via_reply.status is WorkflowStatus.DEAD_LETTERED and via_reply.dead_letter_id
    failed = other.ledger.dead_letter(via_reply.dead_letter_id)
    assert failed.reason == "agent_error" and "reply.approved" in failed.message


class LooseRefund(BaseModel):
    """The sender's stale copy of refund.request: it lets any amount through."""

    order_id: str
    amount: str
    quantity: int
    card_number: str


def test_a_payload_the_remote_contract_refuses_is_a_failure_naming_its_issues(
    tmp_path: Path,
) -> None:
    """A sender whose copy of the contract drifted gets past its own boundary; the remote's
    refuses the payload (REJECTED) and the local step fails, quoting the remote's issues."""
    served = server(tmp_path)
    loose = Contract(model=LooseRefund, name="refund.request", version="1.2.0", owner="payments")

    async def main() -> tuple[RunResult, Runtime]:
        async with asgi(served.app()) as http:
            local = client_runtime(tmp_path, await remote_agent(BASE, http=http), refund=loose)
            return await start(local, {**GOOD, "amount": "about forty"}), local

    result, local = run(main)
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    letter = local.ledger.dead_letter(result.dead_letter_id)
    assert "rejected by the remote's contract" in letter.message
    assert "payload.amount" in letter.message and served.seen == []


def test_a_remote_gate_is_waited_out_until_its_owner_decides(tmp_path: Path) -> None:
    """The remote answers INPUT_REQUIRED at its gate; the local step polls until the owner
    over there approves, then finishes with the reply."""
    served = server(tmp_path)

    async def main() -> RunResult:
        async with asgi(served.app()) as http:
            local = client_runtime(tmp_path, await remote_agent(BASE, http=http, poll=0.05))
            results: list[RunResult] = []

            async def local_run() -> None:
                results.append(await start(local, {**GOOD, "amount": "250.00"}))

            async with anyio.create_task_group() as group:
                group.start_soon(local_run)
                with anyio.fail_after(10):
                    while not (gates := served.runtime.gates()):
                        await anyio.sleep(0.02)
                await served.runtime.decide(gates[0].id, "approve", by="payments-lead")
            return results[0]

    result = run(main)
    assert result.status is WorkflowStatus.COMPLETED and result.result["refunded"] == "250.00"


def card_json(**changes: Any) -> dict[str, Any]:
    """A valid card for the refunds agent, with ``changes`` applied at the top level."""
    return {
        "name": "refunds",
        "description": "Decides refunds",
        "version": "3.0.0",
        "provider": {"organization": "payments", "url": BASE},
        "supportedInterfaces": [
            {"url": BASE + JSONRPC_PATH, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
        "capabilities": {
            "extensions": [
                {
                    "uri": HANDOFF_EXTENSION,
                    "params": {"contracts": [{"name": "refund.request", "versions": "^1.2"}]},
                }
            ]
        },
        "defaultInputModes": ["application/json"],
        "defaultOutputModes": ["application/json"],
        "skills": [{"id": "refunds", "name": "refunds", "description": "d", "tags": ["refunds"]}],
        **changes,
    }


def mock(card: Any, *, calls: list[str] | None = None) -> httpx.AsyncClient:
    """A client whose network has ``card`` at the well-known path and nothing else."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("agent-card.json"):
            if isinstance(card, str):
                return httpx.Response(200, text=card)
            return httpx.Response(200, json=card)
        if calls is not None:
            calls.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def registration_error(http: httpx.AsyncClient, url: str = BASE, **options: Any) -> str:
    """What registering the card at ``url`` through ``http`` is refused with."""

    async def main() -> None:
        async with http:
            await remote_agent(url, http=http, **options)

    with pytest.raises(RegistryError) as raised:
        run(main)
    return str(raised.value)


def test_a_malformed_or_unreachable_card_is_refused_naming_every_problem() -> None:
    """Not JSON, unreachable, no contract declaration, a bad range and version, no HTTP
    binding: a RegistryError that says what is wrong and what to pass instead."""
    assert "cannot read the A2A agent card" in registration_error(mock("<html>down</html>"))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    unreachable = registration_error(httpx.AsyncClient(), f"http://127.0.0.1:{port}")
    assert "cannot read the A2A agent card" in unreachable and "check the URL" in unreachable
    undeclared = registration_error(mock(card_json(capabilities={})))
    assert "does not declare the seamline handoff-contract extension" in undeclared
    assert "accepts=" in undeclared
    bad = card_json(version="v3")
    bad["capabilities"]["extensions"][0]["params"]["contracts"][0]["versions"] = "soon"
    both = registration_error(mock(bad))
    assert "version 'v3' is not MAJOR.MINOR.PATCH" in both
    assert "params.contracts[0].versions" in both and "'soon' is not a version range" in both
    grpc_only = card_json(
        supportedInterfaces=[
            {"url": "grpc://x", "protocolBinding": "GRPC", "protocolVersion": "1.0"}
        ]
    )
    assert "lists no JSONRPC or HTTP+JSON interface" in registration_error(mock(grpc_only))


def test_a_card_without_the_extension_registers_with_accepts_given() -> None:
    """A plain A2A agent says nothing of contracts; ``accepts`` says it for it."""

    async def main() -> Agent:
        async with mock(card_json(capabilities={})) as http:
            return await remote_agent(BASE, http=http, accepts={"refund.request": "^1"})

    refunds = run(main)
    assert str(refunds.card.accepts["refund.request"]) == "^1" and refunds.card.version.major == 3


def test_an_unreachable_remote_is_retried_then_dead_lettered_whole(tmp_path: Path) -> None:
    """Connection refused at send time is transient: retried under the contract's policy,
    each retry in the ledger, then the handoff is dead-lettered with its payload."""
    retried = Contract(
        model=RefundRequest,
        name="refund.request",
        version="1.2.0",
        owner="payments",
        sensitive=("card_number",),
        policy=FailurePolicy(retries=2, backoff=0.01),
    )
    calls: list[str] = []

    async def main() -> tuple[RunResult, Runtime]:
        http = mock(card_json(), calls=calls)
        async with http:
            local = client_runtime(tmp_path, await remote_agent(BASE, http=http), refund=retried)
            return await start(local), local

    result, local = run(main)
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    assert calls == [JSONRPC_PATH] * 3
    kinds = [entry.kind for entry in local.store.entries(correlation_id=result.workflow_id)]
    assert kinds.count("retry") == 2
    letter = local.ledger.dead_letter(result.dead_letter_id)
    assert "over A2A" in letter.message and SECRET not in letter.message
    assert json.loads(letter.envelope)["payload"]["card_number"] == SECRET


def test_an_integer_a_data_part_would_change_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    """Protobuf carries numbers as doubles: an integer past 2**53 would arrive changed, so
    the step fails naming it, and nothing reaches the remote."""
    served = server(tmp_path)

    async def main() -> tuple[RunResult, Runtime]:
        async with asgi(served.app()) as http:
            local = client_runtime(tmp_path, await remote_agent(BASE, http=http))
            return await start(local, {**GOOD, "quantity": 2**60}), local

    result, local = run(main)
    assert result.status is WorkflowStatus.DEAD_LETTERED and result.dead_letter_id
    letter = local.ledger.dead_letter(result.dead_letter_id)
    assert "quantity is 1152921504606846976, beyond 2**53" in letter.message
    assert served.seen == []


# -- over a real socket --------------------------------------------------------------------


@contextmanager
def serving(build: Callable[[str], Starlette]) -> Iterator[str]:
    """``build(url)`` on uvicorn on a free loopback port, in a thread; yields the URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    config = uvicorn.Config(build(url), log_level="warning", ws="none", lifespan="on")
    server_ = uvicorn.Server(config)
    thread = threading.Thread(target=server_.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server_.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield url
    finally:
        server_.should_exit = True
        thread.join(timeout=20)
        listener.close()


def test_over_a_loopback_socket_both_bindings_hand_off_and_a_stream_ends_at_completion(
    tmp_path: Path,
) -> None:
    """uvicorn on 127.0.0.1: the card is read and a handoff completes over JSON-RPC and over
    HTTP+JSON; SendStreamingMessage opens with the task and closes at COMPLETED."""
    served = server(tmp_path)

    with serving(lambda url: served.app(url)) as url:

        async def main() -> tuple[list[RunResult], list[StreamResponse]]:
            results = []
            for binding in BINDINGS:
                refunds = await remote_agent(url, reply=DECISION, binding=binding, timeout=10)
                local = client_runtime(tmp_path / binding, refunds)
                results.append(await start(local))
            async with httpx.AsyncClient(timeout=10) as http:
                card = await A2ACardResolver(http, url).get_agent_card()
                client = ClientFactory(ClientConfig(httpx_client=http, streaming=True)).create(card)
                request = SendMessageRequest(message=plain_message(GOOD))
                events = [event async for event in client.send_message(request)]
            return results, events

        for binding in BINDINGS:
            (tmp_path / binding).mkdir()
        results, events = run(main)

    assert [r.status for r in results] == [WorkflowStatus.COMPLETED] * 2
    assert all(r.result["approved"] is True for r in results)
    assert events[0].HasField("task")
    last = events[-1]
    assert last.HasField("status_update")
    assert last.status_update.status.state == TaskState.TASK_STATE_COMPLETED
    assert any(event.HasField("artifact_update") for event in events)


# -- what must not happen ------------------------------------------------------------------


def test_no_sensitive_value_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Served, rejected and handed off to a remote: the card number reaches the receiving
    agent, never a log line."""
    served = server(tmp_path)
    caplog.set_level(logging.DEBUG, logger="seamline")
    caplog.set_level(logging.INFO)

    async def main() -> None:
        async with asgi(served.app()) as http:
            client = await sdk_client(http, "JSONRPC")
            await send(client, plain_message(GOOD))
            await send(client, plain_message({**GOOD, "amount": "about forty"}))
            local = client_runtime(tmp_path, await remote_agent(BASE, http=http))
            await start(local)

    run(main)
    assert served.seen and served.seen[0].card_number == SECRET
    assert caplog.records and not [r for r in caplog.records if SECRET in r.getMessage()]


def python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_core_install_never_imports_the_a2a_sdk() -> None:
    """Importing seamline and seamline.interop loads no a2a-sdk, protobuf or httpx."""
    done = python(
        "import sys, seamline, seamline.interop\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('a2a', 'google', 'httpx')))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_the_a2a_module_names_it() -> None:
    """With a2a-sdk missing, importing seamline.interop.a2a says which extra to install."""
    done = python(
        "import sys\n"
        "sys.modules['a2a'] = None\n"
        "try:\n"
        "    import seamline.interop.a2a\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "MissingExtraError A2A interop (seamline.interop.a2a) needs an optional dependency: "
        'pip install "seamline[a2a]"'
    )


def test_the_example_runs_two_runtimes_over_a2a_on_loopback(tmp_path: Path) -> None:
    """examples/a2a: a plain refund, one approved at payments' gate, one refused before it
    crossed; both ledgers are left behind."""
    example = Path(__file__).parents[2] / "examples" / "a2a" / "desk_and_payments.py"
    done = subprocess.run(
        [sys.executable, str(example), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "ORD-1: completed {'order_id': 'ORD-1', 'told_customer': 'refunded 39.90'}" in done.stdout
    )
    assert (
        "ORD-2: completed {'order_id': 'ORD-2', 'told_customer': 'refunded 899.00'}" in done.stdout
    )
    assert "ORD-3: dead-lettered (validation)" in done.stdout
    assert (tmp_path / "desk.db").exists() and (tmp_path / "payments.db").exists()


def test_the_a2a_module_exports_exactly_its_api() -> None:
    """seamline.interop.a2a offers serving, the card, remote agents and the wire names."""
    import seamline.interop.a2a as a2a

    assert a2a.__all__ == [
        "HANDOFF_EXTENSION",
        "JSONRPC_PATH",
        "REST_PATH",
        "Binding",
        "a2a_app",
        "agent_card",
        "remote_agent",
    ]
    assert all(hasattr(a2a, name) for name in a2a.__all__)
