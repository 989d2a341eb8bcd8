"""The HTTP API in-process (httpx's ASGI transport) over a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_world import IBAN, World, build_world

from seamline.contracts import EXTERNAL, MASK, AgentRef, ContractRef, Envelope, Intent
from seamline.server.services import restore_masked
from seamline.stores import SqliteStore, WorkflowStatus

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The desk on a fresh SQLite file."""
    store = SqliteStore(tmp_path / "api.db")
    yield await build_world(store)
    store.close()


def read_paths(world: World) -> list[str]:
    """Every read route, with real ids."""
    return [
        "/api/me",
        "/api/workflows",
        f"/api/workflows/{world.waiting}",
        f"/api/workflows/{world.waiting}/trace",
        "/api/handoffs",
        f"/api/handoffs?workflow={world.waiting}",
        f"/api/handoffs/{world.gate}",
        "/api/gates?status=all",
        f"/api/gates/{world.gate}",
        "/api/dead-letters",
        f"/api/dead-letters/{world.payments_letter}",
        f"/api/dead-letters/{world.support_letter}",
        "/api/agents",
        "/api/contracts",
        "/api/contracts/compatibility",
        "/api/audit",
        "/api/evaluations",
        "/api/tokens",
        "/api/audit-log",
    ]


# --- reading -------------------------------------------------------------------------------


async def test_workflows_list_filter_and_detail(world: World) -> None:
    """Workflows list newest first and filter by status; one shows its outcome and chain."""
    async with world.client() as api:
        listed = (await api.get("/api/workflows")).json()
        waiting = (await api.get("/api/workflows", params={"status": "waiting"})).json()
        detail = (await api.get(f"/api/workflows/{world.completed}")).json()
    assert len(listed) == 4 and listed[-1]["id"] == world.completed
    assert [w["id"] for w in waiting] == [world.waiting]
    assert waiting[0]["at_agent"] == "payer" and waiting[0]["handoffs"] == 2
    assert detail["status"] == "completed"
    assert detail["outcome"] == {"kind": "finish", "result": {"paid": "C-1", "amount": "50"}}
    assert [(h["source"], h["destination"]) for h in detail["chain"]] == [
        ("external", "intake"),
        ("intake", "payer"),
    ]


async def test_the_trace_is_the_cli_tree(world: World) -> None:
    """The trace route serves WorkflowTrace's JSON: one node per handoff with evaluations."""
    async with world.client() as api:
        trace = (await api.get(f"/api/workflows/{world.completed}/trace")).json()
    assert trace["status"] == "completed" and trace["duration_ms"] >= 0
    hops = trace["handoffs"]
    assert [h["hop"] for h in hops] == [0, 1]
    assert hops[1]["contract"] == "refund@1.0.0" and hops[1]["status"] == "completed"
    assert hops[1]["evaluations"] and all(e["label"] == "pass" for e in hops[1]["evaluations"])


async def test_a_handoff_shows_its_envelope_masked_and_never_its_recorded_copy(
    world: World,
) -> None:
    """The envelope is masked; the proposed row (the raw envelope) carries no data."""
    async with world.client() as api:
        handoff = (await api.get(f"/api/handoffs/{world.gate}")).json()
        chain = (await api.get("/api/handoffs", params={"workflow": world.waiting})).json()
    assert handoff["envelope"]["payload"]["iban"] == MASK
    assert handoff["status"] == "gated"
    proposed = [t for t in handoff["transitions"] if t["kind"] == "proposed"]
    assert proposed and all(t["data"] is None for t in proposed)
    assert [h["id"] for h in chain] == [chain[0]["id"], world.gate]


async def test_registry_agents_contracts_compatibility_and_audit(world: World) -> None:
    """Agents with owners and breakers; contract versions with stage and schema; the
    compatibility check; the audit scorecard with its threshold."""
    async with world.client("support") as api:
        agents = (await api.get("/api/agents")).json()
        contracts = (await api.get("/api/contracts")).json()
        compatibility = (await api.get("/api/contracts/compatibility")).json()
        audit = (await api.get("/api/audit")).json()
    by_name = {a["name"]: a for a in agents}
    assert by_name["payer"]["owner"] == "payments" and by_name["payer"]["breaker"] == "closed"
    assert by_name["intake"]["calls"] == 4 and by_name["intake"]["faults"] == 1
    refund = next(c for c in contracts if c["name"] == "refund")
    assert (refund["owner"], refund["stage"], refund["sensitive"]) == (
        "payments",
        "active",
        ["iban"],
    )
    assert "properties" in refund["schema"]
    assert not any(c["name"].startswith("seamline.") for c in contracts)
    assert compatibility["errors"] == 0 and compatibility["against"] is None
    assert audit["threshold"] == 80 and {e["contract"] for e in audit["edges"]} == {
        "claim@1.0.0",
        "refund@1.0.0",
    }


