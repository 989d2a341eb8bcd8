"""Gate policies: which handoffs wait for a person before delivery.

A consequential transition (money out, a customer-facing message, an irreversible change)
should not rely on two models agreeing with each other. A gate on a contract (or on one
registry edge) pauses a handoff durably before its receiver runs, until someone with the
authority approves, rejects or edits it. The policy only decides *whether* a handoff is
gated and how to describe it; :mod:`seamline.gates` shows and decides gates.

Example:
    ```python
    Contract(..., gate=Gate(
        when=lambda refund: refund.amount > 100,
        summary="Refund {amount} {currency} for order {order_id}",
        deadline=timedelta(hours=4),
    ))
    ```
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from seamline.exceptions import ContractError

__all__ = ["Gate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    """When a handoff waits for a human decision, and how it is put to them."""

    when: Callable[[Any], bool] | None = None
    """A test on the typed payload (``lambda refund: refund.amount > 100``); None gates
    every handoff."""
    summary: str = ""
    """The headline a decider reads first: a format string over the payload's top-level
    fields (``"Refund {amount} for order {order_id}"``), rendered with sensitive values
    masked. Empty: the contract's name and the route."""
    deadline: timedelta | None = None
    """How long a gate may wait before it is escalated to the contract's fallback owner."""
    owner: str | None = None
    """The team that decides; the receiving contract's owner when not given."""

    def __post_init__(self) -> None:
        if self.deadline is not None and self.deadline <= timedelta(0):
            raise ContractError(f"a gate's deadline must be positive, got {self.deadline}")
        if self.when is not None and not callable(self.when):
            raise ContractError("a gate's when must be a callable over the payload, or None")

    def fields(self) -> set[str]:
        """The payload fields the summary template names."""
        try:
            parsed = list(string.Formatter().parse(self.summary))
        except ValueError as error:
            raise ContractError(
                f"gate summary {self.summary!r} is not a template: {error}"
            ) from None
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in parsed if name is not None}

    def check_fields(self, owner: str, known: Iterable[str]) -> None:
        """Refuse a summary naming a field the payload does not have (a typo would only
        show when the first gated handoff arrives)."""
        named = self.fields()
        if "" in named:
            raise ContractError(f"{owner}: gate summary has an empty {{}}; name a field")
        unknown = named - set(known)
        if unknown:
            raise ContractError(
                f"{owner}: gate summary names {sorted(unknown)}, which are not payload fields "
                f"({', '.join(sorted(known))})"
            )

    def applies(self, payload: Any) -> bool:
        """Whether ``payload`` (typed) must wait for a decision."""
        return self.when is None or bool(self.when(payload))
