"""MCP: tool results travel whole, and `seamline mcp` serves a store to the SDK's client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.server import MCPServer
from mcp.server.mcpserver import Image
from mcp.types import (
    Annotations,
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel
from typer.testing import CliRunner

from seamline import (
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    RunResult,
    Runtime,
    SqliteStore,
    ToolOutput,
    agent,
)
from seamline.cli import app
from seamline.contracts import MASK
from seamline.demo import APP, TICKETS, build_registry
from seamline.exceptions import ContractDeprecationWarning
from seamline.interop.mcp import CONTRACTS_URI, build_server, to_mcp, tool_output_from_mcp
from seamline.ledger import Ledger
from seamline.stores import WorkflowStatus

T = TypeVar("T")
DEMO_APP = APP


def run(
    body: Callable[[Client], Awaitable[T]], server: MCPServer | str | StdioServerParameters
) -> T:
    """``body`` with an SDK client connected to ``server``: in-process, a URL, or a command."""

    async def main() -> T:
        async with Client(server, raise_exceptions=True) as client:
            return await body(client)

    return anyio.run(main)


def call(server: MCPServer, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    """One tool call over a fresh in-process session."""
    return run(lambda client: client.call_tool(tool, arguments), server)


def answer(server: MCPServer, tool: str, arguments: dict[str, Any] | None = None) -> Any:
    """A tool call that must succeed: its structured content."""
    result = call(server, tool, arguments or {})
    assert not result.is_error, result.content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    """The text of a tool error (asserting it is one)."""
    assert result.is_error and result.structured_content is None
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


# -- tool results ---------------------------------------------------------------------------

PNG = "iVBORw0KGgo="

RESULTS = {
    "text with annotations and _meta": CallToolResult(
        content=[
            TextContent(
                text="ORD-1: 129.99 USD",
                annotations=Annotations(audience=["assistant"], priority=0.5),
                _meta={"source": "crm"},
            )
        ]
    ),
    "image and audio": CallToolResult(
        content=[
            ImageContent(data=PNG, mime_type="image/png"),
            AudioContent(data="UklGRg==", mime_type="audio/wav"),
        ]
    ),
    "embedded text and blob resources": CallToolResult(
        content=[
            EmbeddedResource(
                resource=TextResourceContents(
                    uri="file:///orders/1.json", mime_type="application/json", text='{"a": 1}'
                )
            ),
            EmbeddedResource(
                resource=BlobResourceContents(
                    uri="file:///label.pdf", mime_type="application/pdf", blob="JVBERi0="
                ),
                annotations=Annotations(priority=1.0),
            ),
        ]
    ),
    "resource link": CallToolResult(
        content=[
            ResourceLink(
                uri="https://crm.example/orders/1",
                name="order-1",
                title="Order 1",
                description="the order record",
                mime_type="application/json",
                size=512,
            )
        ]
    ),
    "structured content": CallToolResult(
        content=[TextContent(text='{"order_id": "ORD-1"}')],
        structured_content={"order_id": "ORD-1", "value": "129.99", "lines": [{"sku": "L-1"}]},
    ),
    "a list as structured content (MCP 2026-07-28)": CallToolResult(
        content=[], structured_content=[1, "two", None]
    ),
    "an error": CallToolResult(
        content=[TextContent(text="order service timed out")], is_error=True
    ),
}


@pytest.mark.parametrize("result", RESULTS.values(), ids=RESULTS.keys())
def test_a_tool_result_survives_the_envelope_and_comes_back_equal(result: CallToolResult) -> None:
    """Every content kind, annotations and _meta included, through ToolOutput's JSON."""
    recorded = tool_output_from_mcp("orders.lookup", result, call_id="c-1")
    assert (recorded.tool, recorded.call_id) == ("orders.lookup", "c-1")
    stored = ToolOutput.model_validate_json(recorded.model_dump_json())
    assert to_mcp(stored) == result
    wire = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert stored.model_dump(mode="json", exclude={"tool", "call_id"}, exclude_none=True) == {
        key: value for key, value in wire.items() if key != "resultType"
    }


def test_the_result_meta_describes_the_call_and_is_not_kept() -> None:
    """The SDK stamps server identity on the result; the recorded output drops it."""
    result = CallToolResult(content=[TextContent(text="x")], _meta={"server": "crm"})
    assert to_mcp(tool_output_from_mcp("t", result)).meta is None


