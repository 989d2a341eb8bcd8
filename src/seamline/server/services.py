"""What every route works with: the runtime, the project, the tokens; and who is asking.

One :class:`Services` per application, kept in ``app.state``. The caller is resolved per
request from its bearer token (:data:`CallerDep`); routes that only read take it through the
router's dependencies, routes that change something take it as a parameter to check
ownership and write the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seamline.access import Access, Caller
from seamline.contracts import MASK, Envelope
from seamline.exceptions import RegistryError
from seamline.governance import Snapshot
from seamline.ledger import Ledger
from seamline.project import Project
from seamline.registry import Registry
from seamline.runtime import Runtime

__all__ = [
    "NOT_BLANK",
    "CallerDep",
    "Services",
    "ServicesDep",
    "caller",
    "restore_masked",
    "services",
]

NOT_BLANK = r"[^\s\x1c-\x1f\x85\uFEFF]"
"""A reason must hold a character that is not blank. ``\\S`` alone is read differently by the
schema's regex dialect (ECMA), pydantic's and Python's ``str.strip`` (which the runtime
uses): the extra characters are those on which they disagree, so all three agree here."""


@dataclass(frozen=True, slots=True)
class Services:
    """The runtime that replays and decides, the project the governance views read, and
    the tokens."""

    runtime: Runtime
    access: Access
    snapshot: Snapshot
    """The served registry as data, taken once: its definitions do not change while served."""
    project: Project | None
    """The project on disk, for the audit's evidence (exporters, contract tests); None
    when the app was given only a runtime."""

    @property
    def ledger(self) -> Ledger:
        """Read-only views of the store."""
        return self.runtime.ledger

    @property
    def registry(self) -> Registry:
        """The agents and contracts the runtime runs."""
        return self.runtime.registry

    def owner(self, envelope: Envelope) -> str | None:
        """The team that owns a handoff: its contract's owner (the receiving team), or for
        seamline's own wrapper contracts the receiving agent's owner; None if the served
        registry knows neither."""
        ref = envelope.contract
        try:
            if ref.name.startswith("seamline."):
                return self.registry.agent(envelope.destination.name).card.owner
            try:
                return self.registry.contract(ref.name, ref.version).owner
            except RegistryError:  # a version since removed: the contract's team still owns it
                return self.registry.contract(ref.name).owner
        except RegistryError:
            return None


def restore_masked(sent: dict[str, Any], original: Envelope) -> dict[str, Any]:
    """``sent`` with each sensitive field still reading ``MASK`` given back its real value.

    People fix or edit a payload they were shown masked; a field they left as they saw it
    keeps what the handoff carried instead of becoming the mask text.
    """
    restored = sent
    for path in original.sensitive:
        restored = _restored(restored, original.payload, path.split("."))
    return restored


def _restored(sent: dict[str, Any], had: Mapping[str, Any], path: list[str]) -> dict[str, Any]:
    name, rest = path[0], path[1:]
    if name not in sent or name not in had:
        return sent
    if not rest:
        return {**sent, name: had[name]} if sent[name] == MASK else sent
    if isinstance(sent[name], dict) and isinstance(had[name], Mapping):
        return {**sent, name: _restored(sent[name], had[name], rest)}
    return sent


def services(request: Request) -> Services:
    """The application's services."""
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token for a team: an admin prints one with "
    "`seamline tokens create --team TEAM`.",
)


def caller(
    found: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """Who sent the request, from its bearer token (401 without a valid one)."""
    return found.access.authenticate(credentials.credentials if credentials else None)


CallerDep = Annotated[Caller, Depends(caller)]
