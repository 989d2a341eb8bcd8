"""Where the ledger lives: the Store protocol, SQLite (default) and in-memory backends."""

from seamline.stores.base import (
    ArtifactQuery,
    ArtifactRecord,
    ArtifactStore,
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    DeadLetterUpdate,
    Entry,
    ReadRecord,
    Store,
    TermMatch,
    WorkflowRecord,
    WorkflowStatus,
)
from seamline.stores.memory import MemoryStore
from seamline.stores.sqlite import SqliteStore

__all__ = [
    "ArtifactQuery",
    "ArtifactRecord",
    "ArtifactStore",
    "Commit",
    "DeadLetterRecord",
    "DeadLetterStatus",
    "DeadLetterUpdate",
    "Entry",
    "MemoryStore",
    "ReadRecord",
    "SqliteStore",
    "Store",
    "TermMatch",
    "WorkflowRecord",
    "WorkflowStatus",
]