class Order(BaseModel):
    """An order to check."""

    order_id: str


ORDER = Contract(model=Order, name="order", version="1.0.0", owner="tests")


def order_tools() -> MCPServer:
    """An MCP server with one tool answering in text, an image and structured content."""
    tools: MCPServer = MCPServer("crm")

    @tools.tool()
    def lookup(order_id: str) -> list[TextContent | ImageContent]:
        return [
            TextContent(text=f"{order_id}: 129.99 USD"),
            Image(data=b"\x89PNG\r\n", format="png").to_image_content(),
        ]

    return tools


def test_an_mcp_tools_output_reaches_the_next_agent_and_the_ledger_intact(tmp_path: Path) -> None:
    """An agent records what an MCP tool returned; the receiver and the ledger get it back."""
    tools = order_tools()
    called: list[CallToolResult] = []
    received: list[CallToolResult] = []

    @agent(name="clerk", version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    async def clerk(order: Order, ctx: Context) -> Outcome:
        async with Client(tools) as client:
            result = await client.call_tool("lookup", {"order_id": order.order_id})
        called.append(result.model_copy(update={"meta": None}))
        recorded = tool_output_from_mcp("crm.lookup", result, call_id="call-1")
        return HandOff(to="checker", payload=order, tool_outputs=[recorded])

    @agent(name="checker", version="1.0.0", owner="tests", accepts=[ORDER])
    def checker(order: Order, ctx: Context) -> Outcome:
        received.extend(to_mcp(output) for output in ctx.envelope.tool_outputs)
        return Finish("checked")

    store = SqliteStore(tmp_path / "l.db")
    try:
        runtime = Runtime(Registry(agents=[clerk, checker], contracts=[ORDER]), store)
        done = runtime.run_sync("clerk", Order(order_id="ORD-1"), intent="check ORD-1")
        view = Ledger(store).handoffs(done.workflow_id)[-1]
    finally:
        store.close()
    assert done.result == "checked"
    (original,) = called
    assert [block.type for block in original.content] == ["text", "image"]
    assert received == [original]
    assert [to_mcp(output) for output in view.envelope.tool_outputs] == [original]


# -- the server over the demo's workflows ---------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger holding the demo's four tickets."""
    path = tmp_path_factory.mktemp("mcp") / "demo.db"
    store = SqliteStore(path)
    try:
        runtime = Runtime(build_registry(), store, app=DEMO_APP)
        with warnings.catch_warnings():
            # triage still emits the deprecated refund.request 1.2.0, as the demo shows
            warnings.simplefilter("ignore", ContractDeprecationWarning)
            for _, ticket in TICKETS:
                runtime.run_sync("intake", ticket, intent=ticket.message)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def demo_store(demo_db: Path) -> Iterator[SqliteStore]:
    """The demo ledger, open."""
    store = SqliteStore(demo_db)
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(demo_store: SqliteStore) -> MCPServer:
    """The MCP server over the demo ledger and the demo's registry."""
    return build_server(demo_store, build_registry())


def workflow(store: SqliteStore, status: WorkflowStatus) -> str:
    """The id of the demo workflow that ended with ``status``."""
    return next(w.id for w in Ledger(store).workflows() if w.status is status)


TOOLS = {
    "list_workflows",
    "workflow_status",
    "search_memory",
    "get_artifact",
    "list_artifacts",
    "list_agents",
    "agents_accepting",
    "list_dead_letters",
    "show_dead_letter",
}


def test_the_tools_publish_typed_input_and_output_schemas(server: MCPServer) -> None:
    """Every tool is read-only with an output schema; arguments are typed and bounded."""
    tools = {tool.name: tool for tool in run(lambda c: c.list_tools(), server).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.output_schema is not None
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    search = tools["search_memory"].input_schema
    assert search["required"] == ["workflow", "text"]
    assert search["$defs"]["SearchMode"]["enum"] == ["hybrid", "lexical", "semantic"]
    assert search["properties"]["limit"]["maximum"] == 100
    filters = tools["list_artifacts"].input_schema["$defs"]["ArtifactFilter"]
    assert filters["additionalProperties"] is False
    assert {"key", "kind", "producer", "step", "where", "all_versions"} <= set(
        filters["properties"]
    )
    assert tools["get_artifact"].output_schema is not None
    assert "value" in tools["get_artifact"].output_schema["properties"]


def test_workflows_list_with_their_status_and_where_they_stand(
    server: MCPServer, demo_store: SqliteStore
) -> None:
    """The four tickets: two completed, one dead-lettered, one escalated."""
    listed = answer(server, "list_workflows")["workflows"]
    assert sorted(w["status"] for w in listed) == [
        "completed",
        "completed",
        "dead_lettered",
        "escalated",
    ]
    dead = answer(server, "list_workflows", {"status": "dead_lettered"})["workflows"]
    assert [w["id"] for w in dead] == [workflow(demo_store, WorkflowStatus.DEAD_LETTERED)]
    assert dead[0]["entry"] == "intake" and dead[0]["at_agent"] == "refunds"


def test_workflow_status_shows_the_outcome_and_every_handoff(
    server: MCPServer, demo_store: SqliteStore
) -> None:
    """The dead-lettered ticket: its outcome names the dead letter; its trace the rejections."""
    dead = workflow(demo_store, WorkflowStatus.DEAD_LETTERED)
    state = answer(server, "workflow_status", {"workflow": dead})
    assert state["status"] == "dead_lettered" and state["outcome"]["kind"] == "dead_letter"
    steps = state["trace"]["handoffs"]
    assert [step["status"] for step in steps][-1] == "dead_lettered"
    assert {issue["code"] for step in steps for issue in step["issues"]} == {"fact_changed"}
    completed = workflow(demo_store, WorkflowStatus.COMPLETED)
    done = answer(server, "workflow_status", {"workflow": completed})
    assert done["outcome"]["kind"] == "finish"
    assert done["handoffs"] == len(done["trace"]["handoffs"])


def test_memory_get_list_and_search_answer_exactly(
    server: MCPServer, demo_store: SqliteStore
) -> None:
    """The order record intake remembered comes back exact, by key, filter and search."""
    done = workflow(demo_store, WorkflowStatus.COMPLETED)
    order = answer(server, "get_artifact", {"workflow": done, "key": "order"})
    assert order["kind"] == "tool_output" and order["producer"] == "intake"
    assert order["value"]["status"] == "delivered" and order["version"] == 1
    listed = answer(
        server,
        "list_artifacts",
        {"workflow": done, "filters": {"where": {"status": "delivered"}, "limit": 5}},
    )
    assert [a["key"] for a in listed["artifacts"]] == ["order"] and listed["more"] is False
    by_kind = answer(server, "list_artifacts", {"workflow": done, "filters": {"kind": "decision"}})
    assert {a["producer"] for a in by_kind["artifacts"]} == {"refunds"}
    words = order["value"]["order_id"]
    for mode in ("lexical", "semantic", "hybrid"):
        found = answer(
            server, "search_memory", {"workflow": done, "text": words, "mode": mode, "limit": 3}
        )
        assert found["mode"] == mode and found["hits"][0]["rank"] == 1
        assert "order" in {hit["artifact"]["key"] for hit in found["hits"]}


def test_memory_read_through_mcp_is_not_in_the_agents_retrieval_audit(
    server: MCPServer, demo_store: SqliteStore
) -> None:
    """Like `seamline memory`, an MCP client's reads leave the audit of what agents saw as is."""
    done = workflow(demo_store, WorkflowStatus.COMPLETED)
    before = demo_store.reads(done)
    answer(server, "get_artifact", {"workflow": done, "key": "order"})
    answer(server, "search_memory", {"workflow": done, "text": "refund"})
    answer(server, "list_artifacts", {"workflow": done})
    assert demo_store.reads(done) == before


def test_the_registry_names_owners_capabilities_health_and_readers(server: MCPServer) -> None:
    """Agents with owners and breakers; who reads refund.request 1.2.0 (refunds, upcast)."""
    agents = {a["name"]: a for a in answer(server, "list_agents")["agents"]}
    assert set(agents) == {"intake", "triage", "refunds", "fulfillment"}
    refunds = agents["refunds"]
    assert refunds["owner"] == "payments" and refunds["capabilities"] == ["refunds"]
    assert refunds["accepts"] == {"refund.request": "^2"}
    assert refunds["health"] == "healthy" and refunds["breaker"] == "closed"
    assert refunds["calls"] >= 1
    old = answer(server, "agents_accepting", {"contract": "refund.request", "version": "1.2.0"})
    assert old["agents"] == [
        {
            "agent": "refunds",
            "version": "3.1.0",
            "owner": "payments",
            "health": "healthy",
            "accepts": "^2",
            "reads": "2.0.0",
            "upcast": ["refund.request 1.2.0 -> 2.0.0"],
        }
    ]
    new = answer(server, "agents_accepting", {"contract": "refund.request", "version": "2.0.0"})
    assert [(a["agent"], a["reads"], a["upcast"]) for a in new["agents"]] == [
        ("refunds", "2.0.0", [])
    ]
    any_version = answer(server, "agents_accepting", {"contract": "support.case"})
    assert [(a["agent"], a["accepts"], a["reads"]) for a in any_version["agents"]] == [
        ("triage", "^1.0.0", None)
    ]


def test_dead_letters_list_and_show_why(server: MCPServer, demo_store: SqliteStore) -> None:
    """The paraphrased order value: the issue, the path and the envelope as it was."""
    (listed,) = answer(server, "list_dead_letters")["dead_letters"]
    assert listed["route"] == "triage@2.1.0 -> refunds@3.1.0" and listed["status"] == "open"
    assert answer(server, "list_dead_letters", {"status": "discarded"})["dead_letters"] == []
    shown = answer(server, "show_dead_letter", {"dead_letter_id": listed["id"]})
    assert shown["workflow_id"] == workflow(demo_store, WorkflowStatus.DEAD_LETTERED)
    assert [issue["code"] for issue in shown["issues"]] == ["fact_changed"]
    assert shown["path"][-1] == "triage@2.1.0 -> refunds@3.1.0"
    assert shown["envelope"]["contract"] == {"name": "refund.request", "version": "1.2.0"}


def test_contract_schemas_are_resources_listed_and_templated(server: MCPServer) -> None:
    """Every version is listed and readable; the template reads any; the index names them."""
    registry = build_registry()

    async def read_all(client: Client) -> tuple[Any, Any, Any, Any]:
        return (
            await client.list_resources(),
            await client.list_resource_templates(),
            await client.read_resource(f"{CONTRACTS_URI}/refund.request/1.2.0"),
            await client.read_resource(CONTRACTS_URI),
        )

    resources, templates, schema, index = run(read_all, server)
    uris = {str(r.uri) for r in resources.resources}
    assert uris == {CONTRACTS_URI} | {
        f"{CONTRACTS_URI}/{c.name}/{c.version}" for c in registry.contracts
    }
    (template,) = templates.resource_templates
    assert template.uri_template == CONTRACTS_URI + "/{name}/{version}"
    (content,) = schema.contents
    assert content.mime_type == "application/schema+json"
    assert json.loads(content.text) == registry.contract("refund.request", "1.2.0").json_schema()
    entries = {e["uri"]: e for e in json.loads(index.contents[0].text)["contracts"]}
    assert entries[f"{CONTRACTS_URI}/refund.request/1.2.0"]["lifecycle"] == "deprecated"


BAD_CALLS = [
    ("workflow_status", {"workflow": "nope"}, "no workflow 'nope'"),
    ("search_memory", {"workflow": "nope", "text": "refund"}, "no workflow 'nope'"),
    ("get_artifact", {"workflow": "nope", "key": "order"}, "no workflow 'nope'"),
    ("list_artifacts", {"workflow": "nope"}, "no workflow 'nope'"),
    ("show_dead_letter", {"dead_letter_id": "nope"}, "no dead letter 'nope'"),
    ("agents_accepting", {"contract": "nope"}, "no contract named 'nope'"),
    ("agents_accepting", {"contract": "refund.request", "version": "9.0.0"}, "no version 9.0.0"),
    ("agents_accepting", {"contract": "refund.request", "version": "two"}, "not a semantic"),
    ("list_workflows", {"status": "lost"}, "status"),
    ("list_dead_letters", {"limit": 0}, "greater than or equal to 1"),
    ("search_memory", {"text": "refund"}, "workflow\n  Field required"),
    ("search_memory", {"workflow": "W", "text": "refund", "mode": "fuzzy"}, "'lexical'"),
    ("search_memory", {"workflow": "W", "text": "refund", "limit": 1000}, "less than or equal"),
    ("get_artifact", {"workflow": "W", "key": ["order"]}, "key\n  Input should be a valid str"),
    ("list_artifacts", {"workflow": "W", "filters": {"colour": "red"}}, "filters.colour"),
    ("list_artifacts", {"workflow": "W", "filters": {"where": {"a b": 1}}}, "not a field path"),
    ("list_artifacts", {"workflow": "W", "filters": {"where": {"a": [1]}}}, "filters.where.a"),
    ("list_artifacts", {"workflow": "W", "filters": {"step": -1}}, "filters.step"),
    ("list_artifacts", {"workflow": "W", "filters": "kind=fact"}, "filters\n  Input should be"),
    ("no_such_tool", {}, "Unknown tool: no_such_tool"),
]


@pytest.mark.parametrize(("tool", "arguments", "says"), BAD_CALLS)
def test_bad_arguments_are_tool_errors_that_say_what_is_wrong(
    server: MCPServer, demo_store: SqliteStore, tool: str, arguments: dict[str, Any], says: str
) -> None:
    """Unknown ids, contracts and versions, malformed filters and wrong types: isError."""
    known = workflow(demo_store, WorkflowStatus.COMPLETED)
    arguments = {k: known if v == "W" else v for k, v in arguments.items()}
    assert says in error_text(call(server, tool, arguments))


def test_a_bad_search_text_or_key_is_refused_with_the_rule(
    server: MCPServer, demo_store: SqliteStore
) -> None:
    """Search text with no words and a key that breaks the key rules say how to fix them."""
    known = workflow(demo_store, WorkflowStatus.COMPLETED)
    empty = call(server, "search_memory", {"workflow": known, "text": "  ?! "})
    assert "has no words to look for" in error_text(empty)
    bad_key = call(server, "get_artifact", {"workflow": known, "key": "../etc"})
    assert "memory key '../etc' is invalid" in error_text(bad_key)
    absent = call(server, "get_artifact", {"workflow": known, "key": "order", "version": 7})
    assert "no version 7 of memory key 'order'" in error_text(absent)


def test_an_unknown_contract_schema_is_an_invalid_params_error_and_the_server_goes_on(
    server: MCPServer,
) -> None:
    """Reading a schema that does not exist is a JSON-RPC error naming what exists."""

    async def read_then_list(client: Client) -> int:
        with pytest.raises(MCPError) as raised:
            await client.read_resource(f"{CONTRACTS_URI}/refund.request/9.9.9")
        assert raised.value.error.code == -32602
        assert "no version 9.9.9 (registered: 1.2.0, 2.0.0)" in raised.value.error.message
        return len((await client.list_tools()).tools)

    assert run(read_then_list, server) == len(TOOLS)


# -- nothing sensitive leaves ---------------------------------------------------------------

IBAN = "DE89370400440532013000"
OTHER_IBAN = "GB33BUKB20201555555555"


class Payout(BaseModel):
    """Money to send to a customer's bank account."""

    order_id: str
    iban: str


def payout_registry(*, paraphrase: bool) -> Registry:
    """intake -> payouts under a contract whose tracked IBAN is sensitive."""
    payout = Contract(
        model=Payout,
        name="payout",
        version="1.0.0",
        owner="billing",
        sensitive=("iban",),
        tracked=("order_id", "iban"),
        policy=FailurePolicy(feedback_retries=0),
    )

    @agent(name="intake", version="1.0.0", owner="support", accepts=[payout], emits=[payout])
    def intake(request: Payout, ctx: Context) -> Outcome:
        sent = request.model_copy(update={"iban": OTHER_IBAN}) if paraphrase else request
        return HandOff(to="payouts", payload=sent)

    @agent(name="payouts", version="1.0.0", owner="billing", accepts=[payout])
    def payouts(request: Payout, ctx: Context) -> Outcome:
        if request.order_id == "A-2":
            raise ValueError(f"bank refused account {request.iban}")
        return Finish({"paid": request.order_id})

    return Registry(agents=[intake, payouts], contracts=[payout])


def test_no_sensitive_value_leaves_through_any_tool_or_resource(tmp_path: Path) -> None:
    """A paid, a paraphrased and a refused payout: every answer masks the IBANs."""
    store = SqliteStore(tmp_path / "l.db")
    try:
        results: list[RunResult] = []
        for order_id, paraphrase in (("A-1", False), ("A-1", True), ("A-2", False)):
            runtime = Runtime(payout_registry(paraphrase=paraphrase), store)
            results.append(
                runtime.run_sync(
                    "intake", Payout(order_id=order_id, iban=IBAN), intent="pay me back"
                )
            )
        server = build_server(store, payout_registry(paraphrase=False))
        letters = [r.dead_letter_id for r in results if r.dead_letter_id]
        assert len(letters) == 2

        async def everything(client: Client) -> list[str]:
            calls: list[tuple[str, dict[str, Any]]] = [
                ("list_workflows", {}),
                ("list_dead_letters", {}),
                ("list_agents", {}),
                ("agents_accepting", {"contract": "payout", "version": "1.0.0"}),
                *[("workflow_status", {"workflow": r.workflow_id}) for r in results],
                *[("show_dead_letter", {"dead_letter_id": letter}) for letter in letters],
            ]
            said = []
            for tool, arguments in calls:
                result = await client.call_tool(tool, arguments)
                assert not result.is_error, (tool, result.content)
                said.append(result.model_dump_json())
            for resource in (await client.list_resources()).resources:
                said.append((await client.read_resource(resource.uri)).model_dump_json())
            return said

        said = run(everything, server)
    finally:
        store.close()
    everything_said = "\n".join(said)
    assert IBAN not in everything_said and OTHER_IBAN not in everything_said
    assert everything_said.count(MASK) >= 4
    assert f"bank refused account {MASK}" in everything_said


# -- `seamline mcp` over stdio and streamable HTTP ------------------------------------------

runner = CliRunner()


def serve_args(db: Path) -> list[str]:
    """`seamline mcp` over the demo ledger with the demo's registry."""
    return ["-m", "seamline", "mcp", "--store", str(db), "--app", DEMO_APP]


async def tour(client: Client) -> tuple[set[str], list[dict[str, Any]], str]:
    """Tools, workflows and a schema: the same answers whatever the transport."""
    names = {tool.name for tool in (await client.list_tools()).tools}
    listed = await client.call_tool("list_workflows", {"limit": 10})
    assert isinstance(listed.structured_content, dict)
    schema = await client.read_resource(f"{CONTRACTS_URI}/support.ticket/1.0.0")
    content = schema.contents[0]
    assert isinstance(content, TextResourceContents)
    return names, listed.structured_content["workflows"], content.text


def test_seamline_mcp_serves_over_stdio(demo_db: Path, tmp_path: Path) -> None:
    """The SDK's stdio client starts `seamline mcp`, lists the tools and calls one."""
    params = StdioServerParameters(
        command=sys.executable, args=serve_args(demo_db), cwd=str(tmp_path)
    )
    names, workflows, schema = run(tour, params)
    assert names == TOOLS and len(workflows) == 4
    assert json.loads(schema)["x-seamline"]["name"] == "support.ticket"


def free_port() -> int:
    """A loopback port nobody listens on (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_seamline_mcp_serves_streamable_http_on_loopback(demo_db: Path, tmp_path: Path) -> None:
    """`seamline mcp --transport http` answers the SDK's client at /mcp."""
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, *serve_args(demo_db), "--transport", "http", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert child.poll() is None, child.communicate()[0].decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "seamline mcp did not listen within 30 s"
                time.sleep(0.1)
        names, workflows, _ = run(tour, f"http://127.0.0.1:{port}/mcp")
    finally:
        child.terminate()
        output = child.communicate(timeout=30)[0].decode()
    assert names == TOOLS and len(workflows) == 4
    assert f"to MCP clients at http://127.0.0.1:{port}/mcp" in output


def test_seamline_mcp_refuses_a_missing_store_or_registry_in_one_line(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No store, or no registry to serve: exit 1 with what to do, before serving anything."""
    monkeypatch.chdir(tmp_path)
    missing = runner.invoke(app, ["mcp", "--store", "absent.db", "--app", DEMO_APP])
    assert missing.exit_code == 1 and "no seamline store at absent.db" in missing.stderr
    no_app = runner.invoke(app, ["mcp", "--store", str(demo_db)])
    assert no_app.exit_code == 1 and "no seamline.toml and no --app" in no_app.stderr
