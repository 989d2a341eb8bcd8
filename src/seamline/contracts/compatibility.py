"""Schema compatibility between contract versions, in Confluent Schema Registry's terms.

BACKWARD means a reader on the new version reads data written with the old one; FORWARD
means a reader on the old version reads data written with the new one; FULL is both. The
``_TRANSITIVE`` modes check against every earlier version of the same major line instead
of only the previous one; NONE checks nothing.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Compatibility"]


class Compatibility(StrEnum):
    """How a contract may evolve between versions that share a major version."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"
