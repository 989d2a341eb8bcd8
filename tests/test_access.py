"""API tokens and the audit log: issue, authenticate, revoke, ownership and what is recorded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from seamline.access import Access, Caller
from seamline.exceptions import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from seamline.stores import SqliteStore, Store

OPERATOR = Caller(None, "cli:ops", admin=True)


@pytest.fixture
def access(tmp_path: Path) -> Iterator[Access]:
    """Access over a fresh SQLite store."""
    store = SqliteStore(tmp_path / "a.db")
    yield Access(store)
    store.close()


def test_a_token_authenticates_as_its_team_and_only_its_hash_is_kept(access: Access) -> None:
    """The secret is shown once and authenticates; the store holds its SHA-256, not it."""
    issued = access.issue("payments", by=OPERATOR, name="pay-bot")
    assert issued.secret.startswith(f"sl_{issued.record.id}_")
    assert access.authenticate(issued.secret) == Caller("payments", "pay-bot", admin=False)
    stored = access.store.get_token(issued.record.id)
    assert stored is not None
    assert stored.secret_sha256 == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in repr(stored)


def test_a_default_name_is_the_team_and_part_of_the_id(access: Access) -> None:
    """Without a name, a token is called ``team-<6 hex>``."""
    issued = access.issue("support", by=OPERATOR, admin=True)
    assert issued.record.name == f"support-{issued.record.id[:6]}"
    assert access.authenticate(issued.secret).admin


@pytest.mark.parametrize(
    ("presented", "message"),
    [
        pytest.param(None, "no API token: send the header `Authorization: Bearer", id="none"),
        pytest.param("", "no API token", id="empty"),
        pytest.param("hunter2", "not valid (unknown, or mistyped)", id="garbage"),
        pytest.param("sl_" + "0" * 16 + "_" + "x" * 43, "not valid", id="unknown-id"),
    ],
)
def test_a_missing_or_unknown_token_is_refused(
    access: Access, presented: str | None, message: str
) -> None:
    """Each failure is an AuthenticationError that says how to get a token."""
    with pytest.raises(AuthenticationError, match="seamline tokens create") as caught:
        access.authenticate(presented)
    assert message in str(caught.value)


def test_a_tampered_secret_is_refused(access: Access) -> None:
    """The right id with a wrong secret does not authenticate."""
    secret = access.issue("payments", by=OPERATOR).secret
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(AuthenticationError, match="not valid"):
        access.authenticate(tampered)


def test_a_revoked_token_is_refused_by_name(access: Access) -> None:
    """After revocation the token says it was revoked; revoking again is a conflict."""
    issued = access.issue("payments", by=OPERATOR, name="old")
    revoked = access.revoke("old", by=OPERATOR)
    assert revoked.revoked_by == "cli:ops" and revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match="the API token 'old' was revoked at"):
        access.authenticate(issued.secret)
    with pytest.raises(ConflictError, match="already revoked"):
        access.revoke(issued.record.id, by=OPERATOR)
    with pytest.raises(NotFoundError, match="seamline tokens list"):
        access.revoke("never-issued", by=OPERATOR)


def test_only_admins_issue_and_revoke(access: Access) -> None:
    """A member token may neither issue nor revoke; each refusal names the rule."""
    member = Caller("payments", "pay-bot", admin=False)
    with pytest.raises(PermissionDeniedError, match="only an admin token may issue API tokens"):
        access.issue("payments", by=member)
    access.issue("payments", by=OPERATOR, name="x")
    with pytest.raises(PermissionDeniedError, match="only an admin token may revoke"):
        access.revoke("x", by=member)


@pytest.mark.parametrize(
    ("team", "name", "message"),
    [
        pytest.param(" ", None, "team ' ' is not allowed", id="blank-team"),
        pytest.param("pay\nments", None, "is not allowed", id="control-character"),
        pytest.param("Payments Team", None, "use the owner name", id="space"),
        pytest.param("payments", "has space", "token name 'has space' is not allowed", id="name"),
    ],
)
def test_bad_team_or_token_names_are_refused(
    access: Access, team: str, name: str | None, message: str
) -> None:
    """Names are checked before anything is stored."""
    with pytest.raises(ConfigurationError, match=message):
        access.issue(team, by=OPERATOR, name=name)
    assert access.tokens() == []


def test_ownership_decides_and_admins_may_do_anything() -> None:
    """A team acts only on what it owns; nothing unowned but by an admin."""
    member = Caller("payments", "p", admin=False)
    member.require("payments", "decide this gate")
    with pytest.raises(PermissionDeniedError) as caught:
        member.require("support", "decide gate g-1")
    assert str(caught.value) == (
        "team 'payments' may not decide gate g-1: team 'support' owns it; ask 'support' or "
        "an admin to do it"
    )
    with pytest.raises(PermissionDeniedError, match="no team in the registry owns it"):
        member.require(None, "replay dead letter d-1")
    Caller("ops", "root", admin=True).require("support", "anything")
    assert member.who == "payments/p" and OPERATOR.who == "cli:ops"


def test_audited_records_success_refusal_and_failure(access: Access) -> None:
    """An action is recorded with its outcome; a refusal and a failure too, with the error."""
    member = Caller("payments", "p", admin=False)
    with access.audited(member, "dead_letter.discard", "d-1") as note:
        note.detail["reason"] = "duplicate"
    with (
        pytest.raises(PermissionDeniedError),
        access.audited(member, "gate.decide", "g-1"),
    ):
        member.require("support", "decide gate g-1")
    with pytest.raises(RuntimeError), access.audited(member, "dead_letter.replay", "d-2"):
        raise RuntimeError("boom")
    rows = access.log(OPERATOR)
    assert [(r.action, r.target, r.outcome) for r in rows] == [
        ("dead_letter.replay", "d-2", "failed"),
        ("gate.decide", "g-1", "denied"),
        ("dead_letter.discard", "d-1", "ok"),
    ]
    assert json.loads(rows[2].detail) == {"reason": "duplicate"}
    assert "team 'support' owns it" in json.loads(rows[1].detail)["error"]
    assert {(r.team, r.actor) for r in rows} == {("payments", "p")}


def test_issue_and_revoke_are_in_the_log_and_teams_see_their_own(access: Access) -> None:
    """Token changes are logged; a member reads its team's records, an admin all of them."""
    access.issue("support", by=OPERATOR, name="s")
    access.revoke("s", by=OPERATOR)
    with access.audited(Caller("payments", "p", admin=False), "gate.decide", "g-1"):
        pass
    assert [(r.action, r.outcome) for r in access.log(OPERATOR)] == [
        ("gate.decide", "ok"),
        ("token.revoke", "ok"),
        ("token.issue", "ok"),
    ]
    assert [r.action for r in access.log(Caller("payments", "p", admin=False))] == ["gate.decide"]
    assert access.log(Caller("support", "s2", admin=False)) == []


def test_a_name_clash_is_logged_as_a_conflict(access: Access) -> None:
    """Issuing a second active token of one name fails whole, and the attempt is logged."""
    access.issue("payments", by=OPERATOR, name="bot")
    with pytest.raises(ConflictError, match="already named 'bot'"):
        access.issue("payments", by=OPERATOR, name="bot")
    assert len(access.tokens()) == 1
    assert [r.outcome for r in access.log(OPERATOR)] == ["conflict", "ok"]


def test_a_store_without_tokens_is_refused() -> None:
    """Access needs an AccessStore; the error names the stores that are."""

    class Bare:
        """Not a store that keeps tokens."""

    bare: Store = Bare()  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="Bare keeps no API tokens"):
        Access(bare)
