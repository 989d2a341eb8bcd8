"""Schema compatibility between contract versions, in Confluent Schema Registry's terms.

BACKWARD means a reader on the new version reads data written with the old one; FORWARD
means a reader on the old version reads data written with the new one; FULL is both. The
``_TRANSITIVE`` modes check against every earlier version of the same major line instead
of only the previous one; NONE checks nothing.

The schemas are what pydantic's ``model_json_schema()`` emits (JSON Schema 2020-12); see
:mod:`seamline.contracts._schema_rules` for the subset that is read and what is refused.
Comparing asks one question, recursively: can every value the writer's schema admits be
read under the reader's? Each answer is a :class:`Finding` (:data:`RULES` lists the rule
ids); the ``breaking`` ones are the answers "no". Decisions worth knowing:

- LENIENT content models (the tolerant-reader assumption): an object that declares
  ``properties`` without ``additionalProperties`` is open, but a writer is assumed to send
  only the properties it declares. So a reader may add an optional property or stop
  declaring one it ignores, but a reader that forbids extra properties must keep declaring
  every property the writer sends. A writer that *states* ``additionalProperties``
  (``true`` from pydantic's ``extra='allow'``, a schema for a ``dict``), or declares no
  properties at all (``{}``, ``Any``), is taken at its word: it may send any other property.
- ``required`` decides presence: a required property with a ``default`` still breaks old
  writers, because JSON Schema validators do not apply defaults (pydantic never lists a
  defaulted field as required).
- Paths are JSON pointers into the reader's schema as walked from its root: ``$ref`` is
  followed transparently (``/properties/address/properties/zip``, not ``/$defs/...``),
  union branches keep their index (``/properties/address/anyOf/0/properties/zip``), and a
  property the reader no longer declares is reported where it would be.
- Recursive models terminate: a pair of (writer, reader) branches already being compared
  further up is assumed compatible there (co-induction, as for recursive types). The same
  definition reached by two different paths is checked, and reported, at both.
- Fixed writer values (``enum``/``const``) are checked one by one against the reader's
  constraints; open-ended ones are compared constraint by constraint, ``format`` and
  ``pattern`` by their text (the checker cannot decide regular-expression inclusion).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any, Final, Literal

from seamline.contracts._schema_rules import (
    ANY,
    RULES,
    Branch,
    Document,
    Finding,
    Limit,
    Node,
    branch_admits,
    contains,
    escape,
    item_at,
    load,
    options,
    show,
    strictness,
)
from seamline.exceptions import ContractError

__all__ = [
    "RULES",
    "Compatibility",
    "CompatibilityReport",
    "Finding",
    "Violation",
    "check_compatibility",
    "compare",
]


class Compatibility(StrEnum):
    """How a contract may evolve between versions that share a major version."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        """Checked against every earlier version, so no reader or writer is left behind."""
        return self.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """Checks that the new version reads old data (receivers may upgrade first)."""
        return self.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """Checks that old versions read new data (senders may upgrade first)."""
        return self.startswith(("FORWARD", "FULL"))


def compare(writer: Mapping[str, Any], reader: Mapping[str, Any]) -> list[Finding]:
    """Every difference that matters when data written under `writer` is read under `reader`.

    Breaking findings are flagged. Raises :class:`~seamline.exceptions.ContractError` for a
    schema the rules cannot judge (an unsupported keyword, a remote or dangling ``$ref``, a
    malformed value), so an unknown constraint is never silently passed.
    """
    return _diff(load(writer, "writer schema"), load(reader, "reader schema"))


@dataclass(frozen=True, slots=True)
class Violation:
    """A breaking finding, tied to the version pair and the direction that produced it."""

    finding: Finding
    writer_version: str
    reader_version: str
    direction: Literal["backward", "forward"]

    def __str__(self) -> str:
        return f"{self.direction} {self.writer_version} -> {self.reader_version}: {self.finding}"


@dataclass(frozen=True, slots=True)
class CompatibilityReport:
    """The outcome of checking one candidate version against its history under a mode."""

    mode: Compatibility
    candidate: str
    violations: tuple[Violation, ...]
    compared: tuple[str, ...]
    """The earlier versions the candidate was checked against, oldest first."""

    @property
    def compatible(self) -> bool:
        """True when no direction the mode asks for breaks."""
        return not self.violations


def check_compatibility(
    history: Sequence[tuple[str, Mapping[str, Any]]],
    candidate: tuple[str, Mapping[str, Any]],
    mode: Compatibility,
) -> CompatibilityReport:
    """Check `candidate` against the earlier versions of its major line under `mode`.

    history = earlier versions (version string, schema), oldest first. Non-transitive modes
    compare only with the last; transitive with all; NONE compares nothing.
    """
    if not isinstance(mode, Compatibility):
        raise ContractError(
            f"{mode!r} is not a compatibility mode; use one of {', '.join(Compatibility)}"
        )
    version, schema = _entry(candidate, "candidate")
    earlier = [_entry(entry, "history entry") for entry in _sequence(history)]
    if mode is Compatibility.NONE:
        return CompatibilityReport(mode, version, (), ())
    against = earlier if mode.transitive else earlier[-1:]
    new = load(schema, f"schema {version}")
    violations: list[Violation] = []
    for old_version, old_schema in against:
        old = load(old_schema, f"schema {old_version}")
        if mode.backward:
            violations.extend(_violations("backward", (old_version, old), (version, new)))
        if mode.forward:
            violations.extend(_violations("forward", (version, new), (old_version, old)))
    return CompatibilityReport(mode, version, tuple(violations), tuple(v for v, _ in against))


def _violations(
    direction: Literal["backward", "forward"],
    writer: tuple[str, Document],
    reader: tuple[str, Document],
) -> Iterator[Violation]:
    """The breaking findings of one direction, tied to the versions that produced them."""
    (writer_version, writer_schema), (reader_version, reader_schema) = writer, reader
    for finding in _diff(writer_schema, reader_schema):
        if finding.breaking:
            yield Violation(finding, writer_version, reader_version, direction)


def _sequence(history: object) -> Sequence[object]:
    if isinstance(history, str) or not isinstance(history, Sequence):
        raise ContractError(
            "history must be a list of (version, schema) pairs, oldest first; "
            f"got {type(history).__name__}"
        )
    return history


def _entry(entry: object, what: str) -> tuple[str, object]:
    match entry:
        case (str() as version, schema):
            return version, schema
    raise ContractError(
        f"{what} {entry!r:.80} is not a (version, schema) pair; pass e.g. ('1.2.0', schema)"
    )


# --- comparing -----------------------------------------------------------------------------

_MAJOR: Final = "or publish the change under a new major version"


def _diff(writer: Document, reader: Document) -> list[Finding]:
    """Every finding for data written under ``writer`` and read under ``reader``, in order."""
    try:
        return list(dict.fromkeys(_Comparison(writer, reader).nodes(writer.root, reader.root, "")))
    except RecursionError:
        raise ContractError(
            "the schemas nest too deeply to compare; flatten them with $defs and $ref"
        ) from None


def _finding(rule: str, path: str, message: str) -> Finding:
    return Finding(rule, path, message, RULES[rule])


class _Comparison:
    """One walk over a writer and a reader document, with the pairs it is inside of."""

    def __init__(self, writer: Document, reader: Document) -> None:
        self.writer = writer
        self.reader = reader
        self.active: set[tuple[str, str, str]] = set()

    def nodes(self, w: Node | None, r: Node | None, path: str) -> Iterator[Finding]:
        """Absent subschemas (``None``) admit anything."""
        w_options = [b for _, b in options(self.writer, w or ANY)]
        r_options = options(self.reader, r or ANY)
        if not w_options:
            return  # the writer can send nothing here, so the reader can read all of it
        w_kinds = _kinds(w_options)
        r_kinds = _kinds(b for _, b in r_options)
        missing = [kind for kind in w_kinds if kind not in r_kinds]
        if missing == w_kinds:
            yield _finding(
                "TYPE_CHANGED",
                path,
                f"the writer sends {_types(w_options)} but the reader accepts "
                f"{_types(b for _, b in r_options)}; keep the old type, accept both with a "
                f"union, {_MAJOR}",
            )
            return
        if missing:
            yield _finding(
                "TYPE_NARROWED",
                path,
                f"the reader no longer accepts {_types(b for b in w_options if b.kind in missing)}"
                f", which the writer may send; keep accepting it (a union or Optional) {_MAJOR}",
            )
        added = [kind for kind in r_kinds if kind not in w_kinds]
        if added:
            also = _types(b for _, b in r_options if b.kind in added)
            yield _finding("TYPE_WIDENED", path, f"the reader also accepts {also}")
        for w_branch in w_options:
            candidates = [(s, b) for s, b in r_options if b.kind == w_branch.kind]
            if not candidates:
                continue
            if w_branch.values is not None:
                readers = [b for _, b in candidates]
                yield from self.values(w_branch, w_branch.values, readers, path)
            else:
                yield from self.closest(w_branch, candidates, path)

    def closest(
        self, w: Branch, candidates: list[tuple[str, Branch]], path: str
    ) -> Iterator[Finding]:
        """Findings against the reader branch that accepts the writer's, or comes closest."""
        if len(candidates) == 1:
            suffix, r = candidates[0]
            yield from self.branches(w, r, path + suffix)
            return
        closest: list[Finding] = []
        for suffix, r in candidates:
            found = list(self.branches(w, r, path + suffix))
            breaking = [f for f in found if f.breaking]
            if not breaking:
                yield from found
                return
            if not closest or len(breaking) < len(closest):
                closest = breaking
        yield _finding(
            "UNION_NARROWED",
            path,
            f"no branch of the reader's union accepts the writer's {w.kind} at "
            f"{w.origin or '/'} (the closest fails with {closest[0].rule} at "
            f"{closest[0].path or '/'}); keep a branch for it {_MAJOR}",
        )

    def values(
        self, w: Branch, sent: tuple[Any, ...], readers: list[Branch], path: str
    ) -> Iterator[Finding]:
        """A writer that sends only listed values: check each against the reader's branches.

        A reader ``format`` the writer does not share counts as rejecting: whether a literal
        is, say, a valid UUID is not something the checker decides.
        """
        judges = [r for r in readers if r.format in (None, w.format)]
        rejected = [v for v in sent if not any(branch_admits(self.reader, r, v) for r in judges)]
        listed = [v for r in readers for v in r.values or ()]
        restricted = all(r.values is not None for r in readers)
        if rejected and restricted and len(sent) == len(listed) == 1:
            yield _finding(
                "CONST_CHANGED",
                path,
                f"the value changed from {show(sent)} to {show(listed)}; keep the old value "
                f"{_MAJOR}",
            )
            return
        if rejected:
            dropped = restricted and not any(contains(listed, v) for v in rejected)
            yield _finding(
                "ENUM_VALUE_REMOVED" if dropped else "VALUE_REJECTED",
                path,
                f"{'the reader no longer lists' if dropped else 'the reader rejects'} "
                f"{show(rejected)}, which the writer may send; keep accepting "
                f"{'them' if len(rejected) > 1 else 'it'} {_MAJOR}",
            )
        if not restricted:
            yield _finding(
                "ENUM_REMOVED", path, f"the reader accepts any {w.kind}, not only {show(sent)}"
            )
        elif extra := [v for v in listed if not contains(sent, v)]:
            yield _finding("ENUM_VALUE_ADDED", path, f"the reader also accepts {show(extra)}")

    def branches(self, w: Branch, r: Branch, path: str) -> Iterator[Finding]:
        """Two branches of the same kind; the writer's is not a fixed list of values."""
        key = (w.origin, r.origin, w.kind)
        if key in self.active:
            return  # already being compared further up: assume it holds (recursive models)
        self.active.add(key)
        try:
            if r.values is not None:
                yield _finding(
                    "ENUM_ADDED",
                    path,
                    f"the reader only accepts {show(r.values)} but the writer may send any "
                    f"{w.kind}; list every value the writer sends {_MAJOR}",
                )
                return
            yield from _integers(w, r, path)
            integral = w.integer
            yield from _limit(w.lower, r.lower, path, lower=True, integral=integral)
            yield from _limit(w.upper, r.upper, path, lower=False, integral=integral)
            yield from _multiple_of(w, r, path)
            yield from _same_text(
                "PATTERN",
                w.pattern.pattern if w.pattern else None,
                r.pattern.pattern if r.pattern else None,
                path,
            )
            yield from _same_text("FORMAT", w.format, r.format, path)
            if r.unique and not w.unique:
                yield _finding(
                    "UNIQUE_ITEMS_ADDED",
                    path,
                    f"the reader requires unique items but the writer may repeat them; drop "
                    f"uniqueItems {_MAJOR}",
                )
            elif w.unique and not r.unique:
                yield _finding("UNIQUE_ITEMS_REMOVED", path, "the reader accepts repeated items")
            if w.kind == "array":
                yield from self.arrays(w, r, path)
            elif w.kind == "object":
                yield from self.objects(w, r, path)
        finally:
            self.active.discard(key)

    def arrays(self, w: Branch, r: Branch, path: str) -> Iterator[Finding]:
        """Position by position over the prefixes, then the items after them."""
        # past the reader's maxItems nothing is read (a tighter maxItems is reported already)
        limits = [int(b.upper.exact) for b in (w, r) if b.upper is not None]
        for index in range(min([max(len(w.prefix_items), len(r.prefix_items)) + 1, *limits])):
            suffix, r_item = item_at(r, index)
            yield from self.nodes(item_at(w, index)[1], r_item, path + suffix)

    def objects(self, w: Branch, r: Branch, path: str) -> Iterator[Finding]:
        """Every property either side declares or requires, then the undeclared ones."""
        names = dict.fromkeys(
            [*r.properties, *sorted(r.required), *w.properties, *sorted(w.required)]
        )
        for name in names:
            at = f"{path}/properties/{escape(name)}"
            in_writer = name in w.properties or name in w.required
            in_reader = name in r.properties or name in r.required
            w_schema = w.properties.get(name, w.additional)
            r_schema = r.properties.get(name, r.additional)
            if in_writer and in_reader:
                yield from _presence(name, w, r, at)
                yield from self.nodes(w_schema, r_schema, at)
            elif in_reader:
                yield from _added(name, r, at)
                if not w.lenient:  # the writer may send any name it does not declare
                    yield from self.nodes(w.additional, r_schema, at)
            elif _empty(self.reader, r.additional) and not _empty(self.writer, w_schema or ANY):
                yield _finding(
                    "PROPERTY_REMOVED_FROM_CLOSED_MODEL",
                    at,
                    f"the reader no longer declares {name!r} and forbids undeclared properties, "
                    f"but the writer may send it; keep it declared (deprecated) or allow extra "
                    f"properties, {_MAJOR}",
                )
            else:
                yield _finding(
                    "PROPERTY_REMOVED", at, f"the reader no longer declares {name!r}, so ignores it"
                )
                if r.additional is not None:  # a stated schema for extras judges it now
                    yield from self.nodes(w_schema, r.additional, at)
        yield from self.extras(w, r, path)

    def extras(self, w: Branch, r: Branch, path: str) -> Iterator[Finding]:
        """Undeclared properties: a lenient writer sends none, any other what it states."""
        at = f"{path}/additionalProperties"
        reader_forbids = _empty(self.reader, r.additional)
        if not w.lenient and not _empty(self.writer, w.additional):
            if reader_forbids:
                yield _finding(
                    "ADDITIONAL_PROPERTIES_FORBIDDEN",
                    at,
                    f"the reader forbids undeclared properties but the writer's schema lets it "
                    f"send them; keep accepting them {_MAJOR}",
                )
            else:
                yield from self.nodes(w.additional, r.additional, at)
        elif reader_forbids:
            if w.lenient:
                yield _finding(
                    "CONTENT_MODEL_CLOSED",
                    at,
                    "the reader now forbids undeclared properties; fine while writers send "
                    "only the properties they declare",
                )
        elif not w.lenient:
            yield _finding(
                "CONTENT_MODEL_OPENED", at, "the reader now accepts undeclared properties"
            )


