"""The envelope: everything that travels across a seam, typed.

Prose is what goes wrong between agents, so nothing here is prose that a receiver must
interpret: task progress is an enum per step, the user's intent is carried verbatim with a
hash, tool outputs keep MCP's ``CallToolResult`` shape, and constraints can only tighten.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from seamline.contracts.masking import mask_payload
from seamline.exceptions import Issue

__all__ = [
    "EXTERNAL",
    "AgentRef",
    "AudioContent",
    "Budget",
    "Constraints",
    "ContentBlock",
    "ContractRef",
    "EmbeddedResource",
    "Envelope",
    "ImageContent",
    "Intent",
    "ResourceLink",
    "TaskItem",
    "TaskState",
    "TextContent",
    "ToolOutput",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class TaskState(StrEnum):
    """Where one step of the task stands. Receivers branch on this, never on prose."""

    COMPLETED = "completed"
    IN_PROGRESS = "in_progress"
    SKIPPED = "skipped"
    DEFERRED = "deferred"


class TaskItem(BaseModel):
    """One named step of the overall task and its state."""

    model_config = _FROZEN
    name: str = Field(min_length=1)
    state: TaskState
    note: str | None = None
    """Optional detail for humans; routing never reads it."""


class AgentRef(BaseModel):
    """An agent addressed by name and version."""

    model_config = _FROZEN
    name: str = Field(min_length=1)
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


EXTERNAL = AgentRef(name="external", version="0.0.0")
"""The source of a workflow's first handoff: whoever called the runtime."""


class ContractRef(BaseModel):
    """A contract addressed by name and version."""

    model_config = _FROZEN
    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def intent_hash(text: str) -> str:
    """SHA-256 of the intent's UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Intent(BaseModel):
    """What the user asked for, verbatim, with a hash that proves it was not rewritten."""

    model_config = _FROZEN
    text: str
    sha256: str

    @classmethod
    def of(cls, text: str) -> Intent:
        """Capture ``text`` verbatim."""
        return cls(text=text, sha256=intent_hash(text))


_BLOCK = ConfigDict(frozen=True, extra="allow")
"""Content blocks keep MCP's optional fields (``annotations``, ``_meta``, a resource link's
``title`` or ``size``) as they came, so a tool's output travels intact."""


class TextContent(BaseModel):
    """MCP text content block."""

    model_config = _BLOCK
    type: Literal["text"] = "text"
    text: str


class ImageContent(BaseModel):
    """MCP image content block (base64 data)."""

    model_config = _BLOCK
    type: Literal["image"] = "image"
    data: str
    mimeType: str  # MCP's wire name, so outputs round-trip untouched


class AudioContent(BaseModel):
    """MCP audio content block (base64 data)."""

    model_config = _BLOCK
    type: Literal["audio"] = "audio"
    data: str
    mimeType: str  # MCP's wire name


class ResourceLink(BaseModel):
    """MCP resource link content block."""

    model_config = _BLOCK
    type: Literal["resource_link"] = "resource_link"
    uri: str
    name: str


class EmbeddedResource(BaseModel):
    """MCP embedded resource content block."""

    model_config = _BLOCK
    type: Literal["resource"] = "resource"
    resource: dict[str, Any]


ContentBlock = Annotated[
    TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource,
    Field(discriminator="type"),
]


class ToolOutput(BaseModel):
    """A tool call's result in MCP ``CallToolResult`` shape, plus which tool produced it."""

    model_config = ConfigDict(frozen=True)
    tool: str
    call_id: str | None = None
    content: tuple[ContentBlock, ...] = ()
    structuredContent: dict[str, Any] | list[Any] | str | int | float | bool | None = None
    """MCP's wire name. A JSON object, or since MCP 2026-07-28 any JSON value."""
    isError: bool = False  # MCP's wire name


class Budget(BaseModel):
    """A spending cap in one unit (a currency code or ``tokens``)."""

    model_config = _FROZEN
    limit: Decimal = Field(ge=0)
    unit: str = "USD"


