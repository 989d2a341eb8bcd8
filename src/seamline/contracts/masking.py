"""Masking: sensitive values stay with the agents allowed to see them.

A contract names its sensitive payload fields; the envelope carries those names, so any
view (the ledger, the CLI, a dead letter) can mask a payload without a registry at hand.
Who sees real values: the receiver the contract was written for, and the contract's
fallback agent, which must repair the rejected payload. Everyone else sees ``MASK``.

Contracts name top-level fields only: a sensitive field is masked whole, whatever nested
model it holds. A dotted path (``payload.iban``) reaches into a nested mapping; the runtime
uses it for the rejected-handoff wrapper, which carries the original payload under
``payload``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "mask_payload"]

MASK = "«masked»"
"""What a masked value reads as: fixed, so its length and shape give nothing away."""


def mask_payload(payload: Mapping[str, Any], sensitive: Iterable[str]) -> dict[str, Any]:
    """A copy of ``payload`` with the value at each sensitive path replaced by ``MASK``.

    Paths that are absent (an optional field left out) are skipped; the input is not changed.
    """
    masked = dict(payload)
    for path in sensitive:
        name, _, rest = path.partition(".")
        if name not in masked:
            continue
        if not rest:
            masked[name] = MASK
        elif isinstance(masked[name], Mapping):
            masked[name] = mask_payload(masked[name], (rest,))
    return masked
