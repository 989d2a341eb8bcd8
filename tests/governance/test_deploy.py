"""can-i-deploy: a candidate agent version checked against the partners that are live."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from pydantic import BaseModel

from seamline.agents import Agent, Context, Finish, Outcome, agent
from seamline.contracts import Contract, Migration, migration
from seamline.exceptions import RegistryError
from seamline.governance import DeployCheck, Snapshot, can_i_deploy
from seamline.registry import Registry


class Ticket(BaseModel):
    """A customer's ticket."""

    text: str


class Refund(BaseModel):
    """A refund to issue."""

    order_id: str
    amount: str


class RefundWithReason(BaseModel):
    """A refund that must say why."""

    order_id: str
    amount: str
    reason: str


class RefundV2(BaseModel):
    """A refund whose amount carries its currency."""

    order_id: str
    money: str


TICKET = Contract(model=Ticket, name="ticket", version="1.0.0", owner="support")
REFUND_1_0 = Contract(model=Refund, name="refund.request", version="1.0.0", owner="payments")
REFUND_1_1 = Contract(model=Refund, name="refund.request", version="1.1.0", owner="payments")
REFUND_1_2 = Contract(model=Refund, name="refund.request", version="1.2.0", owner="payments")
REFUND_2 = Contract(model=RefundV2, name="refund.request", version="2.0.0", owner="payments")
EDITED_1_1 = Contract(
    model=RefundWithReason, name="refund.request", version="1.1.0", owner="payments"
)
PUBLISHED = (TICKET, REFUND_1_0, REFUND_1_1, REFUND_2)


def body(payload: Any, ctx: Context) -> Outcome:
    """A trivial agent body."""
    return Finish(result=None)


def make(name: str, version: str, **card: Any) -> Agent:
    """An agent ``name@version`` with the given card fields."""
    return agent(name=name, version=version, owner=f"{name}-team", **card)(body)


@migration("refund.request", "1.1.0", "2.0.0")
def to_money(payload: dict[str, Any]) -> dict[str, Any]:
    """The amount becomes money."""
    return {"order_id": payload["order_id"], "money": payload["amount"]}


def snapshot(
    *agents: Agent,
    contracts: Iterable[Contract[Any]] = PUBLISHED,
    migrations: Iterable[Migration] = (),
) -> Snapshot:
    """The registry of ``agents`` as data."""
    return Snapshot.of(Registry(agents=agents, contracts=contracts, migrations=migrations))


LIVE = snapshot(
    make("intake", "1.0.0", accepts=[TICKET], emits={"refund.request": "1.1.0"}),
    make("refunds", "1.0.0", accepts={"refund.request": "^1.0"}),
)


def only(checks: tuple[DeployCheck, ...]) -> DeployCheck:
    """The one check of a verdict."""
    assert len(checks) == 1, checks
    return checks[0]


def test_unchanged_seams_say_yes() -> None:
    """A new intake emitting what refunds reads today may deploy; its old self is no partner."""
    candidate = snapshot(make("intake", "1.1.0", accepts=[TICKET], emits=[REFUND_1_1]))
    verdict = can_i_deploy(candidate, LIVE, "intake", "1.1.0")
    assert verdict.ok and verdict.answer == "yes"
    check = only(verdict.checks)
    assert (check.direction, check.partner, check.partner_version) == (
        "emits to",
        "refunds",
        "1.0.0",
    )
    assert check.ok and check.reads == "1.1.0" and "same schema" in check.reasons[0]


def test_new_major_outside_a_live_receivers_range_says_no() -> None:
    """Emitting 2.0.0 while live refunds accepts ^1.0 (and no migration goes down) is a no."""
    candidate = snapshot(make("intake", "2.0.0", accepts=[TICKET], emits=[REFUND_2]))
    verdict = can_i_deploy(candidate, LIVE, "intake", "2.0.0")
    check = only(verdict.checks)
    assert verdict.answer == "no" and not check.ok and check.reads is None
    assert check.reasons == (
        "refunds@1.0.0 accepts refund.request ^1.0, which excludes refund.request@2.0.0, and "
        "no declared migration leads into it; emit a version in that range, or declare a "
        "migration step from 2.0.0",
    )


def test_receiver_dropping_a_live_senders_version_says_no() -> None:
    """refunds moving to ^2 with no migration strands what live intake emits (1.1.0)."""
    candidate = snapshot(make("refunds", "2.0.0", accepts={"refund.request": "^2"}))
    verdict = can_i_deploy(candidate, LIVE, "refunds", "2.0.0")
    check = only(verdict.checks)
    assert not verdict.ok and check.direction == "receives from" and check.partner == "intake"
    assert check.reasons[0].startswith(
        "intake@1.0.0 emits refund.request@1.1.0, which refunds@2.0.0 no longer accepts (^2)"
    )


