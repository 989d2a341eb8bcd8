"""The worker chain with a gate on its a0 -> a1 edge."""

from __future__ import annotations

from chain_fixtures import ORDER, chain

from seamline import Registry
from seamline.contracts import Gate


def registry() -> Registry:
    """a0 -> a1 -> a2, the first transition waiting for a person."""
    return Registry(agents=chain(3), contracts=[ORDER], gates={("a0", "a1"): Gate()})
