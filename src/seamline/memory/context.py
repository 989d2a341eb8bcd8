"""Context assembled within a budget, in a documented, deterministic order.

Priority, highest first:

1. the user's intent and the constraints in force (always included: without them an agent
   cannot tell what it is for; a budget too small for them is an error);
2. the artifacts the agent asked for by key, in the order it asked;
3. search hits for its query, best first.

Items are never truncated (a truncated number is a wrong number): an item that does not fit
the remaining budget is left out whole, named in ``dropped``, and the next one is tried. Size
is the UTF-8 length of each item's JSON; tokens are estimated as ``ceil(bytes / 4)``, the
usual rule of thumb for English text with BPE tokenizers, so a token budget is approximate
while a byte budget is exact.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from seamline.exceptions import ConfigurationError

__all__ = ["AssembledContext", "ContextItem", "assemble", "estimate_tokens"]


def estimate_tokens(size: int) -> int:
    """Tokens for ``size`` bytes of text, by the 4-bytes-per-token rule."""
    return math.ceil(size / 4)


@dataclass(frozen=True, slots=True)
class ContextItem:
    """One piece of context and why it is there."""

    source: str
    """``intent``, ``constraints``, ``key`` or ``search``."""
    name: str
    value: Any
    artifact_id: str | None = None

    @property
    def text(self) -> str:
        """The item as compact JSON, the form that is measured and handed over."""
        return json.dumps({self.name: self.value}, ensure_ascii=False, separators=(",", ":"))

    @property
    def size(self) -> int:
        """UTF-8 bytes of :attr:`text`."""
        return len(self.text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class AssembledContext:
    """What fit, in priority order, and what did not."""

    items: tuple[ContextItem, ...]
    size: int
    dropped: tuple[str, ...] = field(default=())

    @property
    def tokens(self) -> int:
        """Estimated tokens of everything included."""
        return estimate_tokens(self.size)

    def render(self) -> str:
        """The context as one JSON object per line, ready for a prompt."""
        return "\n".join(item.text for item in self.items)


def assemble(
    required: list[ContextItem],
    optional: list[ContextItem],
    *,
    max_bytes: int | None = None,
    max_tokens: int | None = None,
) -> AssembledContext:
    """Fit ``required`` then as much of ``optional`` as the budget allows, in order."""
    if max_bytes is not None and max_tokens is not None:
        raise ConfigurationError("give max_bytes or max_tokens, not both")
    budget = max_bytes if max_tokens is None else max_tokens * 4
    if budget is not None and budget < 1:
        raise ConfigurationError(f"a context budget must be positive, got {budget}")
    used = sum(item.size for item in required)
    if budget is not None and used > budget:
        raise ConfigurationError(
            f"the intent and constraints alone take {used} bytes, over the {budget}-byte "
            "budget; raise the budget"
        )
    chosen, dropped, seen = list(required), [], set()
    for item in optional:
        if item.name in seen:
            continue  # asked for by key and found again by search: once, newest first
        seen.add(item.name)
        if budget is not None and used + item.size > budget:
            dropped.append(item.name)
            continue
        chosen.append(item)
        used += item.size
    return AssembledContext(tuple(chosen), used, tuple(dropped))
