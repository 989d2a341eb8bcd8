"""Ask a seamline ledger questions over MCP, the way an assistant or an IDE would.

The script starts ``seamline mcp`` as a subprocess over stdio with the official MCP SDK's
client (exactly what a desktop MCP host does with the same command), then asks: which tools
are there, which handoffs died and why, what the agents remembered about the order, and
what the refund contract says. With no ledger yet, it runs the demo's four tickets first.

Run it: ``python examples/mcp-server/ask_seamline.py [ledger.db]``
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextResourceContents

from seamline import Runtime, SqliteStore
from seamline.demo import APP, TICKETS, build_registry
from seamline.exceptions import ContractDeprecationWarning


def make_demo_ledger(path: Path) -> None:
    """The demo's four tickets on a new SQLite ledger."""
    store = SqliteStore(path)
    try:
        runtime = Runtime(build_registry(), store, app=APP)
        with warnings.catch_warnings():
            # triage still emits the deprecated refund.request 1.2.0: that is the demo's story
            warnings.simplefilter("ignore", ContractDeprecationWarning)
            for _, ticket in TICKETS:
                runtime.run_sync("intake", ticket, intent=ticket.message)
    finally:
        store.close()


def structured(result: CallToolResult) -> dict[str, Any]:
    """A tool's answer, or its error message as an exception."""
    if result.is_error or not isinstance(result.structured_content, dict):
        raise RuntimeError(f"the tool failed: {result.content}")
    return result.structured_content


async def ask(ledger: Path) -> dict[str, Any]:
    """Start ``seamline mcp`` over stdio, ask four questions, return the answers."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "seamline", "mcp", "--store", str(ledger), "--app", APP],
    )
    async with Client(server) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        letters = structured(await client.call_tool("list_dead_letters", {}))["dead_letters"]
        why = structured(
            await client.call_tool("show_dead_letter", {"dead_letter_id": letters[0]["id"]})
        )
        memory = structured(
            await client.call_tool(
                "search_memory", {"workflow": why["workflow_id"], "text": "order value"}
            )
        )
        schema = (await client.read_resource("seamline://contracts/refund.request/2.0.0")).contents
        assert isinstance(schema[0], TextResourceContents)
    return {
        "tools": tools,
        "dead_letter": {"route": why["route"], "issues": why["issues"]},
        "remembered": [hit["artifact"]["value"] for hit in memory["hits"][:2]],
        "refund_contract_owner": json.loads(schema[0].text)["x-seamline"]["owner"],
    }


def main(ledger: str = "seamline-mcp-example.db") -> dict[str, Any]:
    """Answer the questions against ``ledger`` (made from the demo when it is missing)."""
    path = Path(ledger)
    if not path.exists():
        make_demo_ledger(path)
    return anyio.run(ask, path)


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:]), indent=2))
