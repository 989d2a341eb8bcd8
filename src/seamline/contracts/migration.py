"""Migrations: how a payload written under an older contract version reaches a newer reader.

A sender on ``refund.request@1.2.0`` and a receiver that accepts ``^2`` can still talk when
the contract's owner declares an upcast from 1.2.0 to 2.0.0. Migrations compose: declared
steps 1 -> 2 and 2 -> 3 carry a v1 payload to a v3 reader. They only go up, so the graph has
no cycles; a missing step is reported when the registry is built, naming the gap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from seamline.contracts.version import Version, VersionRange
from seamline.exceptions import ContractError

__all__ = ["Migration", "MigrationGraph", "MigrationPath", "migration"]

Upcast = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Migration:
    """One declared step: a payload of ``contract@source`` rewritten for ``contract@target``."""

    contract: str
    source: Version
    target: Version
    fn: Upcast
    description: str = ""

    def __post_init__(self) -> None:
        if self.target <= self.source:
            raise ContractError(
                f"migration {self.label} does not go up; migrations only upcast older "
                "payloads to newer versions (a newer sender emits the older version instead)"
            )

    @property
    def label(self) -> str:
        """``name source -> target``."""
        return f"{self.contract} {self.source} -> {self.target}"


def migration(
    contract: str, source: str, target: str, *, description: str = ""
) -> Callable[[Upcast], Migration]:
    """Declare an upcast function.

    Example:
        ```python
        @migration("refund.request", "1.2.0", "2.0.0")
        def split_amount(payload: dict[str, Any]) -> dict[str, Any]:
            return {**payload, "amount": {"value": payload["amount"], "currency": "USD"}}
        ```
    """

    def bind(fn: Upcast) -> Migration:
        if not callable(fn):
            raise ContractError(f"migration {contract} must decorate a callable, got {fn!r}")
        lines = (fn.__doc__ or "").strip().splitlines()
        summary = description or (lines[0] if lines else "")
        return Migration(contract, Version.parse(source), Version.parse(target), fn, summary)

    return bind


@dataclass(frozen=True, slots=True)
class MigrationPath:
    """The composed steps from an emitted version to the version a receiver reads."""

    contract: str
    source: Version
    target: Version
    steps: tuple[Migration, ...]

    def apply(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Run every step in order; each must return a JSON object for the next."""
        current = dict(payload)
        for step in self.steps:
            result = step.fn(dict(current))
            if not isinstance(result, dict):
                raise ContractError(
                    f"migration {step.label} returned {type(result).__name__}; "
                    "an upcast must return the new payload as a dict"
                )
            current = result
        return current

    def describe(self) -> list[str]:
        """Each step's label, for the ledger and the CLI."""
        return [step.label for step in self.steps]


class MigrationGraph:
    """The declared migrations of every contract, indexed for path finding."""

    def __init__(self, migrations: Iterable[Migration] = ()) -> None:
        self._steps: dict[str, dict[Version, dict[Version, Migration]]] = {}
        for one in migrations:
            self.add(one)

    def add(self, step: Migration) -> None:
        """Register one step; two different functions for the same step are refused."""
        targets = self._steps.setdefault(step.contract, {}).setdefault(step.source, {})
        existing = targets.get(step.target)
        if existing is not None and existing.fn is not step.fn:
            raise ContractError(
                f"migration {step.label} is declared twice; keep one function per step"
            )
        targets[step.target] = step

    def __iter__(self) -> Iterator[Migration]:
        for by_source in self._steps.values():
            for targets in by_source.values():
                yield from targets.values()

    def path(
        self,
        contract: str,
        source: Version,
        accepted: VersionRange,
        versions: Iterable[Version],
    ) -> MigrationPath | None:
        """The shortest path from ``source`` to the newest registered version in ``accepted``.

        Breadth-first over declared steps; the newest reachable admitted version wins so a
        receiver reads the richest payload it can, and ties break on the fewest steps.
        """
        admitted = {v for v in versions if accepted.admits(v)}
        graph = self._steps.get(contract, {})
        best: MigrationPath | None = None
        queue: deque[tuple[Version, tuple[Migration, ...]]] = deque([(source, ())])
        seen = {source}
        while queue:
            at, steps = queue.popleft()
            if steps and at in admitted and (best is None or at > best.target):
                best = MigrationPath(contract, source, at, steps)
            for target in sorted(graph.get(at, {})):
                if target not in seen:
                    seen.add(target)
                    queue.append((target, (*steps, graph[at][target])))
        return best

    def reachable(self, contract: str, source: Version) -> list[Version]:
        """Every version a payload of ``source`` can be upcast to (for gap messages)."""
        graph = self._steps.get(contract, {})
        found: list[Version] = []
        frontier = [source]
        while frontier:
            at = frontier.pop()
            for target in graph.get(at, {}):
                if target not in found:
                    found.append(target)
                    frontier.append(target)
        return sorted(found)
