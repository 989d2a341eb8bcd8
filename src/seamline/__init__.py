"""seamline: reliable handoffs between AI agents.

Contracts owned by receivers, validated at every seam; a durable, idempotent ledger of every
handoff; failure policies that end in a dead-letter queue instead of silent corruption.
"""

from importlib.metadata import version as _version

from seamline.agents import Agent, AgentCard, Context, Escalate, Finish, HandOff, Outcome, agent
from seamline.contracts import (
    AgentRef,
    Budget,
    Compatibility,
    Constraints,
    Contract,
    ContractRef,
    Envelope,
    FailurePolicy,
    Intent,
    Migration,
    TaskItem,
    TaskState,
    TextContent,
    ToolOutput,
    Version,
    VersionRange,
    migration,
)
from seamline.exceptions import (
    AgentError,
    ConfigurationError,
    ConflictError,
    ContractDeprecationWarning,
    ContractError,
    HandoffError,
    HandoffValidationError,
    Issue,
    MissingExtraError,
    NotFoundError,
    RegistryError,
    SeamlineError,
    StoreCorruptError,
    StoreError,
    TransientError,
    VersionError,
)
from seamline.registry import Registry, RejectedHandoff
from seamline.runtime import RunResult, Runtime
from seamline.stores import MemoryStore, SqliteStore, Store

__version__ = _version("seamline")

__all__ = [
    "Agent",
    "AgentCard",
    "AgentError",
    "AgentRef",
    "Budget",
    "Compatibility",
    "ConfigurationError",
    "ConflictError",
    "Constraints",
    "Context",
    "Contract",
    "ContractDeprecationWarning",
    "ContractError",
    "ContractRef",
    "Envelope",
    "Escalate",
    "FailurePolicy",
    "Finish",
    "HandOff",
    "HandoffError",
    "HandoffValidationError",
    "Intent",
    "Issue",
    "MemoryStore",
    "Migration",
    "MissingExtraError",
    "NotFoundError",
    "Outcome",
    "Registry",
    "RegistryError",
    "RejectedHandoff",
    "RunResult",
    "Runtime",
    "SeamlineError",
    "SqliteStore",
    "Store",
    "StoreCorruptError",
    "StoreError",
    "TaskItem",
    "TaskState",
    "TextContent",
    "ToolOutput",
    "TransientError",
    "Version",
    "VersionError",
    "VersionRange",
    "__version__",
    "agent",
    "migration",
]
