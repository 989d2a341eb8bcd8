"""The one exception tree of seamline, grouped by who has to act.

```
SeamlineError
├── ConfigurationError        the developer wired something wrong; fix the code or the config
│   ├── ContractError         a contract is malformed or refers to fields it does not have
│   ├── VersionError          a version or version range does not parse
│   ├── RegistryError         an agent/contract is missing, duplicated, or a route cannot work
│   └── MissingExtraError     an optional integration is not installed
├── HandoffError              a run-time failure at a seam, carries the handoff id
│   ├── HandoffValidationError  a handoff broke its receiver's contract (every bad field listed)
│   └── AgentError            an agent raised or returned something that is not an outcome
│       └── TransientError    raised by an agent: a fault worth retrying (flaky tool, rate limit)
├── StoreError                the ledger could not be read or written
│   ├── StoreCorruptError     the store file is not a seamline store (or a newer one)
│   └── ConflictError         a concurrent writer got there first; nothing was applied
├── NotFoundError             a workflow, handoff or dead letter id that the ledger does not hold
└── AccessError               the caller may not do this through the API; present another token
    ├── AuthenticationError   no API token, or one that is unknown or revoked
    └── PermissionDeniedError the token's team does not own what it tried to change
```

Warnings (not errors: the call goes on):

```
UserWarning
└── ContractDeprecationWarning  a handoff used a deprecated contract version (names its retirement)
```

Every message says what was wrong and how to fix it. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AccessError",
    "AgentError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ContractDeprecationWarning",
    "ContractError",
    "HandoffError",
    "HandoffValidationError",
    "Issue",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RegistryError",
    "SeamlineError",
    "StoreCorruptError",
    "StoreError",
    "TransientError",
    "VersionError",
]


class SeamlineError(Exception):
    """Root of every error seamline raises on purpose."""


class ConfigurationError(SeamlineError):
    """The program or its configuration is wrong; a code or config change fixes it."""


class ContractError(ConfigurationError):
    """A contract definition is invalid."""


class VersionError(ConfigurationError):
    """A semantic version or version range does not parse."""


class RegistryError(ConfigurationError):
    """An agent or contract is missing or duplicated, or a declared route cannot work."""


class MissingExtraError(ConfigurationError, ImportError):
    """An optional integration was used without its extra installed."""

    def __init__(self, *, feature: str, extra: str) -> None:
        super().__init__(f'{feature} needs an optional dependency: pip install "seamline[{extra}]"')


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong with a handoff, addressed by a JSON-pointer-like path."""

    path: str
    """Where the problem is, e.g. ``payload.order_value`` or ``constraints.deadline``."""
    message: str
    """What is wrong, in words a sender (human or model) can act on."""
    code: str
    """A stable machine-readable rule id, e.g. ``missing`` or ``fact_changed``."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


class HandoffError(SeamlineError):
    """Something went wrong moving work across a seam."""

    def __init__(self, message: str, *, handoff_id: str | None = None) -> None:
        super().__init__(message)
        self.handoff_id = handoff_id


class HandoffValidationError(HandoffError):
    """A handoff broke its receiver's contract; ``issues`` lists every bad field."""

    def __init__(
        self,
        *,
        contract: str,
        issues: Sequence[Issue],
        handoff_id: str | None = None,
    ) -> None:
        self.contract = contract
        self.issues = tuple(issues)
        listed = "; ".join(str(issue) for issue in self.issues)
        super().__init__(
            f"handoff rejected by contract {contract}: {len(self.issues)} issue(s): {listed}. "
            "Fix the payload (or the sender) so it satisfies the receiver's contract.",
            handoff_id=handoff_id,
        )


class AgentError(HandoffError):
    """An agent raised, or returned something other than HandOff, Finish or Escalate."""


class TransientError(AgentError):
    """Raise from an agent when the fault may pass (a flaky tool, a rate limit, a 503).

    The runtime re-runs the agent under its contract's retry policy instead of sending the
    handoff down the failure ladder at once.
    """


class StoreError(SeamlineError):
    """The ledger could not be opened, read or written."""


class StoreCorruptError(StoreError):
    """The file is not a seamline store, or was written by a newer seamline."""


class ConflictError(StoreError):
    """A write lost a race with another writer; the whole transaction was rolled back."""


class NotFoundError(SeamlineError, LookupError):
    """An id that the ledger does not hold."""


class AccessError(SeamlineError):
    """An API caller may not do what it asked; the caller must act, not the server."""


class AuthenticationError(AccessError):
    """No API token was presented, or it is unknown or revoked."""


class PermissionDeniedError(AccessError):
    """A valid token whose team does not own the gate, dead letter or setting it tried to
    change (or that needs an admin token)."""


class ContractDeprecationWarning(UserWarning):
    """A handoff travelled under a deprecated contract version; move the sender on."""