async def test_evaluations_report(world: World) -> None:
    """The evaluation report counts every handoff's evaluations."""
    async with world.client() as api:
        report = (await api.get("/api/evaluations")).json()
    assert report["workflows"] == 4 and report["evaluations"] > 0
    assert {row["name"] for row in report["by_evaluator"]} >= {"schema_valid"}


async def test_no_response_holds_a_sensitive_value(world: World) -> None:
    """The IBAN is in the ledger, yet no read route returns it to any team, and the masks show
    where it was."""
    bodies = []
    for team in ("payments", "support", "ops"):
        async with world.client(team) as api:
            for path in read_paths(world):
                response = await api.get(path)
                assert response.status_code == 200, (path, response.text)
                bodies.append(response.text)
    assert not [body for body in bodies if IBAN in body]
    assert sum(MASK in body for body in bodies) > 10


# --- acting --------------------------------------------------------------------------------


async def test_approving_a_gate_runs_the_workflow_on_and_is_audited(world: World) -> None:
    """Payments approves its gate: the workflow completes; a second decision is a 409 naming
    who decided; both attempts are in the audit log."""
    async with world.client("payments") as api:
        decided = await api.post(f"/api/gates/{world.gate}/decision", json={"decision": "approve"})
        again = await api.post(f"/api/gates/{world.gate}/decision", json={"decision": "approve"})
        gate = (await api.get(f"/api/gates/{world.gate}")).json()
        log = (await api.get("/api/audit-log")).json()
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "completed"
    assert decided.json()["result"] == {"paid": "C-2", "amount": "500"}
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    assert "already approved by payments/payments-bot" in again.json()["message"]
    assert (gate["status"], gate["decided_by"]) == ("approved", "payments/payments-bot")
    assert [(e["action"], e["target"], e["outcome"], e["actor"]) for e in log] == [
        ("gate.decide", world.gate, "conflict", "payments-bot"),
        ("gate.decide", world.gate, "ok", "payments-bot"),
    ]
    assert log[1]["detail"] == {"decision": "approve", "reason": None, "status": "completed"}


