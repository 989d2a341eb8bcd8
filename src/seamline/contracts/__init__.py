"""Contracts and envelopes: the schema-first layer. No I/O, nothing above it imported."""

from seamline.contracts.compatibility import (
    Compatibility,
    CompatibilityReport,
    Finding,
    Violation,
    check_compatibility,
    compare,
)
from seamline.contracts.contract import Contract, FailurePolicy, Lifecycle
from seamline.contracts.envelope import (
    EXTERNAL,
    AgentRef,
    AudioContent,
    Budget,
    Constraints,
    ContentBlock,
    ContractRef,
    EmbeddedResource,
    Envelope,
    ImageContent,
    Intent,
    ResourceLink,
    TaskItem,
    TaskState,
    TextContent,
    ToolOutput,
)
from seamline.contracts.gate import Gate
from seamline.contracts.masking import MASK, mask_payload, redact
from seamline.contracts.migration import Migration, MigrationGraph, MigrationPath, migration
from seamline.contracts.validation import Accepted, check_handoff, deprecation, retirement, upcast
from seamline.contracts.version import Version, VersionRange

__all__ = [
    "EXTERNAL",
    "MASK",
    "Accepted",
    "AgentRef",
    "AudioContent",
    "Budget",
    "Compatibility",
    "CompatibilityReport",
    "Constraints",
    "ContentBlock",
    "Contract",
    "ContractRef",
    "EmbeddedResource",
    "Envelope",
    "FailurePolicy",
    "Finding",
    "Gate",
    "ImageContent",
    "Intent",
    "Lifecycle",
    "Migration",
    "MigrationGraph",
    "MigrationPath",
    "ResourceLink",
    "TaskItem",
    "TaskState",
    "TextContent",
    "ToolOutput",
    "Version",
    "VersionRange",
    "Violation",
    "check_compatibility",
    "check_handoff",
    "compare",
    "deprecation",
    "mask_payload",
    "migration",
    "redact",
    "retirement",
    "upcast",
]
