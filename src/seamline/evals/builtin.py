"""The built-in evaluators.

Two kinds. The boundary's own invariants (the destination accepts the contract, the payload
fits its schema, the intent is unchanged since the workflow began, constraints are not
dropped or loosened, tracked facts are unchanged unless the contract lets the producing
agent rewrite them) are enforced by :func:`seamline.contracts.check_handoff` on every
handoff; :func:`boundary` reports its findings as evaluations so they are traced, recorded
and summarised like any other. The others are ordinary evaluators with a mode and a scope:
:func:`required_fields` (on by default) and :func:`value_range`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from pydantic import BaseModel

from seamline.evals.evaluation import Evaluation, Evaluator, Label, Mode, Subject, Verdict
from seamline.exceptions import ConfigurationError, Issue

__all__ = ["DEFAULT_EVALUATORS", "boundary", "required_fields", "value_range"]

_BOUNDARY_CODES = {
    "contract_accepted": frozenset(
        {
            "contract_mismatch",
            "version_not_accepted",
            "version_retired",
            "unknown_version",
            "migration_failed",
        }
    ),
    "intent_unchanged": frozenset({"intent_changed"}),
    "constraints_kept": frozenset({"constraint_dropped", "constraint_loosened"}),
    "facts_unchanged": frozenset({"fact_changed"}),
    "required_fields": frozenset({"missing"}),
}
_SCHEMA = "schema_valid"
_PASSED = tuple(
    Evaluation(name, Mode.BLOCKING, Label.PASS)
    for name in (*(n for n in _BOUNDARY_CODES if n != "required_fields"), _SCHEMA)
)


def boundary(issues: Sequence[Issue]) -> tuple[Evaluation, ...]:
    """The boundary check's findings as evaluations.

    An accepted handoff passed every invariant. A rejected one reports only what failed:
    the check stops early on some issues (an unknown version has no schema to validate
    against), so claiming the rest passed would be a guess.
    """
    if not issues:
        return _PASSED
    failed: dict[str, list[Issue]] = {}
    for issue in issues:
        name = next((n for n, codes in _BOUNDARY_CODES.items() if issue.code in codes), _SCHEMA)
        failed.setdefault(name, []).append(issue)
    return tuple(
        Evaluation(
            name,
            Mode.BLOCKING,
            Label.FAIL,
            explanation="; ".join(str(issue) for issue in found),
            path=found[0].path,
        )
        for name, found in failed.items()
    )


def required_fields(
    *, mode: Mode | str = Mode.BLOCKING, contracts: Iterable[str] = ()
) -> Evaluator:
    """Every field the contract requires is present and non-empty.

    The schema already rejects a missing field; this catches the ones a sender filled with
    nothing: ``None``, a blank string, an empty list or mapping. Those pass a type check
    and leave the receiver reasoning over a hole.
    """

    def check(subject: Subject) -> Verdict:
        empty = [
            name
            for name in _required(type(subject.payload))
            if _is_empty(getattr(subject.payload, name, None))
        ]
        if not empty:
            return _OK
        paths = ", ".join(f"payload.{name}" for name in empty)
        return Verdict(
            False,
            explanation=f"required fields are empty: {paths}; fill them or make them optional",
            path=f"payload.{empty[0]}",
        )

    return Evaluator(
        name="required_fields",
        check=check,
        mode=Mode(mode),
        contracts=frozenset(contracts),
        inline=True,
    )


def value_range(
    field: str,
    *,
    ge: float | Decimal | None = None,
    gt: float | Decimal | None = None,
    le: float | Decimal | None = None,
    lt: float | Decimal | None = None,
    mode: Mode | str = Mode.BLOCKING,
    contracts: Iterable[str] = (),
    name: str | None = None,
) -> Evaluator:
    """The numeric value at ``field`` (a dotted path into the payload) lies in a range.

    For limits that belong to a team's policy rather than to the schema: a refund above
    what this desk may approve, a confidence below what triage trusts. An absent value
    passes (whether it must be there is :func:`required_fields`' question).
    """
    bounds = {"ge": ge, "gt": gt, "le": le, "lt": lt}
    if all(bound is None for bound in bounds.values()):
        raise ConfigurationError(f"value_range({field!r}) needs at least one of ge, gt, le, lt")
    limits = {op: Decimal(str(bound)) for op, bound in bounds.items() if bound is not None}
    parts = field.split(".")

    def check(subject: Subject) -> Verdict:
        value: Any = subject.payload
        for part in parts:
            value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return _OK
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return Verdict(False, explanation=f"payload.{field} is not a number", path=field)
        broken = [op for op, limit in limits.items() if not _holds(number, op, limit)]
        if not broken:
            return _OK
        wanted = " and ".join(f"{_SYMBOL[op]} {limits[op]}" for op in limits)
        return Verdict(
            False,
            explanation=f"payload.{field} is {value}, outside the range {wanted}",
            path=f"payload.{field}",
        )

    return Evaluator(
        name=name or f"value_range:{field}",
        check=check,
        mode=Mode(mode),
        contracts=frozenset(contracts),
        inline=True,
    )


DEFAULT_EVALUATORS: tuple[Evaluator, ...] = (required_fields(),)
"""What a Runtime runs besides the boundary check unless told otherwise."""

_OK = Verdict(True)
_SYMBOL = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _holds(number: Decimal, op: str, limit: Decimal) -> bool:
    if op == "ge":
        return number >= limit
    if op == "gt":
        return number > limit
    if op == "le":
        return number <= limit
    return number < limit


@cache
def _required(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(name for name, info in model.model_fields.items() if info.is_required())


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict):
        return not value
    return False
