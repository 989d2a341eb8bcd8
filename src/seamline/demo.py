"""A customer-support workflow with deterministic agents, for ``seamline demo``.

intake -> triage -> refunds -> fulfillment, over four tickets that each show one seam:

1. a clean refund;
2. triage first sends a malformed refund request (amount as prose, a reason outside the
   enum); the contract rejects it, the issues go back to triage, and triage fixes it;
3. triage paraphrases the order value it was given (129.99 becomes "about 130"); the
   tracked fact catches it on every retry and the handoff lands in the dead-letter queue;
4. a refund above the auto-approval limit escalates to the payments on-call owner.

The refund contract is mid-migration, as real ones usually are: payments published
``refund.request@2.0.0`` (amount and currency become one ``Money`` value) and moved the
refunds agent to it, while triage still emits the deprecated 1.2.0. Every refund handoff is
upcast through the declared migration and carries a deprecation note; ``seamline contracts
check``, ``can-i-deploy``, ``audit`` and ``runbook`` on ``examples/support-desk`` show the
same change from the governance side.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from seamline.agents import Context, Escalate, Finish, HandOff, Outcome, agent
from seamline.contracts import (
    Budget,
    Constraints,
    Contract,
    FailurePolicy,
    Gate,
    TaskState,
    TextContent,
    ToolOutput,
    migration,
)
from seamline.registry import Registry

__all__ = ["GATED_APP", "TICKETS", "Ticket", "build_gated_registry", "build_registry"]

APP = "seamline.demo:build_registry"
GATED_APP = "seamline.demo:build_gated_registry"
"""How the CLI finds these agents again to resume or replay a demo workflow."""


def _decimal_string(value: object) -> object:
    """Refuse JSON numbers for money: they are binary floats and lose cents in transit."""
    if isinstance(value, int | float):
        raise ValueError('send money as a decimal string, e.g. "12.50"')
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    WithJsonSchema({"type": "string", "pattern": r"^(?!0+(\.0+)?$)[0-9]+(\.[0-9]{1,2})?$"}),
]
"""Money on the wire: a positive decimal string, exact to the cent.

pydantic publishes a Decimal as "a number or any string", wider than what the model takes;
senders build payloads from the published schema, so the schema says exactly what is valid
and the model takes nothing else (the generated contract tests check both).
"""


class Ticket(BaseModel):
    """A customer's message as it arrived."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    ticket_id: str
    """The helpdesk's id, e.g. T-1."""
    customer_id: str
    """Who wrote in."""
    channel: Literal["email", "chat", "phone"]
    """Where the message came from."""
    message: str
    """The customer's words, verbatim."""
    order_id: str | None = None
    """The order the customer named, if any."""
    legacy_format: bool = False
    """Tickets imported from the old helpdesk; triage summarises them (and loses precision)."""


class SupportCase(BaseModel):
    """A ticket matched to an order and ready for triage."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    ticket_id: str
    """The helpdesk's id."""
    customer_id: str
    """Who wrote in."""
    order_id: str = Field(pattern=r"^ORD-[0-9]{4,}$")
    """The matched order."""
    order_value: Amount = Field(
        gt=0, decimal_places=2, description="What the customer paid, exactly as billed."
    )
    category: Literal["refund", "shipping", "other"]
    """What the customer wants, as intake classified it."""
    message: str
    """The customer's words, verbatim."""
    legacy_format: bool = False
    """Imported from the old helpdesk."""


class RefundRequest(BaseModel):
    """What the refunds team needs to decide a refund."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    order_id: str = Field(pattern=r"^ORD-[0-9]{4,}$")
    """The order being refunded."""
    customer_id: str
    """Who asked."""
    order_value: Amount = Field(
        gt=0, decimal_places=2, description="Carried from intake unchanged (a tracked fact)."
    )
    amount: Amount = Field(
        gt=0, decimal_places=2, description="The refund asked for, in the order's currency."
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """ISO 4217 code."""
    reason: Literal["damaged", "not_received", "wrong_item", "changed_mind"]
    """Why, from a fixed list so refunds can report on it."""


class Money(BaseModel):
    """An amount in one currency; the two never travel apart."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    value: Amount = Field(gt=0, decimal_places=2, description="The amount, to the cent.")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """ISO 4217 code."""


class RefundRequestV2(BaseModel):
    """What the refunds team needs to decide a refund (v2: the refund is one Money value)."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    order_id: str = Field(pattern=r"^ORD-[0-9]{4,}$")
    """The order being refunded."""
    customer_id: str
    """Who asked."""
    order_value: Amount = Field(
        gt=0, decimal_places=2, description="Carried from intake unchanged (a tracked fact)."
    )
    refund: Money
    """The refund asked for."""
    reason: Literal["damaged", "not_received", "wrong_item", "changed_mind"]
    """Why, from a fixed list so refunds can report on it."""


