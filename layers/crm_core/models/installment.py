"""What an ``installment.overdue`` event carries: one instalment of a contract's payment plan that fell due
unpaid (services/contract_timers.py), with the contract it belongs to."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crm_core.models.common import Closed


class OverdueInstallment(Closed):
    id: str = Field(description="The contract's id (an instalment has none of its own).")
    name: str = Field(description="The contract's name or number, and the instalment's due date.")
    number: str | None = Field(None, description="The contract's number.")
    company_id: str | None = None
    owner_id: str | None = None
    currency: str
    due_date: str
    amount: str
    paid: str
    unpaid: str
    occurred_at: str = Field(description="When it was reported (the day after its due date, or later).")


EXAMPLE_ID = "01JHC1C0NTRACT000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Engines support 2025: instalment due 2025-07-31",
    "number": "C-2025-0001",
    "company_id": "01JHC1C0MPANY0000000000001",
    "owner_id": "01JHC0WSER00000000000000AB",
    "currency": "EUR",
    "due_date": "2025-07-31",
    "amount": "6000.00",
    "paid": "1000.00",
    "unpaid": "5000.00",
    "occurred_at": "2025-08-01T00:00:00.000Z",
}
