"""What a quote is made of: lines of products on a deal, in one currency, with totals the CRM derives
exactly (docs/decisions/0024)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from crm_core.models import contact, deal, product
from crm_core.models.campaign import FromAddress
from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Closed,
    RecordId,
    ShortText,
    StrictModel,
    record_model,
)
from crm_core.models.deal import Amount
from crm_core.models.product import CurrencyCode, Fraction

MAX_LINES = 100
MAX_QUANTITY = Decimal("1e9")

QuoteStatus = Literal["draft", "sent", "accepted", "declined", "expired"]


def _quantity(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0 or value >= MAX_QUANTITY:
        raise ValueError("must be a decimal quantity above 0 and under 10^9")
    if -value.as_tuple().exponent > 4:  # type: ignore[operator]
        raise ValueError("has more than 4 decimal places")
    return Decimal(format(value, "f"))


Quantity = Annotated[Decimal, AfterValidator(_quantity)]


class LineItem(StrictModel):
    """One line as it is sent: a product's price and tax rate (in the quote's currency) are its defaults."""

    product_id: RecordId | None = None
    description: ShortText | None = Field(None, description="The product's name by default.")
    quantity: Quantity = Field(description="A decimal string or a JSON number, above 0.")
    unit_price: Amount | None = Field(
        None, description="The product's price in the quote's currency by default (422 when it has none)."
    )
    discount: Fraction | None = Field(None, description="A decimal fraction of the line: 0.1 is 10% off.")
    tax_rate: Fraction | None = Field(None, description="The product's tax rate by default; 0 without one.")


class LineItemOut(Closed):
    """A line as answered: what was sent (or defaulted), and its amounts, each rounded half-even to the
    currency's minor unit."""

    product_id: str | None
    description: str | None
    quantity: str
    unit_price: str
    discount: str
    tax_rate: str
    amount: str = Field(description="quantity x unit_price, rounded.")
    discount_amount: str = Field(description="amount x discount, rounded.")
    tax_amount: str = Field(description="(amount - discount_amount) x tax_rate, rounded.")
    total: str = Field(description="amount - discount_amount + tax_amount.")


class QuoteFields(StrictModel):
    title: ShortText | None = Field(None, description="What it offers, in a few words (for lists).")
    deal_id: RecordId | None = None
    contact_id: RecordId | None = Field(None, description="Whom it is sent to (their email).")
    currency: CurrencyCode | None = None
    valid_until: dt.date | None = Field(
        None, description="The last day it may be accepted; a sent quote expires after it (UTC)."
    )
    line_items: Annotated[list[LineItem], Field(max_length=MAX_LINES)] | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="Terms or a note to the customer, shown under the lines (PDF and page)."
    )
    owner_id: RecordId | None = None
    win_deal_on_accept: bool | None = Field(
        None, description="Accepting it moves its deal to the pipeline's won stage (true by default)."
    )


class QuoteCreate(QuoteFields):
    deal_id: RecordId
    currency: CurrencyCode


class QuoteUpdate(QuoteFields):
    """Every field optional; only a draft is changed (409 otherwise). ``line_items`` replaces every line."""


class QuoteOut(QuoteFields):
    line_items: list[LineItemOut] | None = None  # type: ignore[assignment]
    number: str = Field(description="Per tenant and year, gapless: Q-2026-0001.")
    status: QuoteStatus
    subtotal: str = Field(description="The lines' amounts summed.")
    discount_total: str
    tax_total: str
    total: str = Field(description="subtotal - discount_total + tax_total.")
    sent_at: str | None = None
    accepted_at: str | None = None
    declined_at: str | None = None
    expired_at: str | None = None


class SendRequest(StrictModel):
    """The email that takes the quote's link to its contact."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, serialize_by_alias=True)

    from_: FromAddress | None = Field(
        None, alias="from", description="The sender; the calling user's own address by default."
    )
    message: Annotated[str, Field(max_length=5000)] | None = Field(
        None, description="A note above the link, in plain text."
    )


QUOTE_DEFAULTS: dict[str, object] = {
    "title": None,
    "deal_id": None,
    "contact_id": None,
    "currency": None,
    "valid_until": None,
    "line_items": [],
    "notes": None,
    "owner_id": None,
    "win_deal_on_accept": True,
    "number": None,
    "status": "draft",
    "subtotal": "0",
    "discount_total": "0",
    "tax_total": "0",
    "total": "0",
    "sent_at": None,
    "accepted_at": None,
    "declined_at": None,
    "expired_at": None,
}

Quote = record_model("Quote", QuoteOut)
EXAMPLE_ID = "01JHC1Q0TE0000000000000001"
EXAMPLE: dict[str, Any] = {
    "title": "Engine service, three years",
    "deal_id": deal.EXAMPLE_ID,
    "contact_id": contact.EXAMPLE_ID,
    "currency": "EUR",
    "valid_until": "2025-03-31",
    "line_items": [
        {
            "product_id": product.EXAMPLE_ID,
            "description": "Engine service plan",
            "quantity": "3",
            "unit_price": "1250.00",
            "discount": "0.1",
            "tax_rate": "0.2",
            "amount": "3750.00",
            "discount_amount": "375.00",
            "tax_amount": "675.00",
            "total": "4050.00",
        }
    ],
    "notes": "Payable within 30 days.",
    "owner_id": EXAMPLE_USER_ID,
    "win_deal_on_accept": True,
    "number": "Q-2025-0001",
    "status": "draft",
    "subtotal": "3750.00",
    "discount_total": "375.00",
    "tax_total": "675.00",
    "total": "4050.00",
    "sent_at": None,
    "accepted_at": None,
    "declined_at": None,
    "expired_at": None,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("valid_until", "2025-04-30")
_SENT, _ANSWERED = "2025-03-01T09:00:00.000Z", "2025-03-03T14:30:00.000Z"
# The events of its own moves: the fields each changes, and who sends it when it is not a user.
EXAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "sent": {"fields": [("status", "sent"), ("sent_at", _SENT)]},
    "accepted": {
        "fields": [("status", "accepted"), ("accepted_at", _ANSWERED)],
        "actor": {"type": "system", "id": "quote_page"},
    },
    "declined": {
        "fields": [("status", "declined"), ("declined_at", _ANSWERED)],
        "actor": {"type": "system", "id": "quote_page"},
    },
    "expired": {
        "fields": [("status", "expired"), ("expired_at", "2025-04-01T00:00:00.000Z")],
        "actor": {"type": "system", "id": "quote_expiry"},
    },
}


def example_input(n: int) -> dict[str, Any]:
    """A create body (its deal_id is named by whoever uses it: the example's deal)."""
    return {
        "deal_id": deal.EXAMPLE_ID,
        "currency": "EUR",
        "line_items": [{"description": f"Service {n}", "quantity": "1", "unit_price": "100.00"}],
    }
