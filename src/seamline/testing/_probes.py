"""Payload probes: one value changed in a schema-valid payload, and what the boundary must say.

Each run draws payloads from the contract's published JSON Schema and pushes them, and their
mutations, through the real boundary check. The published schema is the referee: a mutated
payload the schema forbids must be rejected with an issue at the changed path, one it admits
must be accepted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import ValidationError

from seamline.contracts import Contract
from seamline.exceptions import Issue
from seamline.testing._boundary import Location, dotted, hands_off, lands_at
from seamline.testing._schema import ANY_JSON, Node, PayloadSchema, json_type

__all__ = ["edge_values_handled", "malformed_payloads_rejected", "valid_payloads_accepted"]

# Small and repeatable: the 30 examples a developer saw fail are the ones CI sees
# (derandomize), so CI never turns red on a luckier draw. No database: a run leaves nothing in
# the user's project. No deadline or too_slow check: shared CI machines are slow and noisy,
# and a contract test must fail on the contract, not on timing. One bug per report, so a
# failure is one AssertionError, never an ExceptionGroup. No explain phase: it re-runs the
# failing example many times only to annotate it.
_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.generate, Phase.shrink],
)

_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "string": st.text(max_size=12),
    "array": st.lists(ANY_JSON, max_size=3),
    "object": st.dictionaries(st.text(max_size=8), ANY_JSON, max_size=3),
}
"""Values of each JSON type, for giving a field a type it does not declare."""

_BOUNDS = {"minimum": True, "exclusiveMinimum": True, "maximum": False, "exclusiveMaximum": False}
"""The numeric bound keywords, and whether the values each forbids lie below it."""

_UNICODE = "naïve café ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🚀 \u0301"
"""Accents, a combining mark and characters outside the Basic Multilingual Plane."""
_LARGE = 2**64 + 1
"""Past every fixed-width integer a receiver might store a value in."""
_FIELD_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
"""Readable names for undeclared fields, so a failure message reads at a glance."""
_ABSENT: Any = object()
"""An optional field the drawn payload left out; probes still give it values."""

Check = Callable[[PayloadSchema, dict[str, Any], st.DataObject], list[str]]
"""Everything wrong with the boundary's answers for one drawn payload."""


