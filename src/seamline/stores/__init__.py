"""Where the ledger lives: the Store protocol, SQLite (default) and in-memory backends."""

from seamline.stores.base import (
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    DeadLetterUpdate,
    Entry,
    Store,
    WorkflowRecord,
    WorkflowStatus,
)
from seamline.stores.memory import MemoryStore
from seamline.stores.sqlite import SqliteStore

__all__ = [
    "Commit",
    "DeadLetterRecord",
    "DeadLetterStatus",
    "DeadLetterUpdate",
    "Entry",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "WorkflowRecord",
    "WorkflowStatus",
]
