"""The refund contract both framework adapters' tests hand off under."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from seamline import Contract, FailurePolicy


class RefundRequest(BaseModel):
    """What triage hands to refunds."""

    order_id: str
    amount: Decimal = Field(gt=0)


def refund_contract(**options: Any) -> Contract[RefundRequest]:
    """refund.request@1.0.0, owned by payments, with ``options`` (policy, gate...)."""
    return Contract(
        model=RefundRequest,
        name="refund.request",
        version="1.0.0",
        owner="payments",
        **options,
    )


REFUND = refund_contract(policy=FailurePolicy(feedback_retries=1))
"""One feedback round, then the dead-letter queue."""
