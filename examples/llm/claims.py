"""A chat model reads a customer's email and hands payments a typed refund claim.

``reader`` is an LLM agent: it answers in the ``refund.claim`` contract's JSON Schema (strict
structured outputs), and its answer is validated before ``payments``, a plain agent, runs.
With ``OPENAI_API_KEY`` set it asks a real model (``OPENAI_BASE_URL`` for vLLM, Ollama or
another compatible server; ``SEAMLINE_EXAMPLE_MODEL`` to pick one). Without a key it runs
offline against seamline's fake chat server, scripted like a sloppy model: its first answer
writes the amount as prose, the contract's issues go back to it, and it corrects itself.

Run it: ``python examples/llm/claims.py``
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

import anyio
from pydantic import BaseModel, Field, StringConstraints

from seamline import Context, Contract, Finish, Outcome, Registry, Runtime, agent
from seamline.interop.llm import DEFAULT_MODEL, llm_agent
from seamline.testing import ChatReply, ChatRequest, FakeChatServer

if TYPE_CHECKING:
    from openai import AsyncOpenAI


class Email(BaseModel):
    """A customer's email, as the helpdesk received it."""

    sender: str
    body: str


class RefundClaim(BaseModel):
    """What payments needs to refund an order."""

    order_id: Annotated[str, StringConstraints(pattern=r"^ORD-[0-9]{4,}$")]
    amount: Decimal = Field(gt=0, decimal_places=2, description="The refund, in EUR.")
    reason: Literal["damaged", "not_received", "wrong_item"]
    iban: str = Field(description="Where the money goes.")


EMAIL = Contract(model=Email, name="support.email", version="1.0.0", owner="support")
CLAIM = Contract(
    model=RefundClaim, name="refund.claim", version="1.0.0", owner="payments",
    sensitive=["iban"], tracked=["order_id"],
)  # fmt: skip


@agent(name="payments", version="1.0.0", owner="payments", accepts=[CLAIM])
def payments(claim: RefundClaim, ctx: Context) -> Outcome:
    """Refund the claim (here: say so)."""
    return Finish({"refunded": f"{claim.amount} EUR", "order_id": claim.order_id})


def build_registry(model: str, client: AsyncOpenAI | None = None) -> Registry:
    """The reader (played by ``model``) and payments."""
    reader = llm_agent(
        name="reader", version="1.0.0", owner="support", accepts=[EMAIL], emits=[CLAIM],
        to="payments", model=model, client=client,
        instructions="Read the customer's email and write the refund claim it asks for.",
    )  # fmt: skip
    return Registry(agents=[reader, payments], contracts=[EMAIL, CLAIM])


MESSAGE = Email(
    sender="ana@example.com",
    body="Order ORD-20231 arrived smashed. Please refund the 89.90 EUR to DE89370400440532013000.",
)


def sloppy_model(request: ChatRequest) -> ChatReply:
    """A stand-in model: amount as prose at first, a clean answer once told what is wrong."""
    claim = {"order_id": "ORD-20231", "reason": "damaged", "iban": "DE89370400440532013000"}
    if "does not satisfy" in request.prompt:
        return ChatReply.json({**claim, "amount": "89.90"})
    return ChatReply.json({**claim, "amount": "89.90 EUR, the full price"})


async def main() -> dict[str, object]:
    """One email through reader and payments; offline unless an API key is set."""
    model = os.environ.get("SEAMLINE_EXAMPLE_MODEL", DEFAULT_MODEL)
    if os.environ.get("OPENAI_API_KEY"):
        return await _run(build_registry(model))
    import openai  # the llm extra

    with FakeChatServer(sloppy_model) as server:
        client = openai.AsyncOpenAI(base_url=server.url, api_key="offline")
        outcome = await _run(build_registry("sloppy-model", client))
    first_issue = server.requests[1].messages[-1]["content"].splitlines()[1]
    return {**outcome, "model calls": len(server.requests), "first answer's issue": first_issue}


async def _run(registry: Registry) -> dict[str, object]:
    runtime = Runtime(registry)
    result = await runtime.run("reader", MESSAGE, intent=MESSAGE.body)
    return {"status": str(result.status), "result": result.result}


if __name__ == "__main__":
    print(json.dumps(anyio.run(main), indent=2))
