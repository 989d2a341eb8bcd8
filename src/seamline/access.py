"""Who may act through the HTTP API: tokens mapped to teams, and the log of what they did.

A token is issued for one team, as a member or an admin, and shown once, as
``sl_<id>_<secret>``. The store keeps its id, name, team and role and the SHA-256 of the
whole string, never the string, so a copy of the database holds no usable token. When a
token is presented, its id finds the record and the two hashes are compared with
:func:`hmac.compare_digest`, so how long a wrong guess takes gives nothing away.

Ownership decides who may change what, as the registry states it: the receiving team owns a
contract, so it decides the gates on handoffs under that contract and replays or discards
their dead letters. An admin may do anything, including issuing and revoking tokens. Any
valid token may read, and reading shows everyone the same masked values.

Every decision and change, allowed or refused, goes into the audit log with the team and
token that tried it, what it tried on what, when, and how it ended (:meth:`Access.audited`).
A token's issue or revocation is committed together with its audit record.

Example:
    ```python
    access = Access(SqliteStore("seamline.db"))
    issued = access.issue("payments", by=Caller.operator())
    print(issued.secret)                      # shown once
    caller = access.authenticate(issued.secret)
    caller.require("payments", "decide this gate")
    ```
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from seamline.exceptions import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    HandoffValidationError,
    NotFoundError,
    PermissionDeniedError,
)
from seamline.stores import AccessStore, AuditRecord, Store, TokenRecord
from seamline.types import new_id, utcnow

__all__ = ["NAME_PATTERN", "Access", "AuditNote", "Caller", "IssuedToken"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,99}$"
"""What team and token names may be: the slugs registries name owners with (``payments``,
``support-intake``), safe in a URL path and a log line."""
_NAME = re.compile(NAME_PATTERN)
_TOKEN = re.compile(r"sl_([0-9a-f]{16})_[A-Za-z0-9_-]{43}")
_NO_DIGEST = hashlib.sha256(b"no such token").hexdigest()
"""Compared against when the id is unknown, so a miss costs what a wrong secret costs."""
_HOW_TO_GET_ONE = "an admin issues one with `seamline tokens create --team TEAM`"
_OUTCOMES: tuple[tuple[type[Exception], str], ...] = (
    (PermissionDeniedError, "denied"),
    (NotFoundError, "not_found"),
    (ConflictError, "conflict"),
    (HandoffValidationError, "invalid"),
    (ConfigurationError, "invalid"),
)
"""How a refused or failed action reads in the audit log; anything else is ``failed``."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a token's team, name and role (or the operator at the command line)."""

    team: str | None
    """None only for the operator at the command line, who is no team's member."""
    name: str
    """The token's name; ``cli:USER`` for the command line."""
    admin: bool

    @classmethod
    def operator(cls) -> Caller:
        """The person at the command line: whoever can open the store is its admin."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name in a bare container
            user = "unknown"
        return cls(None, f"cli:{user}", admin=True)

    @property
    def who(self) -> str:
        """``team/token`` (or ``cli:USER``): how decisions and the audit log name the caller."""
        return self.name if self.team is None else f"{self.team}/{self.name}"

    def may_act_for(self, owner: str | None) -> bool:
        """Whether this caller may change what ``owner`` owns (None: nobody owns it)."""
        return self.admin or (owner is not None and self.team == owner)

    def require(self, owner: str | None, doing: str) -> None:
        """Raise PermissionDeniedError unless this caller may ``doing`` for ``owner``."""
        if self.may_act_for(owner):
            return
        if owner is None:
            raise PermissionDeniedError(
                f"team {self.team!r} may not {doing}: no team in the registry owns it, so "
                "only an admin token may; ask an admin"
            )
        raise PermissionDeniedError(
            f"team {self.team!r} may not {doing}: team {owner!r} owns it; ask {owner!r} or "
            "an admin to do it"
        )

    def require_admin(self, doing: str) -> None:
        """Raise PermissionDeniedError unless this caller is an admin."""
        if not self.admin:
            raise PermissionDeniedError(
                f"only an admin token may {doing}; the token {self.name!r} of team "
                f"{self.team!r} is not one"
            )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: its record, and the secret, which is shown this once."""

    record: TokenRecord
    secret: str


class AuditNote:
    """What an action under :meth:`Access.audited` adds to its audit record."""

    def __init__(self, by: Caller, action: str, target: str) -> None:
        self.detail: dict[str, Any] = {}
        """Filled in as the action goes; recorded as JSON. Never put a payload here."""
        self.written = False
        self._by, self._action, self._target = by, action, target

    def record(self, outcome: str = "ok") -> AuditRecord:
        """The record, for a store write that commits it with the change; marks it written."""
        self.written = True
        return AuditRecord(
            id=new_id(),
            at=utcnow(),
            team=self._by.team,
            actor=self._by.name,
            action=self._action,
            target=self._target,
            outcome=outcome,
            detail=json.dumps(self.detail, default=str, ensure_ascii=False),
        )


