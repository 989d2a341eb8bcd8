"""Contracts and envelopes: the schema-first layer. No I/O, nothing above it imported."""

from seamline.contracts.compatibility import Compatibility
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
from seamline.contracts.migration import Migration, MigrationGraph, MigrationPath, migration
from seamline.contracts.validation import Accepted, check_handoff, deprecation, retirement, upcast
from seamline.contracts.version import Version, VersionRange

__all__ = [
    "EXTERNAL",
    "Accepted",
    "AgentRef",
    "AudioContent",
    "Budget",
    "Compatibility",
    "Constraints",
    "ContentBlock",
    "Contract",
    "ContractRef",
    "EmbeddedResource",
    "Envelope",
    "FailurePolicy",
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
    "check_handoff",
    "deprecation",
    "migration",
    "retirement",
    "upcast",
]
