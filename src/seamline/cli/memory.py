"""``seamline memory``: what agents remembered, how it ranks, and who read it.

An operator's window onto a workflow's memory: list artifacts by structured filters, show
one version with its provenance, run the search an agent would run, and read the retrieval
audit ("what did refunds see when it approved this?"). These reads go through
:class:`~seamline.memory.Memory`, not an agent's ``ctx.memory``, so they are not audited:
the audit records what agents saw, and an operator looking must not change that record.

Output is lists, not tables: values and queries are sentences and JSON, which a table
squeezes into unreadable columns at 80 characters. ``--json`` prints one JSON object.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from seamline.cli._common import StoreOption, console, open_store
from seamline.exceptions import ConfigurationError
from seamline.memory import Artifact, Hit, Memory, SearchMode
from seamline.stores import ReadRecord

__all__ = ["app"]

app = typer.Typer(
    help="Memory: artifacts agents wrote, search over them, and the read audit.",
    no_args_is_help=True,
)

WorkflowArgument = Annotated[str, typer.Argument(help="Workflow id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

_PREVIEW = 72
"""Characters of a value shown in lists: one line at 80 columns after the indent."""
_TIME = "%Y-%m-%d %H:%M:%S"


@app.command("list")
def list_(
    store: StoreOption,
    workflow_id: WorkflowArgument,
    kind: Annotated[str | None, typer.Option(help="Only this kind, e.g. tool_output.")] = None,
    producer: Annotated[str | None, typer.Option(help="Only what this agent wrote.")] = None,
    step: Annotated[int | None, typer.Option(help="Only what the agent at hop N wrote.")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PATH=VALUE",
            help="Match a field of the value by dotted path; repeat to require several. "
            'VALUE is JSON when it parses (42, true, null, "42" for a string), else text.',
        ),
    ] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Every version, not only the newest.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many (1-1000), newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List a workflow's artifacts, newest first, filtered by kind, producer, step or field."""
    spec: dict[str, Any] = {
        "kind": kind,
        "producer": producer,
        "step": step,
        "where": parse_where(where or []),
        "all_versions": all_versions,
        "limit": limit,
    }
    found = Memory(open_store(store)).list(
        workflow_id, {name: value for name, value in spec.items() if value is not None}
    )
    if as_json:
        _print_json({"workflow": workflow_id, "artifacts": [_dump(a) for a in found]})
        return
    if not found:
        console.print(Text(f"no artifacts in workflow {workflow_id} match"))
        return
    noun = "version" if all_versions else "artifact"
    count = f"{len(found)} {noun}{'s' * (len(found) != 1)}"
    if not all_versions:
        count += ", newest version of each key"
    lines: list[RenderableType] = [Text(count, "dim")]
    for artifact in found:
        lines.append(
            Text.assemble(
                (artifact.ref, "bold"),
                f"  {artifact.kind} · {artifact.producer}@{artifact.producer_version} · "
                f"step {artifact.step} · {artifact.created_at.strftime(_TIME)}",
            )
        )
        lines.append(Text("    " + preview(artifact.value), "dim"))
    if len(found) == limit:
        lines.append(Text(f"showing the newest {limit}; raise --limit to see more", "yellow"))
    console.print(Group(*lines))


