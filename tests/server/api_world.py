"""A small support desk behind the HTTP API: two teams, a gate, dead letters, a secret.

intake (support) hands a refund to payer (payments) under ``refund``, which payments owns
and gates above 100; the IBAN is sensitive in both contracts. Four claims leave a completed
workflow, one waiting at its gate, a dead letter payments owns (intake sent a negative
amount) and one support owns (intake crashed quoting the IBAN). Three tokens act for
payments, support and, as admin, ops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field

from seamline import (
    Context,
    Contract,
    FailurePolicy,
    Finish,
    HandOff,
    Outcome,
    Registry,
    Runtime,
    agent,
)
from seamline.access import Access, Caller
from seamline.contracts import Gate
from seamline.project import load_project
from seamline.server import create_app
from seamline.stores import Store

IBAN = "DE89370400440532013000"
"""The sensitive value no response may contain."""
TEAMS = ("payments", "support", "ops")


class Claim(BaseModel):
    """A customer's claim, as support takes it in."""

    claim_id: str
    amount: Decimal = Field(gt=0)
    iban: str


class Refund(BaseModel):
    """A refund payments is asked to pay out."""

    claim_id: str
    amount: Decimal = Field(gt=0)
    iban: str


def registry(deadline: timedelta = timedelta(hours=4)) -> Registry:
    """The desk; refunds above 100 wait for payments for ``deadline``."""
    claim = Contract(
        model=Claim,
        name="claim",
        version="1.0.0",
        owner="support",
        sensitive=["iban"],
        policy=FailurePolicy(feedback_retries=0),
    )
    refund = Contract(
        model=Refund,
        name="refund",
        version="1.0.0",
        owner="payments",
        sensitive=["iban"],
        fallback_owner="payments-oncall@example.com",
        policy=FailurePolicy(feedback_retries=0),
        gate=Gate(
            when=lambda refund: refund.amount > 100,
            summary="Refund {amount} on claim {claim_id} to {iban}",
            deadline=deadline,
        ),
    )

    @agent(name="intake", version="1.0.0", owner="support", accepts=[claim], emits=[refund])
    def intake(claim: Claim, ctx: Context) -> Outcome:
        if claim.claim_id.startswith("CRASH"):
            raise RuntimeError(f"cannot reach the bank for {claim.iban}")
        amount = Decimal("-1") if claim.claim_id.startswith("BAD") else claim.amount
        refund = Refund.model_construct(claim_id=claim.claim_id, amount=amount, iban=claim.iban)
        return HandOff(to="payer", payload=refund)

    @agent(name="payer", version="1.0.0", owner="payments", accepts=[refund])
    def payer(refund: Refund, ctx: Context) -> Outcome:
        return Finish({"paid": refund.claim_id, "amount": str(refund.amount)})

    return Registry(agents=[intake, payer], contracts=[claim, refund])


def build_registry() -> Registry:
    """The desk with its default gate deadline (``--app`` target)."""
    return registry()


@dataclass(frozen=True, slots=True)
class World:
    """The desk's runtime, its API, its tokens and the ids its claims left."""

    runtime: Runtime
    app: FastAPI
    secrets: dict[str, str]
    """Token secret by team."""
    completed: str
    waiting: str
    gate: str
    payments_letter: str
    support_letter: str

    def auth(self, team: str | None) -> dict[str, str]:
        """The Authorization header of ``team``'s token (none for None)."""
        return {"Authorization": f"Bearer {self.secrets[team]}"} if team else {}

    @asynccontextmanager
    async def client(self, team: str | None = "ops") -> AsyncIterator[httpx.AsyncClient]:
        """An in-process client acting as ``team``."""
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", headers=self.auth(team)
        ) as client:
            yield client


async def build_world(
    store: Store, *, deadline: timedelta = timedelta(hours=4), **options: Any
) -> World:
    """Run the four claims into ``store`` and put the API in front of it."""
    runtime = Runtime(registry(deadline), store)
    ids = {}
    for claim_id, amount in (("C-1", "50"), ("C-2", "500"), ("BAD-3", "20"), ("CRASH-4", "20")):
        claim = Claim(claim_id=claim_id, amount=Decimal(amount), iban=IBAN)
        result = await runtime.run("intake", claim, intent=f"refund claim {claim_id}")
        ids[claim_id] = result
    access = Access(store)
    operator = Caller.operator()
    secrets = {
        team: access.issue(team, by=operator, admin=team == "ops", name=f"{team}-bot").secret
        for team in TEAMS
    }
    project = load_project(None, app=f"{__name__}:build_registry")
    app = create_app(runtime, project=project, **options)
    letters = {ids[claim].dead_letter_id for claim in ("BAD-3", "CRASH-4")}
    assert None not in letters
    return World(
        runtime=runtime,
        app=app,
        secrets=secrets,
        completed=ids["C-1"].workflow_id,
        waiting=ids["C-2"].workflow_id,
        gate=runtime.gates()[0].id,
        payments_letter=str(ids["BAD-3"].dead_letter_id),
        support_letter=str(ids["CRASH-4"].dead_letter_id),
    )