class FulfillmentOrder(BaseModel):
    """An approved refund for logistics and payments to execute."""

    model_config = ConfigDict(use_attribute_docstrings=True)
    order_id: str
    """The refunded order."""
    refund_id: str
    """Payments' reference for the refund."""
    amount: Amount = Field(gt=0, decimal_places=2, description="What to pay back.")
    currency: str
    """ISO 4217 code."""
    return_label: bool
    """Whether the customer gets a prepaid return label."""


TICKET = Contract(
    model=Ticket, name="support.ticket", version="1.0.0", owner="support-intake",
    policy=FailurePolicy(feedback_retries=0),
)  # fmt: skip
CASE = Contract(
    model=SupportCase, name="support.case", version="1.0.0", owner="support-triage",
    tracked=("order_id", "order_value"),
)  # fmt: skip
# A real project writes a fixed retirement date (in seamline.toml); the demo keeps it four
# months ahead so it never expires under you.
_RETIRES = date.today() + timedelta(days=120)
REFUND = Contract(
    model=RefundRequest, name="refund.request", version="1.2.0", owner="payments",
    tracked=("order_id", "order_value"), fallback_owner="payments-oncall@example.com",
    policy=FailurePolicy(feedback_retries=2), retires=_RETIRES,
    changelog="currency is explicit instead of assumed USD",
)  # fmt: skip
REFUND_V2 = Contract(
    model=RefundRequestV2, name="refund.request", version="2.0.0", owner="payments",
    tracked=("order_id", "order_value"), fallback_owner="payments-oncall@example.com",
    policy=FailurePolicy(feedback_retries=2),
    changelog="amount and currency become one Money value, `refund`",
)  # fmt: skip


@migration("refund.request", "1.2.0", "2.0.0")
def money_from_amount(payload: dict[str, Any]) -> dict[str, Any]:
    """Amount and currency become one Money value."""
    rest = {k: v for k, v in payload.items() if k not in ("amount", "currency")}
    return {**rest, "refund": {"value": payload["amount"], "currency": payload["currency"]}}


FULFILLMENT = Contract(
    model=FulfillmentOrder, name="fulfillment.order", version="2.0.0", owner="logistics",
    tracked=("order_id",),
)  # fmt: skip

_ORDERS = {
    "ORD-1001": Decimal("129.99"),
    "ORD-1002": Decimal("54.50"),
    "ORD-1003": Decimal("129.99"),
    "ORD-1004": Decimal("899.00"),
}
_GATE_ABOVE = Decimal("100")
_AUTO_APPROVE_LIMIT = Decimal("500.00")


@agent(
    name="intake", version="1.4.0", owner="support-intake", accepts=[TICKET], emits=[CASE],
    capabilities=("intake",),
)  # fmt: skip
def intake(ticket: Ticket, ctx: Context) -> Outcome:
    """Match the ticket to its order and classify it."""
    order_id = ticket.order_id or "ORD-0000"
    value = _ORDERS.get(order_id)
    if value is None:
        return Escalate(reason=f"no order {order_id} for customer {ticket.customer_id}")
    record = {"order_id": order_id, "value": str(value), "currency": "USD", "status": "delivered"}
    lookup = ToolOutput(
        tool="orders.lookup",
        content=(TextContent(text=f"{order_id}: {value} USD, delivered"),),
        structuredContent=record,
    )
    # Remember the exact order record and the customer's words: later agents look them up
    # instead of relying on a summary passed along the chain.
    ctx.memory.put("order", record, kind="tool_output")
    ctx.memory.put("ticket", {"channel": ticket.channel, "message": ticket.message})
    words = ticket.message.lower()
    category = "refund" if "refund" in words or "money back" in words else "other"
    return HandOff(
        to="triage",
        payload=SupportCase(
            ticket_id=ticket.ticket_id, customer_id=ticket.customer_id, order_id=order_id,
            order_value=value, category=category, message=ticket.message,
            legacy_format=ticket.legacy_format,
        ),
        tasks={"identify_order": TaskState.COMPLETED, "classify": TaskState.COMPLETED,
               "refund": TaskState.DEFERRED},
        tool_outputs=[lookup],
    )  # fmt: skip


@agent(
    name="triage", version="2.1.0", owner="support-triage", accepts=[CASE], emits=[REFUND],
    capabilities=("triage",),
)  # fmt: skip
def triage(case: SupportCase, ctx: Context) -> Outcome:
    """Turn a refund case into a refund request.

    On a first attempt for ticket T-2 it writes the amount as prose and an unknown reason
    (the kind of output an LLM produces); it corrects both once the contract's issues come
    back as feedback. Legacy tickets are summarised first, so the order value it passes on
    is a paraphrase, and no amount of feedback can restore the exact figure.
    """
    if case.category != "refund":
        return Finish({"ticket_id": case.ticket_id, "resolution": "answered by FAQ bot"})
    reason = "damaged" if "broken" in case.message or "damaged" in case.message else "not_received"
    payload: dict[str, object] = {
        "order_id": case.order_id,
        "customer_id": case.customer_id,
        "order_value": str(case.order_value),
        "amount": str(case.order_value),
        "currency": "USD",
        "reason": reason,
    }
    if case.ticket_id == "T-2" and not ctx.feedback:
        payload["amount"] = f"${case.order_value} (full refund)"
        payload["reason"] = "item arrived broken"
    if case.legacy_format:
        payload["order_value"] = str(case.order_value.quantize(Decimal("1")))  # "about 130"
    return HandOff(
        capability="refunds",
        payload=payload,
        tasks={"identify_order": TaskState.COMPLETED, "classify": TaskState.COMPLETED,
               "refund": TaskState.IN_PROGRESS},
        constraints=Constraints(
            budget=Budget(limit=case.order_value, unit="USD"), compliance=frozenset({"pci"})
        ),
    )  # fmt: skip