@app.command()
def get(
    store: StoreOption,
    workflow_id: WorkflowArgument,
    key: Annotated[str, typer.Argument(help="Memory key, e.g. order.")],
    version: Annotated[int | None, typer.Option(help="This version (default: newest).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show one artifact's value and where it came from."""
    artifact = Memory(open_store(store)).get(workflow_id, key, version=version)
    if as_json:
        _print_json(_dump(artifact))
        return
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column(overflow="fold")
    rows = [
        ("kind", artifact.kind),
        ("producer", f"{artifact.producer}@{artifact.producer_version}"),
        ("step", str(artifact.step)),
        ("handoff", artifact.handoff_id),
        ("contract", artifact.contract),
        ("written", artifact.created_at.isoformat()),
        ("id", artifact.id),
    ]
    if artifact.tenant is not None:
        rows.append(("shared", f"with every workflow of tenant {artifact.tenant}"))
    for name, fact in rows:
        facts.add_row(name, Text(fact))
    value = json.dumps(artifact.value, indent=2, ensure_ascii=False, sort_keys=True)
    console.print(
        Group(Text(artifact.ref, "bold"), facts, Text(), Syntax(value, "json", word_wrap=True))
    )


@app.command()
def search(
    store: StoreOption,
    workflow_id: WorkflowArgument,
    text: Annotated[
        str, typer.Argument(help="Words to look for (searched as text, never syntax).")
    ],
    mode: Annotated[
        str, typer.Option(help="hybrid (both rankings fused), lexical (BM25) or semantic.")
    ] = SearchMode.HYBRID.value,
    limit: Annotated[int, typer.Option(help="At most this many hits (1-100).")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Search a workflow's memory as an agent would, showing how each hit ranked."""
    chosen = _mode(mode)
    hits = Memory(open_store(store)).search(workflow_id, text, mode=chosen, limit=limit)
    if as_json:
        _print_json(
            {
                "workflow": workflow_id,
                "text": text,
                "mode": chosen.value,
                "hits": [_hit(rank, hit) for rank, hit in enumerate(hits, start=1)],
            }
        )
        return
    if not hits:
        console.print(Text(f"nothing in workflow {workflow_id} matches {text!r} ({chosen.value})"))
        return
    lines: list[RenderableType] = []
    for rank, hit in enumerate(hits, start=1):
        lines.append(
            Text.assemble(
                f"{rank:>2}. ",
                (hit.artifact.ref, "bold"),
                f"  score {hit.score:.4f}  ",
                (found_by(hit), "cyan"),
            )
        )
        lines.append(Text("    " + preview(hit.artifact.value), "dim"))
    console.print(Group(*lines))


@app.command()
def audit(
    store: StoreOption,
    workflow_id: WorkflowArgument,
    agent: Annotated[str | None, typer.Option(help="Only this agent's reads.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Who read what, when: every memory read agents made in a workflow, in order."""
    memory = Memory(open_store(store))
    reads = memory.reads(workflow_id, agent=agent)
    if as_json:
        _print_json({"workflow": workflow_id, "reads": [_read(r) for r in reads]})
        return
    if not reads:
        who = f"agent {agent}" if agent else "any agent"
        console.print(Text(f"no memory reads by {who} in workflow {workflow_id}"))
        return
    # Ids are what the audit stores; key@version is what a person recognises. Resolve what
    # the workflow's newest 1000 versions cover and show the bare id for anything older.
    refs = {a.id: a.ref for a in memory.list(workflow_id, {"all_versions": True, "limit": 1000})}
    lines: list[RenderableType] = []
    for read in reads:
        lines.append(
            Text.assemble(
                (read.at.strftime(_TIME), "dim"),
                "  ",
                (f"{read.agent}@{read.agent_version}", "bold"),
                "  ",
                (read.operation, "cyan"),
            )
        )
        details = Table.grid(padding=(0, 2))
        details.add_column(style="dim", min_width=10)
        details.add_column(overflow="fold")
        details.add_row("  query", Text(read.query))
        returned = [f"{refs[i]}  {i}" if i in refs else i for i in json.loads(read.returned)]
        details.add_row("  returned", Text("\n".join(returned) or "nothing"))
        details.add_row("  handoff", Text(read.handoff_id))
        details.add_row("  span", Text(read.span_id or "not traced (no OpenTelemetry SDK)"))
        lines.append(details)
    console.print(Group(*lines))


def parse_where(items: list[str]) -> dict[str, Any]:
    """``PATH=VALUE`` options as a filter: values that parse as JSON scalars, else text.

    JSON first, so ``status=delivered`` and ``status="delivered"`` both mean the string
    while ``count=3`` and ``paid=true`` compare as a number and a boolean, as stored.
    """
    where: dict[str, Any] = {}
    for item in items:
        path, equals, raw = item.partition("=")
        if not equals:
            raise ConfigurationError(
                f"--where {item!r} is not PATH=VALUE; write e.g. --where order.status=delivered"
            )
        if path in where:
            raise ConfigurationError(
                f"--where names {path!r} twice; a field has one value, so both cannot match"
            )
        try:
            value = json.loads(raw, parse_constant=_no_constant)
        except ValueError:
            value = raw
        if isinstance(value, dict | list):
            raise ConfigurationError(
                f"--where {item!r} compares an object or list; compare one field at a time "
                "(a string, number, true, false or null)"
            )
        where[path] = value
    return where


def _no_constant(name: str) -> None:
    """NaN and Infinity are not JSON; ``--where x=NaN`` means the text."""
    raise ValueError(name)


def _mode(mode: str) -> SearchMode:
    try:
        return SearchMode(mode)
    except ValueError:
        choices = ", ".join(m.value for m in SearchMode)
        raise ConfigurationError(f"--mode {mode!r} is not one of {choices}") from None


def preview(value: Any) -> str:
    """A value as one line of compact JSON, cut to fit a list line (``get`` shows it whole)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def found_by(hit: Hit) -> str:
    """Which rankings placed a hit, and where: ``lexical #1 · semantic #4``."""
    ranks = [("lexical", hit.lexical_rank), ("semantic", hit.semantic_rank)]
    return " · ".join(f"{name} #{rank}" for name, rank in ranks if rank is not None)


def _dump(artifact: Artifact) -> dict[str, Any]:
    return {"ref": artifact.ref, **artifact.model_dump(mode="json")}


def _hit(rank: int, hit: Hit) -> dict[str, Any]:
    return {
        "rank": rank,
        "score": hit.score,
        "lexical_rank": hit.lexical_rank,
        "semantic_rank": hit.semantic_rank,
        "artifact": _dump(hit.artifact),
    }


def _read(read: ReadRecord) -> dict[str, Any]:
    return {
        "id": read.id,
        "at": read.at.isoformat(),
        "agent": read.agent,
        "agent_version": read.agent_version,
        "operation": read.operation,
        "query": json.loads(read.query),
        "returned": json.loads(read.returned),
        "handoff_id": read.handoff_id,
        "trace_id": read.trace_id,
        "span_id": read.span_id,
    }


def _print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
