"""An in-process Store for tests and throwaway runs; same contract as the SQLite store."""

from __future__ import annotations

import dataclasses
import threading

from seamline.exceptions import ConflictError, StoreError
from seamline.stores.base import (
    Commit,
    DeadLetterRecord,
    DeadLetterStatus,
    Entry,
    WorkflowRecord,
    WorkflowStatus,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps the ledger in dicts and lists; nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workflows: dict[str, WorkflowRecord] = {}
        self._log: dict[str, list[Entry]] = {}
        self._keys: set[tuple[str, int]] = set()
        self._dead_letters: dict[str, DeadLetterRecord] = {}

    def apply(self, commit: Commit) -> None:
        """Check every guard first, then apply: all or nothing."""
        with self._lock:
            keys = {(e.correlation_id, e.seq) for e in commit.entries}
            if len(keys) != len(commit.entries) or keys & self._keys:
                raise ConflictError(
                    "another writer already recorded this step; nothing was written. "
                    "Reload the workflow and retry"
                )
            letters = {d.id for d in commit.dead_letters}
            if len(letters) != len(commit.dead_letters) or letters & self._dead_letters.keys():
                raise ConflictError("a dead letter id is already recorded; nothing was written")
            # Updates apply after inserts and in order, as in one SQL transaction.
            statuses = {d.id: d.status for d in commit.dead_letters}
            for u in commit.dead_letter_updates:
                letter = self._dead_letters.get(u.id)
                status = statuses.get(u.id, letter.status if letter else None)
                if status != DeadLetterStatus.OPEN:
                    raise ConflictError(
                        f"dead letter {u.id} is no longer open; it was already resolved. "
                        "Nothing was written"
                    )
                statuses[u.id] = u.status
            if (w := commit.workflow) is not None:
                old = self._workflows.get(w.id)
                self._workflows[w.id] = (
                    w
                    if old is None
                    else dataclasses.replace(
                        old,
                        status=w.status,
                        max_hops=w.max_hops,
                        result=w.result,
                        updated_at=w.updated_at,
                    )
                )
            for e in commit.entries:
                self._log.setdefault(e.correlation_id, []).append(e)
            self._keys |= keys
            for d in commit.dead_letters:
                self._dead_letters[d.id] = d
            for u in commit.dead_letter_updates:
                self._dead_letters[u.id] = dataclasses.replace(
                    self._dead_letters[u.id],
                    status=u.status,
                    resolved_at=u.at,
                    resolution=u.resolution,
                )

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        """One workflow, or None."""
        return self._workflows.get(workflow_id)

    def list_workflows(
        self, *, status: WorkflowStatus | None = None, limit: int = 100
    ) -> list[WorkflowRecord]:
        """Workflows, newest first."""
        rows = [w for w in self._workflows.values() if status is None or w.status == status]
        rows.sort(key=lambda w: w.id, reverse=True)
        return rows[:limit]

    def entries(
        self, *, correlation_id: str | None = None, handoff_id: str | None = None
    ) -> list[Entry]:
        """Ledger rows of one workflow or one handoff, in log order."""
        if correlation_id is not None:
            return sorted(self._log.get(correlation_id, []), key=lambda e: e.seq)
        if handoff_id is not None:
            found = [e for log in self._log.values() for e in log if e.handoff_id == handoff_id]
            return sorted(found, key=lambda e: e.seq)
        raise StoreError("entries() needs correlation_id or handoff_id")

    def get_dead_letter(self, dead_letter_id: str) -> DeadLetterRecord | None:
        """One dead letter, or None."""
        return self._dead_letters.get(dead_letter_id)

    def list_dead_letters(
        self, *, status: DeadLetterStatus | None = None, limit: int = 100
    ) -> list[DeadLetterRecord]:
        """Dead letters, newest first."""
        rows = [d for d in self._dead_letters.values() if status is None or d.status == status]
        rows.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return rows[:limit]

    def close(self) -> None:
        """Nothing to release."""
