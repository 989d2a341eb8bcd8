"""A contract's version line: each version checked against the ones before it.

Compatibility is judged within a major version line only; a major bump is the declared way
to break, so history restarts there. Each candidate is checked under its own mode, the
mode its owner declared when publishing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seamline.contracts.compatibility import (
    Compatibility,
    CompatibilityReport,
    check_compatibility,
)
from seamline.contracts.version import Version

__all__ = ["lineage"]


def lineage(
    versions: Iterable[tuple[Version, Mapping[str, Any], Compatibility]],
    *,
    history: Iterable[tuple[Version, Mapping[str, Any]]] = (),
) -> list[CompatibilityReport]:
    """Reports for every version that has a predecessor in its major line.

    ``history`` seeds the line with versions published elsewhere (e.g. what is live on the
    main branch), so a pull request is judged against them rather than its own rewrite.
    """
    published = dict(history)
    reports = []
    for version, schema, mode in sorted(versions, key=lambda item: item[0]):
        published.setdefault(version, schema)
        earlier = [
            (str(v), published[v])
            for v in sorted(published)
            if v < version and v.major == version.major
        ]
        if earlier:
            reports.append(check_compatibility(earlier, (str(version), schema), mode))
    return reports
