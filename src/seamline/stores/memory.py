"""An in-process Store for tests and throwaway runs: SQLite in memory, nothing on disk.

The same engine as the file store, so memory search (FTS5) and every constraint behave
the same; nothing survives the process.
"""

from __future__ import annotations

from seamline.stores.sqlite import SqliteStore

__all__ = ["MemoryStore"]


class MemoryStore(SqliteStore):
    """A SqliteStore on ``":memory:"``."""

    def __init__(self) -> None:
        super().__init__(":memory:")
