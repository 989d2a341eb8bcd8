"""Handoff contracts: what a receiving agent needs, owned by the receiver.

A contract is a pydantic model (the payload schema) plus the metadata that makes it an
interface between teams: a semantic version, an owning team, which fields are sensitive,
which values must survive every hop unchanged (tracked facts), and what happens when a
handoff breaks it (the failure policy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from seamline.contracts.compatibility import Compatibility
from seamline.contracts.gate import Gate
from seamline.contracts.version import Version
from seamline.exceptions import ContractError

__all__ = ["Contract", "FailurePolicy", "Lifecycle"]

PayloadT = TypeVar("PayloadT", bound=BaseModel)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailurePolicy:
    """The ladder a rejected handoff walks, in order.

    1. ``feedback_retries`` times: the sender runs again with the validation issues as
       feedback (an LLM sender fixes its output; a deterministic one can re-read its input).
    2. ``fallback_agent``: the rejected handoff goes to this agent under the built-in
       ``seamline.rejected-handoff`` contract (a repair agent or a simpler path).
    3. The dead-letter queue, kept whole for inspection, fix and replay. With ``escalate``
       the workflow is also handed to the contract's fallback owner: it ends ``escalated``
       with a pre-formatted request naming the dead letter and the commands to resolve it.

    A receiver that fails transiently (it runs past ``timeout``, raises TransientError,
    TimeoutError or ConnectionError) is first re-run up to ``retries`` times, waiting a
    random time up to ``backoff`` seconds doubled per attempt and capped at ``max_backoff``
    ("full jitter", so retrying callers do not stampede together), never past the
    envelope's deadline. Other faults are permanent and go straight down the ladder.
    """

    feedback_retries: int = 2
    fallback_agent: str | None = None
    escalate: bool = False
    retries: int = 0
    backoff: float = 0.2
    max_backoff: float = 5.0
    timeout: float | None = None
    """Seconds a receiver may run under this contract (an envelope deadline may cut it shorter).

    Async and ``threaded`` agents are cancelled when it passes; a plain sync agent blocks the
    runtime and cannot be interrupted, so declare agents that may hang ``threaded=True``.
    """

    def __post_init__(self) -> None:
        for name in ("feedback_retries", "retries"):
            if getattr(self, name) < 0:
                raise ContractError(
                    f"{name} must be 0 or more, got {getattr(self, name)}; use 0 to turn it off"
                )
        if not 0 <= self.backoff <= self.max_backoff:
            raise ContractError(
                f"backoff ({self.backoff}) must be between 0 and max_backoff "
                f"({self.max_backoff}) seconds"
            )
        if self.timeout is not None and not self.timeout > 0:
            raise ContractError(
                f"timeout must be a positive number of seconds, got {self.timeout}; "
                "use None for no timeout"
            )


class Lifecycle(StrEnum):
    """Where a contract version stands on the calendar its owner announced."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    """Still validates; every handoff under it records a warning naming the retirement date."""
    RETIRED = "retired"
    """Rejected at the boundary, with the receiver's accepted range in the message."""

    @classmethod
    def on(cls, today: date, deprecated: date | None, retires: date | None) -> Lifecycle:
        """The stage on ``today``; announcing a retirement date deprecates at once."""
        if retires is not None and today >= retires:
            return cls.RETIRED
        if retires is not None or (deprecated is not None and today >= deprecated):
            return cls.DEPRECATED
        return cls.ACTIVE


