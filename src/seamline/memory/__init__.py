"""Queryable memory: exact artifacts agents look up, instead of summaries that drift.

Agents write artifacts through ``ctx.memory`` (a :class:`StepMemory`): each write is a new
immutable version carrying its producer, step, handoff and contract, and it is committed
with the step that wrote it, so a crashed step leaves none behind and a re-run writes them
once. Every read through ``ctx.memory`` is recorded (who, what, which ids came back, the
handoff and span), committed the same way, so "what did this agent see when it decided" has
an answer. :class:`Memory` is the operators' read side (CLI, API); its reads are not
attributed to an agent.

Search is lexical (the store's full-text index), semantic (an :class:`Embedder`; the default
:class:`HashingEmbedder` works offline with no model) or hybrid (reciprocal rank fusion).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from seamline.exceptions import NotFoundError
from seamline.memory.artifact import (
    MAX_ARTIFACT_BYTES,
    Artifact,
    ArtifactFilter,
    artifact_text,
    check_kind,
    encode_value,
)
from seamline.memory.artifact import check_key as _check_key
from seamline.memory.context import AssembledContext, ContextItem, assemble, estimate_tokens
from seamline.memory.embedder import Embedder, HashingEmbedder, SentenceEmbedder
from seamline.memory.search import Hit, Searcher, SearchMode
from seamline.memory.vectors import to_blob
from seamline.stores import ArtifactQuery, ArtifactRecord, ArtifactStore, ReadRecord
from seamline.tracing import record_returned, retrieval_span
from seamline.types import new_id, utcnow

if TYPE_CHECKING:
    from seamline.contracts import Envelope

__all__ = [
    "MAX_ARTIFACT_BYTES",
    "Artifact",
    "ArtifactFilter",
    "AssembledContext",
    "ContextItem",
    "Embedder",
    "HashingEmbedder",
    "Hit",
    "Memory",
    "SearchMode",
    "SentenceEmbedder",
    "StepMemory",
    "estimate_tokens",
]


class Memory:
    """Artifacts in a store, for reading outside any agent step."""

    def __init__(
        self, store: ArtifactStore, *, embedder: Embedder | None = None, tenant: str | None = None
    ) -> None:
        self.store = store
        self.embedder = embedder or HashingEmbedder()
        self.tenant = tenant
        """Artifacts written with ``shared=True`` are visible to every workflow of it."""
        self._searcher = Searcher(store, self.embedder)
        self._known: set[str] = set()

    def _workflow(self, correlation_id: str) -> None:
        # Workflows are never deleted, so one that existed once needs no second look.
        if correlation_id in self._known:
            return
        if self.store.get_workflow(correlation_id) is None:
            raise NotFoundError(
                f"no workflow {correlation_id!r} in the ledger, so no memory either; list "
                "workflows with `seamline workflows list`"
            )
        self._known.add(correlation_id)

    def get(self, correlation_id: str, key: str, *, version: int | None = None) -> Artifact:
        """The newest version of ``key`` (or ``version``)."""
        self._workflow(correlation_id)
        record = self.store.artifact(
            correlation_id, _check_key(key), version=version, tenant=self.tenant
        )
        if record is not None:
            return Artifact.of(record)
        which = f"version {version} of " if version is not None else ""
        raise NotFoundError(
            f"no {which}memory key {key!r} in workflow {correlation_id}; list the keys with "
            "`seamline memory list`"
        )

    def list(
        self, correlation_id: str, where: ArtifactFilter | dict[str, Any] | None = None
    ) -> builtins.list[Artifact]:
        """Artifacts matching ``where``, newest first."""
        self._workflow(correlation_id)
        spec = ArtifactFilter.parse(where or {})
        query = ArtifactQuery(
            correlation_id,
            self.tenant,
            key=_check_key(spec.key) if spec.key is not None else None,
            kind=spec.kind,
            producer=spec.producer,
            step=spec.step,
            since=spec.since,
            until=spec.until,
            fields=tuple(spec.where.items()),
            latest=not spec.all_versions,
            limit=spec.limit,
        )
        return [Artifact.of(record) for record in self.store.artifacts(query)]

    def search(
        self,
        correlation_id: str,
        text: str,
        *,
        mode: SearchMode | str = SearchMode.HYBRID,
        limit: int = 10,
    ) -> builtins.list[Hit]:
        """The best artifacts for ``text``: lexical, semantic or both fused."""
        self._workflow(correlation_id)
        return self._searcher.search(
            correlation_id, self.tenant, text, mode=SearchMode(mode), limit=limit
        )

    def reads(self, correlation_id: str, *, agent: str | None = None) -> builtins.list[ReadRecord]:
        """Who read what in this workflow, in order."""
        self._workflow(correlation_id)
        return self.store.reads(correlation_id, agent=agent)

    def step(self, envelope: Envelope, agent: str, agent_version: str) -> StepMemory:
        """The handle one agent step uses: attributed writes, audited reads."""
        return StepMemory(self, envelope, agent, agent_version)


class StepMemory:
    """``ctx.memory``: one agent step's view of its workflow's memory.

    Writes and the read audit are buffered and committed with the step (the runtime drains
    them into the step's ledger commit). :meth:`get` sees this step's own writes at once;
    :meth:`list` and :meth:`search` see what earlier steps committed.
    """

    def __init__(self, memory: Memory, envelope: Envelope, agent: str, agent_version: str) -> None:
        self._memory = memory
        self._envelope = envelope
        self._agent = agent
        self._agent_version = agent_version
        self._writes: builtins.list[ArtifactRecord] = []
        self._reads: builtins.list[ReadRecord] = []

    @property
    def correlation_id(self) -> str:
        """The workflow this memory belongs to."""
        return self._envelope.correlation_id

    def put(self, key: str, value: Any, *, kind: str = "fact", shared: bool = False) -> Artifact:
        """Remember ``value`` under ``key`` as a new version (earlier ones stay readable)."""
        _check_key(key)
        check_kind(kind)
        text = encode_value(key, value)
        store = self._memory.store
        version = store.next_version(self.correlation_id, key) + sum(
            1 for w in self._writes if w.key == key
        )
        searchable = artifact_text(key, json.loads(text))
        embedder = self._memory.embedder
        record = ArtifactRecord(
            id=new_id(),
            correlation_id=self.correlation_id,
            tenant=self._memory.tenant if shared else None,
            key=key,
            version=version,
            kind=kind,
            value=text,
            text=searchable,
            producer=self._agent,
            producer_version=self._agent_version,
            step=self._envelope.hop,
            handoff_id=self._envelope.handoff_id,
            contract=str(self._envelope.contract),
            created_at=utcnow(),
            embedder=embedder.name,
            vector=to_blob(embedder.embed([searchable])[0]),
        )
        self._writes.append(record)
        return Artifact.of(record)

    def get(self, key: str, *, version: int | None = None) -> Artifact:
        """The newest version of ``key`` (this step's own writes included), or ``version``."""
        _check_key(key)
        with self._reading("get", {"key": key, "version": version}) as returned:
            mine = [w for w in self._writes if w.key == key and version in (None, w.version)]
            found = (
                Artifact.of(mine[-1])
                if mine
                else self._memory.get(self.correlation_id, key, version=version)
            )
            returned.append(found.id)
        return found

    def list(self, where: ArtifactFilter | dict[str, Any] | None = None) -> builtins.list[Artifact]:
        """Committed artifacts matching ``where``, newest first."""
        spec = ArtifactFilter.parse(where or {})
        with self._reading("list", spec.model_dump(mode="json", exclude_defaults=True)) as ids:
            found = self._memory.list(self.correlation_id, spec)
            ids.extend(artifact.id for artifact in found)
        return found

    def search(
        self, text: str, *, mode: SearchMode | str = SearchMode.HYBRID, limit: int = 10
    ) -> builtins.list[Hit]:
        """Committed artifacts best matching ``text``."""
        query = {"text": text, "mode": str(SearchMode(mode)), "limit": limit}
        with self._reading("search", query) as returned:
            hits = self._memory.search(self.correlation_id, text, mode=mode, limit=limit)
            returned.extend(hit.artifact.id for hit in hits)
        return hits

    def context(
        self,
        *,
        keys: Sequence[str] = (),
        query: str | None = None,
        limit: int = 5,
        max_bytes: int | None = None,
        max_tokens: int | None = None,
    ) -> AssembledContext:
        """Intent and constraints, then ``keys``, then search hits for ``query``, in budget.

        The order and the rule for what is left out are documented in
        :mod:`seamline.memory.context`.
        """
        request = {
            "keys": list(keys),
            "query": query,
            "max_bytes": max_bytes,
            "max_tokens": max_tokens,
        }
        with self._reading("context", request) as returned:
            assembled = self._assemble(keys, query, limit, max_bytes, max_tokens)
            returned.extend(item.artifact_id for item in assembled.items if item.artifact_id)
        return assembled

    def _assemble(
        self,
        keys: Sequence[str],
        query: str | None,
        limit: int,
        max_bytes: int | None,
        max_tokens: int | None,
    ) -> AssembledContext:
        envelope = self._envelope
        required = [
            ContextItem("intent", "intent", envelope.intent.text),
            ContextItem("constraints", "constraints", envelope.constraints.model_dump(mode="json")),
        ]
        optional: builtins.list[ContextItem] = []
        for key in keys:
            try:
                artifact = self._memory.get(self.correlation_id, key)
            except NotFoundError:
                continue  # a key nobody wrote yet is simply absent from the context
            optional.append(ContextItem("key", artifact.key, artifact.value, artifact.id))
        if query:
            for hit in self._memory.search(self.correlation_id, query, limit=limit):
                artifact = hit.artifact
                optional.append(ContextItem("search", artifact.key, artifact.value, artifact.id))
        return assemble(required, optional, max_bytes=max_bytes, max_tokens=max_tokens)

    def abandon(self) -> None:
        """Drop the writes of an attempt that failed or was rejected; keep the read audit.

        A step's artifacts become memory only when the step ends with an accepted outcome,
        so later agents never build on a result its own contract refused; what the failed
        attempt read stays on record, because it explains what went wrong.
        """
        self._writes = []

    def drain(self) -> tuple[builtins.list[ArtifactRecord], builtins.list[ReadRecord]]:
        """Hand the buffered writes and reads to the commit that records the step."""
        writes, reads = self._writes, self._reads
        self._writes, self._reads = [], []
        return writes, reads

    @contextmanager
    def _reading(self, operation: str, query: dict[str, Any]) -> Iterator[builtins.list[str]]:
        """A retrieval span around one read, and its audit row, even when the read fails."""
        returned: builtins.list[str] = []
        with retrieval_span(operation, self.correlation_id) as span:
            try:
                yield returned
            finally:
                record_returned(span, len(returned))
                self._audit(operation, query, returned)

    def _audit(self, operation: str, query: dict[str, Any], returned: builtins.list[str]) -> None:
        span = trace.get_current_span().get_span_context()
        self._reads.append(
            ReadRecord(
                id=new_id(),
                correlation_id=self.correlation_id,
                handoff_id=self._envelope.handoff_id,
                agent=self._agent,
                agent_version=self._agent_version,
                operation=operation,
                query=json.dumps(query, sort_keys=True, default=str),
                returned=json.dumps(returned),
                at=utcnow(),
                trace_id=f"{span.trace_id:032x}" if span.is_valid else None,
                span_id=f"{span.span_id:016x}" if span.is_valid else None,
            )
        )
