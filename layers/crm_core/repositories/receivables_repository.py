"""DynamoDB access for the receivables kept per company (services/contracts.py). No Scan."""

from __future__ import annotations

from crm_core.repositories import keys
from crm_core.repositories.table import ReceivablesTotal


def company_receivables(tenant_id: str, company_id: str) -> list[ReceivablesTotal]:
    """A company's receivables by currency: one Query (a few items, one per currency)."""
    return list(ReceivablesTotal.query(keys.receivables_pk(tenant_id, company_id), consistent_read=False))
