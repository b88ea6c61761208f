"""What a deal is made of, as the API takes it. ``status`` and ``closed_at`` are derived from the stage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from crm_core.models import company, contact, pipeline
from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Custom,
    RecordId,
    ShortText,
    StrictModel,
    Tags,
    record_model,
)
from crm_core.models.pipeline import Currency, StageId

MAX_AMOUNT = Decimal("1e15")


def _amount(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
        raise ValueError("must be a decimal amount from 0 to 10^15")
    if -value.as_tuple().exponent > 4:  # type: ignore[operator]
        raise ValueError("has more than 4 decimal places")
    # Answered as it was written in plain digits: 1e10 is "10000000000", -0 is "0".
    return abs(value) if value.is_zero() else Decimal(format(value, "f"))


# A JSON number is accepted, and so is a decimal string ("12500.00"); stored and answered exactly.
Amount = Annotated[Decimal, AfterValidator(_amount)]


class DealFields(StrictModel):
    name: ShortText | None = None
    pipeline_id: RecordId | None = None
    stage_id: StageId | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    close_date: dt.date | None = None
    owner_id: RecordId | None = None
    company_id: RecordId | None = None
    contact_ids: Annotated[list[RecordId], Field(max_length=50)] | None = None
    lost_reason: ShortText | None = None
    tags: Tags | None = None
    custom: Custom | None = None


class DealCreate(DealFields):
    name: ShortText


class DealUpdate(DealFields):
    """Every field optional; a field sent as null is cleared."""


class DealOut(DealFields):
    """A deal as answered: its fields and the ones derived from its stage (the deals and the contacts
    functions both answer deals)."""

    status: Literal["open", "won", "lost"] = Field(description="From the stage's kind.")
    closed_at: str | None = Field(None, description="When the deal entered a won or lost stage.")


DEAL_DEFAULTS: dict[str, object] = {
    "name": None,
    "pipeline_id": None,
    "stage_id": None,
    "amount": None,
    "currency": None,
    "close_date": None,
    "owner_id": None,
    "company_id": None,
    "contact_ids": [],
    "lost_reason": None,
    "tags": [],
    "custom": {},
    "status": "open",
    "closed_at": None,
}

# The record as the API answers it, and as its events carry it.
Deal = record_model("Deal", DealOut)
EXAMPLE_ID = "01JHC1DEA10000000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Engines renewal",
    "pipeline_id": pipeline.EXAMPLE_ID,
    "stage_id": "qualified",
    "amount": "12500.00",
    "currency": "EUR",
    "close_date": "2025-03-31",
    "owner_id": EXAMPLE_USER_ID,
    "company_id": company.EXAMPLE_ID,
    "contact_ids": [contact.EXAMPLE_ID],
    "lost_reason": None,
    "tags": [],
    "custom": {},
    "status": "open",
    "closed_at": None,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("amount", "14000.00")


def example_input(n: int) -> dict[str, Any]:
    """A create body (in the tenant's default pipeline); ``n`` names it."""
    return {"name": f"Example deal {n}", "amount": "1000.00", "close_date": "2030-01-31"}
