"""The web console in-process (httpx's ASGI transport): logging in, CSRF, who may act, masking."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import httpx
import pytest
from api_world import IBAN, World, build_world

from seamline.access import Access, Caller
from seamline.contracts import MASK
from seamline.stores import DeadLetterStatus, SqliteStore, WorkflowStatus

pytestmark = pytest.mark.anyio

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The support desk (a gate, two dead letters, an IBAN) on a fresh SQLite file."""
    store = SqliteStore(tmp_path / "console.db")
    yield await build_world(store)
    store.close()


@dataclass
class Browser:
    """An httpx client that keeps cookies like a browser, and the CSRF token its pages carry."""

    client: httpx.AsyncClient
    csrf: str = ""

    async def page(self, path: str) -> httpx.Response:
        """GET a page and remember the CSRF token in its forms."""
        response = await self.client.get(path)
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found[1]
        return response

    async def post(self, path: str, **fields: str) -> httpx.Response:
        """POST a form with this session's CSRF token (unless ``csrf`` is given)."""
        return await self.client.post(path, data={"csrf": self.csrf, **fields})

    async def log_in(self, token: str, after: str = "/") -> httpx.Response:
        """Fill in the login form."""
        await self.page("/login")
        return await self.post("/login", token=token, next=after)


@asynccontextmanager
async def browser(world: World, team: str | None = None) -> AsyncIterator[Browser]:
    """A fresh browser on the console, logged in as ``team`` (or not at all)."""
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        opened = Browser(client)
        if team is not None:
            answer = await opened.log_in(world.secrets[team])
            assert answer.status_code == 303, answer.text
            await opened.page("/gates")
        yield opened


# --- logging in and out ----------------------------------------------------------------------


async def test_pages_ask_for_a_token_and_the_stylesheet_does_not(world: World) -> None:
    """Without a session every page answers 401 with the login form; the stylesheet is
    public, served from the package."""
    async with browser(world) as anonymous:
        for path in ("/", "/gates", "/workflows", f"/workflows/{world.waiting}", "/activity"):
            page = await anonymous.page(path)
            assert page.status_code == 401 and 'name="token"' in page.text, path
        css = await anonymous.client.get("/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_logging_in_sets_a_strict_httponly_cookie_and_logging_out_ends_it(
    world: World,
) -> None:
    """The session cookie is HttpOnly and SameSite=Strict (not Secure over plain HTTP); the
    pages then act as the token's team; logging out removes the cookie."""
    async with browser(world) as person:
        answer = await person.log_in(world.secrets["payments"], after="/agents")
        assert answer.status_code == 303 and answer.headers["location"] == "/agents"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("seamline_session=")
        )
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags and "secure" not in flags
        assert world.secrets["payments"] not in (await person.page("/agents")).text
        gates = await person.page("/gates")
        assert gates.status_code == 200 and "payments-bot" in gates.text
        out = await person.post("/logout")
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert (await person.page("/gates")).status_code == 401


async def test_a_bad_token_or_a_foreign_next_gets_nowhere(world: World) -> None:
    """A wrong token is refused with the reason and no session; ``next`` only leads within
    the console."""
    async with browser(world) as person:
        refused = await person.log_in("sl_0000000000000000_" + "x" * 43)
        assert refused.status_code == 401 and "not valid" in refused.text
        assert "seamline_session" not in person.client.cookies
        away = await person.log_in(world.secrets["support"], after="//evil.example/steal")
        assert away.status_code == 303 and away.headers["location"] == "/"


async def test_a_revoked_token_ends_its_sessions(world: World) -> None:
    """Each request authenticates the token again: once it is revoked, the next page asks
    for another and says why."""
    async with browser(world, "support") as person:
        Access(world.runtime.store).revoke("support-bot", by=Caller.operator())
        page = await person.page("/gates")
    assert page.status_code == 401 and "was revoked" in page.text