def _empty(doc: Document, node: Node | None) -> bool:
    """Whether a stated schema admits no value at all (``false``); absent is not empty."""
    return node is not None and not options(doc, node)


def _kinds(branches: Iterable[Branch]) -> list[str]:
    return list(dict.fromkeys(b.kind for b in branches))


def _types(branches: Iterable[Branch]) -> str:
    names = list(dict.fromkeys("integer" if b.integer else b.kind for b in branches))
    return " or ".join(names) or "nothing"


def _integers(w: Branch, r: Branch, path: str) -> Iterator[Finding]:
    if r.integer and not w.integer:
        yield _finding(
            "TYPE_NARROWED",
            path,
            f"the reader accepts only integers but the writer may send any number; keep "
            f"'number' {_MAJOR}",
        )
    elif w.integer and not r.integer:
        yield _finding("TYPE_WIDENED", path, "the reader accepts any number, not only integers")


def _limit(
    w: Limit | None, r: Limit | None, path: str, *, lower: bool, integral: bool
) -> Iterator[Finding]:
    if r is None:
        if w is not None:
            yield _finding(f"{_rule(w)}_REMOVED", path, f"the reader drops {w}")
        return
    if w is None:
        yield _finding(
            f"{_rule(r)}_ADDED",
            path,
            f"the reader adds {r}, which rejects some data the writer may send; drop the "
            f"limit {_MAJOR}",
        )
        return
    w_key = strictness(w, lower=lower, integral=integral)
    r_key = strictness(r, lower=lower, integral=integral)
    if r_key > w_key:
        yield _finding(
            f"{_rule(r)}_TIGHTENED",
            path,
            f"{w} became {r} in the reader, which rejects values the writer may send; keep "
            f"{w} {_MAJOR}",
        )
    elif r_key < w_key:
        yield _finding(f"{_rule(r)}_LOOSENED", path, f"{w} became {r} in the reader")