class Access:
    """Tokens and the audit log kept in one store (SQLite or PostgreSQL)."""

    def __init__(self, store: Store | AccessStore) -> None:
        if not isinstance(store, AccessStore):
            raise ConfigurationError(
                f"{type(store).__name__} keeps no API tokens or audit log; serve a "
                "SqliteStore or a PostgresStore"
            )
        self.store: AccessStore = store

    # -- tokens ----------------------------------------------------------------------------

    def issue(
        self, team: str, *, by: Caller, admin: bool = False, name: str | None = None
    ) -> IssuedToken:
        """A new token for ``team``; only an admin (or the operator) may issue one."""
        token_id = secrets.token_hex(8)
        name = name if name is not None else f"{team[:93]}-{token_id[:6]}"
        with self.audited(by, "token.issue", name) as note:
            note.detail.update(team=team, admin=admin)
            by.require_admin("issue API tokens")
            _check_name("team", team, "the owner name the registry gives the team")
            _check_name("token name", name, "how the audit log should name it")
            secret = f"sl_{token_id}_{secrets.token_urlsafe(32)}"
            record = TokenRecord(
                id=token_id,
                name=name,
                team=team,
                admin=admin,
                secret_sha256=_digest(secret),
                created_at=utcnow(),
                created_by=by.who,
            )
            self.store.add_token(record, note.record())
        return IssuedToken(record, secret)

    def revoke(self, token: str, *, by: Caller) -> TokenRecord:
        """Revoke the active token named ``token`` (or with that id); admins only."""
        with self.audited(by, "token.revoke", token) as note:
            by.require_admin("revoke API tokens")
            found = [t for t in self.store.list_tokens() if token in (t.id, t.name)]
            if not found:
                raise NotFoundError(
                    f"no API token is named {token!r}; list them with `seamline tokens list`"
                )
            active = next((t for t in found if t.revoked_at is None), None)
            if active is None:
                raise ConflictError(f"the API token {token!r} is already revoked")
            note.detail.update(team=active.team, id=active.id)
            self.store.revoke_token(active.id, utcnow(), by.who, note.record())
        revoked = self.store.get_token(active.id)
        assert revoked is not None  # just revoked, and tokens are never deleted
        return revoked

    def tokens(self, *, team: str | None = None) -> list[TokenRecord]:
        """Every token (revoked ones too), newest first; ``team`` keeps one team's."""
        return self.store.list_tokens(team=team)

    def authenticate(self, presented: str | None) -> Caller:
        """The caller a presented token stands for; AuthenticationError if it stands for none."""
        if not presented:
            raise AuthenticationError(
                "no API token: send the header `Authorization: Bearer <token>`; " + _HOW_TO_GET_ONE
            )
        shape = _TOKEN.fullmatch(presented)
        record = self.store.get_token(shape[1]) if shape else None
        expected = record.secret_sha256 if record is not None else _NO_DIGEST
        if not hmac.compare_digest(_digest(presented), expected) or record is None:
            raise AuthenticationError(
                f"the API token is not valid (unknown, or mistyped); {_HOW_TO_GET_ONE}"
            )
        if record.revoked_at is not None:
            when = record.revoked_at.strftime("%Y-%m-%d %H:%M")
            raise AuthenticationError(
                f"the API token {record.name!r} was revoked at {when} UTC; {_HOW_TO_GET_ONE}"
            )
        return Caller(record.team, record.name, record.admin)

    # -- the audit log ---------------------------------------------------------------------

    @contextmanager
    def audited(self, by: Caller, action: str, target: str) -> Iterator[AuditNote]:
        """Record the action in the body, allowed or refused, with how it ended.

        The body fills in ``note.detail``. If it commits the record with its own change
        (``note.record()``), nothing more is written on success; a body that raises is
        recorded as refused or failed, and the error goes on.
        """
        note = AuditNote(by, action, target)
        try:
            yield note
        except Exception as error:
            note.detail["error"] = str(error)
            outcome = next((o for kind, o in _OUTCOMES if isinstance(error, kind)), "failed")
            self.store.add_audit(note.record(outcome))
            raise
        if not note.written:
            self.store.add_audit(note.record())

    def log(self, viewer: Caller, *, limit: int = 100) -> list[AuditRecord]:
        """The audit log, newest first: all of it for an admin, a team's own otherwise."""
        return self.store.list_audit(team=None if viewer.admin else viewer.team, limit=limit)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_name(what: str, name: str, meaning: str) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"{what} {name!r} is not allowed; use {meaning}: 1-100 letters, digits and "
            "'.', '_', '@', ':', '+', '-', starting with a letter or digit"
        )
