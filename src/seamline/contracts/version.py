"""Semantic versions and the version ranges receivers accept.

Ranges use the npm/cargo spelling that API teams already know: ``^1.2`` (same major),
``~1.2`` (same minor), ``1.x``, ``*``, exact ``1.2.3``, and comparator lists such as
``>=1.0.0,<2.0.0``. Pre-release and build tags are out of scope for contracts: a contract
version is a published interface, not a build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import total_ordering

from seamline.exceptions import VersionError

__all__ = ["Version", "VersionRange"]

_VERSION = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?$")
_COMPARATOR = re.compile(r"^(>=|<=|>|<|==|=)?\s*(.+)$")
_PARSED: dict[str, Version] = {}


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A ``MAJOR.MINOR.PATCH`` version; missing parts read as zero."""

    major: int
    minor: int = 0
    patch: int = 0

    @classmethod
    def parse(cls, text: str | Version) -> Version:
        """Parse ``"1"``, ``"1.2"`` or ``"1.2.3"``."""
        if isinstance(text, Version):
            return text
        cached = _PARSED.get(text) if isinstance(text, str) else None
        if cached is not None:
            return cached
        match = _VERSION.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise VersionError(
                f"{text!r} is not a semantic version; write MAJOR.MINOR.PATCH, e.g. '1.4.0'"
            )
        major, minor, patch = match.groups()
        parsed = cls(int(major), int(minor or 0), int(patch or 0))
        if (
            len(_PARSED) < 4096
        ):  # every handoff names a version; a bounded memo keeps parsing off the hot path
            _PARSED[text] = parsed
        return parsed

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True, slots=True)
class _Bound:
    op: str
    version: Version

    def admits(self, version: Version) -> bool:
        match self.op:
            case ">=":
                return version >= self.version
            case ">":
                return version > self.version
            case "<=":
                return version <= self.version
            case "<":
                return version < self.version
            case _:
                return version == self.version


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A set of versions a receiver accepts, e.g. ``^1.2`` or ``>=1.0,<3``."""

    spec: str
    bounds: tuple[_Bound, ...]
    _answers: dict[Version, bool] = field(default_factory=dict, compare=False, repr=False)
    """Memo of :meth:`admits`: routing and validation ask it several times per handoff."""

    @classmethod
    def parse(cls, spec: str | VersionRange) -> VersionRange:
        """Parse a range; raises VersionError with the accepted spellings on failure."""
        if isinstance(spec, VersionRange):
            return spec
        if not isinstance(spec, str) or not spec.strip():
            raise VersionError(
                f"{spec!r} is not a version range; use e.g. '^1.2', '~1.2', '1.x', '*' "
                "or '>=1.0.0,<2.0.0'"
            )
        bounds: list[_Bound] = []
        for part in spec.split(","):
            bounds.extend(_parse_part(part.strip(), spec))
        return cls(spec.strip(), tuple(bounds))

    def admits(self, version: Version | str) -> bool:
        """Whether ``version`` lies in this range."""
        parsed = Version.parse(version)
        answer = self._answers.get(parsed)
        if answer is None:
            answer = all(bound.admits(parsed) for bound in self.bounds)
            if len(self._answers) < 256:  # a range meets a handful of versions; stay bounded
                self._answers[parsed] = answer
        return answer

    def __str__(self) -> str:
        return self.spec


def _parse_part(part: str, whole: str) -> list[_Bound]:
    try:
        if part in ("*", "x", "X"):
            return []
        if part.startswith("^"):
            low = Version.parse(part[1:])
            high = _caret_ceiling(low, part[1:].count("."))
            return [_Bound(">=", low), _Bound("<", high)]
        if part.startswith("~"):
            low = Version.parse(part[1:])
            high = Version(low.major, low.minor + 1) if "." in part else Version(low.major + 1)
            return [_Bound(">=", low), _Bound("<", high)]
        if part.endswith((".x", ".X", ".*")):
            low = Version.parse(part[:-2])
            dots = part[:-2].count(".")
            high = Version(low.major + 1) if dots == 0 else Version(low.major, low.minor + 1)
            return [_Bound(">=", low), _Bound("<", high)]
        match = _COMPARATOR.match(part)
        if match is None:
            raise VersionError(part)
        op, version = match.groups()
        return [_Bound("==" if op in (None, "=") else op, Version.parse(version.strip()))]
    except VersionError:
        raise VersionError(
            f"{whole!r} is not a version range; use e.g. '^1.2', '~1.2', '1.x', '*' "
            "or '>=1.0.0,<2.0.0'"
        ) from None


def _caret_ceiling(low: Version, dots: int) -> Version:
    """``^`` allows changes that do not touch the left-most non-zero part (npm semantics)."""
    if low.major > 0 or dots == 0:
        return Version(low.major + 1)
    if low.minor > 0 or dots == 1:
        return Version(0, low.minor + 1)
    return Version(0, 0, low.patch + 1)