@dataclass(frozen=True, slots=True)
class _Probe:
    location: Location
    what: str
    value: Any = None
    removed: bool = False
    code: str | None = None
    """The issue code a rejection must carry, where pydantic's code is stable."""
    coercible: bool = False
    """A wrong-type value, which pydantic's documented lax conversions may legitimately take."""
    node: Node | None = None
    """The schema the new value answers to; None for a removed or undeclared field."""
    reported_at: Location | None = None
    """Where the boundary reports this change, when not at ``location`` itself."""

    def apply(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``payload`` with this change made (only the path to it is copied)."""
        changed: dict[str, Any] = self._change(payload, 0)
        return changed

    def _change(self, container: Any, depth: int) -> Any:
        key = self.location[depth]
        copy: Any = dict(container) if isinstance(container, dict) else list(container)
        if depth + 1 < len(self.location):
            copy[key] = self._change(container[key], depth + 1)
        elif self.removed:
            del copy[key]
        else:
            copy[key] = self.value
        return copy

    def __str__(self) -> str:
        change = "removed" if self.removed else f"= {_short(self.value)}"
        return f"{dotted(self.location)} {change} ({self.what})"


@dataclass(frozen=True, slots=True)
class _Site:
    location: Location
    node: Node
    """The schema governing the value, with every alternative it allows."""
    value: Any
    branch: Node | None
    """The alternative the value satisfies (None when it satisfies none)."""
    reported_at: Location
    """Where issues about the value land: a union's tag is reported at the union."""

    def probe(self, what: str, value: Any, *, coercible: bool = False) -> _Probe:
        """A probe giving this place ``value`` instead."""
        return _Probe(
            self.location,
            what,
            value,
            coercible=coercible,
            node=self.node,
            reported_at=self.reported_at,
        )


def valid_payloads_accepted(contract: Contract[Any]) -> None:
    """Every payload the published schema admits passes the boundary check."""

    def check(schema: PayloadSchema, payload: dict[str, Any], data: st.DataObject) -> list[str]:
        issues = hands_off(contract, payload)
        return [f"payload rejected: {_listed(issues)}"] if issues else []

    _run(contract, "valid_payloads_accepted", check, _VALID_FIX)


def malformed_payloads_rejected(contract: Contract[Any]) -> None:
    """Every mutation the schema forbids is rejected with an issue at the changed path."""

    def check(schema: PayloadSchema, payload: dict[str, Any], data: st.DataObject) -> list[str]:
        return _judge(contract, schema, payload, _malformed(schema, payload, data), edges=False)

    _run(contract, "malformed_payloads_rejected", check, _MALFORMED_FIX)


def edge_values_handled(contract: Contract[Any]) -> None:
    """Boundary values the schema admits are accepted; values just past them are rejected."""

    def check(schema: PayloadSchema, payload: dict[str, Any], data: st.DataObject) -> list[str]:
        return _judge(contract, schema, payload, _edges(schema, payload, data), edges=True)

    _run(contract, "edge_values_handled", check, _EDGE_FIX)


_VALID_FIX = (
    "The published JSON Schema admits this payload but the model rejects it, and senders build "
    "payloads from the schema: make the schema state the model's rule (a constraint pydantic "
    "does not export, such as decimal_places or a validator, needs json_schema_extra or "
    "WithJsonSchema) or relax the model."
)
_MALFORMED_FIX = (
    "The JSON Schema forbids each of these payloads, so the boundary must reject it with an "
    "issue at the changed path. A model that accepts one coerces or ignores the value (make "
    "the field strict or add the constraint); one that reports another path misleads senders."
)
_EDGE_FIX = (
    "At a boundary the model and its JSON Schema must agree: accept exactly the values the "
    "schema admits and reject the others with an issue at their own path."
)


def _run(contract: Contract[Any], name: str, check: Check, fix: str) -> None:
    schema = PayloadSchema(contract)
    payloads = schema.payloads()

    @_SETTINGS
    @given(st.data())
    def probe_payloads(data: st.DataObject) -> None:
        payload = data.draw(payloads, label="payload")
        failures = check(schema, payload, data)
        if failures:
            listed = "\n".join(f"  {failure}" for failure in failures)
            raise AssertionError(
                f"{contract.ref}::{name}: {len(failures)} problem(s) with a payload drawn from "
                f"the contract's JSON Schema\n{listed}\n  payload: {_short(payload, 600)}\n{fix}"
            )

    __tracebackhide__ = True  # pytest shows the message, not these frames
    try:
        probe_payloads()
    except AssertionError as failure:
        # The message names the payload and every probe; Hypothesis's notes would only repeat
        # them draw by draw.
        raise AssertionError(str(failure)) from None


def _judge(
    contract: Contract[Any],
    schema: PayloadSchema,
    payload: dict[str, Any],
    probes: Iterable[_Probe],
    *,
    edges: bool,
) -> list[str]:
    """What the boundary got wrong about each probe (only schema-forbidden ones unless edges).

    Each answer is read against the payload as drawn, so a problem elsewhere in it (the
    concern of valid_payloads_accepted) is not blamed on every probe as well.
    """
    before = {(issue.path, issue.code) for issue in hands_off(contract, payload)}
    failures = []
    for probe in probes:
        mutated = probe.apply(payload)
        admitted = schema.admits(schema.root, mutated)
        if admitted and not edges:
            continue  # the draw happened to satisfy the schema: not malformed after all
        if probe.node is not None and schema.admits(probe.node, probe.value) != admitted:
            continue  # the verdict hinges on a neighbour (a repeated item of a unique array)
        issues = hands_off(contract, mutated)
        new = [issue for issue in issues if (issue.path, issue.code) not in before]
        path = dotted(probe.location if probe.reported_at is None else probe.reported_at)
        if admitted:
            failure = f"rejected: {_listed(new)}" if new else ""
        elif lands_at([_in_payload(issue, mutated) for issue in issues], path, probe.code):
            failure = ""
        elif new:
            expected = f"{path} [{probe.code}]" if probe.code else path
            failure = f"rejected at {_listed(new)}; expected an issue at {expected}"
        elif probe.coercible and _lax_only(contract, mutated, path):
            failure = ""
        else:
            failure = "accepted, though the schema forbids it"
        if failure:
            failures.append(f"{probe}: {failure}")
    return failures


def _lax_only(contract: Contract[Any], payload: dict[str, Any], path: str) -> bool:
    """Whether only pydantic's lax mode took the value (strict JSON validation rejects it).

    Lax conversions such as ``true`` to 1 or a number to a datetime are pydantic's documented
    behaviour, which the contract owner opted into; a coercion that strict mode still makes
    (a before-validator calling ``str``, say) is the contract's own, and is reported.
    """
    try:
        contract.model.model_validate_json(json.dumps(payload), strict=True)
    except ValidationError as error:
        strict = [Issue(dotted(tuple(e["loc"])), e["msg"], e["type"]) for e in error.errors()]
        return lands_at([_in_payload(issue, payload) for issue in strict], path)
    return False


def _in_payload(issue: Issue, payload: dict[str, Any]) -> Issue:
    """``issue`` addressed by where it is in the payload, without pydantic's union members.

    pydantic names the union member it tried inside a location (``pet.cat.lives``,
    ``weight.int``); the payload, and so every probe, has no such level (``pet.lives``).
    """
    head, *segments = issue.path.split(".")
    kept, value = [head], cast(Any, payload)
    for index, segment in enumerate(segments):
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        elif index < len(segments) - 1:
            continue  # a union member's name: no place in the payload
        kept.append(segment)
    return Issue(".".join(kept), issue.message, issue.code)


def _sites(
    schema: PayloadSchema,
    node: Node,
    value: Any,
    location: Location,
    reported_at: Location | None = None,
) -> Iterator[_Site]:
    """Every value in the payload with its schema, optional fields left out included.

    One list item stands for its siblings: they answer to the same schema.
    """
    here = location if reported_at is None else reported_at
    if value is _ABSENT:
        yield _Site(location, node, value, None, here)
        return
    branch = next((b for b in schema.branches(node) if schema.admits(b, value)), None)
    yield _Site(location, node, value, branch, here)
    if branch is None:
        return
    if isinstance(value, dict):
        properties: dict[str, Node] = branch.get("properties", {})
        tags = schema.discriminators(node)
        for name, sub in properties.items():
            at = location if name in tags else None
            yield from _sites(schema, sub, value.get(name, _ABSENT), (*location, name), at)
        extra = branch.get("additionalProperties")
        # A key with a dot would blur the dotted path the boundary reports: pick another.
        others = [key for key in value if key not in properties and "." not in key]
        if isinstance(extra, dict) and others:
            yield from _sites(schema, extra, value[others[0]], (*location, others[0]))
    elif isinstance(value, list):
        prefix: list[Node] = branch.get("prefixItems", [])
        items = branch.get("items")
        for index, item in enumerate(value[: max(len(prefix), 1)]):
            governing = prefix[index] if index < len(prefix) else items
            if isinstance(governing, dict):
                yield from _sites(schema, governing, item, (*location, index))


def _malformed(
    schema: PayloadSchema, payload: dict[str, Any], data: st.DataObject
) -> Iterator[_Probe]:
    for site in _sites(schema, schema.root, payload, ()):
        if site.branch is not None and isinstance(site.value, dict):
            yield from _object_damage(schema, site, site.branch, data)
        allowed = schema.types(site.node)
        # The payload itself stays an object: the envelope cannot carry anything else.
        if site.location and allowed is not None and (wrong := sorted(set(_BY_TYPE) - allowed)):
            kind = data.draw(st.sampled_from(wrong))
            value = data.draw(_BY_TYPE[kind])
            yield site.probe(f"wrong type: {kind}", value, coercible=True)
        for branch in schema.branches(site.node):
            for what, value in _out_of_bounds(branch, site.value, data):
                yield site.probe(what, value)


def _object_damage(
    schema: PayloadSchema, site: _Site, branch: Node, data: st.DataObject
) -> Iterator[_Probe]:
    tags = schema.discriminators(site.node)
    for name in branch.get("required", ()):
        location = (*site.location, name)
        if name in tags:  # without its tag a union cannot pick a member: it says so itself
            yield _Probe(location, "union tag removed", removed=True, reported_at=site.location)
        else:
            yield _Probe(location, "required field removed", removed=True, code="missing")
    if branch.get("additionalProperties") is False:
        name = data.draw(_FIELD_NAMES)
        if name not in branch.get("properties", {}):
            yield _Probe((*site.location, name), "undeclared field", 1, code="extra_forbidden")


def _out_of_bounds(branch: Node, current: Any, data: st.DataObject) -> Iterator[tuple[str, Any]]:
    """Values just outside each bound, pattern or enum ``branch`` declares."""
    kind = branch.get("type")
    if kind in ("integer", "number"):
        for keyword in (bound for bound in _BOUNDS if bound in branch):
            _, past = _bound_edge(keyword, branch[keyword], integral=kind == "integer")
            beyond = _beyond(past, _BOUNDS[keyword], integral=kind == "integer")
            yield f"past {keyword} {branch[keyword]}", data.draw(beyond)
    elif kind == "string":
        if (least := branch.get("minLength", 0)) > 0:
            yield f"shorter than minLength {least}", data.draw(st.text(max_size=least - 1))
        if (most := branch.get("maxLength")) is not None:
            long = st.text(min_size=most + 1, max_size=most + 4)
            yield f"longer than maxLength {most}", data.draw(long)
        if "pattern" in branch:
            yield f"not matching pattern {branch['pattern']}", data.draw(st.text(max_size=16))
    elif kind == "array" and isinstance(current, list):
        if (least := branch.get("minItems", 0)) > 0:
            yield f"fewer than minItems {least}", current[: least - 1]
        if (most := branch.get("maxItems")) is not None and current:
            yield f"more than maxItems {most}", current + current[:1] * (most + 1 - len(current))
    members = branch.get("enum", [branch["const"]] if "const" in branch else [])
    if members:
        yield "outside the enum", data.draw(_BY_TYPE[json_type(members[0])])


def _beyond(past: float, below: bool, *, integral: bool) -> st.SearchStrategy[Any]:
    """Values from ``past`` on, away from the bound it lies past."""
    if integral:
        return st.integers(max_value=int(past)) if below else st.integers(min_value=int(past))
    if below:
        return st.floats(max_value=past, allow_nan=False, allow_infinity=False)
    return st.floats(min_value=past, allow_nan=False, allow_infinity=False)


def _edges(schema: PayloadSchema, payload: dict[str, Any], data: st.DataObject) -> Iterator[_Probe]:
    for site in _sites(schema, schema.root, payload, ()):
        if not site.location:
            continue
        if schema.admits(site.node, None):
            yield site.probe("null for a nullable field", None)
        for branch in schema.branches(site.node):
            for what, value in _edge_values(branch, site.value, data):
                yield site.probe(what, value)


def _edge_values(branch: Node, current: Any, data: st.DataObject) -> Iterator[tuple[str, Any]]:
    """Values at and just past each boundary ``branch`` declares."""
    kind = branch.get("type")
    if kind in ("integer", "number"):
        for keyword in (bound for bound in _BOUNDS if bound in branch):
            inside, past = _bound_edge(keyword, branch[keyword], integral=kind == "integer")
            yield f"just inside {keyword} {branch[keyword]}", inside
            yield f"just past {keyword} {branch[keyword]}", past
        if not {"minimum", "exclusiveMinimum"} & branch.keys():
            yield "a large negative integer", -_LARGE
        if not {"maximum", "exclusiveMaximum"} & branch.keys():
            yield "a large integer", _LARGE
    elif kind == "string" and "format" not in branch:  # jsonschema does not assert formats
        least, most = branch.get("minLength", 0), branch.get("maxLength")
        for length in sorted({least - 1, least} | (set() if most is None else {most, most + 1})):
            if length >= 0:
                yield f"{length} characters", data.draw(st.text(min_size=length, max_size=length))
        repeated = _UNICODE * (1 + least // len(_UNICODE))
        yield "unicode text", repeated[: max(least, len(_UNICODE) if most is None else most)]
    elif kind == "array":
        yield "empty array", []
        if isinstance(current, list) and (least := branch.get("minItems", 0)) > 0:
            yield f"exactly minItems {least}", current[:least]
    for member in branch.get("enum", ()):
        yield "an enum member", member


def _bound_edge(keyword: str, bound: float, *, integral: bool) -> tuple[float, float]:
    """The last value a numeric bound admits and the first it forbids."""
    below, exclusive = _BOUNDS[keyword], keyword.startswith("exclusive")
    if integral:
        if below:
            inside = math.floor(bound) + 1 if exclusive else math.ceil(bound)
        else:
            inside = math.ceil(bound) - 1 if exclusive else math.floor(bound)
        return inside, inside - 1 if below else inside + 1
    outward = -math.inf if below else math.inf
    if exclusive:
        return math.nextafter(bound, -outward), bound
    return bound, math.nextafter(bound, outward)


def _listed(issues: list[Issue]) -> str:
    return "; ".join(str(issue) for issue in issues)


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
