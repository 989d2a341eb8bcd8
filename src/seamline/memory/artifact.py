"""Artifacts and the filters that find them: what agents remember instead of summaries.

An artifact is a value an agent wants later steps to be able to look up exactly: a tool's
output, a decision and its reasons, a keyed fact. It is never overwritten: writing a key
again adds a version, and each version says who wrote it, at which step, under which
handoff and contract.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from seamline.exceptions import ConfigurationError
from seamline.stores import ArtifactRecord
from seamline.types import jsonable

__all__ = ["MAX_ARTIFACT_BYTES", "Artifact", "ArtifactFilter", "artifact_text", "encode_value"]

MAX_ARTIFACT_BYTES = 256 * 1024
"""The largest value (as UTF-8 JSON) one artifact may hold: memory is for facts and tool
results, not documents; store a document elsewhere and keep its reference here."""

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$")
_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

Scalar = str | int | float | bool | None


class Artifact(BaseModel):
    """One version of one remembered value, with its provenance."""

    model_config = ConfigDict(frozen=True)
    id: str
    correlation_id: str
    tenant: str | None
    key: str
    version: int
    kind: str
    value: Any
    producer: str
    producer_version: str
    step: int
    handoff_id: str
    contract: str
    created_at: datetime

    @classmethod
    def of(cls, record: ArtifactRecord) -> Artifact:
        """Decode a stored row (trusted: the store only holds what put() validated)."""
        return cls.model_construct(
            id=record.id,
            correlation_id=record.correlation_id,
            tenant=record.tenant,
            key=record.key,
            version=record.version,
            kind=record.kind,
            value=json.loads(record.value),
            producer=record.producer,
            producer_version=record.producer_version,
            step=record.step,
            handoff_id=record.handoff_id,
            contract=record.contract,
            created_at=record.created_at,
        )

    @property
    def ref(self) -> str:
        """``key@version``."""
        return f"{self.key}@{self.version}"


class ArtifactFilter(BaseModel):
    """Structured filters; every field optional, all given ones must match.

    ``where`` compares JSON values inside the artifact's value by dotted path, e.g.
    ``{"order.status": "delivered"}``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str | None = None
    kind: str | None = None
    producer: str | None = None
    step: int | None = Field(default=None, ge=0)
    since: datetime | None = None
    until: datetime | None = None
    where: dict[str, Scalar] = Field(default_factory=dict)
    all_versions: bool = False
    """Every version of each key instead of only the newest."""
    limit: int = Field(default=100, ge=1, le=1000)

    @field_validator("where")
    @classmethod
    def _paths(cls, where: dict[str, Scalar]) -> dict[str, Scalar]:
        for path in where:
            if not _PATH.match(path):
                raise ValueError(
                    f"{path!r} is not a field path; use dotted names like 'order.status'"
                )
        return where

    @classmethod
    def parse(cls, data: Any) -> ArtifactFilter:
        """Validate a filter from untrusted input (the CLI, an API), one clear error."""
        if isinstance(data, ArtifactFilter):
            return data
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "filter"
            raise ConfigurationError(
                f"bad memory filter: {where}: {first['msg']}; fields are key, kind, producer, "
                "step, since, until, where, all_versions, limit"
            ) from None


def check_key(key: str) -> str:
    """Refuse keys that would not read well in audits and CLIs."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise ConfigurationError(
            f"memory key {key!r} is invalid; use 1-200 letters, digits and . _ : / - "
            "starting with a letter or digit (e.g. 'order' or 'orders/ORD-1001')"
        )
    return key


def check_kind(kind: str) -> str:
    """Kinds are short lowercase words so filters on them stay predictable."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ConfigurationError(
            f"artifact kind {kind!r} is invalid; use a short lowercase word such as "
            "'fact', 'tool_output' or 'decision'"
        )
    return kind


def encode_value(key: str, value: Any) -> str:
    """The value as JSON text, refusing what cannot be stored exactly."""
    try:
        text = json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(
            f"memory value for {key!r} is not JSON ({error}); store plain data or a pydantic model"
        ) from None
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"memory value for {key!r} holds invalid UTF-8 (a lone surrogate); "
            "decode the source text properly before storing it"
        ) from None
    if size > MAX_ARTIFACT_BYTES:
        raise ConfigurationError(
            f"memory value for {key!r} is {size:,} bytes, over the {MAX_ARTIFACT_BYTES:,}-byte "
            "limit; store large documents elsewhere and remember their reference"
        )
    return text


def artifact_text(key: str, value: Any) -> str:
    """What search indexes: the key and every string and number in the value."""
    parts = [key.replace("_", " ").replace(".", " ")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                parts.append(str(name).replace("_", " "))
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif node is not None and not isinstance(node, bool):
            parts.append(str(node))

    walk(value)
    return " ".join(parts)
