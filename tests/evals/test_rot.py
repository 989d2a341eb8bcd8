"""The context-rot meter on real workflows, and ``seamline rot``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from seamline import (
    Context,
    Contract,
    ContractDeprecationWarning,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    SqliteStore,
    agent,
)
from seamline.cli import app
from seamline.contracts import MASK, Budget, Constraints
from seamline.demo import TICKETS, build_registry
from seamline.evals import Change, context_rot
from seamline.exceptions import NotFoundError
from seamline.ledger import Ledger

DEADLINE = datetime(2030, 1, 1, tzinfo=UTC)


class Claim(BaseModel):
    """What the first two agents pass on."""

    claim_id: str
    amount: str
    iban: str


class Payout(BaseModel):
    """What the last agent needs: no amount, no iban."""

    claim_id: str


CLAIM = Contract(
    model=Claim,
    name="claim",
    version="1.0.0",
    owner="claims",
    tracked=("claim_id", "amount", "iban"),
    sensitive=("iban",),
    rewrites={"amount": ["assessor"]},
    policy=FailurePolicy(feedback_retries=0),
)
PAYOUT = Contract(model=Payout, name="payout", version="1.0.0", owner="pay")


def registry(amount_to: str = "80.00", deadline_shift: int = 0) -> Registry:
    """intake -> assessor (rewrites the amount, tightens or loosens) -> payer (no amount)."""

    @agent(name="intake", version="1.0.0", owner="claims", accepts=[CLAIM], emits=[CLAIM])
    def intake(claim: Claim, ctx: Context) -> Outcome:
        return HandOff(to="assessor", payload=claim)

    @agent(name="assessor", version="1.0.0", owner="claims", accepts=[CLAIM], emits=[PAYOUT])
    def assessor(claim: Claim, ctx: Context) -> Outcome:
        tighter = ctx.constraints.model_copy(
            update={
                "deadline": DEADLINE + timedelta(days=deadline_shift),
                "compliance": frozenset({"pci"}),
            }
        )
        return HandOff(to="payer", payload=Payout(claim_id=claim.claim_id), constraints=tighter)

    @agent(name="payer", version="1.0.0", owner="pay", accepts=[PAYOUT])
    def payer(payout: Payout, ctx: Context) -> Outcome:
        return Finish("paid")

    return Registry(agents=[intake, assessor, payer], contracts=[CLAIM, PAYOUT])


START = Claim(claim_id="C-1", amount="100.00", iban="DE89370400440532013000")
BOUNDS = Constraints(budget=Budget(limit=100), deadline=DEADLINE + timedelta(days=5))


def run(reg: Registry, tmp_path: Path, payload: Any = START) -> tuple[Ledger, str]:
    """Run a claim into a fresh SQLite ledger; return the ledger and workflow id."""
    store = SqliteStore(tmp_path / "rot.db")
    result = Runtime(reg, store).run_sync(
        "intake", payload, intent="pay claim C-1", constraints=BOUNDS
    )
    return Ledger(store), result.workflow_id


def test_a_clean_chain_keeps_everything_in_scope(tmp_path: Path) -> None:
    """Facts the payer's contract lacks are out of scope with the registry, dropped without."""
    reg = registry()
    ledger, workflow = run(reg, tmp_path)
    report = context_rot(ledger, workflow, reg)
    assert [hop.route for hop in report.hops] == [
        "external → intake",
        "intake → assessor",
        "assessor → payer",
    ]
    last = report.hops[-1]
    changes = {d.item: d.change for d in last.divergences}
    assert changes == {
        "constraint compliance": Change.ADDED,
        "constraint deadline": Change.TIGHTENED,
    }
    assert last.fidelity == 1.0 and report.fidelity == 1.0
    unscoped = context_rot(ledger, workflow)
    dropped = {d.item for d in unscoped.hops[-1].divergences if d.change is Change.DROPPED}
    assert dropped == {"fact amount", "fact iban"}
    # intent, budget, deadline, claim_id intact; amount and iban not handed on
    assert unscoped.fidelity == pytest.approx(4 / 6)


def test_a_loosened_constraint_is_caught_at_its_first_hop(tmp_path: Path) -> None:
    """A later deadline is rejected at the boundary; the meter shows where it first appeared."""
    reg = registry(deadline_shift=30)
    ledger, workflow = run(reg, tmp_path)
    report = context_rot(ledger, workflow, reg)
    [loosened] = [d for d in report.divergences if d.change is Change.LOOSENED]
    assert loosened.item == "constraint deadline" and loosened.hop == 2 and loosened.caught
    assert loosened.was == (DEADLINE + timedelta(days=5)).isoformat()
    assert not report.hops[-1].delivered
    assert report.fidelity == 1.0  # nothing loose reached a receiver


def test_the_demo_paraphrase_is_caught_and_masked_values_never_show(tmp_path: Path) -> None:
    """T-3: triage rounds 129.99 to 130 on every attempt; all three are caught at hop 2."""
    store = SqliteStore(tmp_path / "demo.db")
    runtime = Runtime(build_registry(), store)
    _, ticket = TICKETS[2]
    with pytest.warns(ContractDeprecationWarning):
        result = runtime.run_sync("intake", ticket, intent=ticket.message)
    report = context_rot(runtime.ledger, result.workflow_id, build_registry())
    [changed] = [d for d in report.divergences if d.change is Change.CHANGED]
    assert (changed.item, changed.hop, changed.was, changed.now) == (
        "fact order_value",
        2,
        "129.99",
        "130",
    )
    assert changed.caught
    rejected = [hop for hop in report.hops if not hop.delivered]
    assert len(rejected) == 3 and all(hop.kept < hop.tracked for hop in rejected)


def test_sensitive_facts_are_masked(tmp_path: Path) -> None:
    """The iban is tracked and sensitive: its value shows as the mask everywhere."""
    ledger, workflow = run(registry(), tmp_path)
    text = json.dumps(context_rot(ledger, workflow).as_dict(), ensure_ascii=False)
    assert START.iban not in text and MASK in text


def test_unknown_workflow_is_not_found(tmp_path: Path) -> None:
    """A wrong id says how to find the right one."""
    ledger = Ledger(SqliteStore(tmp_path / "empty.db"))
    with pytest.raises(NotFoundError, match="seamline workflows list"):
        context_rot(ledger, "nope")


runner = CliRunner()


def test_cli_prints_the_meter_and_json(tmp_path: Path) -> None:
    """`seamline rot ID` draws the hops; --json is one object; an unknown id is one line."""
    _, workflow = run(registry(), tmp_path)
    store = str(tmp_path / "rot.db")
    out = runner.invoke(app, ["rot", workflow, "--store", store], env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.stderr
    assert "assessor → payer" in out.stdout and "constraint deadline tightened" in out.stdout
    assert "pass --app to scope them" in out.stdout  # no app recorded with this workflow
    assert START.iban not in out.stdout
    data = json.loads(runner.invoke(app, ["rot", workflow, "--store", store, "--json"]).stdout)
    assert data["workflow_id"] == workflow and len(data["hops"]) == 3
    assert {d["change"] for d in data["divergences"]} >= {"dropped", "tightened", "added"}
    bad = runner.invoke(app, ["rot", "nope", "--store", store])
    assert bad.exit_code == 1
    assert bad.stderr.count("\n") == 1 and "no workflow 'nope'" in bad.stderr
