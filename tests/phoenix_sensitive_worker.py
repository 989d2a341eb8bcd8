"""Runs a chain whose payload holds a sensitive IBAN, exporting spans over OTLP/HTTP."""

from __future__ import annotations

import sys

import anyio
from pydantic import BaseModel

from seamline import Context, Contract, Finish, HandOff, Outcome, Registry, Runtime, agent
from seamline.evals import DEFAULT_EVALUATORS, Subject, Verdict, evaluator
from seamline.telemetry import configure


class Payout(BaseModel):
    """Money to a bank account."""

    order_id: str
    iban: str


PAYOUT = Contract(model=Payout, name="payout", version="1.0.0", owner="pay", sensitive=["iban"])


@agent(name="payer", version="1.0.0", owner="pay", accepts=[PAYOUT], emits=[PAYOUT])
def payer(payout: Payout, ctx: Context) -> Outcome:
    """Remembers the order and passes the payout on."""
    ctx.memory.put("order", {"order_id": payout.order_id})
    return HandOff(to="bank", payload=payout)


@agent(name="bank", version="1.0.0", owner="pay", accepts=[PAYOUT])
def bank(payout: Payout, ctx: Context) -> Outcome:
    """Pays and reads what was remembered."""
    ctx.memory.get("order")
    return Finish({"paid": payout.order_id})


@evaluator(mode="flagging")
def dutch_account(handoff: Subject) -> Verdict:
    """Quotes the IBAN in its explanation: the runtime must mask it before it is exported."""
    iban: str = handoff.payload.iban  # type: ignore[attr-defined]
    return Verdict(iban.startswith("NL"), score=0.0, explanation=f"{iban} is not Dutch")


async def main(endpoint: str, iban: str) -> None:
    provider = configure("otlp-http", endpoint=endpoint)
    registry = Registry(agents=[payer, bank], contracts=[PAYOUT])
    runtime = Runtime(registry, evaluators=[*DEFAULT_EVALUATORS, dutch_account])
    await runtime.run("payer", Payout(order_id="ORD-77", iban=iban), intent="pay ORD-77")
    provider.force_flush()
    provider.shutdown()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