def _multiple_of(w: Branch, r: Branch, path: str) -> Iterator[Finding]:
    if r.multiple_of is None:
        if w.multiple_of is not None:
            yield _finding("MULTIPLE_OF_REMOVED", path, f"the reader drops {w.multiple_of}")
        return
    step = w.multiple_of.exact if w.multiple_of else Fraction(1) if w.integer else None
    divisor = r.multiple_of.exact
    if step is not None and step % divisor == 0:
        if w.multiple_of is not None and step != divisor:
            yield _finding(
                "MULTIPLE_OF_LOOSENED",
                path,
                f"{w.multiple_of} became {r.multiple_of} in the reader",
            )
        return
    if w.multiple_of is None:
        verb, what = "ADDED", f"the reader adds {r.multiple_of}"
    else:
        verb = "TIGHTENED" if divisor % w.multiple_of.exact == 0 else "CHANGED"
        what = f"{w.multiple_of} became {r.multiple_of} in the reader"
    yield _finding(
        f"MULTIPLE_OF_{verb}",
        path,
        f"{what}, which rejects numbers the writer may send; keep the writer's step {_MAJOR}",
    )


def _same_text(family: str, w: str | None, r: str | None, path: str) -> Iterator[Finding]:
    keyword = family.lower()
    if w == r:
        return
    if r is None:
        yield _finding(f"{family}_REMOVED", path, f"the reader drops {keyword} {w!r}")
        return
    what = f"the reader adds {keyword} {r!r}" if w is None else f"{keyword} {w!r} became {r!r}"
    yield _finding(
        f"{family}_{'ADDED' if w is None else 'CHANGED'}",
        path,
        f"{what}, which the writer's strings need not match; keep the writer's {keyword} {_MAJOR}",
    )


