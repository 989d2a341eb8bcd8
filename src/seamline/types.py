"""Shared aliases and small helpers every layer may use."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from random import getrandbits
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

__all__ = ["jsonable", "new_id", "utcnow"]


def new_id() -> str:
    """A UUIDv7 string: time-ordered, so ledger indexes stay append-friendly.

    The random bits come from ``random`` (reseeded from the OS at start and after fork):
    ids must be unique, not secret, and this is on every handoff's hot path.
    """
    millis = time.time_ns() // 1_000_000
    rand = getrandbits(74)
    text = f"{millis & _MILLIS:012x}7{(rand >> 62):03x}{_VARIANT | (rand & _LOW):016x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_MILLIS = (1 << 48) - 1
_LOW = (1 << 62) - 1
_VARIANT = 0b10 << 62


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def jsonable(value: Any) -> Any:
    """A pydantic model or plain value as JSON-compatible Python (ValueError if it is not)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        return to_jsonable_python(value)
    except Exception as error:  # pydantic_core raises a plain PydanticSerializationError
        raise ValueError(str(error)) from None
