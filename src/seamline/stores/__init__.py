"""Where the ledger lives: the Store protocol; SQLite (default), in-memory and PostgreSQL.

:class:`PostgresStore` is exported lazily: naming it imports psycopg, which comes with the
``postgres`` extra, so a core install never loads it.
"""

from typing import TYPE_CHECKING, Any

from seamline.stores.base import (
    AccessStore,
    ArtifactQuery,
    ArtifactRecord,
    ArtifactStore,
    AuditRecord,
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    DeadLetterUpdate,
    Entry,
    Lease,
    ReadRecord,
    Store,
    TermMatch,
    TokenRecord,
    WorkflowRecord,
    WorkflowStatus,
    WorkQueue,
)
from seamline.stores.memory import MemoryStore
from seamline.stores.sqlite import SqliteStore
from seamline.stores.target import open_store

if TYPE_CHECKING:
    from seamline.stores.postgres import PostgresStore

__all__ = [
    "AccessStore",
    "ArtifactQuery",
    "ArtifactRecord",
    "ArtifactStore",
    "AuditRecord",
    "Commit",
    "DeadLetterRecord",
    "DeadLetterStatus",
    "DeadLetterUpdate",
    "Entry",
    "Lease",
    "MemoryStore",
    "PostgresStore",
    "ReadRecord",
    "SqliteStore",
    "Store",
    "TermMatch",
    "TokenRecord",
    "WorkQueue",
    "WorkflowRecord",
    "WorkflowStatus",
    "open_store",
]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from seamline.stores.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