def _rule(limit: Limit) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", limit.keyword).upper()


def _presence(name: str, w: Branch, r: Branch, at: str) -> Iterator[Finding]:
    if name in r.required and name not in w.required:
        yield _finding(
            "PROPERTY_MADE_REQUIRED",
            at,
            f"the reader requires {name!r}, which the writer may leave out; keep it optional "
            f"with a default {_MAJOR}",
        )
    elif name in w.required and name not in r.required:
        yield _finding("PROPERTY_MADE_OPTIONAL", at, f"the reader no longer requires {name!r}")


def _added(name: str, r: Branch, at: str) -> Iterator[Finding]:
    if name in r.required:
        yield _finding(
            "REQUIRED_PROPERTY_ADDED",
            at,
            f"the reader requires {name!r}, which the writer does not send; give it a default "
            f"(pydantic then leaves it out of 'required') {_MAJOR}",
        )
    elif name in r.defaults:
        yield _finding(
            "OPTIONAL_PROPERTY_ADDED_WITH_DEFAULT",
            at,
            f"the reader adds optional {name!r} with a default for writers that leave it out",
        )
    else:
        yield _finding(
            "OPTIONAL_PROPERTY_ADDED",
            at,
            f"the reader adds optional {name!r} without a default; it must cope with its absence",
        )
