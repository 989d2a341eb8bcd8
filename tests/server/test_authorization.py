"""Who may do what: every team (and no token, and a bad one) against every kind of route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_world import World, build_world

from seamline.stores import SqliteStore

pytestmark = pytest.mark.anyio

CALLERS = ("none", "forged", "payments", "support", "ops")
"""No header, a token nobody issued, two teams' members and the admin."""

FIX = {"payload": {"claim_id": "BAD-3", "amount": "20", "iban": "«masked»"}}

# (name, method, path, body, expected status by caller)
MATRIX: list[tuple[str, str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("read workflows", "get", "/api/workflows", None, {}),
    ("read a gate", "get", "/api/gates/{gate}", None, {}),
    ("read a dead letter", "get", "/api/dead-letters/{payments_letter}", None, {}),
    ("read the registry", "get", "/api/agents", None, {}),
    ("read the audit", "get", "/api/audit", None, {}),
    ("read the audit log", "get", "/api/audit-log", None, {}),
    ("who am I", "get", "/api/me", None, {}),
    (
        "decide payments' gate",
        "post",
        "/api/gates/{gate}/decision",
        {"decision": "approve"},
        {"payments": 200, "support": 403, "ops": 200},
    ),
    (
        "replay payments' dead letter",
        "post",
        "/api/dead-letters/{payments_letter}/replay",
        FIX,
        {"payments": 200, "support": 403, "ops": 200},
    ),
    (
        "discard payments' dead letter",
        "post",
        "/api/dead-letters/{payments_letter}/discard",
        {"reason": "duplicate"},
        {"payments": 200, "support": 403, "ops": 200},
    ),
    (
        "discard support's dead letter",
        "post",
        "/api/dead-letters/{support_letter}/discard",
        {"reason": "bank down"},
        {"payments": 403, "support": 200, "ops": 200},
    ),
    (
        "issue a token",
        "post",
        "/api/tokens",
        {"team": "legal"},
        {"payments": 403, "support": 403, "ops": 201},
    ),
    (
        "revoke a token",
        "post",
        "/api/tokens/support-bot/revoke",
        None,
        {"payments": 403, "support": 403, "ops": 200},
    ),
]


def expected(caller: str, allowed: dict[str, int]) -> int:
    """401 without a valid token; else what the row says (200 for reads)."""
    if caller in ("none", "forged"):
        return 401
    return allowed.get(caller, 200)


CASES = [
    pytest.param(caller, method, path, body, expected(caller, allowed), id=f"{name}-{caller}")
    for name, method, path, body, allowed in MATRIX
    for caller in CALLERS
]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The desk on a fresh SQLite file."""
    store = SqliteStore(tmp_path / "authz.db")
    yield await build_world(store)
    store.close()


def headers(world: World, caller: str) -> dict[str, str]:
    """The Authorization header a caller sends."""
    if caller == "none":
        return {}
    if caller == "forged":
        return {"Authorization": "Bearer sl_0123456789abcdef_" + "x" * 43}
    return world.auth(caller)


@pytest.mark.parametrize(("caller", "method", "path", "body", "status"), CASES)
async def test_authorization_matrix(
    world: World,
    caller: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    """Reads need any valid token; a change needs the owning team or an admin; 401s and 403s
    say what to do."""
    target = path.format(
        gate=world.gate,
        payments_letter=world.payments_letter,
        support_letter=world.support_letter,
    )
    async with world.client(None) as api:
        response = await api.request(method, target, json=body, headers=headers(world, caller))
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["error"] == "unauthenticated"
        assert "seamline tokens create" in response.json()["message"]
        assert response.headers["www-authenticate"] == "Bearer"
    if status == 403:
        assert response.json()["error"] == "forbidden"
        assert f"team {caller!r}" in response.json()["message"]
        assert "admin" in response.json()["message"]


async def test_a_refused_decision_changes_nothing_and_is_audited(world: World) -> None:
    """Support cannot decide payments' gate: it stays open, and the refusal is in the log
    with the team and token that tried."""
    async with world.client("support") as api:
        refused = await api.post(
            f"/api/gates/{world.gate}/decision", json={"decision": "reject", "reason": "no"}
        )
    async with world.client("ops") as api:
        log = (await api.get("/api/audit-log")).json()
    assert refused.status_code == 403
    assert "team 'payments' owns it" in refused.json()["message"]
    assert world.runtime.gate(world.gate).status == "open"
    assert [(e["team"], e["actor"], e["action"], e["outcome"]) for e in log[:1]] == [
        ("support", "support-bot", "gate.decide", "denied")
    ]
    assert {e["action"] for e in log[1:]} == {"token.issue"}  # the world's three tokens


@pytest.mark.parametrize(
    "authorization",
    ["Basic b3BzOnNlY3JldA==", "Bearer", "Bearer   ", "bearer sl_nope", "sl_token_without_scheme"],
)
async def test_malformed_authorization_headers_are_401(world: World, authorization: str) -> None:
    """Other schemes, empty and garbled tokens are all 401s, never a 500."""
    async with world.client(None) as api:
        response = await api.get("/api/workflows", headers={"Authorization": authorization})
    assert response.status_code == 401
