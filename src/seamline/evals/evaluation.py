"""Step-level evaluators: checks run on every handoff, and the results they leave behind.

Contract validation answers "is this payload well-formed for its receiver?". Evaluators
answer the questions a schema cannot: is a required field present but empty, is an amount
inside the range this team will act on, does an LLM judge think the summary still says what
the user asked? Each one runs on one handoff, either

* **blocking**: before delivery. A failure becomes a validation issue and the handoff walks
  its contract's failure policy (feedback to the sender, fallback agent, dead letter);
* **flagging**: while the receiver runs. A failure is recorded and reported, nothing stops.

Either way the result is a ledger row and a ``gen_ai.evaluation.result`` span event.

Example:
    ```python
    @evaluator(mode="flagging", contracts=["refund.request"], timeout=20)
    async def refund_matches_intent(handoff: Subject) -> Verdict:
        answer = await judge(handoff.intent, handoff.payload)   # e.g. an LLM call
        return Verdict(answer.ok, score=answer.score, explanation=answer.reason)
    ```
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from seamline.contracts import Contract, Envelope
from seamline.exceptions import ConfigurationError

__all__ = [
    "Check",
    "Evaluation",
    "Evaluator",
    "Label",
    "Mode",
    "Subject",
    "Verdict",
    "dumps",
    "evaluator",
    "loads",
]


class Mode(StrEnum):
    """When an evaluator runs and what its failure does."""

    BLOCKING = "blocking"
    """Before delivery; a failure sends the handoff down its failure policy."""
    FLAGGING = "flagging"
    """Alongside the receiver; a failure is recorded and reported, the workflow goes on."""


class Label(StrEnum):
    """An evaluation's outcome (``gen_ai.evaluation.score.label``)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    """The evaluator itself raised, hung past its timeout, or returned something unusable."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a custom evaluator returns when a bare ``bool`` says too little."""

    passed: bool
    score: float | None = None
    """A number on the evaluator's own scale (an LLM judge's 0..1, a distance), if any."""
    explanation: str = ""
    """Why, in words a sender or an on-call engineer can act on; sensitive values are
    masked before it is stored or exported."""
    path: str | None = None
    """The payload path the verdict is about (``payload.amount``), if one."""


@dataclass(frozen=True, slots=True)
class Subject:
    """One handoff as an evaluator sees it: typed payload, the contract, the whole envelope.

    Evaluators run in-process beside the receiver, so they see real values, sensitive ones
    included; what they say about them is masked on the way out.
    """

    envelope: Envelope
    payload: BaseModel
    contract: Contract[Any]

    @property
    def intent(self) -> str:
        """The user's request, verbatim, as the workflow started with it."""
        return self.envelope.intent.text

    @property
    def sender(self) -> str:
        """The producing agent's name."""
        return self.envelope.source.name

    @property
    def receiver(self) -> str:
        """The destination agent's name."""
        return self.envelope.destination.name


Check = Callable[[Subject], bool | Verdict | Awaitable[bool | Verdict]]
"""An evaluator's body: sync or async, returning pass/fail or a :class:`Verdict`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluator:
    """A named check with its mode, scope and time limit.

    Sync checks run in a worker thread so a hang can be cut off at ``timeout``; checks
    that are pure and fast (the built-ins) set ``inline`` and run in place.
    """

    name: str
    check: Check
    mode: Mode = Mode.BLOCKING
    contracts: frozenset[str] = frozenset()
    """Contract names it applies to; empty means every contract."""
    timeout: float = 30.0
    fail_closed: bool = False
    """Whether an evaluator error blocks a handoff like a failure does (blocking mode)."""
    inline: bool = False
    is_async: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigurationError("an evaluator needs a name; pass name='...'")
        if not self.timeout > 0:
            raise ConfigurationError(
                f"evaluator {self.name!r}: timeout must be a positive number of seconds, "
                f"got {self.timeout}"
            )
        if not callable(self.check):
            raise ConfigurationError(
                f"evaluator {self.name!r}: check must be callable, got {type(self.check).__name__}"
            )
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "contracts", frozenset(self.contracts))
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.check))

    def applies(self, contract: str) -> bool:
        """Whether it runs on handoffs under contract ``contract``."""
        return not self.contracts or contract in self.contracts


def evaluator(
    name: str | None = None,
    *,
    mode: Mode | str = Mode.BLOCKING,
    contracts: Iterable[str] = (),
    timeout: float = 30.0,
    fail_closed: bool = False,
) -> Callable[[Check], Evaluator]:
    """Turn a sync or async ``check(subject) -> bool | Verdict`` into an :class:`Evaluator`."""
    try:
        chosen = Mode(mode)
    except ValueError:
        raise ConfigurationError(
            f"unknown evaluator mode {mode!r}; use 'blocking' or 'flagging'"
        ) from None

    def wrap(check: Check) -> Evaluator:
        return Evaluator(
            name=name or str(getattr(check, "__name__", "")),
            check=check,
            mode=chosen,
            contracts=frozenset(contracts),
            timeout=timeout,
            fail_closed=fail_closed,
        )

    return wrap


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluator's result on one handoff, as the ledger keeps it."""

    name: str
    mode: Mode
    label: Label
    score: float | None = None
    explanation: str = ""
    path: str | None = None
    error_type: str | None = None
    """``timeout`` or the exception's class name when ``label`` is ``error``."""

    @property
    def passed(self) -> bool:
        """Whether it passed (an error is not a pass)."""
        return self.label is Label.PASS

    def as_dict(self) -> dict[str, Any]:
        """The JSON form, without empty fields."""
        data: dict[str, Any] = {"name": self.name, "mode": self.mode.value, "label": self.label}
        if self.score is not None:
            data["score"] = self.score
        if self.explanation:
            data["explanation"] = self.explanation
        if self.path is not None:
            data["path"] = self.path
        if self.error_type is not None:
            data["error_type"] = self.error_type
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """Read one back from its JSON form."""
        return cls(
            name=str(data["name"]),
            mode=Mode(data["mode"]),
            label=Label(data["label"]),
            score=data.get("score"),
            explanation=str(data.get("explanation", "")),
            path=data.get("path"),
            error_type=data.get("error_type"),
        )


def dumps(evaluations: Iterable[Evaluation]) -> str:
    """The ledger row's data: a JSON list of evaluations."""
    return json.dumps([evaluation.as_dict() for evaluation in evaluations])


def loads(data: str | None) -> list[Evaluation]:
    """Evaluations from a ledger row's data."""
    return [Evaluation.from_dict(item) for item in json.loads(data or "[]")]