async def test_a_link_from_another_site_asks_again_from_this_one(world: World) -> None:
    """SameSite=Strict keeps the cookie off a cross-site navigation: the console reloads the
    page from its own origin (which sends the cookie) instead of asking to log in."""
    async with browser(world) as person:
        page = await person.client.get("/gates", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=/gates">' in page.text


# --- CSRF ------------------------------------------------------------------------------------


async def test_every_form_needs_this_sessions_csrf_token(world: World) -> None:
    """A POST without the token, with a wrong one, or with another session's, is refused
    with 403 and changes nothing; the login form is protected the same way."""
    async with browser(world, "ops") as admin, browser(world, "ops") as other:
        actions = [
            (f"/gates/{world.gate}/decision", {"decision": "approve"}),
            (f"/dead-letters/{world.payments_letter}/replay", {"use": "as-is"}),
            (f"/dead-letters/{world.support_letter}/discard", {"reason": "noise"}),
            ("/logout", {}),
        ]
        for path, fields in actions:
            for csrf in (None, "forged", other.csrf):
                data = fields if csrf is None else {**fields, "csrf": csrf}
                answer = await admin.client.post(path, data=data)
                assert answer.status_code == 403, (path, csrf)
                assert "did not come from this console session" in answer.text
        assert world.runtime.gate(world.gate).status == "open"
        letters = world.runtime.ledger.dead_letters(status=DeadLetterStatus.OPEN)
        assert len(letters) == 2
        assert (await admin.page("/gates")).status_code == 200  # still logged in
    async with browser(world) as person:
        await person.page("/login")
        forged = await person.client.post(
            "/login", data={"csrf": "forged", "token": world.secrets["ops"]}
        )
    assert forged.status_code == 403 and "seamline_session" not in person.client.cookies


async def test_the_token_is_rotated_on_login(world: World) -> None:
    """The login form's CSRF token is worthless once logged in: logging in draws a new
    session."""
    async with browser(world) as person:
        await person.page("/login")
        before = person.csrf
        await person.post("/login", token=world.secrets["payments"])
        answer = await person.client.post(
            f"/gates/{world.gate}/decision", data={"csrf": before, "decision": "approve"}
        )
    assert answer.status_code == 403 and world.runtime.gate(world.gate).status == "open"


# --- who may act -----------------------------------------------------------------------------


async def test_another_team_sees_no_decision_and_is_refused(world: World) -> None:
    """Support sees payments' gate without its buttons, and a decision it posts anyway is a
    403 recorded in the audit log, as through the API."""
    async with browser(world, "support") as support:
        inbox = await support.page("/gates")
        assert "Only <strong>payments</strong> or an admin can decide this gate" in inbox.text
        assert 'value="approve"' not in inbox.text and "Reject…" not in inbox.text
        refused = await support.post(f"/gates/{world.gate}/decision", decision="approve")
        assert refused.status_code == 403 and "team 'payments' owns it" in unescape(refused.text)
        letter = await support.page(f"/dead-letters/{world.payments_letter}")
        assert "Replay with this payload" not in letter.text
        replay = await support.post(f"/dead-letters/{world.payments_letter}/replay", use="as-is")
        assert replay.status_code == 403
        activity = await support.page("/activity")
    assert world.runtime.gate(world.gate).status == "open"
    assert activity.text.count(">denied<") == 2


async def test_the_owner_approves_in_one_click_once(world: World) -> None:
    """Payments approves its gate from the inbox and lands on the finished workflow; the
    gate then shows who decided, and a second decision is a 409 page naming them."""
    async with browser(world, "payments") as payments:
        assert 'value="approve"' in (await payments.page("/gates")).text
        approved = await payments.post(f"/gates/{world.gate}/decision", decision="approve")
        assert approved.status_code == 303
        assert approved.headers["location"] == f"/workflows/{world.waiting}?done=approve"
        timeline = await payments.page(approved.headers["location"])
        decided = await payments.page(f"/gates/{world.gate}")
        again = await payments.post(f"/gates/{world.gate}/decision", decision="approve")
    assert "Gate approved" in timeline.text and "<strong>Completed.</strong>" in timeline.text
    assert "by payments/payments-bot" in decided.text and 'value="approve"' not in decided.text
    assert again.status_code == 409 and "payments/payments-bot" in again.text
    assert world.runtime.ledger.workflow(world.waiting).status is WorkflowStatus.COMPLETED


async def test_rejecting_needs_a_reason_and_editing_valid_json(world: World) -> None:
    """An empty reason, a payload that is not JSON and one that breaks the contract are each a
    422 page saying what is wrong, and the gate stays open; an edit that keeps the masked
    IBAN goes through with the real one."""
    gate_path = f"/gates/{world.gate}/decision"
    async with browser(world, "payments") as payments:
        no_reason = await payments.post(gate_path, decision="reject", reason="  ")
        assert no_reason.status_code == 422 and "reason" in no_reason.text
        not_json = await payments.post(gate_path, decision="edit", payload="{'amount': 1")
        assert not_json.status_code == 422 and "the payload is not JSON" in not_json.text
        shown = world.runtime.gate(world.gate).payload
        broken = await payments.post(
            gate_path, decision="edit", payload=json.dumps({**shown, "amount": "-5"})
        )
        assert broken.status_code == 422 and "payload.amount" in broken.text
        assert world.runtime.gate(world.gate).status == "open"
        edited = await payments.post(
            gate_path, decision="edit", payload=json.dumps({**shown, "amount": "450"})
        )
        assert edited.status_code == 303 and edited.headers["location"].endswith("done=edit")
    replaced = world.runtime.gate(world.gate).replaced_by
    assert replaced is not None
    assert world.runtime.ledger.handoff(replaced).envelope.payload["iban"] == IBAN


async def test_a_rejection_dead_letters_the_handoff_with_the_reason(world: World) -> None:
    """Rejected with a reason, the gated handoff is dead-lettered and the page says so."""
    async with browser(world, "ops") as admin:
        rejected = await admin.post(
            f"/gates/{world.gate}/decision", decision="reject", reason="duplicate claim"
        )
        timeline = await admin.page(rejected.headers["location"])
    assert "Gate rejected" in timeline.text and "dead lettered" in timeline.text
    assert world.runtime.gate(world.gate).reason == "duplicate claim"


async def test_dead_letters_are_replayed_fixed_or_discarded(world: World) -> None:
    """Replayed as it was, payments' dead letter is still invalid (422, still open); replayed
    with the amount fixed, it completes. Support discards its own with a reason."""
    async with browser(world, "payments") as payments:
        page = await payments.page(f"/dead-letters/{world.payments_letter}")
        assert page.status_code == 200 and "Replay as it was" in page.text
        replay = f"/dead-letters/{world.payments_letter}/replay"
        again = await payments.post(replay, use="as-is")
        assert again.status_code == 422 and "payload.amount" in again.text
        letter = world.runtime.ledger.dead_letter(world.payments_letter)
        assert letter.status is DeadLetterStatus.OPEN
        fixed = {"claim_id": "BAD-3", "amount": "20", "iban": MASK}
        done = await payments.post(replay, use="payload", payload=json.dumps(fixed))
        assert done.status_code == 303 and done.headers["location"].endswith("done=replay")
        timeline = await payments.page(done.headers["location"])
        assert "Dead letter replayed" in timeline.text and "Completed." in timeline.text
    async with browser(world, "support") as support:
        discard = f"/dead-letters/{world.support_letter}/discard"
        assert (await support.post(discard, reason="")).status_code == 422
        gone = await support.post(discard, reason="the bank was down; refunded by hand")
        page = await support.page(gone.headers["location"])
    assert "Dead letter discarded" in page.text and "the bank was down" in page.text
    status = world.runtime.ledger.dead_letter(world.support_letter).status
    assert status is DeadLetterStatus.DISCARDED


# --- what pages show --------------------------------------------------------------------------


def console_paths(world: World) -> list[str]:
    """Every page, with real ids."""
    ledger = world.runtime.ledger
    workflows = [f"/workflows/{w.id}" for w in ledger.workflows()]
    return [
        "/gates",
        "/gates?status=all",
        f"/gates/{world.gate}",
        "/workflows",
        *workflows,
        "/dead-letters",
        f"/dead-letters/{world.payments_letter}",
        f"/dead-letters/{world.support_letter}",
        "/agents",
        "/contracts",
        "/audit",
        "/activity",
    ]


async def test_no_page_holds_a_sensitive_value(world: World) -> None:
    """The IBAN is in the ledger (a gated payload, a dead letter, an agent's crash message),
    yet no page shows it to any team, admin included, and the masks show where it was."""
    pages = []
    for team in ("payments", "support", "ops"):
        async with browser(world, team) as person:
            for path in console_paths(world):
                page = await person.page(path)
                assert page.status_code == 200, (team, path, page.text)
                pages.append(page.text)
    assert not [page for page in pages if IBAN in page]
    assert sum(MASK in page for page in pages) >= 12


async def test_pages_are_not_cached_framed_or_scripted(world: World) -> None:
    """Pages send a strict Content-Security-Policy (no script, nothing from elsewhere), are
    not cached and cannot be framed."""
    async with browser(world, "payments") as payments:
        page = await payments.page("/gates")
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script" not in page.text


async def test_the_timeline_draws_each_handoff_with_its_marks(world: World) -> None:
    """The waiting workflow's timeline has a row per handoff with the evaluations passed,
    the open gate's wait, and a link to the gate."""
    async with browser(world, "support") as support:
        page = await support.page(f"/workflows/{world.waiting}")
    rows = re.findall(r'<div class="wf-row depth-0 (\w+)"', page.text)
    assert rows == ["completed", "gated"]
    assert f'href="/gates/{world.gate}"' in page.text and "✓" in page.text
    assert 'class="wait"' in page.text and "Waiting for a decision" in page.text


async def test_unknown_ids_are_404_pages(world: World) -> None:
    """An unknown gate, workflow or dead letter is a 404 page saying so."""
    async with browser(world, "support") as support:
        for path in ("/gates/nope", "/workflows/nope", "/dead-letters/nope"):
            page = await support.page(path)
            assert page.status_code == 404 and "Not found" in page.text, path
