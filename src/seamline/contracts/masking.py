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

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["MASK", "mask_payload", "redact"]

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


def redact(text: str, payload: Mapping[str, Any], sensitive: Iterable[str]) -> str:
    """``text`` with every sensitive value of ``payload`` that it quotes replaced by ``MASK``.

    For free text written by code that saw real values (an evaluator's explanation, an
    exception message): a value is matched as a whole token, so ``42`` is masked in
    "age 42" but not in "1420".
    """
    values = sorted(
        {str(leaf) for path in sensitive for leaf in _leaves(_at(payload, path))},
        key=len,
        reverse=True,  # longest first, so a value containing another is masked whole
    )
    if not values or not text:
        return text
    pattern = "|".join(re.escape(value) for value in values if value)
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", MASK, text)


def _at(payload: Mapping[str, Any], path: str) -> Any:
    name, _, rest = path.partition(".")
    value = payload.get(name)
    if rest and isinstance(value, Mapping):
        return _at(value, rest)
    return None if rest else value


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield value
