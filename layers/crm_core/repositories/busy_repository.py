"""DynamoDB access for the tenants' busy time: the function-seconds a tenant's requests took in one window,
summed from every function container (crm_core.concurrency). One item per tenant and window, expiring with
the TTL, shaped as the rate limit's windows are (``RateWindowItem``: a number added to, the total
answered)."""

from __future__ import annotations

from crm_core.repositories import keys, tenant_repository


def add_busy_ms(tenant_id: str, window_start: int, busy_ms: int, expires_at: int) -> int:
    """One UpdateItem: add ``busy_ms`` to the tenant's window and answer the window's new total (ms)."""
    return tenant_repository.add_to_window(keys.busy_pk(tenant_id), window_start, busy_ms, expires_at)
