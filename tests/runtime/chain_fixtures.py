"""Small agents and contracts shared by the runtime tests and the crash-test worker."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from seamline import Agent, Context, Contract, FailurePolicy, Finish, HandOff, Outcome, agent


class Order(BaseModel):
    """A refund in flight."""

    order_id: str = Field(pattern=r"^ORD-\d+$")
    amount: Decimal = Field(gt=0)
    reason: Literal["damaged", "late"]
    step: int = 0


ORDER = Contract(
    model=Order,
    name="order",
    version="1.0.0",
    owner="tests",
    tracked=("order_id", "amount"),
    policy=FailurePolicy(feedback_retries=2),
)


def relay(name: str, to: str | None) -> Agent:
    """An agent that passes the order on with ``step + 1``, or finishes when ``to`` is None."""

    @agent(name=name, version="1.0.0", owner="tests", accepts=[ORDER], emits=[ORDER])
    def step(order: Order, ctx: Context) -> Outcome:
        if to is None:
            return Finish({"order_id": order.order_id, "steps": order.step})
        return HandOff(to=to, payload=order.model_copy(update={"step": order.step + 1}))

    return step


def chain(length: int) -> list[Agent]:
    """Agents a0 -> a1 -> ... -> a{length-1}, the last one finishing."""
    return [relay(f"a{i}", f"a{i + 1}" if i < length - 1 else None) for i in range(length)]


ORDER_1 = Order(order_id="ORD-1", amount=Decimal("12.50"), reason="damaged")
