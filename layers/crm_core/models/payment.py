"""What a payment received (回款) is made of: money against a contract, applied to its oldest open
instalments first (docs/decisions/0030-contracts-and-payments.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from crm_core.models import contract
from crm_core.models.common import EXAMPLE_USER_ID, RecordId, ShortText, StrictModel, Timestamp, record_model
from crm_core.models.deal import Amount
from crm_core.models.pipeline import Currency

Method = Literal["bank_transfer", "card", "cash", "check", "direct_debit", "other"]


def _positive(value: Any) -> Any:
    if value <= 0:
        raise ValueError("must be more than 0")
    return value


PositiveAmount = Annotated[Amount, AfterValidator(_positive)]


class PaymentFields(StrictModel):
    method: Method | None = None
    reference: ShortText | None = Field(None, description="The bank's or the customer's reference.")
    owner_id: RecordId | None = Field(
        None, description="Who recorded it (the role rules); the creator by default."
    )


class PaymentCreate(PaymentFields):
    contract_id: RecordId
    amount: PositiveAmount = Field(
        description="At most what the contract has outstanding (422 naming `amount` otherwise: no credit)."
    )
    currency: Currency = Field(description="The contract's currency (422 naming `currency` otherwise).")
    received_at: Timestamp | None = Field(None, description="When the money arrived; now by default.")


class PaymentUpdate(PaymentFields):
    """Only how it was paid and its reference change: a wrong amount is voided (DELETE) and recorded again."""


class PaymentOut(PaymentFields):
    contract_id: str
    amount: str
    currency: str
    received_at: str


PAYMENT_DEFAULTS: dict[str, object] = {
    "contract_id": None,
    "amount": None,
    "currency": None,
    "received_at": None,
    "method": None,
    "reference": None,
    "owner_id": None,
}

Payment = record_model("Payment", PaymentOut)
EXAMPLE_ID = "01JHC1PAYMENT0000000000001"
EXAMPLE: dict[str, Any] = {
    "contract_id": contract.EXAMPLE_ID,
    "amount": "6000.00",
    "currency": "EUR",
    "received_at": "2025-01-30T09:00:00.000Z",
    "method": "bank_transfer",
    "reference": "INV-2025-001",
    "owner_id": EXAMPLE_USER_ID,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("reference", "INV-2025-001b")


def example_input(n: int) -> dict[str, Any]:
    """A create body (its contract must exist in the tenant); ``n`` names it."""
    return {
        "contract_id": contract.EXAMPLE_ID,
        "amount": "1.00",
        "currency": "EUR",
        "reference": f"Example payment {n}",
    }


# What each of a payment's own events changes in the example, for the event catalog's examples.
EXAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "received": {"changes": {}},
    "voided": {"fields": [("archived", True), ("archived_at", "2025-01-31T09:00:00.000Z")]},
}