async def test_rejecting_a_gate_dead_letters_it_with_the_reason(world: World) -> None:
    """A rejection ends the workflow dead-lettered, the reason recorded."""
    async with world.client("payments") as api:
        response = await api.post(
            f"/api/gates/{world.gate}/decision",
            json={"decision": "reject", "reason": "claim is a duplicate"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "dead_lettered"
    assert world.runtime.gate(world.gate).reason == "claim is a duplicate"


async def test_an_edit_keeps_masked_values_and_an_invalid_one_is_422(world: World) -> None:
    """An edit made on the masked payload keeps the real IBAN; an edit that breaks the
    contract is a 422 listing the issue, and the gate stays open."""
    async with world.client("payments") as api:
        shown = (await api.get(f"/api/gates/{world.gate}")).json()["payload"]
        bad = await api.post(
            f"/api/gates/{world.gate}/decision",
            json={"decision": "edit", "payload": {**shown, "amount": "-5"}},
        )
        assert bad.status_code == 422
        assert bad.json()["issues"][0]["path"] == "payload.amount"
        assert world.runtime.gate(world.gate).status == "open"
        good = await api.post(
            f"/api/gates/{world.gate}/decision",
            json={"decision": "edit", "payload": {**shown, "amount": "450"}},
        )
    assert good.status_code == 200, good.text
    assert good.json()["result"] == {"paid": "C-2", "amount": "450"}
    edited = world.runtime.gate(world.gate)
    assert edited.status == "edited" and edited.replaced_by is not None
    assert world.runtime.ledger.handoff(edited.replaced_by).envelope.payload["iban"] == IBAN


async def test_replaying_a_dead_letter_with_a_fixed_payload(world: World) -> None:
    """Payments replays its dead letter with the amount fixed and the IBAN left masked: the
    refund goes through with the real IBAN; replaying again is a 409."""
    async with world.client("payments") as api:
        letter = (await api.get(f"/api/dead-letters/{world.payments_letter}")).json()
        assert letter["owner"] == "payments" and letter["status"] == "open"
        fixed = {**letter["envelope"]["payload"], "amount": "20"}
        assert fixed["iban"] == MASK
        replayed = await api.post(
            f"/api/dead-letters/{world.payments_letter}/replay", json={"payload": fixed}
        )
        again = await api.post(f"/api/dead-letters/{world.payments_letter}/replay")
        after = (await api.get(f"/api/dead-letters/{world.payments_letter}")).json()
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "completed"
    assert again.status_code == 409 and "already replayed" in again.json()["message"]
    assert after["status"] == "replayed"
    workflow = world.runtime.ledger.workflow(replayed.json()["workflow_id"])
    assert workflow.status is WorkflowStatus.COMPLETED
    last = world.runtime.ledger.handoffs(workflow.id)[-1]
    assert last.envelope.payload["iban"] == IBAN


async def test_a_replay_that_is_still_invalid_is_422_and_stays_open(world: World) -> None:
    """Replayed as it was, the negative amount is rejected again: 422 with the issue."""
    async with world.client("payments") as api:
        response = await api.post(f"/api/dead-letters/{world.payments_letter}/replay", json={})
        letter = (await api.get(f"/api/dead-letters/{world.payments_letter}")).json()
    assert response.status_code == 422
    assert [i["path"] for i in response.json()["issues"]] == ["payload.amount"]
    assert letter["status"] == "open"


async def test_discarding_a_dead_letter(world: World) -> None:
    """Support discards its dead letter with a reason; the workflow ends discarded; the
    discard is in support's audit log, not in payments'."""
    async with world.client("support") as api:
        response = await api.post(
            f"/api/dead-letters/{world.support_letter}/discard", json={"reason": "bank is down"}
        )
        support_log = (await api.get("/api/audit-log")).json()
    async with world.client("payments") as api:
        payments_log = (await api.get("/api/audit-log")).json()
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["resolution"]) == (
        "discarded",
        "bank is down",
    )
    assert world.runtime.ledger.workflow(response.json()["workflow_id"]).status == "discarded"
    assert [(e["action"], e["detail"]["reason"]) for e in support_log] == [
        ("dead_letter.discard", "bank is down")
    ]
    assert payments_log == []


async def test_tokens_issue_list_and_revoke_through_the_api(world: World) -> None:
    """An admin issues a token (its secret once), it works, is listed without a secret, and
    once revoked is refused with a 401 that says so."""
    async with world.client("ops") as api:
        issued = await api.post("/api/tokens", json={"team": "legal", "name": "legal-1"})
        assert issued.status_code == 201, issued.text
        secret = issued.json()["secret"]
        me = await api.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        listed = (await api.get("/api/tokens")).json()
        revoked = await api.post("/api/tokens/legal-1/revoke")
        refused = await api.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        clash = await api.post("/api/tokens", json={"team": "ops", "name": "ops-bot"})
    assert me.json() == {"team": "legal", "name": "legal-1", "admin": False}
    assert "secret" not in listed[0] and listed[0]["name"] == "legal-1"
    assert revoked.json()["active"] is False
    assert refused.status_code == 401 and "'legal-1' was revoked" in refused.json()["message"]
    assert clash.status_code == 409


async def test_a_member_lists_only_its_teams_tokens(world: World) -> None:
    """Members see their own team's tokens, admins every team's."""
    async with world.client("support") as api:
        mine = (await api.get("/api/tokens")).json()
    assert [t["name"] for t in mine] == ["support-bot"]


# --- bad requests --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/workflows/nope",
        "/api/workflows/nope/trace",
        "/api/handoffs/nope",
        "/api/handoffs?workflow=nope",
        "/api/gates/nope",
        "/api/dead-letters/nope",
    ],
)
async def test_unknown_ids_are_404_with_a_hint(world: World, path: str) -> None:
    """An unknown id is a 404 whose message says how to find real ones."""
    async with world.client() as api:
        response = await api.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "list" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/dead-letters/nope/replay", {}),
        ("post", "/api/dead-letters/nope/discard", {"reason": "x"}),
        ("post", "/api/gates/nope/decision", {"decision": "approve"}),
        ("post", "/api/tokens/nope/revoke", None),
    ],
)
async def test_acting_on_unknown_ids_is_404(
    world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """Changes to ids that do not exist are 404s too (and are audited as such)."""
    async with world.client() as api:
        response = await api.request(method, path, json=body)
        log = (await api.get("/api/audit-log")).json()
    assert response.status_code == 404, response.text
    assert log[0]["outcome"] == "not_found"


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/api/gates/{gate}/decision", {}, "body"),
        ("/api/gates/{gate}/decision", {"decision": "maybe"}, "body"),
        ("/api/gates/{gate}/decision", {"decision": "reject"}, "body.reject.reason"),
        ("/api/gates/{gate}/decision", {"decision": "reject", "reason": "  "}, "body.reject"),
        ("/api/gates/{gate}/decision", {"decision": "edit"}, "body.edit.payload"),
        ("/api/gates/{gate}/decision", {"decision": "approve", "payload": {}}, "body.approve"),
        ("/api/gates/{gate}/decision", {"decision": "approve", "by": "me"}, "body.approve.by"),
        ("/api/dead-letters/{letter}/discard", {}, "body.reason"),
        ("/api/dead-letters/{letter}/discard", {"reason": " "}, "body.reason"),
        ("/api/dead-letters/{letter}/replay", {"payload": [1]}, "body.payload"),
        ("/api/dead-letters/{letter}/replay", {"extra_hops": -1}, "body.extra_hops"),
        ("/api/tokens", {"team": ""}, "body.team"),
        ("/api/tokens", {"team": "a", "name": "no spaces"}, "body.name"),
    ],
)
async def test_malformed_bodies_are_422_listing_the_issue(
    world: World, path: str, body: dict[str, Any], where: str
) -> None:
    """A body that breaks the request's rules is a 422 naming the field; nothing changes."""
    target = path.format(gate=world.gate, letter=world.payments_letter)
    async with world.client() as api:
        response = await api.post(target, json=body)
        gate = (await api.get(f"/api/gates/{world.gate}")).json()
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid"
    assert any(issue["path"].startswith(where) for issue in response.json()["issues"])
    assert gate["status"] == "open"