@dataclass(frozen=True, slots=True, init=False)
class Contract(Generic[PayloadT]):
    """A versioned, schema-first handoff contract.

    Example:
        ```python
        class RefundRequest(BaseModel):
            order_id: str
            amount: Decimal

        refund_v1 = Contract(
            model=RefundRequest, name="refund.request", version="1.0.0",
            owner="payments", tracked=("order_id", "amount"),
        )
        ```
    """

    model: type[PayloadT]
    """The pydantic model a payload must validate against."""
    name: str
    """A stable dotted name, e.g. ``refund.request``."""
    version: Version
    """The semantic version of this contract."""
    owner: str
    """The team that owns the receiving side and answers for this interface."""
    description: str = ""
    sensitive: frozenset[str] = field(default_factory=frozenset)
    """Top-level payload fields that must be masked outside the agents allowed to see them."""
    tracked: frozenset[str] = field(default_factory=frozenset)
    """Fields whose values must arrive exactly as first seen in the workflow (no paraphrase)."""
    rewrites: frozenset[str] = field(default_factory=frozenset)
    """Tracked fields this contract is allowed to change (e.g. an approved adjusted amount)."""
    rewriters: dict[str, frozenset[str]] = field(default_factory=dict, hash=False)
    """For each rewritable field, the producing agents allowed to change it; a field that
    is not listed may be changed by any sender under this contract."""
    policy: FailurePolicy = field(default_factory=FailurePolicy)
    fallback_owner: str | None = None
    """Who a human escalation about this contract is addressed to."""
    compatibility: Compatibility = Compatibility.BACKWARD
    """How versions within one major line may differ (Confluent Schema Registry's modes)."""
    deprecated: date | None = None
    """From when senders should stop emitting this version."""
    retires: date | None = None
    """From when this version is rejected; announcing it also marks the version deprecated."""
    changelog: str = ""
    """What changed in this version, for the registry's history and the runbooks."""
    consequential: bool = False
    """A wrong handoff here costs money or trust: the audit expects a human gate on it."""
    gate: Gate | None = None
    """Handoffs under this version wait for a human decision before delivery (when the
    gate's test holds); see :mod:`seamline.contracts.gate`."""

    def __init__(
        self,
        *,
        model: type[PayloadT],
        name: str,
        version: str | Version,
        owner: str,
        description: str = "",
        sensitive: Iterable[str] = (),
        tracked: Iterable[str] = (),
        rewrites: Iterable[str] | Mapping[str, Iterable[str]] = (),
        rewriters: Mapping[str, Iterable[str]] | None = None,
        policy: FailurePolicy | None = None,
        fallback_owner: str | None = None,
        compatibility: Compatibility | str = Compatibility.BACKWARD,
        deprecated: date | str | None = None,
        retires: date | str | None = None,
        changelog: str = "",
        consequential: bool = False,
        gate: Gate | None = None,
    ) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise ContractError(
                f"contract {name!r}: model must be a pydantic BaseModel subclass, got {model!r}"
            )
        if not name or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise ContractError(
                f"contract name {name!r} is invalid; use letters, digits, '.', '-' or '_'"
            )
        if not owner:
            raise ContractError(f"contract {name!r} has no owner; name the receiving team")
        set_ = object.__setattr__
        set_(self, "model", model)
        set_(self, "name", name)
        set_(self, "version", Version.parse(version))
        set_(self, "owner", owner)
        set_(self, "description", description or (model.__doc__ or "").strip())
        set_(self, "sensitive", self._fields("sensitive", sensitive))
        set_(self, "tracked", self._fields("tracked", tracked))
        set_(self, "rewrites", self._fields("rewrites", rewrites))
        # ``rewriters`` is how dataclasses.replace hands the mapping back; users pass a
        # mapping as ``rewrites``.
        by_agent = dict(rewrites) if isinstance(rewrites, Mapping) else {}
        by_agent.update(rewriters or {})
        set_(self, "rewriters", {fact: frozenset(agents) for fact, agents in by_agent.items()})
        if stray := sorted(set(self.rewriters) - self.rewrites):
            raise ContractError(
                f"contract {name!r}: rewriters names fields missing from rewrites "
                f"({', '.join(stray)}); list them in rewrites"
            )
        if empty := sorted(fact for fact, agents in self.rewriters.items() if not agents):
            raise ContractError(
                f"contract {name!r}: rewrites gives no agents for {', '.join(empty)}; name the "
                "agents allowed to change it, or list the field without a mapping to allow any"
            )
        set_(self, "policy", policy or FailurePolicy())
        set_(self, "fallback_owner", fallback_owner)
        set_(self, "compatibility", _compatibility(name, compatibility))
        set_(self, "deprecated", _date(name, "deprecated", deprecated))
        set_(self, "retires", _date(name, "retires", retires))
        set_(self, "changelog", changelog)
        set_(self, "consequential", consequential)
        set_(self, "gate", gate)
        if gate is not None:
            gate.check_fields(f"contract {name!r}", model.model_fields)
        if self.deprecated and self.retires and self.retires < self.deprecated:
            raise ContractError(
                f"contract {name!r}: retires ({self.retires}) comes before deprecated "
                f"({self.deprecated}); announce the deprecation first"
            )
        if self.policy.escalate and not self.fallback_owner:
            raise ContractError(
                f"contract {name!r}: its failure policy escalates, but there is no "
                "fallback_owner to address the request to; set fallback_owner"
            )
        if not self.rewrites <= self.tracked:
            extra = ", ".join(sorted(self.rewrites - self.tracked))
            raise ContractError(
                f"contract {name!r}: rewrites names fields that are not tracked ({extra}); "
                "add them to tracked or remove them from rewrites"
            )

    def _fields(self, kind: str, names: Iterable[str]) -> frozenset[str]:
        chosen = frozenset(names)
        unknown = chosen - set(self.model.model_fields)
        if unknown:
            known = ", ".join(sorted(self.model.model_fields))
            raise ContractError(
                f"contract {self.name!r}: {kind} fields {sorted(unknown)} are not fields of "
                f"{self.model.__name__} (fields: {known})"
            )
        return chosen

    def may_rewrite(self, name: str, agent: str) -> bool:
        """Whether ``agent``, sending under this contract, may change tracked fact ``name``."""
        if name not in self.rewrites:
            return False
        allowed = self.rewriters.get(name)
        return allowed is None or agent in allowed

    def lifecycle(self, today: date | None = None) -> Lifecycle:
        """Active, deprecated or retired on ``today`` (the local date when not given)."""
        return Lifecycle.on(today or date.today(), self.deprecated, self.retires)

    @property
    def ref(self) -> str:
        """``name@version``, the way the ledger and the CLI print a contract."""
        return f"{self.name}@{self.version}"

    def json_schema(self) -> dict[str, Any]:
        """The payload's JSON Schema, annotated with the contract's metadata."""
        schema = self.model.model_json_schema()
        schema["$id"] = f"urn:seamline:contract:{self.name}:{self.version}"
        schema["x-seamline"] = {
            "name": self.name,
            "version": str(self.version),
            "owner": self.owner,
            "description": self.description,
            "sensitive": sorted(self.sensitive),
            "tracked": sorted(self.tracked),
            "rewrites": sorted(self.rewrites),
            "failure_policy": {
                "feedback_retries": self.policy.feedback_retries,
                "fallback_agent": self.policy.fallback_agent,
            },
            "fallback_owner": self.fallback_owner,
            "compatibility": self.compatibility.value,
            "deprecated": self.deprecated.isoformat() if self.deprecated else None,
            "retires": self.retires.isoformat() if self.retires else None,
            "changelog": self.changelog,
            "consequential": self.consequential,
        }
        return schema


def _compatibility(name: str, value: Compatibility | str) -> Compatibility:
    try:
        return Compatibility(str(value).upper())
    except ValueError:
        modes = ", ".join(mode.value for mode in Compatibility)
        raise ContractError(
            f"contract {name!r}: unknown compatibility mode {value!r}; use one of {modes}"
        ) from None


def _date(name: str, kind: str, value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ContractError(
            f"contract {name!r}: {kind} date {value!r} is not a date; write YYYY-MM-DD"
        ) from None
