"""The web console in real headless Chromium (Debian's package), driven by Playwright.

The server is ``seamline serve`` in a child process on a free loopback port, over a SQLite
store holding the gated demo: T-2's refund (129.99 USD) and T-4's (899.00 USD) wait at
payments' gate, T-3's paraphrased order value is a dead letter. No browser is downloaded:
Playwright drives the ``chromium`` on PATH (``.ci/run`` installs it). Screenshots of the
gate inbox and a timeline at 1366x900 go to the test's temporary folder; set
``SEAMLINE_SCREENSHOTS=docs`` to refresh the README's.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from served import free_port, seamline

from seamline import Runtime
from seamline.access import Access, Caller
from seamline.demo import GATED_APP, TICKETS, build_gated_registry
from seamline.exceptions import ContractDeprecationWarning
from seamline.stores import SqliteStore

CHROMIUM_FLAGS = [
    "--no-sandbox",  # the tests run as root in a container
    "--disable-gpu",
    # No calls home: this machine's network is closed, and the tests need none.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1366, "height": 900}


@dataclass(frozen=True, slots=True)
class Desk:
    """The served demo: its URL, tokens by team, and the ids the tickets left."""

    url: str
    tokens: dict[str, str]
    workflows: dict[str, str]
    """Workflow id by ticket id."""
    gates: dict[str, str]
    """Open gate id by ticket id."""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The gated demo in a SQLite file, tokens for payments and logistics, and `seamline
    serve` over it."""
    folder = tmp_path_factory.mktemp("console")
    db = folder / "desk.db"
    store = SqliteStore(db)
    try:
        runtime = Runtime(build_gated_registry(), store, app=GATED_APP)
        with warnings.catch_warnings():
            # triage still emits the deprecated refund.request 1.2.0, as the demo shows
            warnings.simplefilter("ignore", ContractDeprecationWarning)
            workflows = {
                ticket.ticket_id: runtime.run_sync(
                    "intake", ticket, intent=ticket.message, name=f"ticket {ticket.ticket_id}"
                ).workflow_id
                for _, ticket in TICKETS
            }
        ticket_of = {workflow: ticket for ticket, workflow in workflows.items()}
        gates = {ticket_of[gate.workflow_id]: gate.id for gate in runtime.gates()}
        access = Access(store)
        tokens = {
            team: access.issue(team, by=Caller.operator(), name=f"{team}-desk").secret
            for team in ("payments", "logistics")
        }
    finally:
        store.close()
    assert gates.keys() == {"T-2", "T-4"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = ("serve", "--store", str(db), "--app", GATED_APP, "--port", str(port))
    with seamline(*serve, cwd=folder, ready=f"{url}/login"):
        yield Desk(url, tokens, workflows, gates)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium, or a skip saying why it cannot start."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no chromium on PATH: install Debian's package (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except PlaywrightError as error:
            pytest.skip(f"Chromium cannot start here: {error.message.splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) at laptop size."""
    context = chromium.new_context(viewport=VIEWPORT)
    yield context.new_page()
    context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$SEAMLINE_SCREENSHOTS`` if set, else the test's tmp folder."""
    folder = Path(os.environ.get("SEAMLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_in(page: Page, desk: Desk, team: str) -> None:
    """Open the gate inbox, which asks for a token first, and log in as ``team``."""
    page.goto(f"{desk.url}/gates")
    expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
    page.get_by_label("API token").fill(desk.tokens[team])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Gate inbox")).to_be_visible()
    expect(page.locator(".me")).to_contain_text(f"{team}-desk")


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_payments_approves_the_gated_refund_and_watches_the_workflow_finish(
    desk: Desk, page: Page, shots: Path
) -> None:
    """Payments logs in with its token, finds T-2's refund of 129.99 in the inbox with its
    summary and diff, approves it in one click, and lands on the workflow's timeline,
    which shows it completed."""
    log_in(page, desk, "payments")
    card = page.locator("article.gate", has_text="ORD-1001")
    expect(card).to_contain_text("the order was worth 129.99")
    expect(card.locator("table.diff")).to_contain_text('"129.99"')
    page.screenshot(path=shots / "console-gates.png")
    card.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{desk.url}/workflows/{desk.workflows['T-2']}?done=approve")
    expect(page.locator(".notice")).to_contain_text("Gate approved")
    expect(page.locator("h1 .badge")).to_have_text("completed")
    expect(page.locator(".callout.done")).to_contain_text("129.99 USD")
    expect(page.locator(".wf-row.depth-0")).to_have_count(5)
    expect(page.locator(".wf-row.depth-0").last).to_contain_text("refunds → fulfillment")
    page.screenshot(path=shots / "console-timeline.png")
    for shot in ("console-gates.png", "console-timeline.png"):
        assert png_size(shots / shot) == (1366, 900)


def test_payments_replays_the_dead_letter_with_the_order_value_fixed(
    desk: Desk, page: Page
) -> None:
    """From the dead-letter page: replayed as it was, T-3's handoff is refused again (its
    order value is still paraphrased) and stays open; with the value fixed in the form it
    goes through, and waits at payments' gate like any refund above 100."""
    log_in(page, desk, "payments")
    page.get_by_role("link", name="Dead letters").click()
    page.locator("table.grid a", has_text="triage").click()
    page.get_by_role("button", name="Replay as it was").click()
    expect(page.locator("table.issues")).to_contain_text("payload.order_value")
    page.go_back()
    fixed = json.loads(page.locator("#payload").input_value())
    assert fixed["order_value"] == "130"
    page.locator("#payload").fill(json.dumps({**fixed, "order_value": "129.99"}, indent=2))
    page.get_by_role("button", name="Replay with this payload").click()
    page.wait_for_url(f"{desk.url}/workflows/{desk.workflows['T-3']}?done=replay")
    expect(page.locator(".notice")).to_contain_text("Dead letter replayed")
    expect(page.locator("h1 .badge")).to_have_text("waiting")
    page.get_by_role("link", name="Dead letters").click()
    expect(page.locator(".empty")).to_have_text("The queue is empty.")


def test_another_teams_token_cannot_approve(desk: Desk, page: Page) -> None:
    """Logistics sees T-4's gate without its buttons, and an approval it posts anyway with
    its own session's CSRF token is refused with 403; the gate stays open."""
    log_in(page, desk, "logistics")
    card = page.locator("article.gate", has_text="ORD-1004")
    expect(card).to_contain_text("Only payments or an admin can decide this gate")
    expect(card.get_by_role("button")).to_have_count(0)
    csrf = page.locator('form[action="/logout"] input[name="csrf"]').input_value()
    refused = page.request.post(
        f"{desk.url}/gates/{desk.gates['T-4']}/decision",
        form={"csrf": csrf, "decision": "approve"},
    )
    assert refused.status == 403 and "team 'payments' owns it" in unescape(refused.text())
    page.reload()
    expect(card.locator(".badge")).to_have_text("open")
