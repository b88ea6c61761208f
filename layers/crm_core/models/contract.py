"""What a contract is made of: a term, a value and the payment plan that sums to it, and what the CRM derives
from the payments received against it (docs/decisions/0030-contracts-and-payments.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from crm_core.models import company, contact, deal
from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Closed,
    RecordId,
    ShortText,
    StrictModel,
    Tags,
    record_model,
)
from crm_core.models.deal import Amount
from crm_core.models.pipeline import Currency
from crm_core.models.quote import LineItemOut

ContractStatus = Literal["draft", "active", "expired", "terminated"]
InstallmentStatus = Literal["open", "paid", "overdue"]
MAX_INSTALLMENTS = 60
MAX_REMINDER_DAYS = 366


class InstallmentIn(StrictModel):
    """One instalment of the plan: what is due, and when."""

    due_date: dt.date
    amount: Amount


PaymentPlan = Annotated[
    list[InstallmentIn],
    Field(
        max_length=MAX_INSTALLMENTS,
        description="The instalments, summing exactly to `value` (422 naming `payment_plan` otherwise), each "
        "due on or after `start_date`. Kept in due-date order. Default: the whole value due on `start_date`.",
    ),
]


class ContractFields(StrictModel):
    name: ShortText | None = None
    deal_id: RecordId | None = None
    quote_id: RecordId | None = Field(
        None, description="The accepted quote the contract was made from (a checked reference)."
    )
    company_id: RecordId | None = None
    contact_id: RecordId | None = None
    owner_id: RecordId | None = Field(
        None,
        description="Who is reminded of its renewal and its overdue instalments; the creator by default.",
    )
    start_date: dt.date | None = None
    end_date: dt.date | None = Field(None, description="The term's last day (inclusive).")
    value: Amount | None = None
    currency: Currency | None = None
    payment_plan: PaymentPlan | None = None
    status: ContractStatus | None = Field(
        None,
        description="`draft` → `active` → `expired` (after `end_date`, by the CRM) or `terminated`; a draft "
        " may be terminated too. Any other move is a 422 naming `status`.",
    )
    renewal_reminder_days: Annotated[int, Field(ge=0, le=MAX_REMINDER_DAYS)] | None = Field(
        None,
        description="The owner is reminded this many days before `end_date` (once), while the contract is "
        "active and not renewed; 0: no reminder. Default 30.",
    )
    tags: Tags | None = None


class ContractCreate(ContractFields):
    """``value`` and ``currency`` are required, unless the contract is made from an accepted quote
    (``quote_id``): its total and currency are the contract's, and its lines are kept on it."""

    start_date: dt.date
    end_date: dt.date


class ContractUpdate(ContractFields):
    """Every field optional; a field sent as null is cleared (or takes its default)."""


class Installment(Closed):
    """An instalment as the CRM keeps it: payments are applied to the oldest open instalments first."""

    due_date: str
    amount: str
    paid: str = Field(description="What the payments received cover of it.")
    status: InstallmentStatus = Field(
        description="`paid` when covered; `overdue` when not, after its due date (UTC); else `open`."
    )


class ContractOut(ContractFields):
    """A contract as answered: its fields and those derived from its payments."""

    number: str | None = Field(None, description="Per tenant and year, gapless: `C-2026-0001`.")
    paid: str | None = Field(None, description="The payments received (not voided), in `currency`.")
    outstanding: str | None = Field(None, description="`value` less `paid`.")
    overdue: str | None = Field(
        None, description="What is still unpaid of the instalments whose due date has passed."
    )
    installments: list[Installment] = Field(
        default_factory=list, description="The payment plan with what is paid of each instalment."
    )
    renewed_from: str | None = Field(None, description="The contract whose renewal this one is.")
    renewed_to: str | None = Field(None, description="The contract renewing this one (POST /renew).")
    line_items: list[LineItemOut] | None = Field(
        None, description="The lines of the accepted quote it was made from, as the quote answers them."
    )


class RenewalInput(StrictModel):
    """The next term; what is not given follows from the contract renewed: it starts the day after its
    end, lasts as long, has the same value, and its instalments fall as many days after its start."""

    start_date: dt.date | None = None
    end_date: dt.date | None = None
    value: Amount | None = None
    payment_plan: PaymentPlan | None = None
    status: Literal["draft", "active"] | None = Field(None, description="Default `active`.")
    renewal_reminder_days: Annotated[int, Field(ge=0, le=MAX_REMINDER_DAYS)] | None = None


class CompanyReceivables(Closed):
    """A company's contracts (not drafts, not archived) in one currency."""

    currency: str
    contracts: int
    value: str
    paid: str
    outstanding: str
    overdue: str


class CompanyReceivablesPage(Closed):
    items: list[CompanyReceivables]


CONTRACT_DEFAULTS: dict[str, object] = {
    "name": None,
    "deal_id": None,
    "quote_id": None,
    "company_id": None,
    "contact_id": None,
    "owner_id": None,
    "start_date": None,
    "end_date": None,
    "value": None,
    "currency": None,
    "payment_plan": [],
    "status": "draft",
    "renewal_reminder_days": 30,
    "tags": [],
    "number": None,
    "paid": None,
    "outstanding": None,
    "overdue": None,
    "installments": [],
    "renewed_from": None,
    "renewed_to": None,
    "line_items": None,
}

Contract = record_model("Contract", ContractOut)
EXAMPLE_ID = "01JHC1C0NTRACT000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Engines support 2025",
    "deal_id": deal.EXAMPLE_ID,
    "quote_id": None,
    "company_id": company.EXAMPLE_ID,
    "contact_id": contact.EXAMPLE_ID,
    "owner_id": EXAMPLE_USER_ID,
    "start_date": "2025-01-01",
    "end_date": "2025-12-31",
    "value": "12000.00",
    "currency": "EUR",
    "payment_plan": [
        {"due_date": "2025-01-31", "amount": "6000.00"},
        {"due_date": "2025-07-31", "amount": "6000.00"},
    ],
    "status": "active",
    "renewal_reminder_days": 30,
    "tags": [],
    "number": "C-2025-0001",
    "paid": "6000.00",
    "outstanding": "6000.00",
    "overdue": "0.00",
    "installments": [
        {"due_date": "2025-01-31", "amount": "6000.00", "paid": "6000.00", "status": "paid"},
        {"due_date": "2025-07-31", "amount": "6000.00", "paid": "0.00", "status": "open"},
    ],
    "renewed_from": None,
    "renewed_to": None,
    "line_items": None,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("renewal_reminder_days", 60)
_SYSTEM = {"type": "system", "id": "contracts"}
# What each of a contract's own events changes in the example, for the event catalog's examples.
EXAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "activated": {"changes": {"status": {"from": "draft", "to": "active"}}},
    "renewed": {"fields": [("renewed_to", "01JHC1C0NTRACT000000000002")]},
    "expired": {"fields": [("status", "expired")], "actor": _SYSTEM},
    "terminated": {"fields": [("status", "terminated")]},
}


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` names it."""
    return {
        "name": f"Example contract {n}",
        "start_date": "2030-01-01",
        "end_date": "2030-12-31",
        "value": "1000000.00",
        "currency": "EUR",
        "payment_plan": [{"due_date": "2030-12-31", "amount": "1000000.00"}],
    }