def test_a_declared_migration_makes_the_move_safe() -> None:
    """With an upcast 1.1.0 -> 2.0.0, refunds on ^2 still reads what live intake emits."""
    candidate = snapshot(
        make("refunds", "2.0.0", accepts={"refund.request": "^2"}), migrations=[to_money]
    )
    verdict = can_i_deploy(candidate, LIVE, "refunds", "2.0.0")
    check = only(verdict.checks)
    assert verdict.ok and check.emitted == "1.1.0" and check.reads == "2.0.0"
    assert "upcast to 2.0.0 (refund.request 1.1.0 -> 2.0.0)" in check.reasons[0]


def test_editing_an_emitted_version_in_place_says_no() -> None:
    """intake's code changed refund.request@1.1.0 without a bump; even a tolerated change fails."""
    candidate = snapshot(
        make("intake", "1.1.0", accepts=[TICKET], emits=[EDITED_1_1]),
        contracts=(TICKET, REFUND_1_0, EDITED_1_1, REFUND_2),
    )
    check = only(can_i_deploy(candidate, LIVE, "intake", "1.1.0").checks)
    assert not check.ok
    assert check.reasons == (
        "refund.request@1.1.0 changed without a version bump: the candidate's schema differs "
        "from the live one; publish the change as a new version",
    )


def test_a_receiver_tightening_a_version_in_place_reports_the_breaking_finding() -> None:
    """refunds requiring a new field under 1.1.0 breaks what live intake writes, by rule id."""
    candidate = snapshot(
        make("refunds", "1.1.0", accepts={"refund.request": "^1.0"}),
        contracts=(TICKET, REFUND_1_0, EDITED_1_1, REFUND_2),
    )
    check = only(can_i_deploy(candidate, LIVE, "refunds", "1.1.0").checks)
    assert not check.ok and len(check.reasons) == 2
    assert check.reasons[0].startswith(
        "refund.request@1.1.0 as intake writes it cannot be read by refunds: "
        "REQUIRED_PROPERTY_ADDED at /properties/reason: the reader requires 'reason'"
    )
    assert "changed without a version bump" in check.reasons[1]


def test_emitting_a_version_the_live_registry_lacks_says_no() -> None:
    """A new 1.2.0 lies in refunds' range, but live refunds cannot validate an unpublished one."""
    candidate = snapshot(
        make("intake", "1.2.0", accepts=[TICKET], emits=[REFUND_1_2]),
        contracts=(*PUBLISHED, REFUND_1_2),
    )
    check = only(can_i_deploy(candidate, LIVE, "intake", "1.2.0").checks)
    assert not check.ok and check.reads == "1.2.0"
    assert check.reasons[0].startswith("the live registry has no refund.request@1.2.0")


def test_unregistering_a_version_a_live_sender_emits_says_no() -> None:
    """refunds' code dropped refund.request@1.1.0 although live intake still emits it."""
    candidate = snapshot(
        make("refunds", "1.1.0", accepts={"refund.request": "^1.0"}),
        contracts=(TICKET, REFUND_1_0, REFUND_2),
    )
    check = only(can_i_deploy(candidate, LIVE, "refunds", "1.1.0").checks)
    assert not check.ok
    assert check.reasons[0].startswith(
        "refunds@1.1.0 no longer registers refund.request@1.1.0, which intake@1.0.0 emits"
    )


def test_a_relay_is_not_its_own_partner() -> None:
    """A relay accepting what it emits replaces its live self: no seam, so yes."""
    live = snapshot(make("relay", "1.0.0", accepts={"refund.request": "^1.0"}, emits=[REFUND_1_1]))
    candidate = snapshot(make("relay", "2.0.0", accepts={"refund.request": "^2"}, emits=[REFUND_2]))
    verdict = can_i_deploy(candidate, live, "relay", "2.0.0")
    assert verdict.ok and verdict.checks == ()


def test_unknown_agent_and_version_mismatch_are_errors() -> None:
    """Asking about an agent the code lacks, or a version it does not declare, raises."""
    candidate = snapshot(make("intake", "1.1.0", accepts=[TICKET], emits=[REFUND_1_1]))
    with pytest.raises(RegistryError, match=r"no agent named 'intakes' \(known: intake\)"):
        can_i_deploy(candidate, LIVE, "intakes", "1.1.0")
    with pytest.raises(RegistryError, match=r"the code declares intake@1\.1\.0, not intake@1\.2"):
        can_i_deploy(candidate, LIVE, "intake", "1.2")