@agent(
    name="refunds", version="3.1.0", owner="payments", accepts={"refund.request": "^2"},
    emits=[FULFILLMENT], capabilities=("refunds",),
)  # fmt: skip
def refunds(request: RefundRequestV2, ctx: Context) -> Outcome:
    """Check the refund against the order on record; approve within the limit, else escalate."""
    money = request.refund
    order = ctx.memory.get("order").value  # the exact record intake looked up
    if money.value > Decimal(order["value"]) or order["status"] != "delivered":
        return Escalate(reason=f"refund of {money.value} does not match order {order}")
    if money.value > _AUTO_APPROVE_LIMIT:
        return Escalate(
            reason=f"refund of {money.value} {money.currency} exceeds the "
            f"{_AUTO_APPROVE_LIMIT} auto-approval limit"
        )
    decision = {"approved": str(money.value), "currency": money.currency, "reason": request.reason}
    ctx.memory.put("refund_decision", decision, kind="decision")
    return HandOff(
        to="fulfillment",
        payload=FulfillmentOrder(
            order_id=request.order_id, refund_id=f"RF-{request.order_id[4:]}",
            amount=money.value, currency=money.currency,
            return_label=request.reason in ("damaged", "wrong_item"),
        ),
        tasks={"identify_order": TaskState.COMPLETED, "classify": TaskState.COMPLETED,
               "refund": TaskState.COMPLETED, "fulfil": TaskState.IN_PROGRESS},
    )  # fmt: skip


@agent(
    name="fulfillment", version="1.0.0", owner="logistics", accepts=[FULFILLMENT],
    capabilities=("fulfillment",),
)  # fmt: skip
def fulfillment(order: FulfillmentOrder, ctx: Context) -> Outcome:
    """Issue the refund and, where needed, a return label quoting the customer's words."""
    # Only what this step needs, within a budget: the decision and the ticket, by key.
    context = ctx.memory.context(keys=["refund_decision", "ticket"], max_bytes=2_000)
    remembered = {item.name: item.value for item in context.items}
    return Finish(
        {
            "order_id": order.order_id,
            "refund_id": order.refund_id,
            "refunded": f"{order.amount} {order.currency}",
            "return_label": order.return_label,
            "label_note": remembered["ticket"]["message"] if order.return_label else None,
        }
    )


def build_registry(*, gated: bool = False) -> Registry:
    """The demo's agents and contracts; with ``gated``, refunds above 100 wait for payments
    to approve them before the refunds agent runs (see :func:`build_gated_registry`)."""
    return Registry(
        agents=[intake, triage, refunds, fulfillment],
        contracts=[TICKET, CASE, REFUND, REFUND_V2, FULFILLMENT],
        migrations=[money_from_amount],
        name="support-desk",
        gates={("triage", "refunds"): REFUND_GATE} if gated else None,
    )


REFUND_GATE = Gate(
    when=lambda request: request.refund.value > _GATE_ABOVE,
    summary="Refund for order {order_id} ({reason}); the order was worth {order_value}",
    deadline=timedelta(hours=4),
    owner="payments",
)
"""Triage's refund requests above 100 wait for a person at payments."""


def build_gated_registry() -> Registry:
    """The demo with its refund gate on (``seamline demo --serve`` runs this one)."""
    return build_registry(gated=True)


TICKETS: tuple[tuple[str, Ticket], ...] = (
    (
        "Refund for a damaged blender",
        Ticket(ticket_id="T-1", customer_id="C-88", channel="email", order_id="ORD-1002",
               message="My blender arrived damaged, I want a refund please."),
    ),
    (
        "Malformed handoff caught and fixed by feedback",
        Ticket(ticket_id="T-2", customer_id="C-12", channel="chat", order_id="ORD-1001",
               message="The lamp is broken. Refund me."),
    ),
    (
        "Paraphrased order value ends in the dead-letter queue",
        Ticket(ticket_id="T-3", customer_id="C-40", channel="phone", order_id="ORD-1003",
               message="Never received my parcel, refund please.", legacy_format=True),
    ),
    (
        "Large refund escalated to a human owner",
        Ticket(ticket_id="T-4", customer_id="C-77", channel="email", order_id="ORD-1004",
               message="The TV is damaged, I want a refund."),
    ),
)  # fmt: skip
