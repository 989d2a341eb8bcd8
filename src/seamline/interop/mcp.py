"""MCP: tool results kept whole across seams, and a store's ledger for any MCP client.

**Tool results.** An envelope records the tools an agent called in MCP's ``CallToolResult``
shape (:class:`~seamline.contracts.ToolOutput`). :func:`tool_output_from_mcp` records what
an MCP tool returned, every content block with its annotations, the structured content and
the error flag, so the next agent reads the tool's output rather than a retelling of it;
:func:`to_mcp` gives the SDK's own object back.

**A server.** :func:`build_server` puts one store and its registry in front of any MCP
client (a desktop assistant, an IDE, another agent), through the official SDK: a workflow's
memory (search, get, list), the registry (agents with owners, capabilities and health; who
accepts a contract), workflow status and the dead-letter queue as tools, and every contract
version's JSON Schema as a resource (``seamline://contracts/{name}/{version}``, indexed at
``seamline://contracts``). ``seamline mcp`` serves it over stdio or streamable HTTP.

It only reads. Replaying or discarding a dead letter changes what runs, and belongs to the
HTTP API, whose tokens say which team may. Memory is read the way ``seamline memory`` reads
it, through :class:`~seamline.memory.Memory` and not an agent's ``ctx.memory``, so these
reads are not in the retrieval audit: the audit records what agents saw when they decided,
and a person or assistant looking must not change that record. Envelopes are shown masked,
as in every other view; artifact values are shown as agents wrote them, as ``seamline
memory`` shows them (keep sensitive values out of memory).

Bad arguments never take the server down: arguments that fail a tool's input schema, an
unknown workflow, contract or dead letter, or a malformed filter come back as a tool error
(``isError``) saying what was wrong; an unknown contract schema is an invalid-params error.

Needs the ``mcp`` extra; importing this module without it raises MissingExtraError.
"""

from __future__ import annotations

import json
from typing import Any

from seamline import __version__
from seamline.contracts import Contract, ToolOutput
from seamline.exceptions import MissingExtraError, SeamlineError
from seamline.ledger import Ledger
from seamline.memory import Embedder, Memory
from seamline.registry import Registry
from seamline.stores import ArtifactStore

try:
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError
    from mcp.server.mcpserver.resources import TextResource
    from mcp.types import CallToolResult, ToolAnnotations
except ImportError as missing:
    raise MissingExtraError(feature="the MCP server and tool results", extra="mcp") from missing

from seamline.interop._mcp_tools import Tools, tool_errors

__all__ = ["CONTRACTS_URI", "build_server", "to_mcp", "tool_output_from_mcp"]

CONTRACTS_URI = "seamline://contracts"
"""The index of contract versions; each schema is at ``{CONTRACTS_URI}/{name}/{version}``."""
_SCHEMA_MIME = "application/schema+json"


# -- tool results ---------------------------------------------------------------------------


def tool_output_from_mcp(
    tool: str, result: CallToolResult, *, call_id: str | None = None
) -> ToolOutput:
    """What the MCP tool ``tool`` returned, ready to travel in an envelope.

    The result's own ``_meta`` (the protocol version and server identity the SDK stamps)
    describes the call, not the tool's output, so it is not kept.
    """
    wire = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return ToolOutput.model_validate(
        {
            "tool": tool,
            "call_id": call_id,
            "content": wire["content"],
            "structuredContent": result.structured_content,
            "isError": result.is_error,
        }
    )


def to_mcp(output: ToolOutput) -> CallToolResult:
    """The SDK's ``CallToolResult`` for a recorded tool output."""
    return CallToolResult.model_validate(
        output.model_dump(mode="json", include={"content", "structuredContent", "isError"})
    )


# -- the server -----------------------------------------------------------------------------

_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
_INSTRUCTIONS = """\
seamline records every handoff between AI agents: the ledger of workflows, the memory
agents wrote, the registry of agents and contracts, and the dead letters. Start with
list_workflows or list_dead_letters; memory tools take a workflow id. Contract JSON Schemas
are resources at seamline://contracts/{name}/{version}, indexed at seamline://contracts.
Sensitive payload fields read «masked». Everything here is read-only."""


def build_server(
    store: ArtifactStore,
    registry: Registry,
    *,
    embedder: Embedder | None = None,
    tenant: str | None = None,
) -> MCPServer:
    """An MCP server (the SDK's ``MCPServer``) reading ``store`` with ``registry``.

    ``embedder`` and ``tenant`` must be the runtime's: a store refuses semantic searches
    with another embedder than the one that wrote it, and shared artifacts belong to a
    tenant. Run it with ``.run()`` (stdio), ``.run("streamable-http", ...)``, or mount
    ``.streamable_http_app()``.
    """
    server: MCPServer = MCPServer(
        name="seamline", title="seamline", version=__version__, instructions=_INSTRUCTIONS
    )
    tools = Tools(Ledger(store), Memory(store, embedder=embedder, tenant=tenant), registry)
    for tool in (
        tools.list_workflows,
        tools.workflow_status,
        tools.search_memory,
        tools.get_artifact,
        tools.list_artifacts,
        tools.list_agents,
        tools.agents_accepting,
        tools.list_dead_letters,
        tools.show_dead_letter,
    ):
        server.add_tool(tool_errors(tool), annotations=_READ_ONLY)
    _add_contracts(server, registry)
    return server


def _add_contracts(server: MCPServer, registry: Registry) -> None:
    """Each contract version's schema as a listed resource, the template that reads any
    by name and version (with a clear error for one that does not exist), and the index."""
    for contract in registry.contracts:
        server.add_resource(
            TextResource(
                uri=_uri(contract),
                name=contract.ref,
                title=f"{contract.ref} JSON Schema",
                description=contract.description or None,
                mime_type=_SCHEMA_MIME,
                text=_schema(contract),
            )
        )

    @server.resource(
        CONTRACTS_URI + "/{name}/{version}",
        name="contract-schema",
        description="A contract version's payload JSON Schema, with its governance metadata "
        "under x-seamline (owner, sensitive and tracked fields, compatibility, lifecycle).",
        mime_type=_SCHEMA_MIME,
    )
    def contract_schema(name: str, version: str) -> str:
        try:
            return _schema(registry.contract(name, version))
        except SeamlineError as error:  # an unknown name or version, or one that won't parse
            raise ResourceNotFoundError(str(error)) from None

    @server.resource(
        CONTRACTS_URI,
        name="contracts",
        title="seamline contracts",
        description="Every registered contract version: owner, lifecycle today, schema URI.",
        mime_type="application/json",
    )
    def contracts() -> str:
        index = [
            {
                "name": contract.name,
                "version": str(contract.version),
                "owner": contract.owner,
                "lifecycle": contract.lifecycle().value,
                "deprecated": contract.deprecated.isoformat() if contract.deprecated else None,
                "retires": contract.retires.isoformat() if contract.retires else None,
                "uri": _uri(contract),
            }
            for contract in registry.contracts
        ]
        return json.dumps({"contracts": index}, indent=2)


def _uri(contract: Contract[Any]) -> str:
    return f"{CONTRACTS_URI}/{contract.name}/{contract.version}"


def _schema(contract: Contract[Any]) -> str:
    return json.dumps(contract.json_schema(), indent=2, ensure_ascii=False)
