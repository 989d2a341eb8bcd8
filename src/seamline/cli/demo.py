"""``seamline demo``: the customer-support workflow, end to end, on a SQLite ledger.

``--serve`` runs it with the refund gate on and serves the web console over the result, so
a person can approve the waiting refunds and replay the dead letter in a browser.
"""

from __future__ import annotations

import functools
import time
from typing import Annotated

import anyio
import typer
from rich.rule import Rule
from rich.text import Text

from seamline.access import Access, Caller
from seamline.cli._common import StoreOption, console, open_store
from seamline.cli.render import timeline
from seamline.demo import APP, GATED_APP, TICKETS, Ticket, build_gated_registry, build_registry
from seamline.exceptions import ConfigurationError
from seamline.interop import demo_llm
from seamline.runtime import RunResult, Runtime
from seamline.stores.target import is_url
from seamline.telemetry import configure


def demo(
    store: StoreOption,
    otlp: Annotated[
        str | None,
        typer.Option(
            help="Export the demo's traces over OTLP/HTTP to this URL, e.g. "
            "http://127.0.0.1:6006/v1/traces."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Play triage with a chat model: openai:MODEL, on any OpenAI-compatible "
            "server (needs OPENAI_API_KEY; OPENAI_BASE_URL is honoured)."
        ),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Gate refunds above 100 for payments, then serve the web console over the "
            "tickets on 127.0.0.1 with two demo tokens (needs the server extra).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="The console's port, with --serve.")
    ] = 8000,
) -> None:
    """Run four support tickets through intake -> triage -> refunds -> fulfillment."""
    if serve and model:
        raise ConfigurationError("--serve runs the deterministic desk; leave out --model")
    # A short export timeout: at exit the demo flushes, and should not sit out the default
    # 10 s of retries when the collector is not there.
    provider = configure("otlp-http", endpoint=otlp, timeout=3) if otlp else None
    try:
        if serve:
            _serve(store, port)
        else:
            _run(store, model)
    finally:
        if provider is not None:
            provider.force_flush()
            provider.shutdown()


def _run(store: str, model: str | None) -> None:
    registry = demo_llm.registry_for(model) if model else build_registry()
    app = demo_llm.APP if model else APP
    runtime = Runtime(registry, open_store(store, create=True), app=app)
    names = ("intake", "triage", "refunds", "fulfillment")
    chain = " → ".join(registry.agent(name).card.ref for name in names)
    console.print(Rule("seamline demo: customer support, four tickets"))
    console.print(
        Text.assemble(
            "agents  ", chain, "\n",
            "ledger  ", (store, "bold"), " (PostgreSQL)\n" if is_url(store) else " (SQLite, WAL)\n",
            "note    refund.request is mid-migration: triage emits the deprecated 1.2.0,\n",
            "        refunds reads 2.0.0, and each handoff is upcast on the way\n",
        )
    )  # fmt: skip
    dead: list[tuple[str, str]] = []
    first: str | None = None
    for title, ticket in TICKETS:
        started = time.perf_counter()
        result = _handle(runtime, ticket)
        took = (time.perf_counter() - started) * 1000
        panel = timeline(runtime.ledger, runtime.ledger.workflow(result.workflow_id), title=title)
        console.print(panel)
        console.print(Text(f"  {result.handoffs} handoffs in {took:.1f} ms", style="dim"))
        first = first or result.workflow_id
        if result.dead_letter_id:
            dead.append((result.dead_letter_id, result.workflow_id))
    console.print(Rule("what next"))
    # Commands print whole, unwrapped, so they can be copied and pasted.
    say = functools.partial(console.print, soft_wrap=True)
    for letter, workflow in dead:
        say(f"  seamline dlq show {letter} --store {store}")
        say(f"  seamline trace {workflow} --store {store}")
        say(f"  seamline rot {workflow} --store {store}")
    say(f"  seamline evals report --store {store}")
    say(f"  seamline workflows list --store {store}")
    say(f"  seamline handoffs list --store {store}")
    if first is not None:
        say(f"  seamline memory audit {first} --store {store}")
    say("  the same contract change from the governance side, in examples/support-desk:")
    say("  seamline contracts check --against seamline-registry.json")


def _handle(runtime: Runtime, ticket: Ticket) -> RunResult:
    """Run one ticket from intake to wherever it stops."""
    run = functools.partial(
        runtime.run, "intake", ticket, intent=ticket.message, name=f"ticket {ticket.ticket_id}"
    )
    return anyio.run(run)


def _serve(store: str, port: int) -> None:
    """The tickets with the refund gate on, two demo tokens, then the console until stopped."""
    from seamline.server import create_app, run  # the server extra, only when serving

    runtime = Runtime(build_gated_registry(), open_store(store, create=True), app=GATED_APP)
    console.print(Rule("seamline demo: the support desk, refunds above 100 gated for payments"))
    for title, ticket in TICKETS:
        status = _handle(runtime, ticket).status.value
        console.print(f"  {ticket.ticket_id}  {status:<14} {title}")
    access = Access(runtime.store)
    payments = access.issue("payments", by=Caller.operator())
    admin = access.issue("ops", by=Caller.operator(), admin=True)
    url = f"http://127.0.0.1:{port}/"
    say = functools.partial(console.print, soft_wrap=True)
    say(Rule("the web console"))
    say(f"  {url}  (log in with a token below; Ctrl-C stops)")
    say("  the waiting refunds are at payments' gate; T-3's dead letter can be fixed and replayed")
    say("  demo tokens, made for this demo only; revoke them with `seamline tokens revoke NAME`:")
    say(f"  payments, who decide the refund gates   {payments.secret}")
    say(f"  an admin (team ops)                     {admin.secret}")
    console.file.flush()  # the URL and tokens, before uvicorn's own lines, even into a pipe
    run(create_app(runtime), host="127.0.0.1", port=port)