class Constraints(BaseModel):
    """Limits that bind every downstream agent. They may tighten along a chain, never loosen."""

    model_config = _FROZEN
    budget: Budget | None = None
    deadline: datetime | None = None
    """Timezone-aware; work not done by then must not be started."""
    permissions: frozenset[str] | None = None
    """What downstream agents may do; ``None`` means unrestricted, a set can only shrink."""
    compliance: frozenset[str] = frozenset()
    """Compliance tags (e.g. ``pci``, ``gdpr``); tags can be added, never removed."""

    @model_validator(mode="after")
    def _deadline_is_aware(self) -> Self:
        if self.deadline is not None and self.deadline.tzinfo is None:
            raise ValueError("deadline must be timezone-aware, e.g. 2026-01-01T12:00:00+00:00")
        return self

    def loosened_from(self, previous: Constraints) -> list[Issue]:
        """Every way this set is looser than ``previous``; empty when it only tightens."""
        issues: list[Issue] = []
        if previous.budget is not None:
            if self.budget is None:
                issues.append(_loose("budget", "budget was dropped", "constraint_dropped"))
            elif self.budget.unit != previous.budget.unit:
                issues.append(
                    _loose(
                        "budget.unit",
                        f"budget unit changed from {previous.budget.unit} to {self.budget.unit}",
                        "constraint_loosened",
                    )
                )
            elif self.budget.limit > previous.budget.limit:
                issues.append(
                    _loose(
                        "budget.limit",
                        f"budget raised from {previous.budget.limit} to {self.budget.limit}",
                        "constraint_loosened",
                    )
                )
        if previous.deadline is not None:
            if self.deadline is None:
                issues.append(_loose("deadline", "deadline was dropped", "constraint_dropped"))
            elif self.deadline > previous.deadline:
                issues.append(
                    _loose(
                        "deadline",
                        f"deadline moved later, from {previous.deadline.isoformat()} "
                        f"to {self.deadline.isoformat()}",
                        "constraint_loosened",
                    )
                )
        if previous.permissions is not None:
            if self.permissions is None:
                issues.append(
                    _loose("permissions", "permission limits were dropped", "constraint_dropped")
                )
            elif added := self.permissions - previous.permissions:
                issues.append(
                    _loose(
                        "permissions",
                        f"permissions added: {', '.join(sorted(added))}",
                        "constraint_loosened",
                    )
                )
        if dropped := previous.compliance - self.compliance:
            issues.append(
                _loose(
                    "compliance",
                    f"compliance tags dropped: {', '.join(sorted(dropped))}",
                    "constraint_dropped",
                )
            )
        return issues


def _loose(path: str, message: str, code: str) -> Issue:
    return Issue(
        path=f"constraints.{path}",
        message=f"{message}; downstream agents may tighten constraints, never loosen or drop them",
        code=code,
    )


class Envelope(BaseModel):
    """What travels at every handoff. ``handoff_id`` is the idempotency key."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    handoff_id: str
    correlation_id: str
    """The workflow this handoff belongs to."""
    parent_id: str | None = None
    """The handoff whose receiver produced this one."""
    source: AgentRef
    destination: AgentRef
    contract: ContractRef
    sensitive: tuple[str, ...] = ()
    """Payload fields (and tracked facts) to mask outside the receiver and its fallback.

    Set by the runtime from the contract the envelope is validated against, plus sensitive
    facts carried from earlier hops, so views mask without a registry. An envelope recorded
    before this field existed reads as nothing sensitive.
    """
    tasks: tuple[TaskItem, ...] = ()
    intent: Intent
    tool_outputs: tuple[ToolOutput, ...] = ()
    constraints: Constraints = Constraints()
    facts: dict[str, Any] = Field(default_factory=dict)
    """Tracked facts seen so far in the workflow, exactly as first stated."""
    fallback_owner: str | None = None
    hop: int = Field(ge=0)
    created_at: datetime
    payload: dict[str, Any]

    def masked(self) -> Envelope:
        """A copy fit for people and logs: sensitive payload values and facts read ``MASK``.

        The receiver's own ``ctx.envelope`` stays unmasked; this one is for every other view.
        """
        if not self.sensitive:
            return self
        return self.model_copy(
            update={
                "payload": mask_payload(self.payload, self.sensitive),
                "facts": mask_payload(self.facts, self.sensitive),
            }
        )