async def test_a_body_that_is_not_json_is_422(world: World) -> None:
    """Broken JSON is a 422 too, never a 500."""
    async with world.client() as api:
        response = await api.post(
            f"/api/gates/{world.gate}/decision",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422 and response.json()["error"] == "invalid"


@pytest.mark.parametrize(
    "query", ["/api/workflows?status=lost", "/api/gates?status=x", "/api/workflows?limit=0"]
)
async def test_bad_query_parameters_are_422(world: World, query: str) -> None:
    """Unknown statuses and out-of-range limits are 422s."""
    async with world.client() as api:
        response = await api.get(query)
    assert response.status_code == 422 and response.json()["issues"][0]["path"].startswith("query")


async def test_an_unknown_route_is_a_json_404(world: World) -> None:
    """Routes that do not exist answer in the same error shape."""
    async with world.client() as api:
        response = await api.get("/api/nothing-here")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


# --- the schema and the console's place ----------------------------------------------------


async def test_every_route_publishes_a_typed_response(world: World) -> None:
    """Each operation's 200/201 response has a schema (a model, not 'any'), and every
    operation declares the bearer scheme's 401."""
    async with world.client(None) as api:
        schema = (await api.get("/openapi.json")).json()
    operations = [op for ops in schema["paths"].values() for op in ops.values()]
    assert len(operations) == 22
    for operation in operations:
        ok = operation["responses"].get("200") or operation["responses"]["201"]
        assert ok["content"]["application/json"]["schema"], operation["operationId"]
        assert "401" in operation["responses"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_the_root_is_the_console_outside_the_schema(world: World) -> None:
    """``/`` is the web console (its login form, without a session), and none of the
    console's pages is part of the API's schema."""
    async with world.client(None) as api:
        response = await api.get("/")
        schema = (await api.get("/openapi.json")).json()
    assert response.status_code == 401 and 'action="/login"' in response.text
    assert all(path.startswith("/api/") for path in schema["paths"])


def test_masked_values_left_as_shown_are_restored_and_edits_kept() -> None:
    """A sensitive field still reading the mask gets its real value back, at any depth the
    envelope names; an edited sensitive value and other fields are kept as sent."""
    original = Envelope(
        handoff_id="h-1",
        correlation_id="wf-1",
        source=EXTERNAL,
        destination=AgentRef(name="repair", version="1.0.0"),
        contract=ContractRef(name="seamline.rejected-handoff", version="1.0.0"),
        sensitive=("iban", "payload.iban"),
        intent=Intent.of("refund"),
        hop=0,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={"iban": IBAN, "payload": {"iban": IBAN, "amount": "5"}},
    )
    sent = {"iban": MASK, "payload": {"iban": MASK, "amount": "6"}, "extra": MASK}
    assert restore_masked(sent, original) == {
        "iban": IBAN,
        "payload": {"iban": IBAN, "amount": "6"},
        "extra": MASK,
    }
    assert restore_masked({"iban": "GB00NEW"}, original) == {"iban": "GB00NEW"}
